/**
 * Results of the comparison suite: every figure is appended as one JSON line to
 * bench/results/suite-<time>.jsonl (gitignored) and printed as a markdown table per scenario with
 * one column per server and Vigil/peer ratios.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const DIR = join(ROOT, 'bench/results');
const FILE = join(DIR, `suite-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);

export interface Figure {
  scenario: string;
  /** Row label, e.g. "N=10000: RSS/conn after 60 s". */
  row: string;
  unit: string;
  /** Server kind (column) and its label with version. */
  server: string;
  label: string;
  value: number;
  /** Free text: a skipped peer, a saturated generator, failures. */
  note?: string;
}

const figures: Figure[] = [];
const notes: string[] = [];

export function record(f: Figure): void {
  figures.push(f);
  mkdirSync(DIR, { recursive: true });
  appendFileSync(FILE, `${JSON.stringify({ time: new Date().toISOString(), ...f })}\n`);
}

export function note(scenario: string, text: string): void {
  notes.push(`${scenario}: ${text}`);
  mkdirSync(DIR, { recursive: true });
  appendFileSync(FILE, `${JSON.stringify({ time: new Date().toISOString(), scenario, note: text })}\n`);
  console.log(`  note: ${text}`);
}

export function resultsFile(): string {
  return FILE;
}

function fmt(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 's') return v.toFixed(3);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Markdown table of one scenario: rows in first-seen order, a column per server, then ratios. */
export function table(scenario: string): string {
  const fs = figures.filter((f) => f.scenario === scenario);
  const servers: { kind: string; label: string }[] = [];
  for (const f of fs) if (!servers.some((s) => s.kind === f.server)) servers.push({ kind: f.server, label: f.label });
  const rows: { row: string; unit: string }[] = [];
  for (const f of fs) if (!rows.some((r) => r.row === f.row)) rows.push({ row: f.row, unit: f.unit });
  const peers = servers.filter((s) => s.kind !== 'vigil' && s.kind !== 'generator');
  const head = ['measure', 'unit', ...servers.map((s) => s.label), ...peers.map((p) => `Vigil/${p.label.split(' ')[0]}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) {
    const val = (kind: string) => fs.find((f) => f.row === r.row && f.server === kind)?.value;
    const vigil = val('vigil');
    const cells = servers.map((s) => {
      const v = val(s.kind);
      return v === undefined ? '' : fmt(v, r.unit);
    });
    const ratios = peers.map((p) => {
      const v = val(p.kind);
      return vigil === undefined || v === undefined || v === 0 ? '' : `${(vigil / v).toFixed(2)}x`;
    });
    lines.push(`| ${r.row} | ${r.unit} | ${[...cells, ...ratios].join(' | ')} |`);
  }
  const ns = notes.filter((n) => n.startsWith(`${scenario}: `)).map((n) => `- ${n.slice(scenario.length + 2)}`);
  return [...lines, ...(ns.length ? ['', ...ns] : [])].join('\n');
}
