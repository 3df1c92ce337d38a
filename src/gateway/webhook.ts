/**
 * Webhook receivers (POST /v1/gateways/{name}/events): who may post, and what a body says.
 *
 * Credentials, each proving knowledge of the gateway's `webhook.secret`, in the forms the gateways
 * can actually send:
 *   - `Authorization: Bearer <secret>`: EMQX's HTTP action takes static headers;
 *   - `Authorization: Basic <user:secret>`: VerneMQ's vmq_webhooks sends no custom header, but
 *     its HTTP client (hackney) turns the endpoint URL's user info into Basic auth;
 *   - `X-Vigil-Signature: sha256=<hex HMAC-SHA256 of the raw body>`: relays and scripts that
 *     can sign (the secret never travels).
 * Every comparison is constant-time over fixed-length digests, whatever the presented length.
 *
 * Bodies: EMQX rule-engine output (one event object, or an array of them); VerneMQ one hook call,
 * named by the `vernemq-hook` header. Events that say nothing about presence are `ignored`;
 * a presence event without a valid client id is `malformed` and the whole body is refused.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { GatewayKind } from '../config/schema/gateways.js';
import { emqxRuleEvent } from './kinds/emqx.js';
import { isObject } from './kinds/fields.js';
import { vernemqHook } from './kinds/vernemq.js';
import type { ClientEvent } from './types.js';

export type WebhookAuth = 'ok' | 'missing' | 'invalid';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest();
const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);

export function webhookAuth(secret: string, headers: Record<string, string | string[] | undefined>, raw: Buffer): WebhookAuth {
  const sig = headers['x-vigil-signature'];
  if (typeof sig === 'string') {
    const m = /^sha256=([0-9a-fA-F]{64})$/.exec(sig.trim());
    if (!m) return 'invalid';
    const want = createHmac('sha256', secret).update(raw).digest();
    return same(sha256(want), sha256(Buffer.from(m[1]!.toLowerCase(), 'hex'))) ? 'ok' : 'invalid';
  }
  const auth = headers.authorization;
  if (typeof auth !== 'string') return 'missing';
  const bearer = /^Bearer[ ]+(\S+)\s*$/i.exec(auth);
  if (bearer) return same(sha256(secret), sha256(bearer[1]!)) ? 'ok' : 'invalid';
  const basic = /^Basic[ ]+([A-Za-z0-9+/=]+)\s*$/i.exec(auth);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && same(sha256(secret), sha256(decoded.slice(colon + 1))) ? 'ok' : 'invalid';
  }
  return 'missing';
}

export interface WebhookBody {
  events: ClientEvent[];
  ignored: number;
  /** Why the body is refused (null when it is fine). */
  malformed: string | null;
}

export function readWebhook(kind: GatewayKind, headers: Record<string, string | string[] | undefined>, body: unknown): WebhookBody {
  const out: WebhookBody = { events: [], ignored: 0, malformed: null };
  if (kind === 'vernemq') {
    const hook = headers['vernemq-hook'];
    if (typeof hook !== 'string') return { ...out, malformed: 'no vernemq-hook header' };
    if (!isObject(body)) return { ...out, malformed: 'the body is not a JSON object' };
    const e = vernemqHook(hook, body);
    if (e === null) return { ...out, malformed: `${hook}: no valid client_id` };
    if (e === 'ignored') out.ignored++;
    else out.events.push(e);
    return out;
  }
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) return out;
  for (const [i, item] of items.entries()) {
    const e = isObject(item) ? emqxRuleEvent(item) : null;
    if (e === null) return { events: [], ignored: 0, malformed: `event ${i}: not a client event with a valid clientid` };
    if (e === 'ignored') out.ignored++;
    else out.events.push(e);
  }
  return out;
}

/** The kinds that push events (GATEWAY_CHANNELS in the config schema agrees). */
export const WEBHOOK_KINDS: ReadonlySet<GatewayKind> = new Set(['emqx', 'vernemq']);
