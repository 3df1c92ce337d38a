/**
 * `npm run fuzz [-- --long] [-- --cases N --seconds S --seed K --proto xmpp|mqtt]`: the fuzz loop
 * of runner.ts from the command line. Default 20,000 cases / 300 s; --long: 1,000,000 cases /
 * 4 hours. `npm run fuzz -- --churn [--long | --cycles N]`: the churn run of churn.ts instead
 * (20,000 cycles; --long 1,000,000). `npm run fuzz -- --crash [--long | --cycles N]`: the SIGKILL
 * harness of crash.ts (5 cycles; --long 50). `npm run fuzz -- --cluster-crash [--long | --cycles N]`:
 * SIGKILL of random nodes of a three-node cluster (cluster-crash.ts; 20 cycles, --long 100). Failing inputs are written to test/robustness/regressions/<proto>/ (replayed by
 * test/robustness/regressions.test.ts). Exit status 1 when anything was found.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { churn } from './churn.js';
import { clusterCrash } from './cluster-crash.js';
import { crashCycles } from './crash.js';
import { fuzz } from './runner.js';
import type { Proto } from './clients.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const long = args.includes('--long');
const cases = Number(arg('cases') ?? (long ? 1_000_000 : 20_000));
const seconds = Number(arg('seconds') ?? (long ? 4 * 3600 : 300));
const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
const proto = arg('proto') as Proto | undefined;
const saveDir = join(fileURLToPath(new URL('.', import.meta.url)), '../robustness/regressions');

const mb = () => Math.round(process.memoryUsage().rss / 1_048_576);

if (args.includes('--crash')) {
  const cycles = Number(arg('cycles') ?? (long ? 50 : 5));
  console.log(`crash: ${cycles} SIGKILL cycles of the spawned server`);
  const r = await crashCycles({ cycles, seed: Number(arg('seed') ?? Date.now() % 1_000_000) });
  console.log(JSON.stringify(r, null, 1));
  const exactlyOnce = r.qos2Duplicates.length === 0 && r.sessions.idReuse === 0;
  process.exit(r.problems.length === 0 && exactlyOnce ? 0 : 1);
}

if (args.includes('--cluster-crash')) {
  const cycles = Number(arg('cycles') ?? (long ? 100 : 20));
  const seed = Number(arg('seed') ?? Date.now() % 1_000_000);
  console.log(`cluster-crash: ${cycles} SIGKILL cycles of a random node of three (seed ${seed})`);
  const r = await clusterCrash({ cycles, seed });
  console.log(JSON.stringify(r, null, 1));
  const s = r.sessions;
  console.log(`cluster-crash: ${r.cycles} cycles in ${(r.ms / 1000).toFixed(0)} s (subscribers drained in ${(r.drainMs / 1000).toFixed(1)} s after the last publish); acknowledged ${r.acked} (QoS 1 ${s.acked1}, QoS 2 ${s.acked2}), missing ${s.missing}, QoS 2 duplicates ${s.dup2}, QoS 1 duplicates ${s.dup1}, wills ${r.wills.received}/${r.wills.expected} (missing ${r.wills.missing}, duplicates ${r.wills.duplicates})`);
  process.exit(r.problems.length === 0 ? 0 : 1);
}

if (args.includes('--churn')) {
  const cycles = Number(arg('cycles') ?? (long ? 1_000_000 : 20_000));
  console.log(`churn: ${cycles} connect/subscribe/disconnect cycles over XMPP and MQTT`);
  const r = await churn({ cycles, onProgress: (done, ms) => console.log(`  ${done} cycles in ${(ms / 1000).toFixed(0)} s, rss ${mb()} MB`) });
  console.log(JSON.stringify(r, null, 1));
  const leaks = Object.entries(r.left).filter(([, v]) => v !== 0);
  const rssOk = r.rssEndMb <= r.rssWarmMb * 1.1;
  console.log(`churn: ${r.cycles} cycles in ${(r.ms / 1000).toFixed(1)} s; left ${leaks.length === 0 ? 'nothing' : JSON.stringify(Object.fromEntries(leaks))}; rss ${r.rssWarmMb} -> ${r.rssEndMb} MB${rssOk ? '' : ' (over 10 %)'}`);
  process.exit(leaks.length === 0 && rssOk && r.feedKept <= r.feedSize ? 0 : 1);
}

console.log(`fuzz: seed ${seed}, up to ${cases} cases or ${seconds} s${proto ? `, ${proto} only` : ''}; rss ${mb()} MB`);
const report = await fuzz({
  cases,
  seconds,
  seed,
  saveDir,
  ...(proto ? { protos: [proto] } : {}),
  progress: (r) => console.log(`  ${r.cases} cases (xmpp ${r.byProto.xmpp}, mqtt ${r.byProto.mqtt}, over WebSocket ${r.wsCases}) in ${(r.ms / 1000).toFixed(0)} s, findings ${r.findings.length}, rss ${mb()} MB`),
});
console.log(JSON.stringify({ ...report, findings: report.findings.map((f) => ({ kind: f.kind, detail: f.detail, cases: f.cases.length })) }, null, 1));
console.log(`fuzz: ${report.cases} cases in ${(report.ms / 1000).toFixed(1)} s (${Math.round(report.cases / (report.ms / 1000))}/s), ${report.findings.length} findings; rss ${mb()} MB`);
process.exit(report.findings.length > 0 ? 1 : 0);
