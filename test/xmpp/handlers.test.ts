/** Small pure pieces: the disco feature list against the IQ handler table, ping replies, the certificate. */
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ensureSelfSigned } from '../../src/xmpp/cert.js';
import { SERVER_FEATURES } from '../../src/xmpp/disco.js';
import { classifyPingReply } from '../../src/xmpp/ping.js';
import { IQ_HANDLERS } from '../../src/xmpp/stanzas.js';
import { errorReply } from '../../src/xmpp/stream-errors.js';
import { x } from '../../src/xmpp/xml.js';

describe('disco#info lists what the IQ handler table serves (XEP-0030 §3.1)', () => {
  it('every advertised feature except disco itself has a handler, and the other way round', () => {
    const handled = new Set([...IQ_HANDLERS.keys()].map((k) => k.split(' ')[0]));
    for (const f of SERVER_FEATURES) expect(handled.has(f), f).toBe(true);
    const advertised = new Set<string>(SERVER_FEATURES);
    for (const ns of handled) if (ns !== 'urn:ietf:params:xml:ns:xmpp-session') expect(advertised.has(ns ?? ''), ns).toBe(true);
  });
});

describe('ping replies (XEP-0199 §4.1, §6)', () => {
  const ping = x('iq', { type: 'get', id: 'p', from: 'example.org', to: 'a@example.org/r' }, x('ping', { xmlns: 'urn:xmpp:ping' }));
  it('result and any error other than service-unavailable are a pong', () => {
    expect(classifyPingReply(x('iq', { type: 'result', id: 'p' }))).toBe('pong');
    expect(classifyPingReply(errorReply(ping, 'feature-not-implemented'))).toBe('pong');
    expect(classifyPingReply(errorReply(ping, 'internal-server-error'))).toBe('pong');
  });
  it('service-unavailable means alive but unsupported', () => {
    expect(classifyPingReply(errorReply(ping, 'service-unavailable'))).toBe('unsupported');
  });
});

describe('self-signed certificate', () => {
  it('is generated once into data_dir/xmpp-tls and reused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-cert-'));
    const first = await ensureSelfSigned(dir, ['example.org', 'other.example'], pino({ level: 'silent' }));
    expect(first.generated).toBe(true);
    expect(existsSync(join(dir, 'xmpp-tls', 'self-signed.crt'))).toBe(true);
    expect(statSync(join(dir, 'xmpp-tls', 'self-signed.key')).size).toBeGreaterThan(0);
    expect(first.cert.toString()).toContain('BEGIN CERTIFICATE');
    const again = await ensureSelfSigned(dir, ['example.org'], pino({ level: 'silent' }));
    expect(again.generated).toBe(false);
    expect(again.cert.equals(first.cert)).toBe(true);
  });
});
