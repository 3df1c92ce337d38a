/**
 * One load-generator process (forked by generator.ts): holds up to ~9,900 loopback client sockets
 * (the per-process file limit here is 20,000) and runs the commands it gets over IPC: connect MQTT
 * clients (CONNECT, wait for CONNACK), log XMPP clients in (SASL PLAIN, bind, initial presence),
 * send PINGREQs spread evenly over an interval, report counters, close times and its own CPU.
 * Every reply carries the request's `seq`. A loop probe (a 1 ms timer, on request) tells how long
 * this process had not run when it saw each close: its own share of a late close time.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createXmlStreamParser } from '../../src/xmpp/xml-stream.js';
import { connectPacket, MqttFramer, PINGREQ, TYPE } from './mqtt-wire.js';

export type WorkerRequest =
  | { op: 'mqtt-connect'; port: number; count: number; idPrefix: string; keepalive: number; concurrency: number; spreadMs?: number }
  | { op: 'xmpp-login'; port: number; count: number; first: number; domain: string; password: string; answerPings: boolean; sm?: boolean; concurrency: number }
  | { op: 'ping-start'; intervalMs: number }
  | { op: 'ping-stop' }
  | { op: 'loop-probe'; on: boolean }
  | { op: 'stats' }
  | { op: 'closes' }
  | { op: 'close-all' };

export interface WorkerStats {
  open: number;
  pingsSent: number;
  pongs: number;
  serverPings: number;
  closedByServer: number;
  cpuMs: number;
}

/** A client closed by the server: ms from its last packet to the end of its socket. */
export interface Close {
  after: number;
  /**
   * ms since this process's last loop-probe tick when it saw the close (-1: probe off). About 1 when
   * the process was idle and woke at once; more means it had not run for that long, so the FIN may
   * have arrived up to `gap` ms before `after`.
   */
  gap: number;
}

interface Client {
  sock: Socket;
  /** performance.now() when the client's last packet/stanza was written. */
  lastSent: number;
  /** ms from lastSent to the end of the socket, once closed by the server. */
  closedAfter: number;
  /** Close.gap of this client's close. */
  gap: number;
  ready: boolean;
}

const clients: Client[] = [];
const counters = { pingsSent: 0, pongs: 0, serverPings: 0, closedByServer: 0 };
let closingAll = false;
let probe: NodeJS.Timeout | undefined;
let lastTick = 0;

function trackClose(c: Client): void {
  const end = () => {
    if (c.closedAfter >= 0 || closingAll) return;
    const now = performance.now();
    c.closedAfter = now - c.lastSent;
    c.gap = probe ? now - lastTick : -1;
    if (c.ready) counters.closedByServer++;
  };
  // The server's FIN ('end') is when it closed; 'close' can come a delayed ACK (40 ms) later.
  c.sock.on('end', end);
  c.sock.on('close', end);
  c.sock.on('error', end);
}

function mqttClient(port: number, clientId: string, keepalive: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const c: Client = { sock, lastSent: 0, closedAfter: -1, gap: -1, ready: false };
    sock.setNoDelay(true);
    const framer = new MqttFramer((type, _flags, body) => {
      if (type === TYPE.CONNACK) {
        c.ready = (body[1] ?? 1) === 0;
        resolve(c.ready);
      } else if (type === TYPE.PINGRESP) counters.pongs++;
    });
    sock.on('data', (d: Buffer) => framer.push(d));
    // Stamped just before the write (a writable socket hands the bytes to the kernel inside write());
    // a write callback can run a loop turn later and would make close times look shorter.
    sock.on('connect', () => {
      c.lastSent = performance.now();
      sock.write(connectPacket(clientId, keepalive));
    });
    sock.once('close', () => resolve(false));
    trackClose(c);
    clients.push(c);
  });
}

/**
 * One XMPP session. With `sm` it enables XEP-0198 after binding and answers the server's `<r/>` with
 * `<a h/>` (h: stanzas received since enable, XEP-0198 §4), counted as a pong like an XEP-0199 answer.
 */
function xmppClient(port: number, domain: string, user: string, password: string, answerPings: boolean, sm = false): Promise<boolean> {
  const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${domain}' version='1.0'>`;
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    const c: Client = { sock, lastSent: 0, closedAfter: -1, gap: -1, ready: false };
    const parser = createXmlStreamParser({ maxStanzaBytes: 1 << 20 });
    let step = 0;
    let h = 0;
    sock.setNoDelay(true);
    sock.on('connect', () => sock.write(header));
    sock.once('close', () => resolve(false));
    sock.on('data', (chunk: Buffer) => {
      for (const ev of parser.write(chunk)) {
        if (ev.type !== 'stanza') continue;
        const el = ev.el;
        if (step === 4 && (el.name === 'message' || el.name === 'presence')) h++;
        if (step === 0 && el.name === 'stream:features') {
          step = 1;
          sock.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000${password}`).toString('base64')}</auth>`);
        } else if (step === 1 && el.name === 'success') {
          step = 2;
          parser.reset();
          sock.write(header);
        } else if (step === 1 && el.name === 'failure') {
          sock.destroy();
        } else if (step === 2 && el.name === 'stream:features') {
          step = 3;
          sock.write(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>bench</resource></bind></iq>`);
        } else if (step === 3 && el.name === 'iq' && el.attrs.id === 'b') {
          step = 4;
          c.lastSent = performance.now();
          if (sm) sock.write(`<enable xmlns='urn:xmpp:sm:3'/>`);
          sock.write('<presence/>', () => {
            c.ready = true;
            resolve(true);
          });
        } else if (sm && el.name === 'r' && el.attrs.xmlns === 'urn:xmpp:sm:3') {
          counters.serverPings++;
          if (!answerPings) continue;
          c.lastSent = performance.now();
          sock.write(`<a xmlns='urn:xmpp:sm:3' h='${h}'/>`);
          counters.pongs++;
        } else if (el.name === 'iq' && el.attrs.type === 'get') {
          h++;
          counters.serverPings++;
          if (!answerPings) continue;
          const from = el.attrs.from;
          c.lastSent = performance.now();
          sock.write(`<iq type='result' id='${String(el.attrs.id)}'${typeof from === 'string' ? ` to='${from}'` : ''}/>`);
          counters.pongs++;
        }
      }
    });
    trackClose(c);
    clients.push(c);
  });
}

/** Run `count` async jobs with at most `concurrency` in flight; returns successes. */
async function pool(count: number, concurrency: number, job: (i: number) => Promise<boolean>): Promise<number> {
  let next = 0;
  let ok = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      if (await job(i)) ok++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return ok;
}

let pingTimer: NodeJS.Timeout | undefined;
function pingStart(intervalMs: number): void {
  const TICK = 10;
  let cursor = 0;
  let credit = 0;
  const live = clients.filter((c) => c.ready);
  pingTimer = setInterval(() => {
    credit += (live.length * TICK) / intervalMs;
    while (credit >= 1 && live.length > 0) {
      credit--;
      const c = live[cursor++ % live.length];
      if (c && !c.sock.destroyed) {
        c.sock.write(PINGREQ);
        counters.pingsSent++;
      }
    }
  }, TICK);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.op) {
    case 'mqtt-connect': {
      const t0 = performance.now();
      const spread = req.spreadMs ?? 0;
      const ok = await pool(req.count, req.concurrency, async (i) => {
        const r = await mqttClient(req.port, `${req.idPrefix}${i}`, req.keepalive);
        if (spread > 0) await new Promise((res) => setTimeout(res, spread));
        return r;
      });
      return { ok, failed: req.count - ok, ms: performance.now() - t0 };
    }
    case 'xmpp-login': {
      const t0 = performance.now();
      const ok = await pool(req.count, req.concurrency, (i) => xmppClient(req.port, req.domain, `u${req.first + i}`, req.password, req.answerPings, req.sm));
      return { ok, failed: req.count - ok, ms: performance.now() - t0 };
    }
    case 'ping-start':
      pingStart(req.intervalMs);
      return {};
    case 'ping-stop':
      clearInterval(pingTimer);
      return {};
    case 'loop-probe':
      clearInterval(probe);
      probe = undefined;
      if (req.on) {
        lastTick = performance.now();
        probe = setInterval(() => (lastTick = performance.now()), 1);
      }
      return {};
    case 'stats':
      return { open: clients.filter((c) => c.closedAfter < 0).length, ...counters, cpuMs: cpuMs() } satisfies WorkerStats;
    case 'closes':
      return { closes: clients.filter((c) => c.ready && c.closedAfter >= 0).map((c): Close => ({ after: c.closedAfter, gap: c.gap })) };
    case 'close-all': {
      closingAll = true;
      clearInterval(pingTimer);
      clearInterval(probe);
      probe = undefined;
      for (const c of clients) c.sock.destroy();
      clients.length = 0;
      return {};
    }
  }
}

process.on('message', (msg: { seq: number; req: WorkerRequest }) => {
  handle(msg.req).then(
    (res) => process.send?.({ seq: msg.seq, res }),
    (err: unknown) => process.send?.({ seq: msg.seq, error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
// A spare (generator.ts) whose parent ended while this process was still starting saw no
// 'disconnect' event: the channel is gone already.
if (!process.connected) process.exit(0);
