/**
 * Churn: connect / subscribe / disconnect cycles over both protocols against one in-process World,
 * then the leak checks of issue 8. One cycle = one XMPP client (PLAIN login, bind, presence, roster
 * get, close) and one MQTT client (clean CONNECT, two SUBSCRIBEs, a PUBLISH, DISCONNECT), each
 * with a fresh resource / client id so every cycle leaves an offline presence row that must expire
 * with presence.offline_ttl (1 s here). Afterwards: no connection, tracked endpoint, bound
 * session, MQTT session or subscription left, timers back to their count before the run, presence
 * rows back to zero, the change feed within its bound, and RSS within 10 % of its value after
 * warm-up (both read after a full GC).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MqttControl, XmppControl } from './clients.js';
import { type World, makeWorld, settle } from './world.js';
import { FUZZ_DOMAIN } from './xml-cases.js';

export interface ChurnReport {
  cycles: number;
  ms: number;
  rssWarmMb: number;
  rssEndMb: number;
  heapWarmMb: number;
  heapEndMb: number;
  /** What is left after the run; every value must be 0 (timers: compared with the count before). */
  left: Record<string, number>;
  feedKept: number;
  feedSize: number;
}

const mb = (n: number) => Math.round((n / 1_048_576) * 10) / 10;
/** A full GC before each memory reading (the flag is set at run time, so no node option is needed). */
function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function cycle(world: World, i: number): Promise<void> {
  const x = new XmppControl(world, `198.18.${(i >> 8) & 255}.${i & 255}`);
  const m = new MqttControl(world, i % 2 === 0 ? 4 : 5, `198.19.${(i >> 8) & 255}.${i & 255}`);
  await Promise.all([x.login('fuzzer', 'fuzzpw', `churn-${i}`), m.connect(`churn-${i}`)]);
  x.send(`<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>`);
  m.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `churn/${i}/#`, qos: 1 }, { topic: 'churn/all', qos: 0 }] });
  m.send({ cmd: 'publish', topic: 'churn/all', payload: Buffer.from('x'), qos: 0, retain: false, dup: false });
  await settle(2);
  x.send('</stream:stream>');
  x.side.end();
  m.send({ cmd: 'disconnect' });
  m.side.end();
}

export async function churn(opts: { cycles: number; batch?: number; onProgress?: (done: number, ms: number) => void }): Promise<ChurnReport> {
  const batch = opts.batch ?? 50;
  const feedSize = 1_000;
  const world = makeWorld({
    presence: { offline_ttl: 1, max_offline: 100_000, feed_size: feedSize },
    // Rate limits off: their per-address buckets are a cache swept after a minute of quiet
    // (test/robustness/ip-limits.test.ts), not state the clients leave behind.
    host: { ping: { ping_interval: 30 }, mqtt: { max_connection_rate_per_ip: 0 } },
  });
  const t0 = Date.now();
  const timersBefore = world.manual.pending;
  let warm: { rss: number; heap: number } | null = null;
  let done = 0;
  let lastProgress = t0;
  while (done < opts.cycles) {
    const n = Math.min(batch, opts.cycles - done);
    await Promise.all(Array.from({ length: n }, (_, k) => cycle(world, done + k)));
    done += n;
    await world.advance(600); // close grace of the XMPP streams
    if (done % 2_000 < batch) await world.advance(2_000); // let offline rows expire now and then
    // Warm-up: a quarter of a short run, 2,000 cycles of a CI-sized one, a tenth of a long one.
    if (!warm && done >= Math.max(batch, Math.min(2_000, opts.cycles / 4), opts.cycles / 10)) {
      gc();
      warm = { rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed };
    }
    if (opts.onProgress && Date.now() - lastProgress > 10_000) {
      lastProgress = Date.now();
      opts.onProgress(done, Date.now() - t0);
    }
  }
  await world.advance(5_000);
  world.deps.presence.sweep();
  await settle();
  gc();
  const end = process.memoryUsage();
  const feed = world.deps.presence.readFeed(0, 10_000_000);
  const feedKept = feed.kind === 'ok' ? feed.entries.length : feed.last_seq - feed.oldest_seq + 1;
  const left = {
    xmpp_connections: world.xmpp.connections().length,
    xmpp_bound_sessions: [...world.xmpp.router.all()].length,
    mqtt_connections: world.mqtt.broker.connectionCount,
    mqtt_sessions: world.mqtt.broker.sessions.manager.size,
    mqtt_subscriptions: world.mqtt.broker.subscriptionCount(FUZZ_DOMAIN),
    tracked_endpoints: world.deps.liveness.size(FUZZ_DOMAIN),
    presence_rows: world.deps.presence.count(FUZZ_DOMAIN),
    timers: world.manual.pending - timersBefore,
    internal_errors: world.errors.length,
  };
  world.stop();
  const w = warm ?? { rss: end.rss, heap: end.heapUsed };
  return {
    cycles: done,
    ms: Date.now() - t0,
    rssWarmMb: mb(w.rss),
    rssEndMb: mb(end.rss),
    heapWarmMb: mb(w.heap),
    heapEndMb: mb(end.heapUsed),
    left,
    feedKept,
    feedSize,
  };
}
