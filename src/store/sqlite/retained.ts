/**
 * retained table: the last retained PUBLISH per (host, topic) (MQTT 3.1.1 §3.3.1.3, MQTT 5 §3.3.1.3).
 * The payload is a BLOB, kept byte for byte; properties are JSON with Buffers preserved (../json.ts).
 */
import type { Database } from 'better-sqlite3';
import { decodeJson, encodeJson } from '../json.js';
import type { RetainedMessage, RetainedRepo } from '../types.js';

interface RetainedRow {
  host: string;
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  properties_json: string | null;
  stored_at: number;
}

function fromRow(r: RetainedRow): RetainedMessage {
  return {
    topic: r.topic,
    payload: r.payload,
    qos: r.qos,
    properties: r.properties_json === null ? null : decodeJson<Record<string, unknown>>(r.properties_json),
    storedAt: r.stored_at,
  };
}

export function sqliteRetained(db: Database): RetainedRepo {
  const put = db.prepare<RetainedRow>(
    'INSERT OR REPLACE INTO retained VALUES (@host, @topic, @payload, @qos, @properties_json, @stored_at)',
  );
  const del = db.prepare<[string, string]>('DELETE FROM retained WHERE host = ? AND topic = ?');
  const list = db.prepare<[string], RetainedRow>('SELECT * FROM retained WHERE host = ? ORDER BY topic');
  const countAll = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM retained');
  const countHost = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM retained WHERE host = ?');
  return {
    put(host, msg) {
      put.run({
        host,
        topic: msg.topic,
        payload: msg.payload,
        qos: msg.qos,
        properties_json: msg.properties === null ? null : encodeJson(msg.properties),
        stored_at: msg.storedAt,
      });
    },
    delete: (host, topic) => del.run(host, topic).changes > 0,
    list: (host) => list.all(host).map(fromRow),
    count: (host) => (host === undefined ? countAll.get() : countHost.get(host))?.n ?? 0,
  };
}
