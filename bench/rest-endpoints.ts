/**
 * REST scenario: `GET /v1/hosts/{host}/endpoints` answering a 100-item page while the presence
 * table tracks 100,000 endpoints (half XMPP, half MQTT). Target (issue 6): median under 5 ms.
 *
 * The app is the real one (createHttpApp over the real liveness registry and presence table, a
 * no-op protocol adapter), measured two ways:
 *   - inject(): fastify's in-process request path (routing, auth hook, validation, serialisation);
 *   - a real socket: fetch() over 127.0.0.1 with keep-alive, adding Node's HTTP parser and the
 *     loopback round trip.
 * Pages are read at the start, in the middle (following a cursor) and with a transport filter.
 *
 * Usage: npm run bench -- rest [--n 100000] [--iterations 2000]
 */
import { performance } from 'node:perf_hooks';
import { option, restWorld } from './rest-world.js';

export const describe = 'GET /v1/hosts/{host}/endpoints, 100-item page at 100k endpoints: inject() and a real socket (target: median < 5 ms)';

const HOST = 'bench.example';
const TOKEN = 'bench-token';

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

async function measure(iterations: number, once: () => Promise<void>): Promise<{ median: number; p95: number; p99: number }> {
  for (let i = 0; i < Math.min(200, iterations); i++) await once(); // warm the JIT and serialisers
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: quantile(times, 0.5), p95: quantile(times, 0.95), p99: quantile(times, 0.99) };
}

export async function run(args: string[]): Promise<void> {
  const n = option(args, '--n', 100_000);
  const iterations = option(args, '--iterations', 2_000);
  const { app, close } = restWorld({ n, host: HOST, token: TOKEN });
  await app.ready();
  const headers = { authorization: `Bearer ${TOKEN}` };
  const base = `/v1/hosts/${HOST}/endpoints`;
  // Walk to the middle of the table in 1,000-item pages (the largest page the API serves).
  let mid = '';
  for (let seen = 0; seen < n / 2; seen += 1000) {
    const page = await app.inject({ method: 'GET', url: `${base}?limit=1000${mid ? `&cursor=${mid}` : ''}`, headers });
    mid = page.json<{ next_cursor: string }>().next_cursor;
  }

  const cases: [string, string][] = [
    ['first page', `${base}?limit=100`],
    ['middle page (cursor)', `${base}?limit=100&cursor=${mid}`],
    ['filtered: transport=mqtt', `${base}?limit=100&transport=mqtt&cursor=${mid}`],
    ['search: q=user9 (frequent)', `${base}?limit=100&q=user9`],
    ['search: q=nobody (no match: scans all)', `${base}?limit=100&q=nobody`],
    ['overview (dashboard: counts by liveness state)', `/v1/hosts/${HOST}/overview`],
  ];
  const fullPage = (label: string) => !label.startsWith('search: q=nobody') && !label.startsWith('overview');
  let bytes = 0;
  console.log(`| ${n.toLocaleString('en-US')} endpoints, 100-item page | path | median ms | p95 ms | p99 ms |`);
  console.log('|---|---|---:|---:|---:|');
  for (const [label, url] of cases) {
    const check = await app.inject({ method: 'GET', url, headers });
    if (check.statusCode !== 200 || (fullPage(label) && check.json<{ items: unknown[] }>().items.length !== 100)) throw new Error(`${url}: not a full page: ${check.body.slice(0, 200)}`);
    if (fullPage(label)) bytes = check.rawPayload.length;
    const r = await measure(iterations, async () => {
      const res = await app.inject({ method: 'GET', url, headers });
      if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
    });
    console.log(`| ${label} | inject() | ${r.median.toFixed(3)} | ${r.p95.toFixed(3)} | ${r.p99.toFixed(3)} |`);
  }
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  for (const [label, url] of cases) {
    const r = await measure(iterations, async () => {
      const res = await fetch(`${address}${url}`, { headers });
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      await res.arrayBuffer();
    });
    console.log(`| ${label} | socket (fetch, keep-alive) | ${r.median.toFixed(3)} | ${r.p95.toFixed(3)} | ${r.p99.toFixed(3)} |`);
  }
  console.log(`\npage size: ${bytes.toLocaleString('en-US')} bytes of JSON; ${iterations} requests per row after 200 warm-up; node ${process.version}`);
  await close();
}
