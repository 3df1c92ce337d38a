/**
 * Persistent MQTT sessions in SQLite (issue 5; contract in ../session-types.ts).
 *
 *   mqtt_sessions       one row per persistent session (expiry interval, offline deadline)
 *   mqtt_subscriptions  filter -> options JSON
 *   mqtt_inflight       outbound QoS 1/2 awaiting ack; rowid order = first-send order (resume order)
 *   mqtt_queue          queued messages by session sequence number
 *   mqtt_awaiting_rel   inbound QoS 2 packet ids awaiting PUBREL, with their arrival time
 *
 * A message is its topic, payload BLOB and QoS columns plus one JSON column for the rest
 * (retain, properties with Buffers kept, expiry, sender, subscription ids). `apply` runs a whole
 * batch in one transaction: with WAL + synchronous=NORMAL it is durable against a process crash
 * when it returns, which is when the writer releases PUBACK/PUBREC.
 */
import type { Database } from 'better-sqlite3';
import { decodeJson, encodeJson } from '../json.js';
import type { SessionOp, SessionRepo, StoredOutboundPhase, StoredSession, StoredSessionMessage } from '../session-types.js';

export const SESSIONS_MIGRATION = {
  name: 'persistent MQTT sessions: sessions, subscriptions, inflight, queue, awaiting_rel',
  sql: `
    CREATE TABLE mqtt_sessions (
      host TEXT NOT NULL,
      client_id TEXT NOT NULL,
      expiry_ms INTEGER,
      expires_at INTEGER,
      PRIMARY KEY (host, client_id)
    ) WITHOUT ROWID;

    CREATE TABLE mqtt_subscriptions (
      host TEXT NOT NULL,
      client_id TEXT NOT NULL,
      filter TEXT NOT NULL,
      opts_json TEXT NOT NULL,
      PRIMARY KEY (host, client_id, filter)
    ) WITHOUT ROWID;

    CREATE TABLE mqtt_inflight (
      host TEXT NOT NULL,
      client_id TEXT NOT NULL,
      packet_id INTEGER NOT NULL CHECK (packet_id BETWEEN 1 AND 65535),
      phase TEXT NOT NULL CHECK (phase IN ('await_puback', 'await_pubrec', 'await_pubcomp')),
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      qos INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
      meta_json TEXT NOT NULL,
      UNIQUE (host, client_id, packet_id)
    );

    CREATE TABLE mqtt_queue (
      host TEXT NOT NULL,
      client_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      topic TEXT NOT NULL,
      payload BLOB NOT NULL,
      qos INTEGER NOT NULL CHECK (qos IN (0, 1, 2)),
      meta_json TEXT NOT NULL,
      PRIMARY KEY (host, client_id, seq)
    ) WITHOUT ROWID;

    CREATE TABLE mqtt_awaiting_rel (
      host TEXT NOT NULL,
      client_id TEXT NOT NULL,
      packet_id INTEGER NOT NULL,
      at_ms INTEGER NOT NULL,
      PRIMARY KEY (host, client_id, packet_id)
    ) WITHOUT ROWID;
  `,
};

interface KeyRow {
  host: string;
  client_id: string;
}
interface SessionRow extends KeyRow {
  expiry_ms: number | null;
  expires_at: number | null;
}
interface SubRow extends KeyRow {
  filter: string;
  opts_json: string;
}
interface MsgCols {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  meta_json: string;
}
interface InflightRow extends KeyRow, MsgCols {
  packet_id: number;
  phase: StoredOutboundPhase;
}
interface QueueRow extends KeyRow, MsgCols {
  seq: number;
}
interface RelRow extends KeyRow {
  packet_id: number;
  at_ms: number;
}

type Meta = Pick<StoredSessionMessage, 'retain' | 'properties' | 'expiresAt' | 'senderId' | 'subIds'>;

function msgCols(m: StoredSessionMessage): MsgCols {
  const meta: Meta = { retain: m.retain, properties: m.properties, expiresAt: m.expiresAt, senderId: m.senderId, subIds: m.subIds };
  return { topic: m.topic, payload: m.payload, qos: m.qos, meta_json: encodeJson(meta) };
}

function fromCols(r: MsgCols): StoredSessionMessage {
  return { topic: r.topic, payload: r.payload, qos: r.qos, ...decodeJson<Meta>(r.meta_json) };
}

const TABLES = ['mqtt_sessions', 'mqtt_subscriptions', 'mqtt_inflight', 'mqtt_queue', 'mqtt_awaiting_rel'] as const;

export function sqliteSessions(db: Database): SessionRepo {
  const s = {
    sessionPut: db.prepare<SessionRow>('INSERT OR REPLACE INTO mqtt_sessions VALUES (@host, @client_id, @expiry_ms, @expires_at)'),
    dels: TABLES.map((t) => db.prepare<[string, string]>(`DELETE FROM ${t} WHERE host = ? AND client_id = ?`)),
    subPut: db.prepare<SubRow>('INSERT OR REPLACE INTO mqtt_subscriptions VALUES (@host, @client_id, @filter, @opts_json)'),
    subDel: db.prepare<[string, string, string]>('DELETE FROM mqtt_subscriptions WHERE host = ? AND client_id = ? AND filter = ?'),
    inflightPut: db.prepare<InflightRow>(
      'INSERT OR REPLACE INTO mqtt_inflight VALUES (@host, @client_id, @packet_id, @phase, @topic, @payload, @qos, @meta_json)',
    ),
    inflightPhase: db.prepare<[string, string, string, number]>(
      'UPDATE mqtt_inflight SET phase = ? WHERE host = ? AND client_id = ? AND packet_id = ?',
    ),
    inflightDel: db.prepare<[string, string, number]>('DELETE FROM mqtt_inflight WHERE host = ? AND client_id = ? AND packet_id = ?'),
    queuePut: db.prepare<QueueRow>('INSERT OR REPLACE INTO mqtt_queue VALUES (@host, @client_id, @seq, @topic, @payload, @qos, @meta_json)'),
    queueDel: db.prepare<[string, string, number]>('DELETE FROM mqtt_queue WHERE host = ? AND client_id = ? AND seq = ?'),
    relPut: db.prepare<RelRow>('INSERT OR REPLACE INTO mqtt_awaiting_rel VALUES (@host, @client_id, @packet_id, @at_ms)'),
    relDel: db.prepare<[string, string, number]>('DELETE FROM mqtt_awaiting_rel WHERE host = ? AND client_id = ? AND packet_id = ?'),
  };

  const one = (o: SessionOp): void => {
    const k = { host: o.host, client_id: o.clientId };
    switch (o.op) {
      case 'session_put':
        s.sessionPut.run({ ...k, expiry_ms: o.expiryMs, expires_at: o.expiresAt });
        break;
      case 'session_del':
        for (const d of s.dels) d.run(o.host, o.clientId);
        break;
      case 'sub_put':
        s.subPut.run({ ...k, filter: o.filter, opts_json: encodeJson(o.opts) });
        break;
      case 'sub_del':
        s.subDel.run(o.host, o.clientId, o.filter);
        break;
      case 'inflight_put':
        s.inflightPut.run({ ...k, packet_id: o.id, phase: o.phase, ...msgCols(o.msg) });
        break;
      case 'inflight_phase':
        s.inflightPhase.run(o.phase, o.host, o.clientId, o.id);
        break;
      case 'inflight_del':
        s.inflightDel.run(o.host, o.clientId, o.id);
        break;
      case 'queue_put':
        s.queuePut.run({ ...k, seq: o.seq, ...msgCols(o.msg) });
        break;
      case 'queue_del':
        s.queueDel.run(o.host, o.clientId, o.seq);
        break;
      case 'rel_put':
        s.relPut.run({ ...k, packet_id: o.id, at_ms: o.atMs });
        break;
      case 'rel_del':
        s.relDel.run(o.host, o.clientId, o.id);
        break;
    }
  };
  const applyAll = db.transaction((ops: readonly SessionOp[]) => {
    for (const o of ops) one(o);
  });

  /** Rows of every table for one host (or all), grouped into sessions. */
  const prepared = new Map<string, ReturnType<typeof db.prepare<string[], unknown>>>();
  const read = (where: string, params: string[]): StoredSession[] => {
    const q = <R>(sql: string): R[] => {
      let st = prepared.get(sql);
      if (!st) prepared.set(sql, (st = db.prepare<string[], unknown>(sql)));
      return st.all(...params) as R[];
    };
    const out = new Map<string, StoredSession>();
    const key = (r: KeyRow) => `${r.host}\u0000${r.client_id}`;
    for (const r of q<SessionRow>(`SELECT * FROM mqtt_sessions ${where} ORDER BY host, client_id`)) {
      out.set(key(r), {
        host: r.host,
        clientId: r.client_id,
        expiryMs: r.expiry_ms,
        expiresAt: r.expires_at,
        subscriptions: [],
        inflight: [],
        queue: [],
        awaitingRel: [],
      });
    }
    for (const r of q<SubRow>(`SELECT * FROM mqtt_subscriptions ${where} ORDER BY host, client_id, filter`)) {
      out.get(key(r))?.subscriptions.push({ filter: r.filter, opts: decodeJson<Record<string, unknown>>(r.opts_json) });
    }
    for (const r of q<InflightRow>(`SELECT * FROM mqtt_inflight ${where} ORDER BY rowid`)) {
      out.get(key(r))?.inflight.push({ id: r.packet_id, phase: r.phase, msg: fromCols(r) });
    }
    for (const r of q<QueueRow>(`SELECT * FROM mqtt_queue ${where} ORDER BY host, client_id, seq`)) {
      out.get(key(r))?.queue.push({ seq: r.seq, msg: fromCols(r) });
    }
    for (const r of q<RelRow>(`SELECT * FROM mqtt_awaiting_rel ${where} ORDER BY at_ms, packet_id`)) {
      out.get(key(r))?.awaitingRel.push({ id: r.packet_id, atMs: r.at_ms });
    }
    return [...out.values()];
  };
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM mqtt_sessions');
  const countHost = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM mqtt_sessions WHERE host = ?');

  return {
    apply(ops) {
      if (ops.length > 0) applyAll(ops);
    },
    get: (host, clientId) => read('WHERE host = ? AND client_id = ?', [host, clientId])[0],
    load: (host) => (host === undefined ? read('', []) : read('WHERE host = ?', [host])),
    count: (host) => (host === undefined ? countAll.get() : countHost.get(host))?.n ?? 0,
  };
}
