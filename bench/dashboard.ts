/**
 * Dashboard scenario (issue 18), in Debian's Chromium: with 100,000 endpoints tracked (half XMPP,
 * half MQTT) on the real HTTP app (liveness registry, presence table, no protocol sockets),
 *   - time to first render: from navigation start to the first table page drawn after the page
 *     read its session, the hosts, the settings, the overview and the first page (median of 5
 *     loads, logged in by cookie);
 *   - a burst of 10,000 changes: 10,000 endpoints disconnect at once (offline entries, the first
 *     page among them), then the same 10,000 reconnect (online entries). Measured from the moment
 *     the server starts making the changes to the frame in which the page has applied the last
 *     one; and, during it, the longest gap between two animation frames and the long tasks (>50
 *     ms) the browser reported: the page must stay responsive. The same bursts into a page that
 *     only counts EventSource messages give the floor: what delivering 10,000 SSE messages costs.
 *
 * Usage: npm run bench -- dashboard [--n 100000] [--burst 10000] [--loads 5]
 */
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/support/chromium.js';
import { option, restWorld } from './rest-world.js';

export const describe = 'Dashboard in Chromium at 100k endpoints: time to first render, and applying a burst of 10,000 changes';

const HOST = 'bench.example';
const TOKEN = 'bench-token';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Frame gaps and long tasks, recorded in the page from its first script on. */
const PROBE = `
  window.__frames = { max: 0, last: 0 };
  window.__long = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  const tick = (t) => { const f = window.__frames; if (f.last) f.max = Math.max(f.max, t - f.last); f.last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
`;

interface Burst {
  ms: number;
  maxFrameGapMs: number;
  longTasks: number[];
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 100_000);
  const burst = Math.min(option(args, '--burst', 10_000), n);
  const loads = option(args, '--loads', 5);
  const { app, handles, track, close } = restWorld({ n, host: HOST, token: TOKEN });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  try {
    const login = await fetch(`${base}/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    const id = /vigil_session=([^;]+)/.exec(login.headers.get('set-cookie') ?? '')?.[1];
    if (!id) throw new Error(`login failed: ${login.status}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addCookies([{ name: 'vigil_session', value: id, url: base }]);
    await context.addInitScript(PROBE);
    const page = await context.newPage();

    const renders: number[] = [];
    for (let i = 0; i < loads; i++) {
      await page.goto(`${base}/dashboard`);
      // A promise, not waitForFunction: its string predicate would need eval, which the page's CSP forbids.
      renders.push(
        await page.evaluate<number>(`new Promise((resolve) => {
          const check = () => (window.__vigil.firstRenderMs !== null ? resolve(window.__vigil.firstRenderMs) : requestAnimationFrame(check));
          check();
        })`),
      );
    }
    await page.locator('#live[data-status="live"]').waitFor();

    const offline = await measureBurst(page, burst, () => {
      for (let i = 0; i < burst; i++) handles[i]!.untrack('socket_error');
    });
    const online = await measureBurst(page, burst, () => {
      for (let i = 0; i < burst; i++) track(i);
    });
    const rows = await page.locator('#rows tr').count();
    const heapMb = (await page.evaluate<number>('performance.memory ? performance.memory.usedJSHeapSize : 0')) / 1_048_576;

    // The floor: the same bursts into a page that only counts the EventSource messages.
    await page.goto(`${base}/openapi.json`);
    await page.evaluate(`window.__vigil = { applied: 0 };
      new Promise((resolve) => {
        const es = new EventSource('/v1/events');
        es.onmessage = () => { window.__vigil.applied++; };
        es.onopen = resolve;
      })`);
    const floorOffline = await measureBurst(page, burst, () => {
      for (let i = 0; i < burst; i++) handles[i]!.untrack('socket_error');
    });
    const floorOnline = await measureBurst(page, burst, () => {
      for (let i = 0; i < burst; i++) track(i);
    });

    const fmt = (b: Burst) =>
      `${b.ms.toFixed(0)} | ${b.maxFrameGapMs.toFixed(0)} | ${b.longTasks.length} | ${b.longTasks.length ? Math.max(...b.longTasks).toFixed(0) : '–'}`;
    console.log(`| ${n.toLocaleString('en-US')} endpoints tracked | ms |`);
    console.log('|---|---:|');
    console.log(`| time to first render, median of ${loads} loads (min–max) | ${median(renders).toFixed(0)} (${Math.min(...renders).toFixed(0)}–${Math.max(...renders).toFixed(0)}) |`);
    console.log('');
    console.log(`| burst of ${burst.toLocaleString('en-US')} changes | until all applied, ms | longest frame gap, ms | long tasks (>50 ms) | longest task, ms |`);
    console.log('|---|---:|---:|---:|---:|');
    console.log(`| ${burst.toLocaleString('en-US')} disconnect (offline entries) | ${fmt(offline)} |`);
    console.log(`| ${burst.toLocaleString('en-US')} connect (online entries) | ${fmt(online)} |`);
    console.log(`| floor: ${burst.toLocaleString('en-US')} disconnect into a page that only counts EventSource messages | ${fmt(floorOffline)} |`);
    console.log(`| floor: ${burst.toLocaleString('en-US')} connect, same | ${fmt(floorOnline)} |`);
    console.log(`\nrows held by the page: ${rows}; page JS heap after: ${heapMb.toFixed(1)} MB; Chromium ${browser.version()}; node ${process.version}`);
    await context.close();
  } finally {
    await browser.close();
    await close();
  }
}

/** Make `count` changes on the server and time them until the page applied the last one. */
async function measureBurst(page: Page, count: number, changes: () => void): Promise<Burst> {
  // Page code as strings: tsx would wrap functions in helpers the page does not have.
  const target = (await page.evaluate<number>('window.__vigil.applied')) + count;
  await page.evaluate('window.__frames.max = 0; window.__long.length = 0;');
  const done = page.evaluate<number>(`new Promise((resolve) => {
    const check = () => (window.__vigil.applied >= ${target} ? resolve(Date.now()) : requestAnimationFrame(check));
    check();
  })`);
  await page.waitForTimeout(50); // the waiting function is installed
  const t0 = Date.now();
  changes();
  const t1 = await done;
  const after = await page.evaluate<{ max: number; long: number[] }>('({ max: window.__frames.max, long: [...window.__long] })');
  await page.waitForTimeout(1_500); // let the re-read page settle before the next burst
  return { ms: t1 - t0, maxFrameGapMs: after.max, longTasks: after.long };
}
