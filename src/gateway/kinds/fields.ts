/**
 * Reading untrusted gateway JSON: small typed getters that answer null for a missing or wrong
 * field (a gateway's payload is input like any other), and the meta fields shown on rows.
 */
import type { Meta } from '../../presence/types.js';

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A non-empty string (EMQX writes the atom `undefined` for a missing username: null). */
export function str(o: Json, k: string): string | null {
  const v = o[k];
  return typeof v === 'string' && v.length > 0 && v !== 'undefined' ? v : null;
}

export function num(o: Json, k: string): number | null {
  const v = o[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** An epoch-ms field given as a number, or as RFC 3339 text (EMQX REST API). */
export function epochMs(o: Json, k: string): number | null {
  const v = o[k];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

/** Meta with the null fields left out (rows show what the gateway told, nothing invented). */
export function meta(fields: Record<string, string | number | boolean | null>): Meta {
  const out: Meta = {};
  for (const [k, v] of Object.entries(fields)) if (v !== null) out[k] = v;
  return out;
}

/** Parse a JSON payload; null when it is not a JSON object. */
export function parseObject(text: string | Buffer): Json | null {
  try {
    const v: unknown = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** A client id as MQTT allows it: 1..65535 bytes of UTF-8 [MQTT-1.5.3]; Vigil caps it for the table. */
export const MAX_ID_LENGTH = 3071;

export function validId(id: string | null): id is string {
  return id !== null && id.length > 0 && id.length <= MAX_ID_LENGTH;
}
