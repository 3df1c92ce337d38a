/**
 * `npm run docs:screenshots`: the screenshots of docs/dashboard.md, at 1280x800 and at phone width
 * (390x844), in Debian's Chromium (test/support/chromium.ts).
 *
 * The server is the real HTTP app over the real liveness registry and presence table, as in the
 * REST tests (test/http/rig.ts), with a demo fleet instead of sockets: half an hour of a chat and
 * IoT host is played on the manual clock first (clients come and go, probes are answered with
 * varied round trips, one client stops answering), so the counts, the chart, the disconnects and
 * the table have something to show; then a few live changes arrive while the page is open.
 *
 * Usage: npm run docs:screenshots [-- --out docs/img]
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LivenessHandle } from '../src/liveness/types.js';
import { launchChromium } from '../test/support/chromium.js';
import { HOST, TOKEN, rig, testConfig } from '../test/http/rig.js';

const args = process.argv.slice(2);
const OUT = args.includes('--out') ? args[args.indexOf('--out') + 1]! : 'docs/img';

/** A fixed pseudo-random sequence: the same pictures on every run. */
let seed = 7;
const rand = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

const r = rig({
  config: testConfig({
    presence: { feed_size: 100_000 },
    hosts: { [HOST]: { ping: { ping_interval: 60, ping_ack_timeout: 20, timeout_action: 'kill' }, mqtt_probe: 'pingreq' } },
  }),
});
const people = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar', 'peggy', 'trent'];
const devices = ['phone', 'laptop', 'tablet'];
const things = ['greenhouse-07', 'truck-114', 'meter-2231', 'pump-3', 'door-east', 'cam-lobby', 'hvac-12', 'scale-9', 'boiler-2', 'tracker-88'];
const live = new Map<string, LivenessHandle>();
/** Endpoints that stopped answering probes. */
const silent = new Set<string>();

function connect(transport: 'xmpp' | 'mqtt', id: string): void {
  live.set(`${transport}:${id}`, r.connect(transport, id));
}

function disconnect(key: string, reason: 'client_close' | 'socket_error' | 'kicked'): void {
  const h = live.get(key);
  if (!h) return;
  if (reason === 'kicked') h.kill('kicked');
  else h.untrack(reason);
  live.delete(key);
}

/** Probes are answered 8 to ~90 ms later (now and then 150 ms more), except by silent endpoints. */
r.adapter.probe = (ref) => {
  if (silent.has(`${ref.transport}:${ref.id}`)) return;
  const rtt = 8 + rand() ** 2 * 80 + (rand() < 0.05 ? 150 : 0);
  r.scheduler.setTimer(rtt, () => {
    const h = r.liveness.get(ref);
    if (h && h.ref.generation === ref.generation) h.answered('pong');
  });
};

function play(): void {
  r.clock.set(Date.now() - 30 * 60_000);
  for (const p of people.slice(0, 9)) connect('xmpp', `${p}@${HOST}/${devices[people.indexOf(p) % 3]}`);
  for (const t of things.slice(0, 7)) connect('mqtt', t);
  for (let step = 0; step < 180; step++) {
    r.scheduler.advance(10_000);
    if (step % 9 === 3) {
      const p = people[Math.floor(rand() * people.length)]!;
      if (![...live.keys()].some((k) => k.startsWith(`xmpp:${p}@`))) connect('xmpp', `${p}@${HOST}/${devices[step % 3]}`);
    }
    if (step % 13 === 5) connect('mqtt', things[(step / 13) % things.length | 0]!);
    if (step % 17 === 8) {
      const keys = [...live.keys()];
      disconnect(keys[Math.floor(rand() * keys.length)]!, rand() < 0.5 ? 'client_close' : 'socket_error');
    }
    if (step === 150) silent.add(`mqtt:${things[2]}`); // goes quiet: probed, then ping_timeout
    if (step === 170) disconnect(`xmpp:bob@${HOST}/laptop`, 'kicked');
  }
  // The XMPP client probed next stops answering: it shows `probing` (ping_ack_timeout is 20 s).
  const next = [...live.values()].filter((h) => h.ref.transport === 'xmpp').sort((a, b) => a.nextDeadlineAt()! - b.nextDeadlineAt()!)[0]!;
  silent.add(`xmpp:${next.ref.id}`);
  r.scheduler.advance(next.nextDeadlineAt()! - r.clock.now() + 100);
  r.clock.set(Date.now());
}

async function main(): Promise<void> {
  play();
  await r.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = r.app.server.address() as { port: number };
  const browser = await launchChromium();
  try {
    mkdirSync(OUT, { recursive: true });
    const shots: Array<[string, { width: number; height: number }]> = [
      ['dashboard-desktop.png', { width: 1280, height: 800 }],
      ['dashboard-phone.png', { width: 390, height: 844 }],
    ];
    for (const [name, viewport] of shots) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${port}/dashboard`);
      await page.getByLabel('API token').fill(TOKEN);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.locator('#rows tr').first().waitFor();
      await page.locator('#live[data-status="live"]').waitFor();
      // A few live changes while the page is open: a client comes, one leaves, carol is probed.
      connect('mqtt', `forklift-${viewport.width}`);
      disconnect([...live.keys()].find((k) => k.startsWith('xmpp:'))!, 'client_close');
      r.scheduler.advance(5_000);
      await page.locator('#log li').first().waitFor();
      await page.waitForTimeout(2_500); // let the 2 s table refresh and the flash settle
      await page.screenshot({ path: join(OUT, name) });
      console.log(`wrote ${join(OUT, name)} (${viewport.width}x${viewport.height})`);
      await context.close();
    }
  } finally {
    await browser.close();
    await r.close();
  }
}

await main();
