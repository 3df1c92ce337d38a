/**
 * What the REST API gets from the composition root: the core parts plus the host settings table,
 * the network services (for /readyz) and the API token. Route modules (routes/*.ts) take a Pick of
 * it, so http/app.ts composes them and nothing imports back from it.
 */
import type { CoreDeps, Service } from '../deps.js';
import type { Gateways } from '../gateway/service.js';
import type { HostSettingsTable } from '../host-settings.js';
import type { TlsReloader } from '../transport/tls-reload.js';
import type { WsEndpoint } from '../transport/ws-server.js';

export interface HttpDeps extends CoreDeps {
  hostSettings: HostSettingsTable;
  services: () => Service[];
  apiToken: string;
  /** True once the store is open and the listeners are up. */
  ready: () => boolean;
  /** Gateway mode (issue 19); absent when none is configured. */
  gateways?: Gateways;
  /** The protocols' WebSocket endpoints on this listener (XMPP /xmpp-websocket, MQTT listeners.http.mqtt_path). */
  websockets?: readonly WsEndpoint[];
  /** HTTPS (listeners.http.tls): its certificate reloads on SIGHUP through this. */
  tlsReloader?: TlsReloader | null;
}
