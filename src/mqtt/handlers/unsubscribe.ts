/**
 * UNSUBSCRIBE (3.1.1 §3.10, 5.0 §3.10): remove each filter from the session and the trie, then
 * UNSUBACK; v5 carries one code per filter: 0x00 removed, 0x11 no subscription existed.
 */
import type { IUnsubackPacket, IUnsubscribePacket } from 'mqtt-packet';
import { step, type Ctx, type Effect, type Step } from '../channel.js';
import { RC } from '../reason-codes.js';

export function handleUnsubscribe(ctx: Ctx, pkt: IUnsubscribePacket): Step {
  const removed: string[] = [];
  const codes: number[] = [];
  for (const filter of pkt.unsubscriptions) {
    const had = ctx.session.unsubscribe(filter);
    if (had) removed.push(filter);
    codes.push(had ? RC.success : RC.noSubscriptionExisted);
  }
  const unsuback: IUnsubackPacket =
    ctx.st.version === 5
      ? { cmd: 'unsuback', messageId: pkt.messageId ?? 0, granted: codes }
      : { cmd: 'unsuback', messageId: pkt.messageId ?? 0, granted: [] };
  const effects: Effect[] = [{ type: 'send', packet: unsuback }];
  if (removed.length > 0) effects.push({ type: 'unsubscribed', filters: removed });
  return step(effects);
}
