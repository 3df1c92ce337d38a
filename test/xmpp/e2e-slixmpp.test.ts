/**
 * End-to-end with Debian's python3-slixmpp (a client nobody here wrote): STARTTLS is required
 * (the host default), so a successful SCRAM-SHA-256 login proves both; disco lists urn:xmpp:ping;
 * the client's ping is answered; the server's ping after ping_interval is answered by slixmpp's
 * xep_0199 plugin. Skipped locally when python3-slixmpp is missing; fails in CI (CI=true).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createXmppListener } from '../../src/xmpp/listener.js';
import { PYTHON, hasPythonModule } from '../support/python.js';
import { DOMAIN, makeRig } from './rig.js';

const SCRIPT = fileURLToPath(new URL('./clients/slixmpp-probe.py', import.meta.url));

const available = hasPythonModule('slixmpp');
if (!available && process.env.CI !== 'true') {
  console.warn('python3-slixmpp is not installed: skipping the slixmpp end-to-end test (apt-get install python3-slixmpp)');
}

describe.skipIf(!available && process.env.CI !== 'true')('slixmpp end to end', () => {
  it('STARTTLS + SCRAM-SHA-256, disco, client ping, server ping answered', async () => {
    expect(available, 'python3-slixmpp must be installed in CI (.ci/apt-packages)').toBe(true);
    const rig = makeRig({ realTime: true, host: { ping: { send_pings: true, ping_interval: 1, ping_ack_timeout: 2 } } });
    const svc = createXmppListener(rig.deps);
    await svc.start();
    try {
      const port = svc.address()?.port ?? 0;
      const out = await new Promise<string>((resolve, reject) => {
        execFile(PYTHON, [SCRIPT, String(port), `alice@${DOMAIN}/slix`, 'secret', '1.6'], { timeout: 15_000 }, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
        );
      });
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const byEvent = (e: string) => lines.find((l) => l.event === e);
      expect(byEvent('auth_success')).toMatchObject({ mechanism: 'SCRAM-SHA-256' });
      expect(byEvent('session_start')).toMatchObject({ jid: `alice@${DOMAIN}/slix` });
      expect(byEvent('disco')?.features).toContain('urn:xmpp:ping');
      expect(typeof byEvent('ping')?.rtt).toBe('number');
      const mine = rig.events.filter((e) => 'ref' in e && e.ref.id === `alice@${DOMAIN}/slix`).map((e) => e.type);
      expect(mine).toContain('probe_sent');
      expect(mine).toContain('probe_answered');
      expect(rig.events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'client_close' });
    } finally {
      await svc.stop();
    }
  });
});
