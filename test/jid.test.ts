import { describe, expect, it } from 'vitest';
import { bareJid, formatJid, isBare, isFull, jidEquals, JidError, normaliseJid, parseJid, tryParseJid } from '../src/jid.js';

describe('parseJid (RFC 7622)', () => {
  it('splits bare and full JIDs', () => {
    expect(parseJid('alice@example.com')).toEqual({ local: 'alice', domain: 'example.com', resource: null });
    expect(parseJid('alice@example.com/phone')).toEqual({ local: 'alice', domain: 'example.com', resource: 'phone' });
    expect(parseJid('example.com')).toEqual({ local: null, domain: 'example.com', resource: null });
    expect(parseJid('example.com/x')).toEqual({ local: null, domain: 'example.com', resource: 'x' });
  });

  it('takes the resource after the first slash, which may hold @ and / (§3.1)', () => {
    expect(parseJid('a@b.org/c@d/e')).toEqual({ local: 'a', domain: 'b.org', resource: 'c@d/e' });
    expect(parseJid('b.org/a@c')).toEqual({ local: null, domain: 'b.org', resource: 'a@c' });
  });

  it('lower-cases localpart and domain, keeps resource case', () => {
    expect(formatJid(parseJid('Alice@Example.COM/Phone'))).toBe('alice@example.com/Phone');
    expect(normaliseJid('ÄLICE@EXAMPLE.com')).toBe('älice@example.com');
  });

  it('strips one trailing dot from the domain (§3.2)', () => {
    expect(normaliseJid('a@example.com.')).toBe('a@example.com');
  });

  it('normalises to NFC so composed and decomposed forms are equal', () => {
    expect(normaliseJid('e\u0301@x.org')).toBe('\u00e9@x.org');
  });

  it('maps non-ASCII spaces in the resource to U+0020', () => {
    expect(parseJid('a@b/x\u00A0y').resource).toBe('x y');
  });

  it.each([
    ['', 'empty domainpart'],
    ['@example.com', 'empty localpart'],
    ['a@', 'empty domainpart'],
    ['a@b/', 'empty resourcepart'],
    ['a"b@x', 'localpart'],
    ['a&b@x', 'localpart'],
    ["a'b@x", 'localpart'],
    ['a:b@x', 'localpart'],
    ['a<b@x', 'localpart'],
    ['a>b@x', 'localpart'],
    ['a@b@x', 'domainpart'],
    ['a b@x', 'whitespace'],
    ['a\tb@x', 'whitespace'],
    ['a@ex ample.com', 'domainpart'],
    ['a@x..y', 'empty label'],
    ['a@x/b\u0007', 'control'],
    ['a\ud800@x', 'not valid Unicode'],
  ])('rejects %j (%s)', (input, reason) => {
    expect(() => parseJid(input)).toThrow(JidError);
    expect(() => parseJid(input)).toThrow(reason);
    expect(tryParseJid(input)).toBeNull();
  });

  it('enforces 1023 bytes per part, counting UTF-8 octets', () => {
    const ok = 'a'.repeat(1023);
    expect(parseJid(`${ok}@x/${ok}`).local).toHaveLength(1023);
    expect(() => parseJid(`${'a'.repeat(1024)}@x`)).toThrow('longer than 1023 bytes');
    expect(() => parseJid(`a@x/${'r'.repeat(1024)}`)).toThrow('resourcepart longer');
    // 512 two-byte characters = 1024 octets
    expect(() => parseJid(`${'é'.repeat(512)}@x`)).toThrow('longer than 1023 bytes');
    expect(() => parseJid(`${'a'.repeat(1024)}`)).toThrow('domainpart longer');
  });

  it('accepts IPv6 literals as domainpart', () => {
    expect(parseJid('a@[::1]/r')).toEqual({ local: 'a', domain: '[::1]', resource: 'r' });
    expect(() => parseJid('a@[zz]')).toThrow('IPv6');
  });

  it('carries the stable error code', () => {
    try {
      parseJid('@x');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(JidError);
      expect((err as JidError).code).toBe('VIGIL_ERR_BAD_JID');
    }
  });
});

describe('bare / full helpers', () => {
  it('bares, compares and round-trips', () => {
    const full = parseJid('a@b/c');
    expect(isFull(full)).toBe(true);
    expect(isBare(bareJid(full))).toBe(true);
    expect(formatJid(bareJid(full))).toBe('a@b');
    expect(jidEquals(parseJid('A@B/c'), full)).toBe(true);
    expect(jidEquals(parseJid('a@b/C'), full)).toBe(false);
  });
});
