// The Vigil dashboard: login, then per host the counts, the chart, the endpoint table (one page,
// filtered and paged by the server), the last disconnects, the liveness settings and the change
// feed, live from /v1/events. Nothing here holds more than one page of endpoints.
//
// What refreshes when (only while the tab is visible; hidden, nothing is drawn or polled):
//   - feed entries: counts, log, disconnects and rows on screen, batched per animation frame;
//     an online/offline entry re-reads the page (at most once a second);
//   - every 2 s the page is re-read: the feed leaves out the active<->probing flip of every ping
//     cycle and the moving figures (last activity, next deadline), which the table shows;
//   - every 5 s the overview (exact counts by liveness state, chart, disconnects).
import { createActions } from './actions.js';
import { api, enc, login, logout, onSessionLost, resumeSession } from './api.js';
import { createActivity } from './activity.js';
import { createChart } from './chart.js';
import { createConfigForm } from './config-form.js';
import { startFeed } from './feed.js';
import { OPTIONAL_FIELDS, field, h } from './format.js';
import { createSummary } from './summary.js';
import { createTable } from './table.js';

const $ = (id) => document.getElementById(id);
const STORE = 'vigil.dashboard';
const PAGE = 50;
const PAGE_REFRESH_MS = 2000;
const OVERVIEW_REFRESH_MS = 5000;

/** Read by the browser tests and the benchmark. */
const stats = (window.__vigil = { applied: 0, firstRenderMs: null, lastSeq: null, pending: 0 });

const ui = {
  summary: createSummary($('counts')),
  chart: null,
  activity: createActivity({ disconnectsEl: $('disconnects'), logEl: $('log') }),
  config: createConfigForm({ form: $('config-form'), statusEl: $('config-status'), hostEl: $('config-host'), onChanged: () => refreshSoon(0) }),
};
const actions = createActions({
  host: () => st.host,
  settings: () => ui.config.current(),
  statusEl: $('action-status'),
  dialog: $('confirm'),
  dialogText: $('confirm-text'),
  onPinged: (row) => ui.table.applyRow(row),
  onKicked: () => refreshSoon(0),
});
ui.table = createTable({ table: $('endpoints'), onPing: actions.ping, onKick: actions.kick, canPing: actions.canPing });

const st = {
  host: null,
  filters: { q: '', transport: '', state: 'online', liveness: '' },
  cursors: [null],
  page: 0,
  next: null,
  feed: null,
  timers: [],
  fetchSeq: 0,
  refetchTimer: 0,
  lastFetch: 0,
  sources: new Set(),
};

function saved() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) ?? 'null') ?? {};
  } catch {
    return {};
  }
}

function save() {
  const data = { host: st.host, filters: st.filters, lastSeq: st.feed?.lastSeq() ?? null, log: ui.activity.saved() };
  sessionStorage.setItem(STORE, JSON.stringify(data));
}

// ---- login ---------------------------------------------------------------------------------

function showLogin(message = '') {
  stopLive();
  $('app').hidden = true;
  $('tools').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = $('token');
  if (token.value === '') {
    $('login-error').textContent = 'Enter the API token.';
    token.setAttribute('aria-invalid', 'true');
    return;
  }
  const err = await login(token.value);
  if (err) {
    $('login-error').textContent = err;
    token.setAttribute('aria-invalid', 'true');
    token.select();
    return;
  }
  token.value = '';
  token.removeAttribute('aria-invalid');
  sessionStorage.removeItem(STORE);
  await start();
});

$('logout').addEventListener('click', async () => {
  await logout();
  sessionStorage.removeItem(STORE);
  showLogin('Logged out.');
});

onSessionLost(() => showLogin('The session ended; log in again.'));

// ---- the app -------------------------------------------------------------------------------

async function start() {
  const kept = saved();
  $('login').hidden = true;
  $('app').hidden = false;
  $('tools').hidden = false;
  ui.chart ??= createChart($('chart'), $('chart-summary'));
  const hosts = await api('GET', '/v1/hosts');
  if (!hosts.ok) return;
  const names = hosts.json.items.map((x) => x.host);
  $('host').replaceChildren(...names.map((n) => h('option', { value: n, text: n })));
  Object.assign(st.filters, kept.filters ?? {});
  for (const k of ['q', 'transport', 'state', 'liveness']) $(`f-${k}`).value = st.filters[k] ?? '';
  ui.activity.restore(kept.log);
  // The feed first, then the snapshot: a change between the two is then seen twice, never missed.
  openFeed(typeof kept.lastSeq === 'number' ? kept.lastSeq : null);
  await selectHost(names.includes(kept.host) ? kept.host : (names[0] ?? null));
  startTimers();
}

async function selectHost(host) {
  st.host = host;
  $('host').value = host ?? '';
  $('summary-host').textContent = host ?? '–';
  if (!host) return;
  resetPaging();
  await Promise.all([ui.config.load(host), refreshOverview(), refreshPage()]);
  if (stats.firstRenderMs === null) {
    stats.firstRenderMs = performance.now();
    performance.mark('vigil-first-render');
  }
}

$('host').addEventListener('change', () => void selectHost($('host').value).then(save));

function openFeed(after) {
  st.feed?.stop();
  st.feed = startFeed({
    after,
    onEntries,
    onStatus: (s) => {
      $('live').textContent = s === 'live' ? 'live' : s === 'reconnecting' ? 'reconnecting…' : 'stopped';
      $('live').dataset.status = s;
    },
    onGone: () => {
      // Too far behind the feed: re-read everything, then follow from now.
      ui.activity.restore([]);
      void refreshAll();
      openFeed(null);
    },
    onAuthLost: () => showLogin('The session ended; log in again.'),
  });
}

function onEntries(entries, visible) {
  stats.applied += entries.length;
  stats.lastSeq = entries[entries.length - 1].seq;
  ui.activity.add(entries, st.host);
  ui.summary.apply(entries, st.host);
  let structural = false;
  const mine = [];
  for (const e of entries) {
    if (e.host !== st.host) continue;
    mine.push(e.row);
    if (visible) ui.table.applyRow(e.row);
    if (e.kind === 'online' || e.kind === 'offline') structural = true;
  }
  if (ui.table.noteFields(mine)) optionalFilters();
  noteSources(mine);
  if (structural) refreshSoon();
  if (visible) draw();
  stats.pending = st.feed?.pending() ?? 0;
  save();
}

/** The lists (log, disconnects) are redrawn at most 4 times a second: a burst rebuilds them once per 250 ms, not per frame. */
let listsDrawnAt = 0;
let listsTimer = 0;
function drawLists() {
  const wait = listsDrawnAt + 250 - performance.now();
  if (wait > 0) {
    listsTimer ||= setTimeout(() => {
      listsTimer = 0;
      if (!document.hidden) drawLists();
    }, wait);
    return;
  }
  listsDrawnAt = performance.now();
  ui.activity.render();
}

function draw() {
  ui.summary.render();
  drawLists();
  const seq = st.feed?.lastSeq();
  $('live').textContent = document.hidden ? 'paused (tab hidden)' : `live${seq === null || seq === undefined ? '' : ` · seq ${seq}`}`;
}

// ---- reading the server ---------------------------------------------------------------------

function query() {
  const p = new URLSearchParams({ limit: String(PAGE) });
  for (const [k, v] of Object.entries(st.filters)) if (v) p.set(k, v);
  const cursor = st.cursors[st.page];
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

async function refreshPage() {
  if (!st.host) return;
  const mine = ++st.fetchSeq;
  st.lastFetch = Date.now();
  const r = await api('GET', `/v1/hosts/${enc(st.host)}/endpoints?${query()}`);
  if (mine !== st.fetchSeq || !r.ok) return;
  if (ui.table.noteFields(r.json.items)) optionalFilters();
  noteSources(r.json.items);
  ui.table.setRows(r.json.items);
  st.next = r.json.next_cursor;
  $('empty').hidden = r.json.items.length > 0;
  $('page-info').textContent = `Page ${st.page + 1}`;
  $('prev').disabled = st.page === 0;
  $('first').disabled = st.page === 0;
  $('next').disabled = st.next === null;
}

async function refreshOverview() {
  if (!st.host) return;
  const r = await api('GET', `/v1/hosts/${enc(st.host)}/overview`);
  if (!r.ok || r.json.host !== st.host) return;
  ui.summary.setOverview(r.json);
  ui.activity.setDisconnects(r.json.disconnects);
  ui.chart?.set(r.json.history);
  draw();
}

/** Re-read the page soon (an online/offline entry): at most once a second. */
function refreshSoon(delay = 300) {
  if (st.refetchTimer) return;
  const wait = Math.max(delay, st.lastFetch + 1000 - Date.now());
  st.refetchTimer = setTimeout(() => {
    st.refetchTimer = 0;
    if (!document.hidden) void refreshPage();
  }, wait);
}

const refreshAll = () => Promise.all([refreshPage(), refreshOverview()]);

function startTimers() {
  stopTimers();
  if (document.hidden) return;
  st.timers.push(setInterval(() => ui.table.tick(), 1000));
  st.timers.push(setInterval(() => void refreshPage(), PAGE_REFRESH_MS));
  st.timers.push(setInterval(() => void refreshOverview(), OVERVIEW_REFRESH_MS));
}

function stopTimers() {
  for (const t of st.timers) clearInterval(t);
  st.timers = [];
}

function stopLive() {
  stopTimers();
  st.feed?.stop();
  st.feed = null;
}

document.addEventListener('visibilitychange', () => {
  if (!st.feed) return;
  if (document.hidden) {
    stopTimers();
    draw();
    return;
  }
  startTimers();
  void refreshAll();
  st.feed.kick();
  draw();
});
addEventListener('pagehide', () => st.feed && save());

// ---- filters and paging -----------------------------------------------------------------------

function resetPaging() {
  st.cursors = [null];
  st.page = 0;
}

function onFilter() {
  for (const k of Object.keys(st.filters)) {
    const el = $(`f-${k}`);
    if (el) st.filters[k] = el.value.trim();
  }
  resetPaging();
  save();
  void refreshPage();
}

let typing = 0;
$('filters').addEventListener('submit', (ev) => ev.preventDefault());
$('filters').addEventListener('change', onFilter);
$('f-q').addEventListener('input', () => {
  clearTimeout(typing);
  typing = setTimeout(onFilter, 250);
});
$('next').addEventListener('click', () => {
  if (st.next === null) return;
  st.cursors[st.page + 1] = st.next;
  st.page++;
  void refreshPage();
});
$('prev').addEventListener('click', () => {
  if (st.page === 0) return;
  st.page--;
  void refreshPage();
});
$('first').addEventListener('click', () => {
  resetPaging();
  void refreshPage();
});

/** Filters for fields that later issues add (via, source): shown once the data carries them. */
function optionalFilters() {
  for (const f of OPTIONAL_FIELDS) {
    if (!f.filter || !ui.table.enabled.has(f.key) || $(`f-${f.key}`)) continue;
    const values = f.values ?? [...st.sources];
    const select = h('select', { id: `f-${f.key}` }, h('option', { value: '', text: 'any' }), ...values.map((v) => h('option', { value: v, text: v })));
    select.value = st.filters[f.key] ?? '';
    st.filters[f.key] ??= '';
    $('f-optional').append(h('label', {}, `${f.label} `, select));
  }
}

function noteSources(rows) {
  const select = $('f-source');
  for (const r of rows) {
    const s = field(r, 'source');
    if (s === null || st.sources.has(String(s))) continue;
    st.sources.add(String(s));
    select?.append(h('option', { value: String(s), text: String(s) }));
  }
}

// ---- boot ------------------------------------------------------------------------------------

if (await resumeSession()) await start();
else showLogin();
