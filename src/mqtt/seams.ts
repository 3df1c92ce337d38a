/**
 * The parts of the broker a cluster replaces (issues 15 and 16), built once per host:
 *
 *   clients   ClientRegistry  who holds which client id, takeover, client counts   client-registry.ts
 *   router    Router          topic trie and delivery to connections / sessions    router.ts
 *   retained  RetainedStore   retained messages, read on SUBSCRIBE                  retained.ts
 *   wills     WillScheduler   wills on close, Will Delay, cancelled on reconnect    wills.ts
 *
 * The broker (broker.ts) composes them and knows only the interfaces; `localSeams` builds the
 * single-node implementations. A cluster passes its own factory (Redis-backed registry with
 * fenced generations, route table, retained copy and will outbox), which may wrap the local
 * router for delivery on its node. Test doubles (test/mqtt/seams.test.ts) run the same contract.
 */
import type { Store } from '../store/types.js';
import type { Clock } from '../time/clock.js';
import type { Scheduler } from '../time/scheduler.js';
import type { HostPolicy } from './channel.js';
import { LocalClientRegistry, type ClientRegistry, type ConnectionRate } from './client-registry.js';
import type { BrokerClient } from './connection-deps.js';
import type { Message } from './message.js';
import { RetainedIndex, type RetainedStore } from './retained.js';
import { LocalRouter, type Router, type RouterDeps } from './router.js';
import { LocalWillScheduler, type WillScheduler } from './wills.js';

export interface HostSeams {
  readonly clients: ClientRegistry<BrokerClient>;
  readonly router: Router;
  readonly retained: RetainedStore;
  readonly wills: WillScheduler;
}

/** What the broker hands a factory for one host. */
export interface SeamContext {
  host: string;
  policy: HostPolicy;
  /** The listener's connection rate per address (the registry takes the host's token at CONNECT). */
  rate: ConnectionRate;
  /** Deliveries that go through a session (the session service). */
  sessions: RouterDeps['sessions'];
  /** Store (retained) and route a message as if a client of the host had published it (wills). */
  publish(msg: Message): void;
  aclDenied(): void;
  /** One delivery to a shared subscription group (metrics). */
  sharedDelivered(group: string): void;
}

export type SeamFactory = (ctx: SeamContext) => HostSeams;

/** The single-node parts: maps and timers in this process, retained messages written through to the store. */
export function localSeams(deps: { store: Store; clock: Clock; scheduler: Scheduler }): SeamFactory {
  const nowMs = () => deps.clock.now();
  return (ctx) => {
    const clients = new LocalClientRegistry<BrokerClient>(ctx.host, ctx.rate);
    const retained = new RetainedIndex(ctx.host, deps.store.retained, deps.clock);
    retained.load();
    return {
      clients,
      router: new LocalRouter({
        host: ctx.host,
        online: clients.local,
        sessions: ctx.sessions,
        nowMs,
        strategy: () => ctx.policy.mqtt.shared_subscription_strategy,
        sharedDelivered: ctx.sharedDelivered,
      }),
      retained,
      wills: new LocalWillScheduler({ policy: ctx.policy, scheduler: deps.scheduler, nowMs, publish: ctx.publish, aclDenied: ctx.aclDenied }),
    };
  };
}
