/**
 * node-floor: the lower bound of any Node.js MQTT broker, as its own process for the comparison
 * suite (conn-idle and pingscale only: it routes nothing). A `net` server whose sockets get one
 * 'data' listener and one write per read chunk: every complete CONNECT is answered with a constant
 * MQTT 3.1.1 CONNACK (`20 02 00 00`, session present 0, accepted; MQTT 3.1.1 §3.2), every PINGREQ
 * with PINGRESP (`d0 00`, §3.12/§3.13); anything else (DISCONNECT included) closes the socket.
 * Framing is just the fixed header's remaining length (§2.2.3), so several packets in one chunk
 * and packets split over chunks are handled; no other state is kept. The listener sets
 * `noDelay: true` as Vigil's MQTT listener does (src/mqtt/service.ts), so that the comparison is fair.
 * Prints `node_floor_ready PORT` once listening (PORT 0 = any free port).
 * Usage: node bench/suite/node-floor-server.mjs PORT
 */
/* global process, console */
import { Buffer } from 'node:buffer';
import { createServer } from 'node:net';

const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);
/** Bytes of a packet cut by the end of a read, until the rest arrives (rare: the generator writes whole packets). */
const REST = Symbol('rest');

/**
 * Pushes the answers to the complete packets in `buf` onto `out`; returns the offset of the first
 * incomplete packet (buf.length when none), or -1 when the socket must close.
 */
function answer(buf, out) {
  let off = 0;
  while (off < buf.length) {
    let len = 0;
    let mul = 1;
    let i = off + 1;
    for (;;) {
      if (i >= buf.length) return off;
      const b = buf[i++];
      len += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
      if (mul > 128 ** 3) return -1; // more than 4 length bytes [MQTT 3.1.1 §2.2.3]
    }
    if (i + len > buf.length) return off;
    const type = buf[off] >> 4;
    if (type === 1) out.push(CONNACK);
    else if (type === 12 && len === 0) out.push(PINGRESP);
    else return -1;
    off = i + len;
  }
  return off;
}

function onData(chunk) {
  // The hot case first: a lone PINGREQ, one write of a constant.
  if (this[REST] === null && chunk.length === 2 && chunk[0] === 0xc0 && chunk[1] === 0x00) {
    this.write(PINGRESP);
    return;
  }
  const buf = this[REST] === null ? chunk : Buffer.concat([this[REST], chunk]);
  const out = [];
  const used = answer(buf, out);
  if (used < 0) {
    // Answer what came before the unknown packet, then close once it is flushed (end, not destroy,
    // which would drop the CONNACK of a CONNECT that shared the chunk).
    this.off('data', onData);
    this.end(out.length > 0 ? Buffer.concat(out) : undefined);
    return;
  }
  this[REST] = used < buf.length ? Buffer.from(buf.subarray(used)) : null;
  if (out.length === 1) this.write(out[0]);
  else if (out.length > 1) this.write(Buffer.concat(out));
}

function ignore() {}

const port = Number(process.argv[2] ?? 0);
const server = createServer({ noDelay: true }, (s) => {
  s[REST] = null;
  s.on('data', onData);
  s.on('error', ignore);
});
server.listen(port, '127.0.0.1', () => console.log(`node_floor_ready ${server.address().port}`));
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
