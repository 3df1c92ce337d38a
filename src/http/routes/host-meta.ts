/**
 * XEP-0156 discovery of the XMPP WebSocket endpoint (RFC 7395 §4): /.well-known/host-meta (XRD,
 * RFC 6415) and /.well-known/host-meta.json (JRD), each with one link of relation
 * urn:xmpp:alt-connections:websocket. The URL is built from the request (its Host header and
 * whether it came over TLS), so it names the address the client used; behind a TLS proxy it
 * says ws: unless fastify trusts the proxy. Public, no token, and readable from any origin
 * (Access-Control-Allow-Origin: *, XEP-0156 §3.2): web clients on other sites need it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

const REL = 'urn:xmpp:alt-connections:websocket';

const xmlAttr = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function wsUrl(req: FastifyRequest, path: string): string {
  const scheme = req.protocol === 'https' ? 'wss' : 'ws';
  return `${scheme}://${req.host}${path}`;
}

export function hostMetaRoutes(app: FastifyInstance, path: string): void {
  app.get('/.well-known/host-meta', { schema: { hide: true } }, async (req, reply) => {
    const xrd = `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n  <Link rel='${REL}' href='${xmlAttr(wsUrl(req, path))}'/>\n</XRD>\n`;
    return reply.header('Access-Control-Allow-Origin', '*').type('application/xrd+xml; charset=utf-8').send(xrd);
  });
  app.get('/.well-known/host-meta.json', { schema: { hide: true } }, async (req, reply) => {
    return reply.header('Access-Control-Allow-Origin', '*').type('application/json; charset=utf-8').send(JSON.stringify({ links: [{ rel: REL, href: wsUrl(req, path) }] }));
  });
}
