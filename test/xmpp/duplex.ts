/**
 * A scripted XMPP test client on one end of an in-memory duplex pair (test/support/duplex-pair.ts):
 * writes raw XML, parses what the server sends with the same stream parser.
 */
import type { Duplex } from 'node:stream';
import { type StreamEvent, createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { type XmlEl, child } from '../../src/xmpp/xml.js';
import { until } from '../support/until.js';

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
    // The server ended its side (end) or dropped the connection (destroy reaches this side as close).
    const ended = () => {
      this.ended = true;
    };
    end.on('end', ended);
    end.on('close', ended);
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
    await until(() => this.stanzas().length > before || this.ended, { what: 'a SASL answer' });
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
