/**
 * In-memory Store for tests: same contract as the embedded SQLite store, nothing durable.
 * Values are copied in and out so callers cannot mutate stored state by reference; JSON values go
 * through the same encoding as SQLite (./json.ts) and lists sort in SQLite's BINARY order, so both
 * implementations pass one contract suite (test/store/contract.ts).
 */
import type {
  HostConfigRepo,
  KvRepo,
  RetainedMessage,
  RetainedRepo,
  RosterItem,
  RosterRepo,
  ScramCredential,
  Store,
  UserRecord,
  UserRepo,
  UserSummary,
} from './types.js';
import { cloneJson, compareUtf8 as byString } from './json.js';
import { memorySessions } from './memory-sessions.js';

const k2 = (a: string, b: string) => `${a}\u0000${b}`;

function cloneCred(c: ScramCredential | null): ScramCredential | null {
  if (c === null) return null;
  return { ...c, salt: Buffer.from(c.salt), storedKey: Buffer.from(c.storedKey), serverKey: Buffer.from(c.serverKey) };
}

function cloneUser(u: UserRecord): UserRecord {
  return { ...u, scramSha1: cloneCred(u.scramSha1), scramSha256: cloneCred(u.scramSha256) };
}

function memoryUsers(): UserRepo {
  const users = new Map<string, UserRecord>();
  const summaries = (host?: string): UserSummary[] =>
    [...users.values()]
      .filter((u) => host === undefined || u.host === host)
      .map((u) => ({ host: u.host, user: u.user, createdAt: u.createdAt }))
      .sort((a, b) => byString(a.host, b.host) || byString(a.user, b.user));
  return {
    put(record) {
      const key = k2(record.host, record.user);
      const isNew = !users.has(key);
      users.set(key, cloneUser(record));
      return isNew;
    },
    createMany(records) {
      return records.map((record) => {
        const key = k2(record.host, record.user);
        if (users.has(key)) return false;
        users.set(key, cloneUser(record));
        return true;
      });
    },
    get(host, user) {
      const u = users.get(k2(host, user));
      return u && cloneUser(u);
    },
    delete: (host, user) => users.delete(k2(host, user)),
    list: summaries,
    count: (host) => summaries(host).length,
  };
}

function memoryRosters(): RosterRepo {
  const rosters = new Map<string, Map<string, RosterItem>>();
  const of = (host: string, user: string) => rosters.get(k2(host, user));
  return {
    list(host, user) {
      const r = of(host, user);
      if (!r) return [];
      return [...r.values()].map((i) => ({ ...i, groups: [...i.groups] })).sort((a, b) => byString(a.jid, b.jid));
    },
    get(host, user, jid) {
      const i = of(host, user)?.get(jid);
      return i && { ...i, groups: [...i.groups] };
    },
    put(host, user, item) {
      const key = k2(host, user);
      let r = rosters.get(key);
      if (!r) rosters.set(key, (r = new Map()));
      r.set(item.jid, { ...item, groups: [...item.groups] });
    },
    delete: (host, user, jid) => of(host, user)?.delete(jid) ?? false,
    clear(host, user) {
      rosters.delete(k2(host, user));
    },
    count: (host, user) => of(host, user)?.size ?? 0,
  };
}

function memoryRetained(): RetainedRepo {
  const hosts = new Map<string, Map<string, RetainedMessage>>();
  const copy = (m: RetainedMessage): RetainedMessage => ({
    ...m,
    payload: Buffer.from(m.payload),
    properties: m.properties === null ? null : cloneJson(m.properties),
  });
  return {
    put(host, msg) {
      let h = hosts.get(host);
      if (!h) hosts.set(host, (h = new Map()));
      h.set(msg.topic, copy(msg));
    },
    delete: (host, topic) => hosts.get(host)?.delete(topic) ?? false,
    list: (host) => [...(hosts.get(host)?.values() ?? [])].map(copy).sort((a, b) => byString(a.topic, b.topic)),
    count(host) {
      if (host !== undefined) return hosts.get(host)?.size ?? 0;
      let n = 0;
      for (const h of hosts.values()) n += h.size;
      return n;
    },
  };
}

function memoryHostConfig(): HostConfigRepo {
  const m = new Map<string, Record<string, unknown>>();
  const clone = (v: Record<string, unknown>) => cloneJson(v);
  return {
    get: (host) => {
      const v = m.get(host);
      return v && clone(v);
    },
    put: (host, overrides) => void m.set(host, clone(overrides)),
    all: () => Object.fromEntries([...m].sort(([a], [b]) => byString(a, b)).map(([k, v]) => [k, clone(v)])),
  };
}

function memoryKv(): KvRepo {
  const m = new Map<string, string>();
  return { get: (k) => m.get(k), put: (k, v) => void m.set(k, v) };
}

export function createMemoryStore(): Store {
  let open = true;
  return {
    kind: 'memory',
    users: memoryUsers(),
    rosters: memoryRosters(),
    retained: memoryRetained(),
    hostConfig: memoryHostConfig(),
    kv: memoryKv(),
    sessions: memorySessions(),
    isOpen: () => open,
    close() {
      open = false;
    },
  };
}
