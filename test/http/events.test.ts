import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AUTH, type Rig, rig, testConfig } from './rig.js';
import { until } from '../support/until.js';

let r: Rig;
afterEach(async () => r?.close());

const JSON_ACCEPT = { ...AUTH, accept: 'application/json' };

/** n changes: n MQTT clients come online (one feed entry each). */
function churn(n: number, prefix = 'c'): void {
  for (let i = 0; i < n; i++) r.connect('mqtt', `${prefix}${i}`, { onIdle: 'expire', idleMs: 600_000 });
}

interface Frame {
  id?: number;
  event?: string;
  data?: unknown;
  comment?: string;
  retry?: number;
}

/** Reads SSE frames from a response stream (WHATWG HTML §9.2.6 field parsing, the subset we send). */
class SseReader {
  private buf = '';
  readonly frames: Frame[] = [];
  constructor(readonly stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buf += chunk;
      let i: number;
      while ((i = this.buf.indexOf('\n\n')) >= 0) {
        const block = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 2);
        const f: Frame = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) f.comment = line.slice(1).trim();
          else if (line.startsWith('id: ')) f.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) f.event = line.slice(7);
          else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6));
          else if (line.startsWith('retry: ')) f.retry = Number(line.slice(7));
        }
        this.frames.push(f);
      }
    });
  }
  ids(): number[] {
    return this.frames.filter((f) => f.id !== undefined).map((f) => f.id!);
  }
  async until(pred: (frames: Frame[]) => boolean): Promise<void> {
    await until(() => pred(this.frames), { what: 'the SSE frames' });
  }
}

async function openSse(headers: Record<string, string> = {}, query = ''): Promise<SseReader> {
  const res = await r.app.inject({ method: 'GET', url: `/v1/events${query}`, headers: { ...AUTH, ...headers }, payloadAsStream: true });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(res.headers['cache-control']).toMatch(/no-cache/);
  return new SseReader(res.stream());
}

describe('GET /v1/events as JSON pages', () => {
  it('pages through the feed after a seq', async () => {
    r = rig();
    churn(5);
    const p1 = await r.app.inject({ method: 'GET', url: '/v1/events?after=0&limit=3', headers: JSON_ACCEPT });
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json();
    expect(b1.entries.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3]);
    expect(b1).toMatchObject({ last_seq: 5, next_after: 3 });
    expect(b1.entries[0]).toMatchObject({ kind: 'online', transport: 'mqtt', id: 'c0', row: { id: 'c0', state: 'online' } });
    const b2 = (await r.app.inject({ method: 'GET', url: `/v1/events?after=${b1.next_after}`, headers: JSON_ACCEPT })).json();
    expect(b2.entries.map((e: { seq: number }) => e.seq)).toEqual([4, 5]);
    const b3 = (await r.app.inject({ method: 'GET', url: '/v1/events?after=5', headers: JSON_ACCEPT })).json();
    expect(b3).toEqual({ entries: [], last_seq: 5, next_after: 5 });
  });

  it('offline entries carry the reason', async () => {
    r = rig();
    r.connect('mqtt', 'x', { onIdle: 'expire', idleMs: 60_000 }).untrack('kicked');
    const { entries } = (await r.app.inject({ method: 'GET', url: '/v1/events?after=1', headers: JSON_ACCEPT })).json();
    expect(entries).toEqual([expect.objectContaining({ seq: 2, kind: 'offline', reason: 'kicked', row: expect.objectContaining({ last_disconnect_reason: 'kicked' }) })]);
  });

  it('too far behind the bounded feed -> 410 with oldest_seq; without after it starts at the oldest kept', async () => {
    r = rig({ config: testConfig({ presence: { feed_size: 16 } }) });
    churn(40);
    const gone = await r.app.inject({ method: 'GET', url: '/v1/events?after=3', headers: JSON_ACCEPT });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ code: 'VIGIL_ERR_FEED_GONE', oldest_seq: 25, last_seq: 40 });
    const start = (await r.app.inject({ method: 'GET', url: '/v1/events', headers: JSON_ACCEPT })).json();
    expect(start.entries[0].seq).toBe(25);
  });

  it('ahead of the feed (sequence reset by a restart) -> 410', async () => {
    r = rig();
    churn(2);
    const res = await r.app.inject({ method: 'GET', url: '/v1/events?after=99', headers: JSON_ACCEPT });
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_FEED_GONE', last_seq: 2 });
  });

  it.each([
    ['?after=-1', {}, 'query.after'],
    ['?after=x', {}, 'query.after'],
    ['?limit=0', {}, 'query.limit'],
    ['', { 'last-event-id': 'abc' }, 'headers.last-event-id'],
  ])('bad input %s %j -> 400 naming %s', async (q, headers, field) => {
    r = rig();
    const res = await r.app.inject({ method: 'GET', url: `/v1/events${q}`, headers: { ...JSON_ACCEPT, ...headers } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_BAD_REQUEST', field });
  });
});

describe('GET /v1/events as SSE', () => {
  it('sends the backlog after `after`, then live changes, each with id = seq', async () => {
    r = rig();
    churn(3);
    const sse = await openSse({}, '?after=1');
    await sse.until((f) => f.length >= 3);
    expect(sse.frames[0]).toEqual({ retry: 2000 });
    expect(sse.ids()).toEqual([2, 3]);
    churn(2, 'live');
    await sse.until(() => sse.ids().length === 4);
    expect(sse.ids()).toEqual([2, 3, 4, 5]);
    const last = sse.frames.at(-1)!;
    expect(last.data).toMatchObject({ seq: 5, kind: 'online', id: 'live1' });
    sse.stream.destroy();
  });

  it('without after or Last-Event-ID it starts from now', async () => {
    r = rig();
    churn(3);
    const sse = await openSse();
    churn(1, 'new');
    await sse.until(() => sse.ids().length === 1);
    expect(sse.ids()).toEqual([4]);
    sse.stream.destroy();
  });

  it('Last-Event-ID resumes right after that seq with no gap, and wins over after', async () => {
    r = rig();
    const first = await openSse({}, '?after=0');
    churn(3);
    await first.until(() => first.ids().length === 3);
    first.stream.destroy();
    churn(2, 'missed'); // happen while disconnected
    const resumed = await openSse({ 'last-event-id': String(first.ids().at(-1)) }, '?after=0');
    await resumed.until(() => resumed.ids().length === 2);
    churn(1, 'after');
    await resumed.until(() => resumed.ids().length === 3);
    expect([...first.ids(), ...resumed.ids()]).toEqual([1, 2, 3, 4, 5, 6]);
    resumed.stream.destroy();
  });

  it('Last-Event-ID older than the feed keeps -> 410 before streaming', async () => {
    r = rig({ config: testConfig({ presence: { feed_size: 16 } }) });
    churn(40);
    const res = await r.app.inject({ method: 'GET', url: '/v1/events', headers: { ...AUTH, 'last-event-id': '2' } });
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_FEED_GONE', oldest_seq: 25 });
  });

  it('sends a keepalive comment every 15 s of scheduler time', async () => {
    r = rig();
    const sse = await openSse();
    r.scheduler.advance(15_000);
    await sse.until((f) => f.some((x) => x.comment === 'keepalive'));
    sse.stream.destroy();
  });

  it('a live reader that falls behind the feed gets `event: gone` and the stream ends', async () => {
    r = rig({ config: testConfig({ presence: { feed_size: 16 } }) });
    const res = await r.app.inject({ method: 'GET', url: '/v1/events?after=0', headers: AUTH, payloadAsStream: true });
    const stream = res.stream();
    // Do not read: fill the stream buffers so the pump waits for drain, then overrun the feed.
    for (let i = 0; i < 400; i++) {
      churn(1, `big${i}-${'x'.repeat(400)}-`);
      await new Promise((res2) => setImmediate(res2));
    }
    const sse = new SseReader(stream);
    await new Promise((res2) => stream.once('end', res2));
    const gone = sse.frames.at(-1)!;
    expect(gone.event).toBe('gone');
    expect(gone.data).toMatchObject({ code: 'VIGIL_ERR_FEED_GONE', last_seq: 400 });
  });

  it('closing the app ends open streams and stops their keepalives', async () => {
    r = rig();
    const sse = await openSse();
    await sse.until((f) => f.some((x) => x.retry === 2000));
    const timers = r.scheduler.pending;
    const ended = new Promise((res) => sse.stream.once('end', res));
    await r.app.close();
    await ended;
    expect(sse.stream.readableEnded).toBe(true);
    expect(r.scheduler.pending).toBe(timers - 2); // the stream's 15 s keepalive timer and the dashboard history's sampler are gone
  });
});
