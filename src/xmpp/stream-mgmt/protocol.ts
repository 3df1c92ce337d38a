/**
 * XEP-0198 Stream Management v1.6 (urn:xmpp:sm:3): the nonzas the server sends, and the sequence
 * arithmetic. Nonzas are not stanzas: they are neither counted nor acknowledged (§1).
 *
 * Sequence numbers are xs:unsignedInt and wrap from 2^32 - 1 to 0 (§4), so every comparison here
 * is modular: the number of stanzas an `h` acknowledges is (h - last h) mod 2^32.
 */
import { NS_STANZAS, type StanzaErrorCondition } from '../stream-errors.js';
import { escapeAttr, escapeText } from '../xml.js';

export const NS_SM = 'urn:xmpp:sm:3';
/** XEP-0352 Client State Indication. */
export const NS_CSI = 'urn:xmpp:csi:0';

/** 2^32: sequence numbers count modulo this (§4). */
export const SEQ_MOD = 0x1_0000_0000;

/** n + 1 modulo 2^32 (§4: "reset from 2^32-1 back to zero"). */
export const inc32 = (n: number): number => (n === 0xffff_ffff ? 0 : n + 1);

/** How many stanzas `h` acknowledges beyond `last` (both modulo 2^32). */
export const ackedSince = (h: number, last: number): number => (h - last + SEQ_MOD) % SEQ_MOD;

/** An `h` attribute: a decimal xs:unsignedInt (0 .. 2^32 - 1), or null. */
export function parseH(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,10}$/.test(v)) return null;
  const n = Number(v);
  return n < SEQ_MOD ? n : null;
}

/** §4: the server's request for an ack; also its liveness probe of a stream-managed session. */
export const R_XML = `<r xmlns='${NS_SM}'/>`;

/** §4: the answer to the client's <r/>. */
export const aXml = (h: number): string => `<a xmlns='${NS_SM}' h='${h}'/>`;

/** §3, §5: stream management on, resumable (with its SM-ID and resumption time) or not. */
export function enabledXml(id: string | null, maxS: number): string {
  return id === null ? `<enabled xmlns='${NS_SM}'/>` : `<enabled xmlns='${NS_SM}' id='${escapeAttr(id)}' resume='true' max='${maxS}'/>`;
}

/** §5: the former stream resumed; `h` counts the stanzas the server handled from the client. */
export const resumedXml = (previd: string, h: number): string => `<resumed xmlns='${NS_SM}' previd='${escapeAttr(previd)}' h='${h}'/>`;

/** §6: an error about <enable/> or <resume/> (a stanza error condition); §5: `h` of a timed-out session. */
export function failedXml(condition: StanzaErrorCondition, h: number | null = null, text?: string): string {
  const hAttr = h === null ? '' : ` h='${h}'`;
  const t = text ? `<text xmlns='${NS_STANZAS}' xml:lang='en'>${escapeText(text)}</text>` : '';
  return `<failed xmlns='${NS_SM}'${hAttr}><${condition} xmlns='${NS_STANZAS}'/>${t}</failed>`;
}
