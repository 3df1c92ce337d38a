/**
 * 405 for a known path with a wrong method (RFC 9110 §15.5.6): the answer names the methods the
 * path has in `Allow`; a path no route matches stays 404. Fastify's router only says "no route for
 * this method and path", so every route is noted as it is added (onRoute, on the root instance
 * before any route, so routes of every scope are seen) and the path is matched against them when
 * the not-found handler runs.
 */
import type { FastifyInstance } from 'fastify';

/** find-my-way path pattern -> RegExp: `:param` is one segment, `*` the rest. */
export function patternToRegExp(pattern: string): RegExp {
  const body = pattern
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

export interface RouteTable {
  /** Methods that have a route for this URL's path, sorted; empty when none does. */
  allowed(url: string): string[];
}

export function trackRoutes(app: FastifyInstance): RouteTable {
  const routes: { method: string; path: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const path = patternToRegExp(route.url);
    for (const method of [route.method].flat()) routes.push({ method: String(method).toUpperCase(), path });
  });
  return {
    allowed(url) {
      const path = url.split('?')[0] ?? url;
      return [...new Set(routes.filter((r) => r.path.test(path)).map((r) => r.method))].sort();
    },
  };
}
