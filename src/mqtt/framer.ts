/**
 * MQTT packet framing (3.1.1 §2.2 fixed header, 5.0 §2.1): finds packet boundaries in a byte
 * stream and hands on each complete packet as one Buffer (fixed header included). Decoding is
 * someone else's (decoder.ts); the framer only reads the fixed header.
 *
 * Per connection it keeps at most one pending Buffer and a fill count, as fields of its owner
 * (FrameState: the connection holds them, so framing costs no object of its own; the functions
 * here take the owner, which is also the FrameSink the frames go to):
 *   - no pending bytes: the common case; a chunk holding whole packets is handed on as
 *     subarrays of the chunk, nothing is copied and nothing of the chunk is kept;
 *   - a partial fixed header (fewer than its 2-5 bytes): a copy of those bytes, `pendFill` 0;
 *   - a partial packet whose length is known: a Buffer of the packet's full size, filled to
 *     `pendFill`, so a large packet arriving in many chunks is copied once, never re-joined.
 *
 * Checked as soon as the fixed header is known, before any body byte is buffered:
 *   - reserved flag bits of the packet type [MQTT-2.2.2-1] -> malformed [MQTT-2.2.2-2]; type 0 is
 *     reserved (3.1.1 §2.2.1, 5.0 §2.1.2); PUBLISH with both QoS bits set [MQTT-3.3.1-4];
 *   - Remaining Length: at most 4 bytes (3.1.1 §2.2.3, 5.0 §1.5.5 Variable Byte Integer; a 4th
 *     byte with the continuation bit is malformed);
 *   - the packet's size on the wire against `frameLimit()` (v5 Maximum Packet Size, §3.1.2.11.4;
 *     the host's max_packet_size for 3.1.1): refused without reading the body.
 *
 * Holding: after `holdInput()` (called from `onFrame`, e.g. while a CONNECT password is checked)
 * the rest of the chunk and every later chunk are kept as they are, unframed; `releaseInput()`
 * frames them in order (with the limits in force then).
 * The frame of a packet read off the wire by a fast path (connection.ts) never enters the framer:
 * the owner checks `atBoundary()` and `holding()` first.
 */

export type FrameError = 'malformed' | 'too_large';

/** Required flag bits (low nibble) per packet type; -1: any (PUBLISH); -2: reserved type. */
const FLAGS: readonly number[] = [-2, 0, 0, -1, 0, 0, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0];

/** Whether the first byte of a fixed header is acceptable [MQTT-2.2.2-1/2, MQTT-3.3.1-4]. */
export function validFirstByte(first: number): boolean {
  const want = FLAGS[first >> 4]!;
  if (want === -1) return (first & 0x06) !== 0x06; // PUBLISH: QoS 3 is malformed [MQTT-3.3.1-4]
  return want === (first & 0x0f);
}

/** The framer's state, fields of its owner (the connection). Only the functions below touch them. */
export interface FrameState {
  /** Bytes of the unfinished packet (see the header), or null. */
  pend: Buffer | null;
  /** 0: `pend` is a partial fixed header; > 0: bytes of the full-size `pend` filled so far. */
  pendFill: number;
  /** Chunks (or the rest of one) held since `holdInput()`, in order; null when not holding. */
  held: Buffer[] | null;
}

/** Where the frames go (the connection). */
export interface FrameSink {
  /** One complete packet, fixed header included. It may be a view of the read chunk: copy what you keep. */
  onFrame(packet: Buffer): void;
  /** Largest packet accepted now, on the wire (fixed header included). */
  frameLimit(): number;
  /** The stream is broken: no more frames follow. */
  onFrameError(err: FrameError): void;
  /** True once the receiver stopped (closed); framing stops at once. */
  framingStopped(): boolean;
}

export type Framed = FrameState & FrameSink;

/** True when no partial packet is buffered (a fast path needs a packet boundary). */
export function atBoundary(f: FrameState): boolean {
  return f.pend === null;
}

/** Keep further input unframed until `releaseInput()` (see the header). */
export function holdInput(f: FrameState): void {
  f.held ??= [];
}

export function holding(f: FrameState): boolean {
  return f.held !== null;
}

/** Frame the held input in order (a new hold meanwhile keeps the rest). */
export function releaseInput(f: Framed): void {
  const q = f.held;
  f.held = null;
  if (q === null) return;
  for (const chunk of q) {
    if (f.framingStopped()) return;
    pushBytes(f, chunk); // joins a new hold, if one began
  }
}

/** Drop the held input (the receiver will read no more). */
export function dropInput(f: FrameState): void {
  f.held = null;
}

/** Feed one read chunk. */
export function pushBytes(f: Framed, chunk: Buffer): void {
  if (f.held !== null) {
    f.held.push(chunk);
    return;
  }
  let buf = chunk;
  let off = 0;
  const pend = f.pend;
  if (pend !== null) {
    if (f.pendFill === 0) {
      // A partial fixed header (at most 4 bytes): join it with the chunk and start over.
      buf = Buffer.concat([pend, chunk]);
      f.pend = null;
    } else {
      const need = pend.length - f.pendFill;
      const n = need < chunk.length ? need : chunk.length;
      chunk.copy(pend, f.pendFill, 0, n);
      f.pendFill += n;
      if (n < need) return;
      f.pend = null;
      f.pendFill = 0;
      f.onFrame(pend);
      if (f.framingStopped()) return;
      off = n;
      if (f.held !== null) return keepRest(f.held, buf, off);
    }
  }
  const end = buf.length;
  while (off < end) {
    const first = buf[off]!;
    if (!validFirstByte(first)) return f.onFrameError('malformed');
    // Remaining Length: 1-4 bytes, 7 bits each, least significant first (3.1.1 §2.2.3).
    let remaining = 0;
    let mul = 1;
    let i = 1;
    for (;;) {
      if (off + i >= end) {
        f.pend = Buffer.from(buf.subarray(off)); // a copy: keeps nothing of the chunk
        return;
      }
      const b = buf[off + i]!;
      remaining += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      if (i === 4) return f.onFrameError('malformed'); // "at most four bytes" (3.1.1 §2.2.3, 5.0 §1.5.5)
      mul *= 0x80;
      i++;
    }
    const total = i + 1 + remaining;
    if (total > f.frameLimit()) return f.onFrameError('too_large');
    if (end - off >= total) {
      f.onFrame(off === 0 && total === end ? buf : buf.subarray(off, off + total));
      if (f.framingStopped()) return;
      off += total;
      if (f.held !== null) return keepRest(f.held, buf, off);
      continue;
    }
    // Body still arriving: one buffer of the packet's size, filled as chunks come.
    const whole = Buffer.allocUnsafe(total);
    buf.copy(whole, 0, off, end);
    f.pend = whole;
    f.pendFill = end - off;
    return;
  }
}

/** A hold began while framing `buf`: keep its unframed rest (a view; the chunk is ours). */
function keepRest(held: Buffer[], buf: Buffer, off: number): void {
  if (off < buf.length) held.push(off === 0 ? buf : buf.subarray(off));
}
