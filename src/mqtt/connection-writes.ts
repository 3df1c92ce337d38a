/**
 * The outbound side of an MQTT connection's socket: writes gathered so that a burst costs one
 * socket write, not one each. Functions over state its owner keeps (WriteQueue: two fields of the
 * connection, plus its stream), so batching costs no object per connection:
 *   - while the owner handles one of its read chunks (between `beginRead` and `endRead`), what it
 *     writes goes out at the end of the chunk: the answers to one read (a lone PINGRESP too) leave
 *     in one write, with no tick queued;
 *   - any other write (deliveries from other connections' publishes, acks released once durable)
 *     waits for the end of the event-loop tick: the first queues one shared nextTick flush;
 *   - a single buffer is written as it is (no writev, no copy); several are joined once.
 * `pendingBytes` counts what waits here, for the max_send_buffer check beside the stream's own.
 */
import type { TransportConn } from '../transport/connection.js';

export interface WriteQueue {
  readonly stream: TransportConn;
  /** Writes waiting (one buffer, several, or none), and their bytes. */
  outQ: Buffer | Buffer[] | null;
  outBytes: number;
}

/** The owner whose read chunk is being handled (its writes wait for the end of the chunk). */
let reading: WriteQueue | null = null;

/** Queue `buf` (see the header). */
export function queueWrite(w: WriteQueue, buf: Buffer): void {
  if (w.stream.destroyed) return;
  w.outBytes += buf.length;
  if (w.outQ === null) {
    w.outQ = buf;
    if (reading !== w) process.nextTick(flushWrites, w);
  } else if (Array.isArray(w.outQ)) w.outQ.push(buf);
  else w.outQ = [w.outQ, buf];
}

/** A lone answer (CONNACK): straight to the socket when nothing waits, else in order behind it. */
export function writeFirst(w: WriteQueue, buf: Buffer): void {
  if (w.outQ === null && !w.stream.destroyed) w.stream.write(buf);
  else queueWrite(w, buf);
}

/** Write out what waits. */
export function flushWrites(w: WriteQueue): void {
  const q = w.outQ;
  w.outQ = null;
  w.outBytes = 0;
  if (q === null || w.stream.destroyed) return;
  w.stream.write(Array.isArray(q) ? Buffer.concat(q) : q);
}

/** `w` starts handling a read chunk; returns what to hand `endRead` (re-entrant). */
export function beginRead(w: WriteQueue): WriteQueue | null {
  const outer = reading;
  reading = w;
  return outer;
}

/** The chunk is handled: its writes go out. */
export function endRead(w: WriteQueue, outer: WriteQueue | null): void {
  reading = outer;
  if (w.outQ !== null) flushWrites(w);
}
