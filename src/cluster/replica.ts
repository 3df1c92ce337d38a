/**
 * XMPP users and rosters in cluster mode: Redis holds them (`{vigil}:users`, one hash field per
 * account; `{vigil}:roster:<host>|<user>`, one field per contact) and every node keeps a replica in
 * memory, so the hot paths that read them (SASL, presence broadcast, subscriptions) stay
 * synchronous as on a single node (the same UserRepo / RosterRepo interfaces).
 *
 * A write applies to the local replica at once and is sent by one script (WRITE) that changes the
 * hash and appends a control entry in the same step. Every node, the writer included, applies the
 * control entries in stream order, so concurrent writes of one key converge to the last one in
 * Redis (last writer wins, in Redis's order). Writes are queued and sent in order; while Redis is
 * away they wait (the replica already has them).
 *
 * First start of a cluster: a node that finds no users in Redis imports its own store's users and
 * rosters (moving a single node to cluster mode keeps its accounts).
 */
import type { Logger } from 'pino';
import { createMemoryStore } from '../store/memory.js';
import { decodeJson, encodeJson } from '../store/json.js';
import type { RosterItem, RosterRepo, Store, UserRecord, UserRepo } from '../store/types.js';
import type { StreamEntry } from './feed-reader.js';
import { TAG } from './keys.js';
import { type RedisLink, luaScript } from './redis.js';

const USERS = `${TAG}:users`;
const rosterKey = (host: string, user: string) => `${TAG}:roster:${host}|${user}`;

/**
 * WRITE: KEYS[1] the hash; ARGV field, value ('' = delete), mode ('set' | 'nx': only when the field
 * is absent, else nothing is written or announced), then the control entry's fields.
 */
const WRITE = luaScript('replica_write', `
if ARGV[3] == 'nx' then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
elseif ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
local entry = {}
for i = 4, #ARGV do entry[#entry + 1] = ARGV[i] end
redis.call('XADD', '{vigil}:ctl', 'MAXLEN', '~', '100000', '*', unpack(entry))
return 1
`);

type Change =
  | { t: 'user'; host: string; user: string; record: string }
  | { t: 'roster'; host: string; user: string; jid: string; item: string };

export type RosterListener = (host: string, user: string, jid: string, item: RosterItem | null) => void;

export class Replica {
  private readonly mem = createMemoryStore();
  private link: RedisLink | null = null;
  /** Writes in order, and callbacks that must run after the writes before them (stanzas). */
  private queue: ({ key: string; field: string; value: string; nx: boolean; change: Change } | (() => void))[] = [];
  private sending = false;
  private readonly rosterListeners: RosterListener[] = [];
  readonly users: UserRepo;
  readonly rosters: RosterRepo;

  constructor(
    private readonly nodeId: string,
    private readonly logger: Logger,
  ) {
    const mem = this.mem;
    this.users = {
      put: (record) => {
        const isNew = mem.users.put(record);
        const key = `${record.host}|${record.user}`;
        const value = encodeJson(record);
        this.send(USERS, key, value, { t: 'user', host: record.host, user: record.user, record: value });
        return isNew;
      },
      createMany: (records) =>
        // Bulk import: each user only where no node has it yet (HSETNX in Redis as well).
        records.map((record) => {
          if (mem.users.get(record.host, record.user)) return false;
          mem.users.put(record);
          const value = encodeJson(record);
          this.send(USERS, `${record.host}|${record.user}`, value, { t: 'user', host: record.host, user: record.user, record: value }, true);
          return true;
        }),
      get: (host, user) => mem.users.get(host, user),
      delete: (host, user) => {
        const had = mem.users.delete(host, user);
        if (had) this.send(USERS, `${host}|${user}`, '', { t: 'user', host, user, record: '' });
        return had;
      },
      list: (host) => mem.users.list(host),
      count: (host) => mem.users.count(host),
    };
    this.rosters = {
      list: (host, user) => mem.rosters.list(host, user),
      get: (host, user, jid) => mem.rosters.get(host, user, jid),
      put: (host, user, item) => {
        mem.rosters.put(host, user, item);
        const value = JSON.stringify(item);
        this.send(rosterKey(host, user), item.jid, value, { t: 'roster', host, user, jid: item.jid, item: value });
      },
      delete: (host, user, jid) => {
        const had = mem.rosters.delete(host, user, jid);
        if (had) this.send(rosterKey(host, user), jid, '', { t: 'roster', host, user, jid, item: '' });
        return had;
      },
      clear: (host, user) => {
        for (const i of mem.rosters.list(host, user)) this.rosters.delete(host, user, i.jid);
      },
      count: (host, user) => mem.rosters.count(host, user),
    };
  }

  /** Roster items changed by another node (pushes to this node's interested resources). */
  onRemoteRoster(l: RosterListener): void {
    this.rosterListeners.push(l);
  }

  /** Load everything from Redis (importing `seed`'s accounts when Redis has none). */
  async start(link: RedisLink, seed: Store): Promise<void> {
    this.link = link;
    if (Number(await link.send(USERS, ['HLEN', USERS])) === 0 && seed.users.count() > 0) await this.importFrom(seed);
    const flat = (await link.send(USERS, ['HGETALL', USERS])) as string[];
    for (let i = 0; i + 1 < flat.length; i += 2) this.mem.users.put(decodeJson<UserRecord>(flat[i + 1]!));
    for (const u of this.mem.users.list()) {
      const items = (await link.send(rosterKey(u.host, u.user), ['HGETALL', rosterKey(u.host, u.user)])) as string[];
      for (let i = 0; i + 1 < items.length; i += 2) this.mem.rosters.put(u.host, u.user, JSON.parse(items[i + 1]!) as RosterItem);
    }
    this.flush();
  }

  private async importFrom(seed: Store): Promise<void> {
    const link = this.link!;
    for (const u of seed.users.list()) {
      const rec = seed.users.get(u.host, u.user);
      if (!rec) continue;
      await link.send(USERS, ['HSETNX', USERS, `${u.host}|${u.user}`, encodeJson(rec)]);
      for (const item of seed.rosters.list(u.host, u.user)) {
        await link.send(rosterKey(u.host, u.user), ['HSETNX', rosterKey(u.host, u.user), item.jid, JSON.stringify(item)]);
      }
    }
    this.logger.info({ event: 'cluster_accounts_imported', users: seed.users.count() }, 'imported this node\'s users and rosters into Redis');
  }

  /** Control entries in stream order (own included: concurrent writes converge to Redis's order). */
  apply(entries: StreamEntry[]): void {
    for (const e of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < e.fields.length; i += 2) f.set(e.fields[i]!, e.fields[i + 1]!);
      const t = f.get('t');
      const host = f.get('host') ?? '';
      const user = f.get('user') ?? '';
      const mine = f.get('from') === this.nodeId;
      if (t === 'user') {
        const rec = f.get('record') ?? '';
        if (rec) this.mem.users.put(decodeJson<UserRecord>(rec));
        else this.mem.users.delete(host, user);
      } else if (t === 'roster') {
        const jid = f.get('jid') ?? '';
        const raw = f.get('item') ?? '';
        const item = raw ? (JSON.parse(raw) as RosterItem) : null;
        if (item) this.mem.rosters.put(host, user, item);
        else this.mem.rosters.delete(host, user, jid);
        if (!mine) for (const l of this.rosterListeners) l(host, user, jid, item);
      }
    }
  }

  private send(key: string, field: string, value: string, change: Change, nx = false): void {
    this.queue.push({ key, field, value, nx, change });
    this.flush();
  }

  /**
   * Run `fn` once every write queued so far is in Redis: a stanza that follows a roster change
   * (a subscription request) must not reach the other node before the change does.
   */
  afterWrites(fn: () => void): void {
    if (this.queue.length === 0 && !this.sending) return fn();
    this.queue.push(fn);
    this.flush();
  }

  private flush(): void {
    while (!this.sending && typeof this.queue[0] === 'function') (this.queue.shift() as () => void)();
    if (this.sending || !this.link || this.queue.length === 0) return;
    this.sending = true;
    const w = this.queue[0] as Exclude<(typeof this.queue)[number], () => void>;
    const entry = ['from', this.nodeId, ...Object.entries(w.change).flatMap(([k, v]) => [k, v])];
    this.link
      .script(WRITE, [w.key], [w.field, w.value, w.nx ? 'nx' : 'set', ...entry])
      .then(
        () => {
          this.queue.shift();
          this.sending = false;
          this.flush();
        },
        (err: unknown) => {
          this.logger.warn({ event: 'cluster_account_write_failed', err: String(err) }, 'user/roster write failed, retrying');
          setTimeout(() => {
            this.sending = false;
            this.flush();
          }, 200);
        },
      );
  }

  /** Resolves once every queued write reached Redis (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}

