/**
 * SASLprep (RFC 4013, a stringprep profile of RFC 3454) for passwords, as RFC 5802 §2.2 asks of
 * SCRAM's Normalize(). Mapping (§2.1): non-ASCII spaces (C.1.2) become U+0020, "commonly mapped
 * to nothing" characters (B.1) are removed; then NFKC (§2.2). Prohibited output (§2.3) is checked
 * separately by `passwordProblem` when a password is set (a stored string, §2.5), so a login only
 * maps and a stricter check can never lock out an existing user.
 * Not done: the bidirectional check of §2.4 (it needs Unicode bidi tables JavaScript lacks).
 * Code points are matched by range tables rather than regex classes: many are combining or
 * control characters that make character classes unreadable.
 */
type Range = readonly [number, number];

// RFC 3454 C.1.2 (U+200B is listed there and in B.1; mapped to SPACE, as C.1.2 comes first in §2.1).
const NON_ASCII_SPACE: readonly Range[] = [[0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200b], [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000]];

// RFC 3454 B.1.
const MAPPED_TO_NOTHING: readonly Range[] = [
  [0xad, 0xad], [0x34f, 0x34f], [0x1806, 0x1806], [0x180b, 0x180d], [0x200c, 0x200d], [0x2060, 0x2060], [0xfe00, 0xfe0f], [0xfeff, 0xfeff],
];

// RFC 4013 §2.3: C.2.1 and C.2.2 controls, C.3 private use, C.4 non-characters (also matched by the
// unassigned check), C.5 surrogates, C.6 inappropriate for plain text, C.7 ideographic description,
// C.8 change display properties, C.9 tagging.
const PROHIBITED: readonly Range[] = [
  [0x0, 0x1f], [0x7f, 0x9f], [0x340, 0x341], [0x6dd, 0x6dd], [0x70f, 0x70f], [0x180e, 0x180e],
  [0x200e, 0x200f], [0x2028, 0x202e], [0x2060, 0x2063], [0x206a, 0x206f], [0x2ff0, 0x2ffb],
  [0xd800, 0xdfff], [0xe000, 0xf8ff], [0xfdd0, 0xfdef], [0xfeff, 0xfeff], [0xfff9, 0xfffd],
  [0x1d173, 0x1d17a], [0xe0001, 0xe0001], [0xe0020, 0xe007f], [0xf0000, 0xffffd], [0x100000, 0x10fffd],
];

// §2.5 "unassigned code points", approximated with the running Unicode version's General_Category.
const UNASSIGNED = /^\p{Cn}$/u;

const inRanges = (cp: number, ranges: readonly Range[]) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);

export function saslprep(password: string): string {
  let mapped = '';
  for (const ch of password) {
    const cp = ch.codePointAt(0) ?? 0;
    if (inRanges(cp, NON_ASCII_SPACE)) mapped += ' ';
    else if (!inRanges(cp, MAPPED_TO_NOTHING)) mapped += ch;
  }
  return mapped.normalize('NFKC');
}

/** Why a password cannot be stored (empty after SASLprep, prohibited character), or null when fine. */
export function passwordProblem(password: string): string | null {
  const prepared = saslprep(password);
  if (prepared.length === 0) return 'the password is empty';
  for (const ch of prepared) {
    const cp = ch.codePointAt(0) ?? 0;
    if (inRanges(cp, PROHIBITED) || UNASSIGNED.test(ch)) {
      return `the password contains a prohibited character U+${cp.toString(16).toUpperCase().padStart(4, '0')} (RFC 4013 §2.3)`;
    }
  }
  return null;
}
