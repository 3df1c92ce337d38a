/**
 * Request/response schemas shared by the routes (typebox 0.34 -> JSON schema). Responses are
 * serialised by fast-json-stringify from these, so a field missing here is never sent: keep them in
 * step with src/presence/types.ts (PresenceView, ChangeEntry).
 */
import { type TSchema, Type } from '@sinclair/typebox';

export const Transport = Type.Union([Type.Literal('xmpp'), Type.Literal('mqtt')]);
export const LivenessStateSchema = Type.Union([
  Type.Literal('active'),
  Type.Literal('probing'),
  Type.Literal('unresponsive'),
  Type.Literal('paused'),
  Type.Literal('resumable'),
]);
export const DisconnectReasonSchema = Type.Union(
  [
    'client_close',
    'ping_timeout',
    'keepalive_timeout',
    'taken_over',
    'kicked',
    'socket_error',
    'protocol_error',
    'shutdown',
    'resume_timeout',
    'gateway_down',
    'gateway_offline',
    'account_deleted',
    'node_down',
  ].map((r) => Type.Literal(r)),
);

const SourceSchema = Type.String({ description: 'local for clients Vigil terminates, else the gateway the row was ingested from (docs/gateways.md)' });

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const EpochMs = (description: string) => Type.Integer({ description: `${description} (ms since the Unix epoch)` });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code (docs/errors.md)' }),
    message: Type.String(),
    field: Type.Optional(Type.String({ description: 'The invalid field on a 400' })),
    oldest_seq: Type.Optional(Type.Integer()),
    last_seq: Type.Optional(Type.Integer()),
  },
  { $id: 'VigilError', title: 'Error' },
);

export const PresenceViewSchema = Type.Object(
  {
    host: Type.String(),
    transport: Transport,
    source: SourceSchema,
    id: Type.String({ description: 'Full JID (XMPP) or client id (MQTT)' }),
    generation: Type.Integer({ description: 'Connection generation; a reconnect gets a new one' }),
    state: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
    available: Type.Boolean(),
    show: Nullable(Type.Union([Type.Literal('chat'), Type.Literal('away'), Type.Literal('dnd'), Type.Literal('xa')])),
    status: Nullable(Type.String()),
    priority: Nullable(Type.Integer()),
    liveness: Nullable(LivenessStateSchema),
    connected_at: EpochMs('Connection time'),
    disconnected_at: Nullable(EpochMs('Disconnection time')),
    last_activity_at: EpochMs('Last inbound stanza or packet'),
    next_deadline_at: Nullable(EpochMs('Next liveness decision')),
    resumable_until: Nullable(EpochMs('XEP-0198: liveness resumable (the connection dropped, the session kept) until then, then offline with resume_timeout')),
    last_rtt_ms: Nullable(Type.Number()),
    last_disconnect_reason: Nullable(DisconnectReasonSchema),
    meta: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]), {
      description: 'Transport-specific fields; for MQTT also the session figures (inflight, queue, drops, expiry)',
    }),
    node: Type.Optional(Type.String({ description: 'Cluster mode: the node that holds (or last held) the connection' })),
  },
  { $id: 'PresenceView', title: 'Endpoint' },
);

export const ChangeEntrySchema = Type.Object(
  {
    seq: Type.Integer(),
    at: EpochMs('Change time'),
    kind: Type.Union(['online', 'offline', 'availability', 'liveness', 'meta'].map((k) => Type.Literal(k))),
    host: Type.String(),
    transport: Transport,
    source: SourceSchema,
    id: Type.String(),
    generation: Type.Integer(),
    row: Type.Ref('PresenceView'),
    reason: Type.Optional(DisconnectReasonSchema),
    takeover: Type.Optional(Type.Boolean()),
  },
  { $id: 'ChangeEntry', title: 'Change' },
);

/** Error responses a route can give, by status, all with the catalog body. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((s) => [s, Type.Ref('VigilError')]));
}

/** The 401/403 every /v1 route can answer. */
export const AUTH_ERRORS = [401, 403] as const;

export const HostParams = Type.Object({ host: Type.String({ minLength: 1, maxLength: 1023 }) });
export const EndpointParams = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 1023 }),
  transport: Transport,
  id: Type.String({ minLength: 1, maxLength: 3071, description: 'URL-encoded full JID, bare JID or MQTT client id' }),
});
