/**
 * What the dashboard reads besides the endpoint list (issue 18): text search on the list, the
 * per-host overview (counts by transport and liveness state, probe round-trip history, last
 * disconnects) and the page's static files.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RttSketch } from '../../src/http/dashboard/rtt-sketch.js';
import { AUTH, HOST, type Rig, rig } from './rig.js';

let r: Rig;
afterEach(async () => r?.close());

const get = (url: string, headers: Record<string, string> = AUTH) => r.app.inject({ method: 'GET', url, headers });
const ids = async (query: string) => (await get(`/v1/hosts/${HOST}/endpoints?${query}`)).json().items.map((e: { id: string }) => e.id);

describe('GET /v1/hosts/{host}/endpoints?q=', () => {
  it('finds ids containing the text, ignoring case, with the other filters and paging', async () => {
    r = rig();
    r.connect('xmpp', 'alice@example.org/Phone');
    r.connect('xmpp', 'bob@example.org/phone');
    r.connect('mqtt', 'sensor-PHONE-1', { onIdle: 'expire', idleMs: 60_000 });
    r.connect('mqtt', 'sensor-2', { onIdle: 'expire', idleMs: 60_000 });
    expect(await ids('q=phone')).toEqual(['alice@example.org/Phone', 'bob@example.org/phone', 'sensor-PHONE-1']);
    expect(await ids('q=phone&transport=mqtt')).toEqual(['sensor-PHONE-1']);
    expect(await ids('q=ALICE@')).toEqual(['alice@example.org/Phone']);
    const first = (await get(`/v1/hosts/${HOST}/endpoints?q=phone&limit=2`)).json();
    expect((await get(`/v1/hosts/${HOST}/endpoints?q=phone&limit=2&cursor=${first.next_cursor}`)).json().items.map((e: { id: string }) => e.id)).toEqual(['sensor-PHONE-1']);
  });

  it('takes the text literally (no pattern) and refuses an empty or huge one', async () => {
    r = rig();
    r.connect('mqtt', 'a.b', { onIdle: 'expire', idleMs: 60_000 });
    r.connect('mqtt', 'axb', { onIdle: 'expire', idleMs: 60_000 });
    expect(await ids(`q=${encodeURIComponent('a.b')}`)).toEqual(['a.b']);
    expect(await ids(`q=${encodeURIComponent('(')}`)).toEqual([]);
    for (const q of ['', 'x'.repeat(257)]) {
      const res = await get(`/v1/hosts/${HOST}/endpoints?q=${q}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().field).toBe('query.q');
    }
  });
});

describe('GET /v1/hosts/{host}/overview', () => {
  it('counts by transport and liveness state, with the feed seq the counts include', async () => {
    r = rig();
    const a = r.connect('xmpp', 'alice@example.org/a');
    r.connect('xmpp', 'bob@example.org/b');
    r.connect('mqtt', 'm1', { onIdle: 'expire', idleMs: 600_000 });
    r.connect('mqtt', 'm2', { onIdle: 'expire', idleMs: 600_000 }).untrack('client_close');
    r.scheduler.advance(60_000); // alice and bob idle: probed
    a.answered('pong');
    const res = await get(`/v1/hosts/${HOST}/overview`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      host: HOST,
      at: r.clock.now(),
      last_seq: r.presence.lastSeq(),
      online: { xmpp: 2, mqtt: 1 },
      offline: { xmpp: 0, mqtt: 1 },
      liveness: { active: 2, probing: 1, unresponsive: 0, paused: 0 },
      step_ms: 10_000,
    });
    expect(body.disconnects).toEqual([{ at: expect.any(Number), transport: 'mqtt', id: 'm2', reason: 'client_close' }]);
  });

  it('keeps a sample per 10 s step with the round-trip percentiles of the probes answered in it', async () => {
    r = rig();
    const handles = Array.from({ length: 10 }, (_, i) => r.connect('xmpp', `u${i}@example.org/r`));
    r.scheduler.advance(60_000); // all probed at once
    handles.forEach((h, i) => {
      r.scheduler.advance(i === 0 ? 0 : 10); // answers 0, 10, 20 ... 90 ms after the probe
      h.answered('pong');
    });
    r.scheduler.advance(10_000);
    const { history } = (await get(`/v1/hosts/${HOST}/overview`)).json();
    const withProbes = history.filter((p: { probes: number }) => p.probes > 0);
    expect(withProbes).toHaveLength(1);
    const [step] = withProbes;
    expect(step).toMatchObject({ online_xmpp: 10, online_mqtt: 0, probes: 10 });
    // True p50 is 40 ms, p90 80 ms; the sketch is within ~10%.
    expect(step.rtt_p50_ms).toBeGreaterThan(36);
    expect(step.rtt_p50_ms).toBeLessThan(48);
    expect(step.rtt_p90_ms).toBeGreaterThan(72);
    expect(step.rtt_p90_ms).toBeLessThan(96);
    // The last sample is the step in progress, at now.
    expect(history.at(-1).at).toBe(r.clock.now());
  });

  it('keeps the last 50 disconnects, newest first, and 180 samples', async () => {
    r = rig();
    for (let i = 0; i < 60; i++) r.connect('mqtt', `c${i}`, { onIdle: 'expire', idleMs: 600_000 }).untrack(i % 2 ? 'kicked' : 'socket_error');
    r.scheduler.advance(200 * 10_000);
    const body = (await get(`/v1/hosts/${HOST}/overview`)).json();
    expect(body.disconnects).toHaveLength(50);
    expect(body.disconnects[0]).toMatchObject({ id: 'c59', reason: 'kicked' });
    expect(body.disconnects[49]).toMatchObject({ id: 'c10', reason: 'socket_error' });
    expect(body.history).toHaveLength(181);
  });

  it('404 for an unknown host; needs auth', async () => {
    r = rig();
    expect((await get('/v1/hosts/nope.example/overview')).statusCode).toBe(404);
    expect((await get(`/v1/hosts/${HOST}/overview`, {})).statusCode).toBe(401);
  });
});

describe('RttSketch', () => {
  it('answers quantiles within 10% over five decades', () => {
    for (const v of [0.05, 0.8, 12, 340, 9_000]) {
      const s = new RttSketch();
      s.add(v);
      expect(Math.abs(s.quantile(0.5)! - v) / v).toBeLessThan(0.1);
    }
    expect(new RttSketch().quantile(0.5)).toBeNull();
  });
});

describe('the dashboard page', () => {
  it('GET /dashboard serves the page with a strict CSP, no login needed', async () => {
    r = rig();
    const res = await get('/dashboard', {});
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.body).toContain('<script type="module" src="/dashboard/assets/main.js"></script>');
    expect(res.body).toContain('<label for="token">API token</label>');
  });

  it('serves its modules, its CSS and uPlot, with ETag revalidation', async () => {
    r = rig();
    for (const [path, type] of [
      ['main.js', 'text/javascript; charset=utf-8'],
      ['dashboard.css', 'text/css; charset=utf-8'],
      ['vendor/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
      ['vendor/uPlot.min.css', 'text/css; charset=utf-8'],
    ]) {
      const res = await get(`/dashboard/assets/${path}`, {});
      expect(res.statusCode, path).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      const again = await get(`/dashboard/assets/${path}`, { 'if-none-match': String(res.headers.etag) });
      expect(again.statusCode).toBe(304);
    }
  });

  it('serves nothing else: no path reaches the file system', async () => {
    r = rig();
    for (const path of ['../index.html', '..%2F..%2Fpackage.json', 'nope.js', 'vendor/uPlot.cjs.js', '']) {
      expect((await get(`/dashboard/assets/${path}`, {})).statusCode, path).toBe(404);
    }
  });
});
