/**
 * The in-memory duplex pair every protocol test uses (Node 20 lacks stream.duplexPair()): bytes
 * written on one side are read on the other; end() on one side ends the other's readable side;
 * destroy() on one side destroys the other (an abrupt network close). Backpressure is real: a
 * write completes only once the reader has room, so a paused reader fills the writer's buffer.
 */
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
