/**
 * In-memory duplex pair (Node 20 lacks stream.duplexPair()) and a scripted XMPP test client on
 * one end: writes raw XML, parses what the server sends with the same stream parser.
 */
import { Duplex } from 'node:stream';
import { type StreamEvent, createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { type XmlEl, child } from '../../src/xmpp/xml.js';

class End extends Duplex {
  other: End | null = null;
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.other?.push(chunk);
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.other?.push(null);
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.other && !this.other.destroyed) this.other.push(null);
    cb(err);
  }
}

export function duplexPair(): [Duplex, Duplex] {
  const a = new End();
  const b = new End();
  a.other = b;
  b.other = a;
  return [a, b];
}

/** Let queued stream callbacks run (data delivery is asynchronous); no wall-clock waiting. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export class TestClient {
  readonly events: StreamEvent[] = [];
  ended = false;
  private parser = createXmlStreamParser({ maxStanzaBytes: 10_000_000 });
  raw = '';

  constructor(readonly end: Duplex) {
    end.on('data', (chunk: Buffer) => {
      this.raw += chunk.toString();
      this.events.push(...this.parser.write(chunk));
    });
    end.on('end', () => {
      this.ended = true;
    });
  }

  async send(xml: string): Promise<void> {
    this.end.write(xml);
    await settle();
  }

  /**
   * Send a SASL <auth/> or <response/> and wait for the server's next SASL answer: a PLAIN password
   * is checked on the libuv thread pool, so it may take more than a few loop turns (bounded, no timer).
   */
  async sendSasl(xml: string): Promise<void> {
    const before = this.stanzas().length;
    this.end.write(xml);
    for (let i = 0; i < 20_000 && this.stanzas().length === before && !this.ended; i++) await new Promise((r) => setImmediate(r));
    await settle();
  }

  /** Restart the parser for a new server stream (after SASL success). */
  restart(): void {
    this.parser.reset();
  }

  stanzas(): XmlEl[] {
    return this.events.flatMap((e) => (e.type === 'stanza' ? [e.el] : []));
  }

  /** Stanzas received since the last call of take(). */
  private seen = 0;
  take(): XmlEl[] {
    const all = this.stanzas();
    const fresh = all.slice(this.seen);
    this.seen = all.length;
    return fresh;
  }

  streamError(): string | undefined {
    const err = this.stanzas().find((s) => s.name === 'stream:error');
    return err ? child(err)?.name : undefined;
  }

  closedStream(): boolean {
    return this.events.some((e) => e.type === 'close');
  }
}
