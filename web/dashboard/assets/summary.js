// Per-host counts: taken from GET /v1/hosts/{host}/overview (exact, with the feed seq they
// include), then kept current from the change feed between two polls: online/offline per
// transport move with each online and offline entry newer than that seq. Liveness-state counts
// come from the poll only (the feed leaves out the active<->probing flip of every ping cycle).
import { h } from './format.js';

const TILES = [
  ['online-xmpp', 'Online XMPP', (c) => c.online.xmpp],
  ['online-mqtt', 'Online MQTT', (c) => c.online.mqtt],
  ['offline', 'Offline (kept)', (c) => c.offline.xmpp + c.offline.mqtt],
  ['active', 'Active', (c) => c.liveness.active],
  ['probing', 'Probing', (c) => c.liveness.probing],
  ['unresponsive', 'Unresponsive', (c) => c.liveness.unresponsive],
  ['paused', 'Paused', (c) => c.liveness.paused],
  // XEP-0198: the connection dropped, the session waits for a resume (issue 17); 0 from older servers.
  ['resumable', 'Resumable', (c) => c.liveness.resumable ?? 0],
];

export function createSummary(dl) {
  let counts = null;
  let baseSeq = 0;
  let dirty = false;
  const dds = new Map();
  dl.replaceChildren(
    ...TILES.map(([key, label]) => {
      const dd = h('dd', { 'data-count': key, text: '–' });
      dds.set(key, dd);
      return h('div', { class: `tile tile-${key}` }, h('dt', { text: label }), dd);
    }),
  );

  return {
    setOverview(ov) {
      counts = { online: { ...ov.online }, offline: { ...ov.offline }, liveness: { ...ov.liveness } };
      baseSeq = ov.last_seq;
      dirty = true;
    },
    /** Entries from the feed, oldest first. */
    apply(entries, host) {
      if (!counts) return;
      for (const e of entries) {
        if (e.seq <= baseSeq || e.host !== host) continue;
        if (e.kind === 'online' && !e.takeover) {
          counts.online[e.transport]++;
          dirty = true;
        } else if (e.kind === 'offline') {
          counts.online[e.transport] = Math.max(0, counts.online[e.transport] - 1);
          counts.offline[e.transport]++;
          dirty = true;
        }
      }
    },
    render() {
      if (!counts || !dirty) return;
      dirty = false;
      for (const [key, , get] of TILES) {
        const v = String(get(counts));
        const dd = dds.get(key);
        if (dd.textContent !== v) dd.textContent = v;
      }
    },
  };
}
