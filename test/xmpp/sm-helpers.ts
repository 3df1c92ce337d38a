/** Helpers of the XEP-0198 / XEP-0352 stream tests (stream-mgmt, resume, csi). */
import { expect } from 'vitest';
import { BoundSession } from '../../src/xmpp/bound-session.js';
import type { XmlEl } from '../../src/xmpp/xml.js';
import type { TestClient } from './duplex.js';
import type { Harness } from './harness.js';

const SM = 'urn:xmpp:sm:3';

export const enable = (resume = true, extra = '') => `<enable xmlns='${SM}'${resume ? " resume='true'" : ''}${extra}/>`;
export const names = (els: XmlEl[]) => els.map((e) => e.name);

export function sessionOf(h: Harness, jid: string): BoundSession {
  const s = h.engine.router.get(jid);
  if (!(s instanceof BoundSession)) throw new Error(`no session ${jid}`);
  return s;
}

/** Log in `user/resource` and enable stream management; returns the client and the <enabled/>. */
export async function smLogin(h: Harness, user: string, resource: string, resume = true): Promise<{ c: TestClient; enabled: XmlEl }> {
  const c = await h.login(user, resource);
  await c.send(enable(resume));
  const [enabled] = c.take();
  expect(enabled?.name).toBe('enabled');
  return { c, enabled: enabled as XmlEl };
}

