// Formatting and the fields that later issues add to rows (read from the row or its meta).

/** Columns and filters that appear once the data carries them (issues 14, 17, 19). */
export const OPTIONAL_FIELDS = [
  { key: 'via', label: 'Via', filter: true, values: ['tcp', 'tls', 'ws', 'wss'] },
  // Every row has a source; the column shows once a gateway's row (not `local`) is seen.
  { key: 'source', label: 'Source', filter: true, quiet: 'local' },
  { key: 'csi_state', label: 'CSI' },
  { key: 'sm_state', label: 'Stream mgmt' },
  { key: 'resumable_until', label: 'Resumable until', time: true },
];

/** A field of a row, from the row itself or its meta; null when absent. */
export function field(row, key) {
  const v = row[key] ?? row.meta?.[key];
  return v === undefined ? null : v;
}

/** A row's key: a gateway's rows have an id namespace of their own (issue 19), local rows none. */
export const rowKey = (row) => `${row.source && row.source !== 'local' ? `${row.source}|` : ''}${row.transport}:${row.id}`;

/** "3s", "4m 10s", "2h 5m", "3d 4h" */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Relative time of a wall-clock ms against now: "12s ago", "in 3s". */
export function relative(at, now = Date.now()) {
  if (at === null || at === undefined) return '–';
  const d = at - now;
  return d >= 0 ? `in ${duration(d)}` : `${duration(-d)} ago`;
}

// One formatter: toLocaleTimeString with options builds a new one per call (~0.1 ms each).
const TIME = new Intl.DateTimeFormat([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
export const clockTime = (at) => TIME.format(at);
export const isoTime = (at) => new Date(at).toISOString();

export function rtt(ms) {
  if (ms === null || ms === undefined) return { text: '–', cls: '' };
  const text = ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  // Centrifugo's latency colours: under 50 ms good, under 100 ms fair, else slow.
  return { text, cls: ms < 50 ? 'rtt-good' : ms < 100 ? 'rtt-fair' : 'rtt-slow' };
}

/** Element helper: h('td', { class: 'x', text: 'y' }, ...children) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}
