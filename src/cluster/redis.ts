/**
 * The one place that knows the Redis client (@redis/client, node-redis's core: no dependencies of
 * its own; why this client, measured: docs/architecture.md "Redis client"). The rest of the cluster
 * code sees `RedisLink`: a command routed by a key (Redis Cluster: that key's slot), a Lua script
 * by SHA (loaded again after NOSCRIPT, e.g. after a Redis restart), a second connection for
 * blocking reads, and up/down notices. RESP2 is asked for so replies are plain arrays.
 *
 * Only single-key commands and single-slot scripts are used (no MULTI, no WATCH), so the client's
 * cluster transaction issues do not apply (research/cluster-anchors.md §5).
 */
import { createHash } from 'node:crypto';
import { createClient, createCluster } from '@redis/client';

export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function luaScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

export interface RedisLink {
  /** A command, routed by `key` (the slot of the keys it touches). */
  send(key: string, args: readonly string[]): Promise<unknown>;
  /** EVALSHA, falling back to EVAL once when the server does not have the script (NOSCRIPT). */
  script(s: LuaScript, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** A separate connection to the same Redis (blocking reads must not hold up commands). */
  duplicate(): Promise<RedisLink>;
  /** Connection up (true) / lost (false). Returns an unsubscribe function. */
  onStatus(listener: (up: boolean) => void): () => void;
  readonly up: boolean;
  /** Close; `force` drops commands still waiting (a blocked XREAD) instead of waiting for them. */
  close(force?: boolean): Promise<void>;
}

export interface RedisOptions {
  url: string | null;
  nodes: readonly string[];
  password: string | null;
  tls: boolean;
  /** Called for connection errors (logged by the caller, rate-limited there). */
  onError(err: Error): void;
}

type Sender = (key: string, args: string[]) => Promise<unknown>;

/** Reconnect quickly at first, then at most every 1 s (a Redis restart is the common case). */
const reconnectStrategy = (retries: number) => Math.min(50 + retries * 50, 1_000);

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

function makeLink(sender: Sender, listeners: Set<(up: boolean) => void>, state: { up: boolean }, dup: () => Promise<RedisLink>, close: (force: boolean) => Promise<void>): RedisLink {
  return {
    send: (key, args) => sender(key, [...args]),
    async script(s, keys, args) {
      const key = keys[0] ?? '';
      try {
        return await sender(key, ['EVALSHA', s.sha, String(keys.length), ...keys, ...args]);
      } catch (err) {
        if (!isNoScript(err)) throw err;
        return sender(key, ['EVAL', s.source, String(keys.length), ...keys, ...args]);
      }
    },
    duplicate: dup,
    onStatus(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    get up() {
      return state.up;
    },
    close: (force = false) => close(force),
  };
}

/** Connect (resolves once the first connection is ready). */
export async function connectRedis(opts: RedisOptions): Promise<RedisLink> {
  const listeners = new Set<(up: boolean) => void>();
  const state = { up: false };
  const setUp = (up: boolean) => {
    if (state.up === up) return;
    state.up = up;
    for (const l of listeners) l(up);
  };
  const tls = opts.tls || (opts.url?.startsWith('rediss:') ?? false);
  const socket = { reconnectStrategy, connectTimeout: 5_000, ...(tls ? { tls: true as const } : {}) };
  const auth = opts.password !== null ? { password: opts.password } : {};
  if (opts.url !== null) {
    const client = createClient({ url: opts.url, RESP: 2, socket, ...auth });
    client.on('error', (err: Error) => opts.onError(err));
    client.on('ready', () => setUp(true));
    client.on('end', () => setUp(false));
    client.on('reconnecting', () => setUp(false));
    await client.connect();
    setUp(true);
    const sender: Sender = (_key, args) => client.sendCommand(args);
    return makeLink(sender, listeners, state, () => connectRedis(opts), async (force) => {
      listeners.clear();
      if (force) client.destroy();
      else if (client.isOpen) await client.close().catch(() => client.destroy());
    });
  }
  const cluster = createCluster({
    rootNodes: opts.nodes.map((n) => ({ url: `${tls ? 'rediss' : 'redis'}://${n}` })),
    defaults: { socket, ...auth },
    RESP: 2,
  });
  cluster.on('error', (err: Error) => opts.onError(err));
  await cluster.connect();
  setUp(true);
  const sender: Sender = (key, args) => cluster.sendCommand(key, false, args);
  return makeLink(sender, listeners, state, () => connectRedis(opts), async (force) => {
    listeners.clear();
    if (force) cluster.destroy();
    else await cluster.close().catch(() => cluster.destroy());
  });
}
