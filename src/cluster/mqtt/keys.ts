/**
 * Redis keys of MQTT across nodes (issue 16), all in the `{vigil}` slot with presence (keys.ts), so
 * one script per batch changes routes, sessions, retained messages, wills and inboxes atomically.
 * `<sk>` is a session key `<host>|<client id>` (a host name has no `|`).
 *
 *   {vigil}:mi:<node>            STREAM  a node's MQTT inbox: forwarded messages and session notices
 *   {vigil}:mlog                 STREAM  route table and retained index changes (every node reads it)
 *   {vigil}:mb:<node>            HASH    the node's last batch: epoch, seq, reply (a retried batch is answered, not redone)
 *   {vigil}:rtn:<host>           HASH    node routes: `<node>:<epoch>|<filter>` -> 1
 *   {vigil}:rts:<host>           HASH    session routes: `<client id>\0<filter>` -> subscription options
 *   {vigil}:rtown:<node>:<epoch> SET     `<host>|<filter>` node routes of an incarnation (a sweep removes them)
 *   {vigil}:ms:<sk>              HASH    persistent session: g (generation), n/e (owner node/epoch, '' offline),
 *                                        x (expiry ms, '' never), xa (offline deadline), io (inflight order)
 *   {vigil}:msub:<sk>            HASH    filter -> subscription options
 *   {vigil}:minf:<sk>            HASH    packet id -> delivery blob (outbound QoS 1/2 awaiting an ack)
 *   {vigil}:minfo:<sk>           HASH    packet id -> `<order>|<phase>`
 *   {vigil}:mrel:<sk>            HASH    packet id -> arrival ms (inbound QoS 2 awaiting PUBREL)
 *   {vigil}:mq:<sk>              STREAM  the session's queue: delivery blobs (field d)
 *   {vigil}:mexp                 ZSET    offline sessions by deadline
 *   {vigil}:mown:<node>:<epoch>  SET     sessions an incarnation holds connected
 *   {vigil}:msgen                STRING  session generations (INCR)
 *   {vigil}:ret:<host>           HASH    topic -> message blob (retained; one copy for the cluster)
 *   {vigil}:will:<sk>            HASH    c (connection), n/e (node/epoch), st (live|due), d (delay ms),
 *                                        x (will expiry s, '' none), u (username), m (message blob)
 *   {vigil}:wown:<node>:<epoch>  SET     live wills of an incarnation
 *   {vigil}:wdue                 ZSET    wills waiting for their delay, by due time
 */
import { TAG } from '../keys.js';

export const MK = {
  inbox: (node: string) => `${TAG}:mi:${node}`,
  log: `${TAG}:mlog`,
  batch: (node: string) => `${TAG}:mb:${node}`,
  nodeRoutes: (host: string) => `${TAG}:rtn:${host}`,
  sessionRoutes: (host: string) => `${TAG}:rts:${host}`,
  retained: (host: string) => `${TAG}:ret:${host}`,
  wdue: `${TAG}:wdue`,
  mexp: `${TAG}:mexp`,
} as const;

export const sessionKey = (host: string, clientId: string): string => `${host}|${clientId}`;

export function parseSessionKey(sk: string): { host: string; clientId: string } {
  const i = sk.indexOf('|');
  return { host: sk.slice(0, i), clientId: sk.slice(i + 1) };
}
