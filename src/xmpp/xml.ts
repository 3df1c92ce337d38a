/**
 * A tiny immutable-by-convention XML element model for stanzas, with builders and a serializer.
 * We keep our own type rather than ltx's Element (untyped): stanza handlers are pure functions
 * from XmlEl to XmlEl[], and tests compare them structurally.
 */

export interface XmlEl {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}
export type XmlNode = XmlEl | string;

export type Attrs = Record<string, string | number | undefined | null>;

/** Build an element; undefined/null attributes are left out, children may be nested or falsy. */
export function x(name: string, attrs: Attrs = {}, ...children: (XmlNode | XmlNode[] | null | undefined | false)[]): XmlEl {
  const a: Record<string, string> = {};
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined && v !== null) a[k] = typeof v === 'string' ? v : String(v);
  }
  const kids: XmlNode[] = [];
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) kids.push(...c);
    else kids.push(c);
  }
  return { name, attrs: a, children: kids };
}

export function isEl(n: XmlNode | undefined): n is XmlEl {
  return typeof n === 'object' && n !== null;
}

/** The element's namespace: its own xmlns or, for a prefix-less name, inherited from `parentNs`. */
export function nsOf(el: XmlEl, parentNs = 'jabber:client'): string {
  return el.attrs.xmlns ?? parentNs;
}

/** Child elements, optionally filtered by local name and namespace (namespace inherited from parent). */
export function childrenOf(el: XmlEl, name?: string, ns?: string): XmlEl[] {
  const parentNs = el.attrs.xmlns ?? 'jabber:client';
  return el.children.filter(
    (c): c is XmlEl => isEl(c) && (name === undefined || c.name === name) && (ns === undefined || nsOf(c, parentNs) === ns),
  );
}

export function child(el: XmlEl, name?: string, ns?: string): XmlEl | undefined {
  return childrenOf(el, name, ns)[0];
}

export function text(el: XmlEl | undefined): string {
  if (!el) return '';
  return el.children.map((c) => (typeof c === 'string' ? c : text(c))).join('');
}

export function childText(el: XmlEl, name: string, ns?: string): string | undefined {
  const c = child(el, name, ns);
  return c ? text(c) : undefined;
}

/** A copy with some attributes replaced (undefined removes), in the original order, new ones last. */
export function withAttrs(el: XmlEl, attrs: Attrs): XmlEl {
  // Built key by key rather than spread-then-delete: this runs once per recipient of a fan-out,
  // and the spread copy was the largest cost there (bench/micro/xml-serialize.ts).
  const a: Record<string, string> = {};
  const old = el.attrs;
  for (const k in old) {
    if (!Object.hasOwn(attrs, k)) a[k] = old[k]!;
    else {
      const v = attrs[k];
      if (v !== undefined && v !== null) a[k] = typeof v === 'string' ? v : String(v);
    }
  }
  for (const k in attrs) {
    if (Object.hasOwn(old, k)) continue;
    const v = attrs[k];
    if (v !== undefined && v !== null) a[k] = typeof v === 'string' ? v : String(v);
  }
  return { name: el.name, attrs: a, children: el.children };
}

const ESC_ATTR: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const ESC_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const NEEDS_ATTR = /[&<>"']/;
const NEEDS_TEXT = /[&<>]/;

// Most values need no escaping: test first, replace only when needed (bench/micro/xml-serialize.ts).
export function escapeAttr(s: string): string {
  return NEEDS_ATTR.test(s) ? s.replace(/[&<>"']/g, (c) => ESC_ATTR[c] ?? c) : s;
}
export function escapeText(s: string): string {
  return NEEDS_TEXT.test(s) ? s.replace(/[&<>]/g, (c) => ESC_TEXT[c] ?? c) : s;
}

function attrString(attrs: Record<string, string>): string {
  let out = '';
  for (const k in attrs) out += ` ${k}="${escapeAttr(attrs[k]!)}"`;
  return out;
}

export function serialize(n: XmlNode): string {
  if (typeof n === 'string') return escapeText(n);
  const open = `<${n.name}${attrString(n.attrs)}`;
  const kids = n.children;
  if (kids.length === 0) return `${open}/>`;
  let out = `${open}>`;
  for (let i = 0; i < kids.length; i++) out += serialize(kids[i]!);
  return `${out}</${n.name}>`;
}

/** The opening tag only (stream headers are never closed by the element that opens them). */
export function openTag(name: string, attrs: Attrs): string {
  return `<${x(name, attrs).name}${attrString(x(name, attrs).attrs)}>`;
}
