/**
 * Redis key layout of cluster mode. Every presence key carries the one hash tag `{vigil}`, so each
 * Lua script touches one slot (Redis Cluster) and can change an endpoint, the node ownership sets
 * and the change feed in one atomic step, with ONE sequence counter: feed ids stay plain integers,
 * usable as SSE ids and `Last-Event-ID` on every node (docs/cluster.md "Keys" says what this costs
 * on Redis Cluster: presence lives on one master).
 *
 *   {vigil}:seq                 INCR counter: the feed sequence (stream entry id `<seq>-0`)
 *   {vigil}:gen                 INCR counter: endpoint generations (cluster-wide, monotonic)
 *   {vigil}:epoch               INCR counter: node epochs
 *   {vigil}:feed                STREAM: the change feed, one entry per change (MAXLEN ~ feed_size)
 *   {vigil}:ep:<host>|<t>|<id>  HASH: one endpoint (gen, node, epoch, conn, state, times, meta, ...)
 *   {vigil}:eps                 ZSET: every endpoint row, scored by its creation seq (paging order)
 *   {vigil}:off                 ZSET: offline rows, scored by disconnected_at (TTL and max GC)
 *   {vigil}:own:<node>:<epoch>  SET: endpoints a node incarnation holds (what a sweep walks)
 *   {vigil}:nodes               HASH: node -> current epoch
 *   {vigil}:lease               ZSET: node -> lease deadline (Redis TIME ms)
 *   {vigil}:info:<node>         HASH: version, started_at, http address
 *   {vigil}:sweep:<node>:<ep>   STRING: sweep claim (SET NX PX), the sweeper's node id
 *   {vigil}:inbox:<node>        STREAM: forwarded commands (kick, ping-now) and their replies
 *   {vigil}:ctl                 STREAM: cluster-wide control (host settings changes)
 *   {vigil}:hostcfg             HASH: host -> JSON of runtime settings overrides (PATCH)
 *   {vigil}:users               HASH: <host>|<user> -> JSON user record (replica.ts)
 *   {vigil}:roster:<host>|<user> HASH: contact JID -> JSON roster item (replica.ts)
 */
import type { Transport } from '../liveness/types.js';

export const TAG = '{vigil}';
export const K = {
  seq: `${TAG}:seq`,
  feed: `${TAG}:feed`,
  nodes: `${TAG}:nodes`,
  lease: `${TAG}:lease`,
  eps: `${TAG}:eps`,
  ctl: `${TAG}:ctl`,
  hostcfg: `${TAG}:hostcfg`,
  info: (node: string) => `${TAG}:info:${node}`,
  own: (node: string, epoch: number) => `${TAG}:own:${node}:${epoch}`,
  inbox: (node: string) => `${TAG}:inbox:${node}`,
} as const;

/** The field of an endpoint inside its key (and in feed entries): `<host>|<transport>|<id>`. */
export function epName(host: string, transport: Transport, id: string): string {
  return `${host}|${transport}|${id}`;
}

export function parseEpName(name: string): { host: string; transport: Transport; id: string } | null {
  const a = name.indexOf('|');
  const b = a < 0 ? -1 : name.indexOf('|', a + 1);
  if (b < 0) return null;
  const transport = name.slice(a + 1, b);
  if (transport !== 'xmpp' && transport !== 'mqtt') return null;
  return { host: name.slice(0, a), transport, id: name.slice(b + 1) };
}

/** Stream entry id of a feed sequence number, and back. */
export const streamId = (seq: number): string => `${seq}-0`;
export const seqOf = (id: string): number => Number.parseInt(id, 10);
