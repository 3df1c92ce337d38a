/**
 * The suite's node-floor server (bench/suite/node-floor-server.mjs), a real process on a loopback
 * port: a CONNACK per CONNECT and a PINGRESP per PINGREQ, also when packets share a chunk or are
 * cut at every byte, and the socket closed on any other packet.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPacket, PINGREQ, publishPacket } from '../../bench/suite/mqtt-wire.js';
import { waitForLine } from '../../bench/suite/proc.js';

const SCRIPT = new URL('../../bench/suite/node-floor-server.mjs', import.meta.url).pathname;
const CONNACK = [0x20, 0x02, 0x00, 0x00];
const PINGRESP = [0xd0, 0x00];

let child: ChildProcess;
let port = 0;

beforeAll(async () => {
  child = spawn(process.execPath, [SCRIPT, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  port = Number(/node_floor_ready (\d+)/.exec(await waitForLine(child, /node_floor_ready \d+/, 10_000))?.[1]);
});

afterAll(() => {
  child.kill('SIGKILL');
});

/** Open a client, write `chunks` one write each (awaiting each), and collect bytes until `want` arrived or the socket closed. */
async function exchange(chunks: Buffer[], want: number): Promise<{ got: number[]; closed: boolean }> {
  const sock: Socket = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const got: number[] = [];
  let closed = false;
  const done = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      got.push(...d);
      if (got.length >= want) resolve();
    });
    sock.on('close', () => {
      closed = true;
      resolve();
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  for (const c of chunks) await new Promise<void>((resolve) => sock.write(c, () => resolve()));
  await done;
  sock.destroy();
  return { got, closed };
}

describe('node-floor server', () => {
  const conn = connectPacket('floor-1', 60);

  it('answers CONNECT and PINGREQs sent as separate writes', async () => {
    const { got } = await exchange([conn, PINGREQ, PINGREQ], 8);
    expect(got).toEqual([...CONNACK, ...PINGRESP, ...PINGRESP]);
  });

  it('answers several packets in one chunk', async () => {
    const { got } = await exchange([Buffer.concat([conn, PINGREQ, PINGREQ])], 8);
    expect(got).toEqual([...CONNACK, ...PINGRESP, ...PINGRESP]);
  });

  it('answers packets cut at every byte', async () => {
    const all = Buffer.concat([conn, PINGREQ]);
    const { got } = await exchange([...all].map((b) => Buffer.from([b])), 6);
    expect(got).toEqual([...CONNACK, ...PINGRESP]);
  });

  it('closes the socket on any other packet', async () => {
    const { got, closed } = await exchange([conn, publishPacket('t', Buffer.from('x'), 0)], 1_000);
    expect(closed).toBe(true);
    expect(got).toEqual(CONNACK);
  });
});
