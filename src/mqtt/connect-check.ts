/**
 * The password check of a CONNECT, taken out of the pure handler (handlers/connect.ts) so that the
 * PBKDF2 of a cache miss runs on the libuv pool (src/auth/password-cache.ts `checkSoon`), not on
 * the event loop: the connection (connection.ts) asks `passwordCheck` what to verify, holds input
 * while a miss is checked, then dispatches the CONNECT with `withVerdict`, an env whose
 * `authenticate` answers the outcome. The handler's steps, their order and its CONNACK codes are
 * unchanged (3.1.1 §3.2.2.3 0x04, 5.0 0x86 Bad User Name or Password).
 * A CONNECT without a username, or a password without one, has nothing to verify: synchronous.
 */
import type { IConnectPacket } from 'mqtt-packet';
import { peerCertificate, type TransportConn } from '../transport/connection.js';
import { commonName, subjectRfc2253 } from '../transport/x509-names.js';
import type { ChannelEnv, HostPolicy } from './channel.js';

/** Where a TLS listener takes usernames from (listeners.<name>.tls): CN, RFC 2253 subject, or the CONNECT. */
export type CertificateIdentity = 'cn' | 'subject';

const NO_PASSWORD = Buffer.alloc(0);

/**
 * use_identity_as_username / use_subject_as_username (Mosquitto's handle_connect.c): the
 * CONNECT's own username and password are replaced by the certificate's name, which the TLS
 * handshake already verified against cafile (and crlfile). Returns that name, or null when the
 * client has no certificate or it has no usable name: the CONNECT then carries an empty username
 * and fails its credentials step (3.1.1 0x04 / 5.0 0x86 bad user name or password).
 */
export function certificateUsername(pkt: IConnectPacket, stream: TransportConn, mode: CertificateIdentity): string | null {
  const cert = peerCertificate(stream);
  const name = cert === null ? null : mode === 'cn' ? commonName(cert) : subjectRfc2253(cert);
  pkt.username = name ?? '';
  pkt.password = NO_PASSWORD;
  return name;
}

/** The credentials a CONNECT asks the server to verify, or null (anonymous, or refused without a check). */
export function passwordCheck(env: ChannelEnv, pkt: IConnectPacket): { host: string; user: string; password: Buffer } | null {
  if (pkt.username === undefined || pkt.password === undefined) return null;
  const { policy, user } = env.resolveHost(pkt.username);
  return user === null ? null : { host: policy.host, user, password: pkt.password };
}

/** The broker's env with the password check already answered. */
class VerdictEnv implements ChannelEnv {
  constructor(
    private readonly base: ChannelEnv,
    private readonly ok: boolean,
  ) {}

  resolveHost(username: string | null): { policy: HostPolicy; user: string | null } {
    return this.base.resolveHost(username);
  }

  authenticate(): boolean {
    return this.ok;
  }

  newClientId(): string {
    return this.base.newClientId();
  }
}

export const withVerdict = (env: ChannelEnv, ok: boolean): ChannelEnv => new VerdictEnv(env, ok);
