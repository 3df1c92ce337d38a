/**
 * MQTT return and reason codes used by Vigil, by name. MQTT 3.1.1 CONNACK return codes are 0..5
 * only (3.1.1 §3.2.2.3); MQTT 5.0 reason codes per §2.4 and the tables of §3.2.2.2, §3.4.2.1,
 * §3.9.3, §3.14.2.1. Plus the mapping from Vigil's disconnect reasons to v5 DISCONNECT codes.
 */
import type { DisconnectReason } from '../liveness/types.js';

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3, Table 3.1). */
export const V3 = {
  accepted: 0,
  unacceptableProtocol: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badCredentials: 4,
  notAuthorized: 5,
} as const;

/** MQTT 5.0 reason codes (§2.4). */
export const RC = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  malformed: 0x81,
  protocolError: 0x82,
  implementationSpecific: 0x83,
  unsupportedProtocol: 0x84,
  clientIdNotValid: 0x85,
  badCredentials: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  serverShuttingDown: 0x8b,
  badAuthMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdInUse: 0x91,
  packetIdNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  sharedSubsNotSupported: 0x9e,
  connectionRateExceeded: 0x9f,
} as const;

/** v5 DISCONNECT reason code the server sends when it ends a connection for `reason`. */
export function disconnectCode(reason: DisconnectReason): number {
  switch (reason) {
    case 'keepalive_timeout':
    case 'ping_timeout':
      return RC.keepAliveTimeout; // §3.14.2.1 0x8D
    case 'taken_over':
      return RC.sessionTakenOver; // [MQTT-3.1.4-3]
    case 'kicked':
      return RC.administrativeAction;
    case 'shutdown':
    case 'node_down': // cluster: this node lost its lease and stops serving; reconnect elsewhere
      return RC.serverShuttingDown;
    case 'protocol_error':
      return RC.protocolError;
    case 'account_deleted':
      return RC.notAuthorized; // §3.14.2.1 0x87
    default:
      return RC.unspecified;
  }
}

/** Whether a server-side close for `reason` publishes the will [MQTT-3.1.2-8]; shutdown does not. */
export function willOnClose(reason: DisconnectReason): boolean {
  return reason !== 'client_close' && reason !== 'shutdown';
}
