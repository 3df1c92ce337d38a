/**
 * The flat dispatcher (Aedes lib/handlers/index.js): one function from the channel state and an
 * inbound packet to a Step, one handler per packet type. Order rules live here:
 *   - the first packet must be CONNECT [MQTT-3.1.0-1]; anything else closes the connection;
 *   - a second CONNECT is a protocol error [MQTT-3.1.0-2];
 *   - server-to-client packets from a client (CONNACK, SUBACK, ...) are protocol errors;
 *   - AUTH (v5 enhanced authentication) is not supported: 0x8C is not offered, so it is an error;
 *   - packets the parser accepts but the specs refuse close the connection (well-formed.ts).
 */
import type { Packet } from 'mqtt-packet';
import { protocolClose, type ChannelEnv, type ChannelState, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';
import type { ChannelSession } from '../channel-session.js';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './acks.js';
import { handleConnect } from './connect.js';
import { handleDisconnect } from './disconnect.js';
import { handlePingreq, handlePingresp } from './ping.js';
import { handlePublish } from './publish.js';
import { handleSubscribe } from './subscribe.js';
import { handleUnsubscribe } from './unsubscribe.js';
import { illFormed } from './well-formed.js';

const IGNORE: Step = { effects: [] };

export function dispatch(st: ChannelState, pkt: Packet, env: ChannelEnv, session: ChannelSession | null, nowMs: number): Step {
  if (st.phase === 'closed') return IGNORE;
  const bad = illFormed(pkt);
  if (bad !== null) return protocolClose(st, bad);
  if (st.phase === 'awaiting_connect') {
    if (pkt.cmd === 'connect') return handleConnect(pkt, env);
    return protocolClose(st, RC.protocolError);
  }
  if (!session) return IGNORE; // CONNACK not sent yet: the connection layer holds packets until then
  const ctx = { st, session, env, nowMs };
  switch (pkt.cmd) {
    case 'publish':
      return handlePublish(ctx, pkt);
    case 'puback':
      return handlePuback(ctx, pkt);
    case 'pubrec':
      return handlePubrec(ctx, pkt);
    case 'pubrel':
      return handlePubrel(ctx, pkt);
    case 'pubcomp':
      return handlePubcomp(ctx, pkt);
    case 'subscribe':
      return handleSubscribe(ctx, pkt);
    case 'unsubscribe':
      return handleUnsubscribe(ctx, pkt);
    case 'pingreq':
      return handlePingreq();
    case 'pingresp':
      return handlePingresp();
    case 'disconnect':
      return handleDisconnect(ctx, pkt);
    default:
      return protocolClose(st, RC.protocolError);
  }
}
