/**
 * An in-memory duplex pair for MQTT protocol tests (Node 20 lacks stream.duplexPair()): bytes
 * written on one side are read on the other; end() on one side ends the other's readable side;
 * destroy() on one side destroys the other (an abrupt network close).
 */
import { Duplex } from 'node:stream';

export function mqttDuplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const o = other();
        if (!o.destroyed) o.push(chunk);
        cb();
      },
      final(cb) {
        const o = other();
        if (!o.destroyed) o.push(null);
        cb();
      },
      destroy(err, cb) {
        const o = other();
        if (!o.destroyed) process.nextTick(() => o.destroy());
        cb(err);
      },
    });
  sides.push(make(() => sides[1]!), make(() => sides[0]!));
  return [sides[0]!, sides[1]!];
}
