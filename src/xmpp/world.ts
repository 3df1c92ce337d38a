/**
 * The named dependencies every stanza handler gets (one object per XMPP service): sessions, the
 * store's rosters and users, the presence table, and which domains are local.
 */
import type { Availability, Meta } from '../presence/types.js';
import type { EndpointRef } from '../liveness/types.js';
import type { RosterRepo, UserRepo } from '../store/types.js';
import type { Router } from './router.js';

export interface XmppWorld {
  router: Router;
  rosters: RosterRepo;
  users: UserRepo;
  /** True for a domain served here (a configured host). */
  isLocalDomain(domain: string): boolean;
  /** Presence table hook (RFC 6121 availability of one endpoint). */
  setAvailability(ref: EndpointRef, availability: Availability): void;
  /** Presence table metadata of one endpoint (address, TLS, SASL mechanism); `announce`: a change feed entry too. */
  setMeta(ref: EndpointRef, meta: Meta, announce?: boolean): void;
  /** Fresh id for server-generated stanzas (roster pushes). */
  newId(): string;
  /** XEP-0198 is offered on this host now (stream_management): listed in disco#info. */
  smOffered(host: string): boolean;
  /** max_roster_size of a host (items per user). */
  maxRosterSize(host: string): number;
  /** Count a limit hit (vigil_xmpp_limit_hits_total{limit}). */
  countLimit(limit: string): void;
}
