/**
 * Serves the dashboard page: GET /dashboard (index.html) and GET /dashboard/assets/<name>, from
 * web/dashboard/ and uPlot's browser build in node_modules (served as assets/vendor/...). Files
 * are read once at start into memory (~120 KB) and served by exact name from that map, so no
 * request path ever reaches the file system. Every answer has an ETag (304 on If-None-Match) and
 * `Cache-Control: no-cache`; the page gets a Content-Security-Policy that allows only this origin
 * (no inline script or style, no framing).
 * The page itself holds no data and needs no login; everything it shows comes from /v1.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const WEB_ROOT = fileURLToPath(new URL('../../../web/dashboard/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

function asset(file: string): Asset {
  const body = readFileSync(file);
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every servable file by its name under /dashboard/assets/. */
export function loadAssets(root = WEB_ROOT): { index: Asset; assets: Map<string, Asset> } {
  const assets = new Map<string, Asset>();
  const dir = join(root, 'assets');
  for (const name of readdirSync(dir)) if (TYPES[extname(name)]) assets.set(name, asset(join(dir, name)));
  const require = createRequire(import.meta.url);
  // uplot is served to the browser, never imported (knip.json ignoreDependencies lists it).
  for (const name of ['uPlot.iife.min.js', 'uPlot.min.css']) assets.set(`vendor/${name}`, asset(require.resolve(`uplot/dist/${name}`)));
  return { index: asset(join(root, 'index.html')), assets };
}

function send(req: FastifyRequest, reply: FastifyReply, a: Asset): FastifyReply {
  reply
    .header('etag', a.etag)
    .header('cache-control', 'no-cache')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

export function dashboardRoutes(app: FastifyInstance): void {
  const { index, assets } = loadAssets();
  const page = (req: FastifyRequest, reply: FastifyReply) =>
    send(req, reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY'), index);
  app.get('/dashboard', { schema: { hide: true } }, page);
  app.get('/dashboard/', { schema: { hide: true } }, page);
  app.get<{ Params: { '*': string } }>('/dashboard/assets/*', { schema: { hide: true } }, async (req, reply) => {
    const a = assets.get(req.params['*']);
    if (!a) return reply.callNotFound();
    return send(req, reply, a);
  });
}
