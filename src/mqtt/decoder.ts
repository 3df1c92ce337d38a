/**
 * Decoding one complete MQTT packet (framed by framer.ts) with mqtt-packet, shared by every
 * connection of a broker: one mqtt-packet parser per protocol family (3.1/3.1.1, 5.0), fed one
 * whole packet at a time, so no connection keeps a parser, a `bl` buffer list, an EventEmitter
 * or a retained Packet of its own.
 *
 * Invariants that make sharing safe:
 *   - a frame is a whole packet, so after `parse` the parser holds nothing: its buffer list is
 *     consumed and its next Packet is empty (nothing of a read chunk stays referenced);
 *   - CONNECT makes mqtt-packet keep the whole packet (password, will) as its `settings`; they are
 *     put back to the family's constant settings after each CONNECT;
 *   - after an error (or a frame the parser did not finish, which framing rules out) the parser is
 *     replaced, so no half state leaks into the next connection's packet;
 *   - decoding is synchronous and calls no handler: the listeners only record the outcome.
 * Packets before CONNECT (and CONNECT itself) are read as 3.1.1, like a fresh mqtt-packet parser.
 */
import { parser as makeParser, type Packet, type Parser } from 'mqtt-packet';

class FamilyParser {
  private p: Parser;
  private out: Packet | null = null;
  private err: Error | null = null;
  private readonly settings: { protocolVersion: 4 | 5 };

  constructor(version: 4 | 5) {
    this.settings = { protocolVersion: version };
    this.p = this.make();
  }

  private make(): Parser {
    const p = makeParser(this.settings);
    p.on('packet', (pkt: Packet) => {
      this.out = pkt;
    });
    p.on('error', (err: Error) => {
      this.err ??= err;
    });
    return p;
  }

  decode(frame: Buffer): Packet | Error {
    try {
      this.p.parse(frame);
    } catch (err) {
      this.reset();
      throw err; // a bug in the parser: the caller reports an internal error
    }
    const out = this.out;
    const err = this.err;
    if (err !== null || out === null) {
      this.reset();
      return err ?? new Error('incomplete packet');
    }
    this.out = null;
    if (out.cmd === 'connect') (this.p as unknown as { settings: object }).settings = this.settings;
    return out;
  }

  private reset(): void {
    this.out = null;
    this.err = null;
    this.p = this.make();
  }
}

/** The broker's decoders; `decode` returns the packet or the parser's error (a malformed packet). */
export class PacketDecoder {
  private readonly v4 = new FamilyParser(4);
  private readonly v5 = new FamilyParser(5);

  decode(frame: Buffer, version: number): Packet | Error {
    return (version === 5 ? this.v5 : this.v4).decode(frame);
  }
}
