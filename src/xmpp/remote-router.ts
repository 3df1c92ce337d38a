/**
 * Cluster mode: the XMPP router sees the resources other nodes hold (from the cluster's presence
 * mirror) next to its own, so one-to-one messages, presence broadcast, probes, directed presence
 * and IQs reach users on any node, with the rules of RFC 6121 §8.5 applied over all resources
 * (highest non-negative priority for a message to a bare JID, every available resource for
 * presence). A remote resource is a proxy session: `send` hands the stanza to its node (an entry
 * in that node's inbox stream, src/cluster/commands.ts), which delivers it to the local session.
 * Its presence (`available`, `priority`, and `last` rebuilt from show/status/priority) is what the
 * mirror shows. Rosters stay per node (docs/cluster.md), so a remote proxy gets no roster pushes.
 */
import type { PresenceView } from '../presence/types.js';
import type { Router } from './router.js';
import { newPresenceState, type C2sSession } from './c2s-session.js';
import { type XmlEl, x } from './xml.js';

/** What the router needs of the cluster (src/cluster/node.ts implements it). */
export interface ClusterStanzas {
  readonly nodeId: string;
  /** Rows of a JID (a bare JID: every resource) in the presence mirror. */
  xmppRows(host: string, jid: string): PresenceView[];
  /** Hand a stanza to the node holding `to`. */
  sendStanza(node: string, to: string, el: XmlEl): void;
  /** Stanzas other nodes hand to this node's sessions (an XmlEl as JSON, sent by sendStanza). */
  onStanza(handler: (to: string, el: unknown) => void): void;
}

const domainOf = (jid: string) => {
  const at = jid.indexOf('@');
  const slash = jid.indexOf('/');
  return jid.slice(at + 1, slash < 0 ? undefined : slash);
};

function proxy(cluster: ClusterStanzas, v: PresenceView): C2sSession {
  const slash = v.id.indexOf('/');
  const bare = slash < 0 ? v.id : v.id.slice(0, slash);
  const presence = newPresenceState();
  presence.available = v.available;
  presence.priority = v.priority ?? 0;
  if (v.available) {
    presence.last = x(
      'presence',
      { from: v.id },
      v.show ? x('show', {}, v.show) : null,
      v.status ? x('status', {}, v.status) : null,
      v.priority !== null ? x('priority', {}, String(v.priority)) : null,
    );
  }
  return {
    jid: v.id,
    bare,
    user: bare.slice(0, Math.max(0, bare.indexOf('@'))),
    host: v.host,
    ref: null,
    presence,
    interested: false,
    send: (el) => cluster.sendStanza(v.node ?? '', v.id, el),
    kill: () => undefined, // kicks go through REST forwarding, not the router
  };
}

/** The local router plus the resources of other nodes. */
export function createClusterRouter(local: Router, cluster: ClusterStanzas): Router {
  const remote = (jid: string): C2sSession[] =>
    cluster
      .xmppRows(domainOf(jid), jid)
      .filter((v) => v.state === 'online' && v.node !== undefined && v.node !== cluster.nodeId && local.get(v.id) === undefined)
      .map((v) => proxy(cluster, v));
  const sessionsOf = (bare: string) => [...local.sessionsOf(bare), ...remote(bare)];
  const availableOf = (bare: string) => sessionsOf(bare).filter((s) => s.presence.available);
  cluster.onStanza((to, el) => local.get(to)?.send(el as XmlEl));
  return {
    bind: (s) => local.bind(s),
    unbind: (s) => local.unbind(s),
    get: (full) => local.get(full) ?? remote(full).find((s) => s.jid === full),
    sessionsOf,
    availableOf,
    deliverMessageToBare(bare, el) {
      // RFC 6121 §8.5.2.1.1 over every node's resources.
      const candidates = availableOf(bare).filter((s) => s.presence.priority >= 0);
      if (candidates.length === 0) return false;
      if ((el.attrs.type ?? 'normal') === 'headline') {
        for (const s of candidates) s.send(el);
        return true;
      }
      const top = Math.max(...candidates.map((s) => s.presence.priority));
      for (const s of candidates) if (s.presence.priority === top) s.send(el);
      return true;
    },
    deliverPresenceToBare(bare, el) {
      for (const s of availableOf(bare)) s.send(el);
    },
    all: () => local.all(),
    size: () => local.size(),
  };
}
