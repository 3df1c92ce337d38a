/**
 * MQTT packet framing (3.1.1 §2.2 fixed header, 5.0 §2.1): finds packet boundaries in a byte
 * stream and hands on each complete packet as one Buffer (fixed header included). Decoding is
 * someone else's (decoder.ts); the framer only reads the fixed header.
 *
 * Per connection it keeps at most one pending Buffer and a fill count, as fields of the subclass
 * (MqttConnection extends it, so framing costs no object of its own):
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

export abstract class PacketFramer {
  /** Bytes of the unfinished packet (see the header), or null. */
  private pend: Buffer | null = null;
  /** 0: `pend` is a partial fixed header; > 0: bytes of the full-size `pend` filled so far. */
  private pendFill = 0;
  /** Chunks (or the rest of one) held since `holdInput()`, in order; null when not holding. */
  private held: Buffer[] | null = null;

  /** One complete packet, fixed header included. It may be a view of the read chunk: copy what you keep. */
  protected abstract onFrame(packet: Buffer): void;
  /** Largest packet accepted now, on the wire (fixed header included). */
  protected abstract frameLimit(): number;
  /** The stream is broken: no more frames follow. */
  protected abstract onFrameError(err: FrameError): void;
  /** True once the receiver stopped (closed); framing stops at once. */
  protected abstract framingStopped(): boolean;

  /** True when no partial packet is buffered (the PINGREQ fast path needs a packet boundary). */
  protected get atBoundary(): boolean {
    return this.pend === null;
  }

  /** Keep further input unframed until `releaseInput()` (see the header). */
  protected holdInput(): void {
    this.held ??= [];
  }

  protected get holding(): boolean {
    return this.held !== null;
  }

  /** Frame the held input in order (a new hold meanwhile keeps the rest). */
  protected releaseInput(): void {
    const q = this.held;
    this.held = null;
    if (q === null) return;
    for (const chunk of q) {
      if (this.framingStopped()) return;
      this.pushBytes(chunk); // joins a new hold, if one began
    }
  }

  /** Drop the held input (the receiver will read no more). */
  protected dropInput(): void {
    this.held = null;
  }

  /** Feed one read chunk. */
  protected pushBytes(chunk: Buffer): void {
    if (this.held !== null) {
      this.held.push(chunk);
      return;
    }
    let buf = chunk;
    let off = 0;
    const pend = this.pend;
    if (pend !== null) {
      if (this.pendFill === 0) {
        // A partial fixed header (at most 4 bytes): join it with the chunk and start over.
        buf = Buffer.concat([pend, chunk]);
        this.pend = null;
      } else {
        const need = pend.length - this.pendFill;
        const n = need < chunk.length ? need : chunk.length;
        chunk.copy(pend, this.pendFill, 0, n);
        this.pendFill += n;
        if (n < need) return;
        this.pend = null;
        this.pendFill = 0;
        this.onFrame(pend);
        if (this.framingStopped()) return;
        off = n;
        if (this.held !== null) return this.keepRest(buf, off);
      }
    }
    const end = buf.length;
    while (off < end) {
      const first = buf[off]!;
      if (!validFirstByte(first)) return this.onFrameError('malformed');
      // Remaining Length: 1-4 bytes, 7 bits each, least significant first (3.1.1 §2.2.3).
      let remaining = 0;
      let mul = 1;
      let i = 1;
      for (;;) {
        if (off + i >= end) {
          this.pend = Buffer.from(buf.subarray(off)); // a copy: keeps nothing of the chunk
          return;
        }
        const b = buf[off + i]!;
        remaining += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) break;
        if (i === 4) return this.onFrameError('malformed'); // "at most four bytes" (3.1.1 §2.2.3, 5.0 §1.5.5)
        mul *= 0x80;
        i++;
      }
      const total = i + 1 + remaining;
      if (total > this.frameLimit()) return this.onFrameError('too_large');
      if (end - off >= total) {
        this.onFrame(off === 0 && total === end ? buf : buf.subarray(off, off + total));
        if (this.framingStopped()) return;
        off += total;
        if (this.held !== null) return this.keepRest(buf, off);
        continue;
      }
      // Body still arriving: one buffer of the packet's size, filled as chunks come.
      const whole = Buffer.allocUnsafe(total);
      buf.copy(whole, 0, off, end);
      this.pend = whole;
      this.pendFill = end - off;
      return;
    }
  }

  /** A hold began while framing `buf`: keep its unframed rest (a view; the chunk is ours). */
  private keepRest(buf: Buffer, off: number): void {
    if (off < buf.length) this.held!.push(off === 0 ? buf : buf.subarray(off));
  }
}
