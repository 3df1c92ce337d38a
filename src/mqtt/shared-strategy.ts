/**
 * How one member of a shared subscription group is picked for a message (MQTT 5.0 §4.8.2 leaves it
 * to the server), per host `mqtt.shared_subscription_strategy`, EMQX's names:
 *   round_robin    members in turn (default);
 *   random         a random member;
 *   sticky         the same member until it leaves or goes offline, then the next in turn;
 *   hash_clientid  by a hash of the publisher's client id (one publisher's messages keep their order).
 * Pure over a member list and a small state, so that a cluster (issue 16) can run it over the
 * members of every node. Members connected here come first; when none is, the member the strategy
 * names gets it anyway (an offline persistent session queues it).
 */
export type SharedStrategy = 'round_robin' | 'random' | 'sticky' | 'hash_clientid';

export const SHARED_STRATEGIES = ['round_robin', 'random', 'sticky', 'hash_clientid'] as const satisfies readonly SharedStrategy[];

/** What a strategy keeps between picks. */
export interface PickState {
  cursor: number;
  sticky: string | null;
}

/** FNV-1a of a string, 32 bits. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * The member to deliver to, or null when there is none. `online(m)` says whether `m` is connected.
 * `random` is injected (tests).
 */
export function pickMember(
  strategy: SharedStrategy,
  members: readonly string[],
  st: PickState,
  senderId: string | null,
  online: (clientId: string) => boolean,
  random: () => number = Math.random,
): string | null {
  const n = members.length;
  if (n === 0) return null;
  if (strategy === 'sticky' && st.sticky !== null && members.includes(st.sticky) && online(st.sticky)) return st.sticky;
  const start =
    strategy === 'random' ? Math.floor(random() * n) : strategy === 'hash_clientid' ? hash(senderId ?? '') % n : st.cursor % n;
  let chosen = start;
  for (let k = 0; k < n; k++) {
    const i = (start + k) % n;
    if (online(members[i]!)) {
      chosen = i;
      break;
    }
  }
  if (strategy === 'round_robin' || strategy === 'sticky') st.cursor = chosen + 1;
  const m = members[chosen]!;
  if (strategy === 'sticky') st.sticky = m;
  return m;
}
