/**
 * A gateway's REST API stand-in on 127.0.0.1:0 answering from recorded, documented payloads
 * (fixtures/): routes by "METHOD /path" (query left out), every request recorded with its
 * headers so tests can check what Vigil sent (auth, query, body).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type Route = (seen: Seen) => { status: number; body?: unknown };

export class FakeApi {
  readonly seen: Seen[] = [];
  readonly routes = new Map<string, Route>();
  private server: Server | null = null;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
        this.seen.push(seen);
        const route = this.routes.get(`${seen.method} ${seen.url.split('?')[0]}`);
        const out = route ? route(seen) : { status: 404, body: { code: 'NOT_FOUND' } };
        res.writeHead(out.status, { 'content-type': 'application/json' });
        res.end(out.body === undefined ? '' : JSON.stringify(out.body));
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

