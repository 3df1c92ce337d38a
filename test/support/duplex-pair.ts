/**
 * The in-memory duplex pair every protocol test uses (Node 20 lacks stream.duplexPair()): bytes
 * written on one side are read on the other; end() on one side ends the other's readable side;
 * destroy() on one side destroys the other (an abrupt network close). Backpressure is real: a
 * write completes only once the reader has room, so a paused reader fills the writer's buffer.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';

export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  /** Per side: the write callback waiting for the *other* side to read. */
  const waiting: ((() => void) | null)[] = [null, null];
  const make = (me: 0 | 1) => {
    const other = () => sides[1 - me]!;
    return new Duplex({
      read() {
        const cb = waiting[1 - me];
        waiting[1 - me] = null;
        cb?.();
      },
      write(chunk: Buffer, _enc, cb) {
        const o = other();
        if (o.destroyed) return cb();
        if (o.push(chunk)) cb();
        else waiting[me] = cb;
      },
      final(cb) {
        const o = other();
        if (!o.destroyed) o.push(null);
        cb();
      },
      destroy(err, cb) {
        const o = other();
        waiting[me] = null;
        if (!o.destroyed) process.nextTick(() => o.destroy());
        cb(err);
      },
    });
  };
  sides.push(make(0), make(1));
  return [sides[0]!, sides[1]!];
}

/**
 * The WebSocket counterpart: a MessageSocket (src/transport/ws-connection.ts) in memory, so a
 * WsConnection, with a protocol's framing, runs without a socket (protocol tests, the fuzzer).
 * `fromClient` delivers a message as `ws` would (Buffer, and whether it was binary), held while
 * the connection is paused; `sent` records what the server sent; a Ping is answered by itself
 * unless `autoPong` is off (a silent client); close and terminate end it on the next turn.
 */
export class MemoryWebSocket extends EventEmitter {
  readonly sent: { data: Buffer | string; binary: boolean }[] = [];
  bufferedAmount = 0;
  autoPong = true;
  pings = 0;
  closed: { code: number | undefined; reason: string | undefined } | null = null;
  private paused = false;
  private held: [Buffer, boolean][] = [];
  /** Called for each message the server sends (after `sent` records it). */
  onSend: ((data: Buffer | string, binary: boolean) => void) | null = null;

  send(data: Buffer | string, opts: { binary: boolean }): void {
    if (this.closed) return;
    this.sent.push({ data, binary: opts.binary });
    this.onSend?.(data, opts.binary);
  }
  close(code?: number, reason?: string): void {
    if (this.closed) return;
    this.closed = { code, reason };
    setImmediate(() => this.emit('close', code ?? 1005));
  }
  terminate(): void {
    this.close(1006, '');
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    const held = this.held;
    this.held = [];
    for (const [d, b] of held) this.emit('message', d, b);
  }
  ping(): void {
    this.pings++;
    if (this.autoPong) setImmediate(() => this.closed || this.emit('pong'));
  }
  /** A message from the client: a string is a text frame unless `binary`. */
  fromClient(data: Buffer | string, binary = typeof data !== 'string'): void {
    if (this.closed) return;
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.paused) this.held.push([buf, binary]);
    else this.emit('message', buf, binary);
  }
  /** The client answers a Ping now (when autoPong is off). */
  pong(): void {
    this.emit('pong');
  }
  /** Text of what the server sent, one string per message. */
  texts(): string[] {
    return this.sent.map((m) => (typeof m.data === 'string' ? m.data : m.data.toString('utf8')));
  }
}
