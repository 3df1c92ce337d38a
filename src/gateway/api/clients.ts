/**
 * What each kind's REST API gives Vigil: a full snapshot of online sessions, a check of one
 * client, a kick. A kind leaves out what its API cannot do (docs/gateways.md):
 *   EMQX      GET /api/v5/clients?conn_state=connected (paged by `page`/`limit`, `meta.hasnext`),
 *             GET /api/v5/clients/{id}, DELETE /api/v5/clients/{id};
 *   VerneMQ   GET /api/v1/session/show (vmq-admin over HTTP), GET /api/v1/session/disconnect;
 *   ejabberd  POST {api}/connected_users_info, POST {api}/kick_session (mod_http_api).
 */
import type { GatewayKind } from '../../config/schema/gateways.js';
import type { GatewayConfig } from '../../config/types.js';
import { ejabberdSession, splitJid } from '../kinds/ejabberd.js';
import { emqxClient } from '../kinds/emqx.js';
import { isObject } from '../kinds/fields.js';
import { vernemqSession } from '../kinds/vernemq.js';
import type { SnapshotSession } from '../types.js';
import { type ApiTarget, GatewayApiError, request } from './http.js';

export interface GatewayApi {
  /** Every online session now; throws GatewayApiError (also when there are more than max_rows). */
  snapshot(): Promise<SnapshotSession[]>;
  /** Whether one client is online (absent: the kind cannot tell). */
  isOnline?(id: string): Promise<boolean>;
  /** Disconnect one client; false when the gateway does not know it (absent: the kind cannot). */
  kick?(id: string): Promise<boolean>;
}

const EMQX_PAGE = 1000;
/** A snapshot answer may hold this many bytes per row allowed (a generous JSON row). */
const BYTES_PER_ROW = 4096;

function target(cfg: GatewayConfig['api'], tokenHeader: 'authorization' | 'x-api-key', rows: number): ApiTarget {
  return {
    base: (cfg.url ?? '').replace(/\/+$/, ''),
    auth: { token: cfg.token, tokenHeader, username: cfg.username, password: cfg.password },
    timeoutMs: cfg.timeout_ms,
    maxBytes: Math.max(65_536, Math.min(rows, cfg.max_rows) * BYTES_PER_ROW),
  };
}

function tooMany(n: number, max: number): never {
  throw new GatewayApiError(null, `the gateway lists ${n} sessions, more than api.max_rows (${max})`);
}

function emqx(cfg: GatewayConfig['api']): GatewayApi {
  const page = target(cfg, 'authorization', EMQX_PAGE);
  const one = target(cfg, 'authorization', 1);
  const path = (id: string) => `/api/v5/clients/${encodeURIComponent(id)}`;
  return {
    async snapshot() {
      const out: SnapshotSession[] = [];
      for (let p = 1; ; p++) {
        const { json } = await request(page, 'GET', `/api/v5/clients?conn_state=connected&limit=${EMQX_PAGE}&page=${p}`);
        if (!isObject(json) || !Array.isArray(json.data)) throw new GatewayApiError(200, 'GET /api/v5/clients: no data array');
        for (const c of json.data) {
          const s = isObject(c) ? emqxClient(c) : null;
          if (s) out.push(s);
        }
        if (out.length > cfg.max_rows) tooMany(out.length, cfg.max_rows);
        const meta = isObject(json.meta) ? json.meta : {};
        if (meta.hasnext !== true || json.data.length === 0) return out;
      }
    },
    async isOnline(id) {
      const { status, json } = await request(one, 'GET', path(id), undefined, (s) => s === 200 || s === 404);
      return status === 200 && isObject(json) && json.connected !== false;
    },
    async kick(id) {
      const { status } = await request(one, 'DELETE', path(id), undefined, (s) => (s >= 200 && s < 300) || s === 404);
      return status !== 404;
    },
  };
}

function vernemq(cfg: GatewayConfig['api']): GatewayApi {
  const all = target(cfg, 'x-api-key', cfg.max_rows);
  const one = target(cfg, 'x-api-key', 16);
  const split = (id: string): { mp: string | null; cid: string } => {
    const i = id.indexOf('/');
    return i > 0 ? { mp: id.slice(0, i), cid: id.slice(i + 1) } : { mp: null, cid: id };
  };
  const rows = (json: unknown): unknown[] => {
    if (!isObject(json) || !Array.isArray(json.table)) throw new GatewayApiError(200, 'session/show: no table');
    return json.table;
  };
  const COLUMNS = '--client_id&--mountpoint&--peer_host&--peer_port&--user&--is_online';
  return {
    async snapshot() {
      const { json } = await request(all, 'GET', `/api/v1/session/show?${COLUMNS}&--limit=${cfg.max_rows + 1}`);
      const table = rows(json);
      if (table.length > cfg.max_rows) tooMany(table.length, cfg.max_rows);
      return table.flatMap((r) => {
        const s = isObject(r) ? vernemqSession(r) : null;
        return s ? [s] : [];
      });
    },
    async isOnline(id) {
      const { json } = await request(one, 'GET', `/api/v1/session/show?${COLUMNS}&--client_id=${encodeURIComponent(id)}`);
      return rows(json).some((r) => isObject(r) && vernemqSession(r)?.id === id);
    },
    async kick(id) {
      const { mp, cid } = split(id);
      const q = `client-id=${encodeURIComponent(cid)}${mp ? `&mountpoint=${encodeURIComponent(mp)}` : ''}`;
      await request(one, 'GET', `/api/v1/session/disconnect?${q}`);
      return true;
    },
  };
}

function ejabberd(cfg: GatewayConfig['api'], now: () => number): GatewayApi {
  const all = target(cfg, 'authorization', cfg.max_rows);
  const one = target(cfg, 'authorization', 1);
  return {
    async snapshot() {
      const { json } = await request(all, 'POST', '/connected_users_info', {});
      if (!Array.isArray(json)) throw new GatewayApiError(200, 'connected_users_info: not a list');
      if (json.length > cfg.max_rows) tooMany(json.length, cfg.max_rows);
      const t = now();
      return json.flatMap((r) => {
        const s = isObject(r) ? ejabberdSession(r, t) : null;
        return s ? [s] : [];
      });
    },
    async kick(id) {
      const parts = splitJid(id);
      if (!parts) return false;
      // mod_admin_extra kick_session: 0 on success (ejabberd 23.01 answers the integer).
      const { json } = await request(one, 'POST', '/kick_session', { ...parts, reason: 'Kicked by Vigil' });
      return json === 0 || json === '' || json === null;
    },
  };
}

/** The REST API of a gateway, or null when `api.url` is not set. */
export function gatewayApi(kind: GatewayKind, cfg: GatewayConfig['api'], now: () => number): GatewayApi | null {
  if (cfg.url === null) return null;
  switch (kind) {
    case 'emqx':
      return emqx(cfg);
    case 'vernemq':
      return vernemq(cfg);
    case 'ejabberd':
      return ejabberd(cfg, now);
    default:
      return null;
  }
}
