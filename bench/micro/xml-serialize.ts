/**
 * Building and serializing the stanzas of the hot paths, our way against @xmpp/xml (issue 20):
 *
 *   ping       the server's XEP-0199 ping to an idle client. Ours: pingXml(), one template string
 *              with the id spliced in (src/xmpp/fast-pong.ts, what connection.ts sends); also our
 *              element model (serverPing() + serialize()). @xmpp/xml: xml('iq', ..., xml('ping')) +
 *              toString().
 *   presence   one client's presence (show, status, priority, c) fanned out to 20 watchers, `to`
 *              set per watcher (src/xmpp/presence-broadcast.ts: withAttrs + serialize per copy).
 *              @xmpp/xml: the element built once, its `to` rewritten per watcher, toString().
 *   message    a chat message with a body needing escapes, stamped and routed once.
 *
 * Each string is written into a scratch Buffer, as a socket write would, so both pay for
 * flattening V8's string ropes. Figures: operations per second (median of --runs, ours and theirs
 * interleaved run by run) and bytes allocated per operation (heap growth over a batch after a
 * forced GC, young generation large enough that no scavenge runs inside; a batch in which the
 * heap shrank saw one and is measured again).
 *
 *   node --expose-gc --max-semi-space-size=128 --import tsx bench/micro/xml-serialize.ts [--n 20000] [--runs 5]
 *   (started without those flags, it starts itself again with them)
 */
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import xml from '@xmpp/xml';
import { pingXml } from '../../src/xmpp/fast-pong.js';
import { serverPing } from '../../src/xmpp/ping.js';
import { serialize, withAttrs, x } from '../../src/xmpp/xml.js';

if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=128', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const gc = globalThis.gc as () => void;

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const N = arg('--n', 20_000);
const RUNS = arg('--runs', 5);

const scratch = Buffer.alloc(1 << 16);
let sink = 0;
const emit = (s: string) => {
  sink += scratch.write(s, 0);
};

const DOMAIN = 'example.org';
const FULL = 'alice@example.org/phone-7f3a';
const WATCHERS = Array.from({ length: 20 }, (_, i) => `contact${i}@example.org`);
const BODY = 'See you at 5 <3 & bring "snacks"';

type Case = { name: string; ours: Record<string, (i: number) => void>; theirs: (i: number) => void };

const cases: Case[] = [
  {
    name: 'ping',
    ours: {
      'pingXml (template, sent today)': (i) => emit(pingXml(DOMAIN, FULL, `p${i}`)),
      'serverPing + serialize (element model)': (i) => emit(serialize(serverPing(DOMAIN, FULL, `p${i}`))),
    },
    theirs: (i) => emit(xml('iq', { type: 'get', id: `p${i}`, from: DOMAIN, to: FULL }, xml('ping', { xmlns: 'urn:xmpp:ping' })).toString()),
  },
  {
    name: 'presence x20',
    ours: {
      'withAttrs + serialize per watcher': (i) => {
        const el = x('presence', { from: FULL, id: `pr${i}` }, x('show', {}, 'away'), x('status', {}, 'In a meeting'), x('priority', {}, '5'), x('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://gajim.org', ver: 'q07IKJEyjvHSyhy//CH0CxmKi8w=' }));
        for (const to of WATCHERS) emit(serialize(withAttrs(el, { to })));
      },
    },
    theirs: (i) => {
      const el = xml(
        'presence',
        { from: FULL, id: `pr${i}` },
        xml('show', {}, 'away'),
        xml('status', {}, 'In a meeting'),
        xml('priority', {}, '5'),
        xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'https://gajim.org', ver: 'q07IKJEyjvHSyhy//CH0CxmKi8w=' }),
      );
      for (const to of WATCHERS) {
        el.attrs.to = to; // cheapest: one element, its `to` rewritten per watcher
        emit(el.toString());
      }
    },
  },
  {
    name: 'message',
    ours: {
      'x + withAttrs + serialize': (i) => {
        const el = x('message', { type: 'chat', id: `m${i}`, to: 'bob@example.org' }, x('body', {}, BODY), x('active', { xmlns: 'http://jabber.org/protocol/chatstates' }));
        emit(serialize(withAttrs(el, { from: FULL })));
      },
    },
    theirs: (i) => {
      const el = xml('message', { type: 'chat', id: `m${i}`, to: 'bob@example.org' }, xml('body', {}, BODY), xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' }));
      el.attrs.from = FULL;
      emit(el.toString());
    },
  },
];

/** Median ops/s of `fn` and `base`, runs interleaved so that load on a shared machine hits both alike. */
function opsPerSecond(fns: ((i: number) => void)[]): number[] {
  const rates = fns.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) {
    fns.forEach((fn, k) => {
      const t0 = performance.now();
      for (let i = 0; i < N; i++) fn(i);
      rates[k]!.push(N / ((performance.now() - t0) / 1000));
    });
  }
  return rates.map((r) => r.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!);
}

/** Heap growth per op over a batch with no GC inside (heapUsed never drops between samples). */
function bytesPerOp(fn: (i: number) => void): number {
  const n = Math.min(N, 200);
  for (let attempt = 0; attempt < 10; attempt++) {
    gc();
    const h0 = process.memoryUsage().heapUsed;
    let last = h0;
    let clean = true;
    for (let i = 0; i < n; i++) {
      fn(i);
      if ((i & 255) === 255) {
        const h = process.memoryUsage().heapUsed;
        if (h < last) clean = false;
        last = h;
      }
    }
    const h1 = process.memoryUsage().heapUsed;
    if (clean && h1 >= last) return (h1 - h0) / n;
  }
  return NaN;
}

console.log(`node ${process.version}, ${N} operations x ${RUNS} runs (median)`);
console.log('| stanza | builder | ops/s | bytes allocated / op | vs @xmpp/xml |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const c of cases) {
  for (let i = 0; i < 2_000; i++) c.theirs(i); // warm the JIT
  for (const fn of Object.values(c.ours)) for (let i = 0; i < 2_000; i++) fn(i);
  const ours = Object.entries(c.ours);
  const rates = opsPerSecond([c.theirs, ...ours.map(([, fn]) => fn)]);
  const theirs = rates[0]!;
  const theirBytes = bytesPerOp(c.theirs);
  ours.forEach(([label, fn], k) => {
    const ops = rates[k + 1]!;
    console.log(`| ${c.name} | ours: ${label} | ${ops.toFixed(0)} | ${bytesPerOp(fn).toFixed(0)} | ${(ops / theirs).toFixed(2)}x |`);
  });
  console.log(`| ${c.name} | @xmpp/xml: xml() + toString() | ${theirs.toFixed(0)} | ${theirBytes.toFixed(0)} | 1.00x |`);
}
if (sink === 42) console.log(''); // keep the writes observable
