/**
 * Protocol-neutral byte mutators (bit flips, truncation, insertion, duplication, splicing) and the
 * chunking that decides how a mutated stream reaches the server (whole, random splits, one byte per
 * write). Protocol-aware mutators live in xml-cases.ts and mqtt-cases.ts.
 */
import type { Rng } from './rng.js';

export type ByteMutator = (input: Buffer, rng: Rng) => Buffer;

export const bitFlip: ByteMutator = (b, rng) => {
  if (b.length === 0) return b;
  const out = Buffer.from(b);
  const flips = 1 + rng.int(4);
  for (let i = 0; i < flips; i++) {
    const at = rng.int(out.length);
    out[at] = out[at]! ^ (1 << rng.int(8));
  }
  return out;
};

export const truncate: ByteMutator = (b, rng) => b.subarray(0, rng.int(b.length + 1));

export const randomBytes: ByteMutator = (b, rng) => {
  const at = rng.int(b.length + 1);
  return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(16)), b.subarray(at)]);
};

export const setByte: ByteMutator = (b, rng) => {
  if (b.length === 0) return b;
  const out = Buffer.from(b);
  out[rng.int(out.length)] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x3c, 0x3e, 0x26, rng.int(256)]);
  return out;
};

export const duplicateSlice: ByteMutator = (b, rng) => {
  if (b.length === 0) return b;
  const from = rng.int(b.length);
  const len = 1 + rng.int(Math.min(64, b.length - from));
  const at = rng.int(b.length + 1);
  const slice = b.subarray(from, from + len);
  const times = 1 + rng.int(rng.chance(0.1) ? 200 : 3);
  return Buffer.concat([b.subarray(0, at), ...Array.from({ length: times }, () => slice), b.subarray(at)]);
};

export const deleteSlice: ByteMutator = (b, rng) => {
  if (b.length === 0) return b;
  const from = rng.int(b.length);
  const len = 1 + rng.int(Math.min(32, b.length - from));
  return Buffer.concat([b.subarray(0, from), b.subarray(from + len)]);
};

export const BYTE_MUTATORS: readonly ByteMutator[] = [bitFlip, truncate, randomBytes, setByte, duplicateSlice, deleteSlice];

/** How the bytes are written: whole, split at random points, or one byte per write (short inputs). */
export function chunk(b: Buffer, rng: Rng): Buffer[] {
  const mode = rng.int(10);
  if (mode < 4 || b.length < 2) return [b];
  if (mode === 9 && b.length <= 2048) return Array.from(b, (_, i) => b.subarray(i, i + 1));
  const cuts = new Set<number>();
  const n = 1 + rng.int(8);
  for (let i = 0; i < n; i++) cuts.add(1 + rng.int(b.length - 1));
  const points = [0, ...[...cuts].sort((x, y) => x - y), b.length];
  return points.slice(1).map((p, i) => b.subarray(points[i]!, p));
}
