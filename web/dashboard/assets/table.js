// The endpoint table: one page of rows from the server, kept by key so an update touches only the
// cells that changed and never rebuilds a row that holds the keyboard focus. Live changes for
// visible rows are applied in place (the row flashes); rows of other pages are not held at all.
// Keyboard: Tab reaches the first row, arrow keys/Home/End move between rows, Tab then reaches
// the row's actions.
import { OPTIONAL_FIELDS, duration, field, h, isoTime, relative, rowKey, rtt } from './format.js';

const FIXED_BEFORE = [
  { key: 'id', label: 'JID / client id' },
  { key: 'host', label: 'Host' },
  { key: 'transport', label: 'Transport' },
];
const FIXED_AFTER = [
  { key: 'state', label: 'State' },
  { key: 'liveness', label: 'Liveness' },
  { key: 'connected', label: 'Connected for' },
  { key: 'activity', label: 'Last activity' },
  { key: 'deadline', label: 'Next deadline' },
  { key: 'rtt', label: 'Last RTT' },
  { key: 'reason', label: 'Last disconnect' },
];
const NOTABLE = ['state', 'liveness', 'last_rtt_ms', 'last_disconnect_reason', 'generation'];

/** What a cell shows: text, an optional class, title, and the time it counts from/to. */
function cell(key, row, now) {
  switch (key) {
    case 'id':
      return { text: row.id };
    case 'host':
      return { text: row.host };
    case 'transport':
      return { text: row.transport };
    case 'state':
      return { text: row.state, cls: `state-${row.state}` };
    case 'liveness':
      return row.liveness ? { text: row.liveness, cls: `lv-${row.liveness}` } : { text: '–' };
    case 'connected': {
      const end = row.disconnected_at ?? now;
      return { text: duration(end - row.connected_at), title: `since ${isoTime(row.connected_at)}`, since: row.connected_at, until: row.disconnected_at };
    }
    case 'activity':
      return { text: relative(row.last_activity_at, now), title: isoTime(row.last_activity_at), at: row.last_activity_at };
    case 'deadline':
      return row.next_deadline_at === null ? { text: '–' } : { text: relative(row.next_deadline_at, now), title: isoTime(row.next_deadline_at), at: row.next_deadline_at };
    case 'rtt': {
      const r = rtt(row.last_rtt_ms);
      return { text: r.text, cls: r.cls };
    }
    case 'reason':
      return { text: row.last_disconnect_reason ?? '–' };
    default: {
      const f = OPTIONAL_FIELDS.find((o) => o.key === key);
      const v = field(row, key);
      if (v === null) return { text: '–' };
      if (f?.time && typeof v === 'number') return { text: relative(v, now), title: isoTime(v), at: v };
      return { text: String(v) };
    }
  }
}

/**
 * @param {{ table: HTMLTableElement, onPing: (row: object) => void, onKick: (row: object) => void,
 *           canPing: (row: object) => true | string }} opts
 */
export function createTable(opts) {
  const tbody = opts.table.tBodies[0];
  const headRow = opts.table.tHead.rows[0];
  /** key -> { row, tr } for the rows on screen */
  const shown = new Map();
  const enabled = new Set();
  let columns = [];

  function setColumns() {
    const extra = OPTIONAL_FIELDS.filter((f) => enabled.has(f.key));
    const early = extra.filter((f) => f.filter);
    const late = extra.filter((f) => !f.filter);
    columns = [...FIXED_BEFORE, ...early, ...FIXED_AFTER, ...late, { key: 'actions', label: 'Actions' }];
    headRow.replaceChildren(...columns.map((c) => h('th', { scope: 'col', class: `col-${c.key}`, text: c.label })));
    for (const s of shown.values()) s.tr.replaceChildren(...cellsOf(s.row));
  }

  function cellsOf(row) {
    const now = Date.now();
    return columns.map((c) => {
      if (c.key === 'actions') return actionsCell(row, c);
      const td = h('td', { class: `col-${c.key}`, 'data-label': c.label, 'data-col': c.key });
      fill(td, cell(c.key, row, now));
      return td;
    });
  }

  function fill(td, v) {
    if (td.textContent !== v.text) td.textContent = v.text;
    const cls = v.cls ? `col-${td.dataset.col} ${v.cls}` : `col-${td.dataset.col}`;
    if (td.className !== cls) td.className = cls;
    if (v.title) td.title = v.title;
    else td.removeAttribute('title');
    if (v.at !== undefined) td.dataset.at = String(v.at);
    if (v.since !== undefined) td.dataset.since = String(v.since);
    if (v.until !== undefined && v.until !== null) td.dataset.until = String(v.until);
  }

  function actionsCell(row, c) {
    const label = `${row.transport} ${row.id}`;
    const can = row.state === 'online' ? opts.canPing(row) : 'offline';
    const ping = h('button', { type: 'button', class: 'act-ping', 'aria-label': `Ping ${label}`, title: can === true ? 'Probe now and show the round trip' : `Cannot ping: ${can}`, disabled: can !== true, text: 'Ping' });
    const kick = h('button', { type: 'button', class: 'act-kick danger', 'aria-label': `Kick ${label}`, disabled: row.state !== 'online', text: 'Kick' });
    ping.addEventListener('click', () => opts.onPing(shown.get(rowKey(row))?.row ?? row));
    kick.addEventListener('click', () => opts.onKick(shown.get(rowKey(row))?.row ?? row));
    return h('td', { class: `col-${c.key}`, 'data-label': c.label }, ping, ' ', kick);
  }

  function rowElement(row) {
    const tr = h('tr', { 'data-key': rowKey(row), tabindex: -1 });
    tr.replaceChildren(...cellsOf(row));
    mark(tr, row);
    return tr;
  }

  function mark(tr, row) {
    tr.dataset.state = row.state;
    tr.dataset.liveness = row.liveness ?? '';
  }

  // Web Animations: no class toggling, so no forced layout per changed row.
  const still = matchMedia('(prefers-reduced-motion: reduce)').matches;
  function flash(tr) {
    if (still) tr.animate([{ outlineColor: '#c9a400' }, { outlineColor: 'transparent' }], { duration: 1200 });
    else tr.animate([{ backgroundColor: '#fff1b8' }, { backgroundColor: 'transparent' }], { duration: 1200, easing: 'ease-out' });
  }

  /** Show `rows` (one page), reusing the row elements of keys already shown. */
  function setRows(rows) {
    noteFields(rows);
    const keys = new Set(rows.map((r) => rowKey(r)));
    for (const [key, s] of shown) if (!keys.has(key)) s.tr.remove();
    const next = new Map();
    let at = tbody.firstChild;
    for (const row of rows) {
      const key = rowKey(row);
      const had = shown.get(key);
      const tr = had ? had.tr : rowElement(row);
      if (had) update(had, row);
      next.set(key, { row, tr });
      // Move only when out of place: moving a focused row would drop the focus.
      if (tr === at) at = at.nextSibling;
      else tbody.insertBefore(tr, at);
    }
    shown.clear();
    for (const [k, v] of next) shown.set(k, v);
    const first = tbody.rows[0];
    if (first && !tbody.querySelector('tr[tabindex="0"]')) first.tabIndex = 0;
  }

  function update(s, row) {
    const changed = NOTABLE.some((k) => s.row[k] !== row[k]);
    s.row = row;
    const now = Date.now();
    const tds = s.tr.cells;
    columns.forEach((c, i) => {
      if (c.key === 'actions') {
        if (changed) s.tr.replaceChild(actionsCell(row, c), tds[i]);
      } else fill(tds[i], cell(c.key, row, now));
    });
    mark(s.tr, row);
    if (changed) flash(s.tr);
  }

  /** A changed row from the feed: applied when it is on screen. Answers whether it was. */
  function applyRow(row) {
    const s = shown.get(rowKey(row));
    if (!s) return false;
    update(s, row);
    return true;
  }

  /** Columns for fields that later issues add appear once a row carries them. */
  function noteFields(rows) {
    let added = false;
    for (const f of OPTIONAL_FIELDS) {
      if (enabled.has(f.key)) continue;
      if (rows.some((r) => field(r, f.key) !== null && field(r, f.key) !== f.quiet)) {
        enabled.add(f.key);
        added = true;
      }
    }
    if (added || columns.length === 0) setColumns();
    return added;
  }

  /** Refresh the relative times (once a second while visible). */
  function tick() {
    const now = Date.now();
    for (const td of tbody.querySelectorAll('td[data-at]')) td.textContent = relative(Number(td.dataset.at), now);
    for (const td of tbody.querySelectorAll('td[data-since]')) {
      const end = td.dataset.until ? Number(td.dataset.until) : now;
      td.textContent = duration(end - Number(td.dataset.since));
    }
  }

  tbody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest?.('tr');
    if (!tr || ev.target !== tr) return;
    const rows = [...tbody.rows];
    const i = rows.indexOf(tr);
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows.length - 1 }[ev.key];
    if (to === undefined || !rows[to]) return;
    ev.preventDefault();
    tr.tabIndex = -1;
    rows[to].tabIndex = 0;
    rows[to].focus();
  });
  tbody.addEventListener('focusin', (ev) => {
    const tr = ev.target.closest?.('tr');
    if (!tr) return;
    for (const r of tbody.querySelectorAll('tr[tabindex="0"]')) if (r !== tr) r.tabIndex = -1;
    tr.tabIndex = 0;
  });

  setColumns();
  return { setRows, applyRow, noteFields, tick, enabled, size: () => shown.size, rows: () => [...shown.values()].map((s) => s.row) };
}
