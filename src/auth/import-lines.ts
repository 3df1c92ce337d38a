/**
 * The user import format (`vigil user import FILE`, `POST /v1/hosts/{host}/users/import`): one
 * account a line, each line either
 *   CSV         jid,password                       alice@example.org,secret
 *               (RFC 4180 quoting when a field holds a comma or a quote: bob@example.org,"a,""b")
 *   JSON        {"jid": "alice@example.org", "password": "secret"}
 *   JSON, pre-hashed SCRAM (RFC 5802 §3; no password leaves the old server):
 *               {"jid": "carol@example.org",
 *                "scram_sha_1":   {"salt": B64, "iterations": 4096, "stored_key": B64, "server_key": B64},
 *                "scram_sha_256": {...}}           at least one of the two
 * A line starting with `{` is JSON, any other CSV; blank lines, lines starting with `#` and a
 * `jid,password` header are skipped. A line is parsed on its own: one bad line is reported
 * (`invalid`, with a catalog code and why) and never stops the others. Nothing here echoes a
 * password or the line's text back: reasons name the field only.
 */
import type { ErrorCode } from '../errors.js';
import type { ScramCredential } from '../store/types.js';
import { passwordProblem, type ScramHash } from './scram.js';

/** RFC 5802 §5.1 / RFC 7677 §4: at least 4096. The cap keeps one login's PBKDF2 bounded (OWASP 2023: 600,000). */
export const MIN_IMPORT_ITERATIONS = 4096;
export const MAX_IMPORT_ITERATIONS = 600_000;
const MAX_SALT_BYTES = 256;
const KEY_BYTES: Record<ScramHash, number> = { sha1: 20, sha256: 32 };

export type ImportCredentials =
  | { kind: 'password'; password: string }
  | { kind: 'scram'; sha1: ScramCredential | null; sha256: ScramCredential | null };

export type ParsedLine =
  | { line: number; ok: true; jid: string; creds: ImportCredentials }
  | { line: number; ok: false; jid: string | null; code: ErrorCode; reason: string };

const invalid = (line: number, jid: string | null, code: ErrorCode, reason: string): ParsedLine => ({ line, ok: false, jid, code, reason });

/** One line (without its newline); null for a line that carries no account (blank, comment, header). */
export function parseImportLine(text: string, line: number): ParsedLine | null {
  const t = text.endsWith('\r') ? text.slice(0, -1) : text;
  const lead = t.trimStart();
  if (lead === '' || lead.startsWith('#')) return null;
  return lead.startsWith('{') ? parseJsonLine(lead, line) : parseCsvLine(t, line);
}

/** Every entry of a whole text, in order. */
export function* parseImportText(text: string): Generator<ParsedLine> {
  let n = 0;
  for (const raw of text.split('\n')) {
    n++;
    const p = parseImportLine(raw, n);
    if (p) yield p;
  }
}

// CSV --------------------------------------------------------------------------------------------

/** RFC 4180 fields of one record; null when a quote is left open or stray text follows one. */
export function csvFields(text: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) return null;
        value += text.slice(i, q);
        if (text[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',') return null;
      i++;
    } else {
      const c = text.indexOf(',', i);
      if (c < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, c));
      i = c + 1;
    }
  }
}

function parseCsvLine(text: string, line: number): ParsedLine | null {
  const fields = csvFields(text);
  if (!fields) return invalid(line, null, 'VIGIL_ERR_IMPORT_BAD_LINE', 'unbalanced quote (RFC 4180: a quote inside a quoted field is doubled)');
  if (fields.length !== 2) {
    return invalid(line, null, 'VIGIL_ERR_IMPORT_BAD_LINE', `expected 2 CSV fields (jid,password), got ${fields.length} (quote a password that holds a comma)`);
  }
  const jid = fields[0]!.trim();
  const password = fields[1]!;
  if (jid.toLowerCase() === 'jid' && password.trim().toLowerCase() === 'password') return null; // header
  return withPassword(line, jid, password);
}

function withPassword(line: number, jid: string, password: string): ParsedLine {
  const problem = passwordProblem(password);
  if (problem) return invalid(line, jid, 'VIGIL_ERR_BAD_PASSWORD', problem);
  return { line, ok: true, jid, creds: { kind: 'password', password } };
}

// JSON -------------------------------------------------------------------------------------------

const JSON_FIELDS = new Set(['jid', 'password', 'scram_sha_1', 'scram_sha_256']);
const SCRAM_FIELDS = ['salt', 'iterations', 'stored_key', 'server_key'] as const;

function parseJsonLine(text: string, line: number): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(line, null, 'VIGIL_ERR_IMPORT_BAD_LINE', 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(line, null, 'VIGIL_ERR_IMPORT_BAD_LINE', 'a JSON line must be an object');
  }
  const o = value as Record<string, unknown>;
  const jid = typeof o['jid'] === 'string' ? o['jid'].trim() : null;
  const bad = (reason: string, code: ErrorCode = 'VIGIL_ERR_IMPORT_BAD_LINE') => invalid(line, jid, code, reason);
  const unknown = Object.keys(o).find((k) => !JSON_FIELDS.has(k));
  if (unknown !== undefined) return bad(`${JSON.stringify(unknown)} is not a known field (jid, password, scram_sha_1, scram_sha_256)`);
  if (jid === null) return bad('"jid" is required and must be a string');
  const hasScram = o['scram_sha_1'] !== undefined || o['scram_sha_256'] !== undefined;
  if (o['password'] !== undefined) {
    if (hasScram) return bad('give either "password" or SCRAM credentials, not both');
    if (typeof o['password'] !== 'string') return bad('"password" must be a string');
    return withPassword(line, jid, o['password']);
  }
  if (!hasScram) return bad('"password" or one of "scram_sha_1", "scram_sha_256" is required');
  const sha1 = scramCredential(o['scram_sha_1'], 'sha1');
  if (typeof sha1 === 'string') return bad(`scram_sha_1: ${sha1}`, 'VIGIL_ERR_BAD_SCRAM');
  const sha256 = scramCredential(o['scram_sha_256'], 'sha256');
  if (typeof sha256 === 'string') return bad(`scram_sha_256: ${sha256}`, 'VIGIL_ERR_BAD_SCRAM');
  return { line, ok: true, jid, creds: { kind: 'scram', sha1, sha256 } };
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** A pre-hashed credential, or why it is refused; undefined -> null (not given). */
function scramCredential(v: unknown, hash: ScramHash): ScramCredential | null | string {
  if (v === undefined) return null;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be an object {salt, iterations, stored_key, server_key}';
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !(SCRAM_FIELDS as readonly string[]).includes(k));
  if (extra !== undefined) return `${JSON.stringify(extra)} is not a known field (${SCRAM_FIELDS.join(', ')})`;
  const iterations = o['iterations'];
  if (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < MIN_IMPORT_ITERATIONS || iterations > MAX_IMPORT_ITERATIONS) {
    return `iterations must be an integer from ${MIN_IMPORT_ITERATIONS} to ${MAX_IMPORT_ITERATIONS} (RFC 5802 §5.1)`;
  }
  const bytes: Partial<Record<(typeof SCRAM_FIELDS)[number], Buffer>> = {};
  for (const f of ['salt', 'stored_key', 'server_key'] as const) {
    const s = o[f];
    if (typeof s !== 'string' || s === '' || !BASE64.test(s)) return `${f} must be a non-empty base64 string`;
    bytes[f] = Buffer.from(s, 'base64');
  }
  const { salt, stored_key: storedKey, server_key: serverKey } = bytes as Record<'salt' | 'stored_key' | 'server_key', Buffer>;
  if (salt.length > MAX_SALT_BYTES) return `salt longer than ${MAX_SALT_BYTES} bytes`;
  const len = KEY_BYTES[hash];
  if (storedKey.length !== len || serverKey.length !== len) return `stored_key and server_key must be ${len} bytes each`;
  return { salt, iterations, storedKey, serverKey };
}
