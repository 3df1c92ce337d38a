/**
 * End-to-end stream management with Debian's python3-slixmpp 1.8 and its xep_0198 plugin (a
 * client nobody here wrote; clients/slixmpp-sm.py drives it by stdin commands), on real sockets:
 * STARTTLS + SCRAM, <enable resume/> after binding, the TCP connection aborted under it, messages
 * from @xmpp/client meanwhile, a new connection that resumes (the plugin sends <resume/> before
 * binding): each message arrives once, the endpoint went `resumable` and back with its
 * generation, never offline; a clean quit ends it with client_close. Skipped locally without
 * python3-slixmpp; fails in CI (CI=true).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { client, xml } from '@xmpp/client';
import type { LivenessEvent } from '../../src/liveness/types.js';
import type { BoundSession } from '../../src/xmpp/bound-session.js';
import { createXmppListener } from '../../src/xmpp/listener.js';
import { PYTHON, hasPythonModule } from '../support/python.js';
import { until } from '../support/until.js';
import { DOMAIN, makeRig } from './rig.js';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

const SCRIPT = fileURLToPath(new URL('./clients/slixmpp-sm.py', import.meta.url));
const ALICE = `alice@${DOMAIN}/slix`;
const KEY = { host: DOMAIN, transport: 'xmpp' as const, id: ALICE };

const available = hasPythonModule('slixmpp.plugins.xep_0198');

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});

describe.skipIf(!available && process.env.CI !== 'true')('slixmpp XEP-0198 end to end', () => {
  it('enable, abort the TCP connection, messages meanwhile, resume: each message once, resumable and back, never offline', async () => {
    expect(available, 'python3-slixmpp must be installed in CI (.ci/apt-packages)').toBe(true);
    const rig = makeRig({ realTime: true });
    const svc = createXmppListener(rig.deps);
    await svc.start();
    cleanup.push(() => svc.stop());
    const port = svc.address()?.port ?? 0;
    const events: LivenessEvent[] = [];
    rig.deps.liveness.subscribe((e) => events.push(e));

    const py: ChildProcessWithoutNullStreams = spawn(PYTHON, [SCRIPT, String(port), ALICE, 'secret']); // SLIX_DEBUG=1 in the environment: slixmpp's debug log on stderr
    cleanup.push(() => void py.kill('SIGKILL'));
    const said: Record<string, unknown>[] = [];
    let buf = '';
    let stderr = '';
    py.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line.startsWith('{')) said.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    py.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const saw = (event: string) => said.some((l) => l.event === event);
    const bodies = () => said.filter((l) => l.event === 'message').map((l) => l.body);
    const cmd = (c: string) => py.stdin.write(`${c}\n`);
    const wait = async (cond: () => boolean, what: string, capMs = 8_000) => {
      try {
        await until(cond, { capMs, everyMs: 10, what });
      } catch (err) {
        throw new Error(`${(err as Error).message}; slixmpp said ${JSON.stringify(said)}; stderr: ${stderr.slice(-2000)}`);
      }
    };

    await wait(() => saw('session_start') && saw('sm_enabled'), 'slixmpp logged in with SM');
    expect(said.find((l) => l.event === 'sm_enabled')).toMatchObject({ resume: true });
    const session = () => svc.engine.router.get(ALICE) as BoundSession;
    const gen = rig.deps.liveness.get(KEY)!.ref.generation;

    const bob = client({ service: `xmpp://127.0.0.1:${port}`, domain: DOMAIN, username: 'bob', password: 'hunter2', resource: 'desk' });
    bob.on('error', () => undefined);
    bob.reconnect.stop();
    await bob.start();
    cleanup.push(() => bob.stop());
    const say = (body: string) => bob.send(xml('message', { to: ALICE, type: 'chat', id: body }, xml('body', {}, body)));
    await say('before');
    await wait(() => bodies().includes('before') && session().sm?.queued === 0, 'before delivered and acked');

    events.splice(0);
    cmd('drop');
    await wait(() => rig.deps.liveness.get(KEY)?.state === 'resumable', 'resumable');
    for (const b of ['m1', 'm2', 'm3']) await say(b);
    await wait(() => session().sm?.queued === 3, 'three queued for the resumable session');
    cmd('reconnect');
    await wait(() => saw('resumed') && ['m1', 'm2', 'm3'].every((b) => bodies().includes(b)), 'resumed with the messages');
    await wait(() => session().sm?.queued === 0, 'acked after the resume');
    expect(bodies()).toEqual(['before', 'm1', 'm2', 'm3']);
    expect(saw('sm_failed')).toBe(false);
    const handle = rig.deps.liveness.get(KEY)!;
    expect(handle.state).toBe('active');
    expect(handle.ref.generation).toBe(gen);
    const mine = events.filter((e) => 'ref' in e && e.ref.id === ALICE);
    expect(mine.filter((e) => e.type === 'offline' || e.type === 'online')).toEqual([]);
    expect(mine.filter((e) => e.type === 'state').map((e) => (e as { state: string }).state)).toEqual(['resumable', 'active']);

    cmd('quit');
    await wait(() => events.some((e) => e.type === 'offline' && e.ref.id === ALICE), 'offline after quit');
    expect(events.find((e) => e.type === 'offline')).toMatchObject({ reason: 'client_close' });
  });
});
