/**
 * Summarise a V8 .cpuprofile (from `npm run bench -- SCENARIO --cpu-prof`): self time per function
 * and per file, top entries first, as a share of the busy (non-idle) sampled time.
 * Usage: npx tsx bench/suite/cpuprofile-top.ts FILE.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: cpuprofile-top FILE.cpuprofile [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
// Shares are of the busy (non-idle) time: the scenarios leave the server idle most of the run.
const idleIds = new Set(prof.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const total = [...selfUs].filter(([id]) => !idleIds.has(id)).reduce((a, [, b]) => a + b, 0);
const fn = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, us] of selfUs) {
  if (idleIds.has(id)) continue;
  const cf = byId.get(id)?.callFrame;
  if (!cf) continue;
  const short = cf.url.replace(/^.*\/(node_modules|src|dist|vigil-dist)\//, '$1/').replace(/^file:\/\//, '');
  const key = `${cf.functionName || '(anonymous)'} ${short}:${cf.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + us);
  const f = short || `(${cf.functionName})`;
  files.set(f, (files.get(f) ?? 0) + us);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (${(total / 1000).toFixed(0)} ms busy sampled; idle excluded)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
};
show('self time by function', fn);
show('self time by file', files);
