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
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) a[k] = String(v);
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

/** A copy with some attributes replaced (undefined removes). */
export function withAttrs(el: XmlEl, attrs: Attrs): XmlEl {
  const a: Record<string, string> = { ...el.attrs };
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) delete a[k];
    else a[k] = String(v);
  }
  return { name: el.name, attrs: a, children: el.children };
}

const ESC_ATTR: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const ESC_TEXT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

export function escapeAttr(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESC_ATTR[c] ?? c);
}
export function escapeText(s: string): string {
  return s.replace(/[&<>]/g, (c) => ESC_TEXT[c] ?? c);
}

function attrString(attrs: Record<string, string>): string {
  let out = '';
  for (const [k, v] of Object.entries(attrs)) out += ` ${k}="${escapeAttr(v)}"`;
  return out;
}

export function serialize(n: XmlNode): string {
  if (typeof n === 'string') return escapeText(n);
  const open = `<${n.name}${attrString(n.attrs)}`;
  if (n.children.length === 0) return `${open}/>`;
  return `${open}>${n.children.map(serialize).join('')}</${n.name}>`;
}

/** The opening tag only (stream headers are never closed by the element that opens them). */
export function openTag(name: string, attrs: Attrs): string {
  return `<${x(name, attrs).name}${attrString(x(name, attrs).attrs)}>`;
}
