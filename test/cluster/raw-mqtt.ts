/**
 * A raw MQTT client for tests that must stop a QoS 2 flow half way (no PUBREC, no PUBCOMP, no
 * PUBREL): packets in and out through mqtt-packet over a real socket, nothing answered by itself.
 */
import { connect as tcp, type Socket } from 'node:net';
import { generate, parser, type IConnectPacket, type Packet } from 'mqtt-packet';

export interface RawClient {
  send(p: Packet): void;
  /** The next packet of `cmd` (waits up to `ms`). */
  next(cmd: Packet['cmd'], ms?: number): Promise<Packet>;
  readonly closed: Promise<void>;
  close(): void;
}

export function rawConnect(port: number, connect: Omit<IConnectPacket, 'cmd'>): Promise<{ client: RawClient; connack: Packet }> {
  const version = connect.protocolVersion ?? 4;
  const sock: Socket = tcp(port, '127.0.0.1');
  const p = parser({ protocolVersion: version });
  const queue: Packet[] = [];
  const waiters: { cmd: Packet['cmd']; resolve(p: Packet): void }[] = [];
  p.on('packet', (pkt: Packet) => {
    const i = waiters.findIndex((w) => w.cmd === pkt.cmd);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(pkt);
    else queue.push(pkt);
  });
  sock.on('data', (d) => p.parse(d));
  sock.on('error', () => undefined);
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  const client: RawClient = {
    send: (pkt) => void sock.write(generate(pkt, { protocolVersion: version })),
    next(cmd, ms = 10_000) {
      const i = queue.findIndex((q) => q.cmd === cmd);
      if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0]!);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${cmd} within ${ms} ms`)), ms);
        waiters.push({ cmd, resolve: (x) => (clearTimeout(t), resolve(x)) });
      });
    },
    closed,
    close: () => sock.destroy(),
  };
  sock.once('connect', () => client.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: version, keepalive: 60, ...connect } as IConnectPacket));
  return client.next('connack').then((connack) => ({ client, connack }));
}
