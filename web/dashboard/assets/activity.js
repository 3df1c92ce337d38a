// The last disconnects (the server's list from the overview, plus offline entries of the feed
// since) and the change-feed log (the last 100 entries this tab applied, with their seq: after a
// reload the log continues where it stopped, which shows that the resume lost nothing).
import { clockTime, h, isoTime } from './format.js';

const LOG_MAX = 100;
const DISCONNECTS_MAX = 20;

export function createActivity({ disconnectsEl, logEl }) {
  let log = []; // newest first
  let disconnects = [];
  let dirty = { log: false, disc: false };
  const discKey = (d) => `${d.at}|${d.transport}|${d.id}`;

  function describe(e) {
    if (e.kind === 'offline') return `${e.reason ?? 'offline'}`;
    if (e.kind === 'online') return e.takeover ? 'takeover' : '';
    if (e.kind === 'liveness') return e.row?.liveness ?? '';
    if (e.kind === 'availability') return e.row?.available ? 'available' : 'unavailable';
    return '';
  }

  return {
    setDisconnects(list) {
      const seen = new Set(list.map(discKey));
      const fresh = disconnects.filter((d) => !seen.has(discKey(d)) && d.at > (list[0]?.at ?? 0));
      disconnects = [...fresh, ...list].slice(0, DISCONNECTS_MAX);
      dirty.disc = true;
    },
    /** Entries oldest first; only the newest LOG_MAX of a burst are kept. */
    add(entries, host) {
      const newest = entries.slice(-LOG_MAX).reverse();
      log = newest.map((e) => ({ seq: e.seq, at: e.at, kind: e.kind, host: e.host, transport: e.transport, id: e.id, what: describe(e) })).concat(log).slice(0, LOG_MAX);
      const left = [];
      for (let i = entries.length - 1; i >= 0 && left.length < DISCONNECTS_MAX; i--) {
        const e = entries[i];
        if (e.kind === 'offline' && e.host === host) left.push({ at: e.at, transport: e.transport, id: e.id, reason: e.reason });
      }
      if (left.length > 0) {
        disconnects = left.concat(disconnects).slice(0, DISCONNECTS_MAX);
        dirty.disc = true;
      }
      dirty.log = true;
    },
    render() {
      if (dirty.log) {
        logEl.replaceChildren(
          ...log.map((l) =>
            h('li', { 'data-seq': l.seq }, h('time', { datetime: isoTime(l.at), text: clockTime(l.at) }), ` #${l.seq} `, h('strong', { text: l.kind }), ` ${l.transport} ${l.id}`, l.what ? ` (${l.what})` : ''),
          ),
        );
      }
      if (dirty.disc) {
        disconnectsEl.replaceChildren(
          ...(disconnects.length === 0
            ? [h('li', { class: 'muted', text: 'None yet.' })]
            : disconnects.map((d) =>
                h('li', {}, h('time', { datetime: isoTime(d.at), text: clockTime(d.at) }), ` ${d.transport} ${d.id} `, h('span', { class: `reason reason-${d.reason}`, text: d.reason })),
              )),
        );
      }
      dirty = { log: false, disc: false };
    },
    /** What a reload keeps (with the feed seq it goes with). */
    saved: () => log,
    restore(saved) {
      log = Array.isArray(saved) ? saved.slice(0, LOG_MAX) : [];
      dirty.log = true;
    },
  };
}
