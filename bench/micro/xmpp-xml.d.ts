/** The slice of @xmpp/xml 0.13 (untyped) that bench/micro/xml-serialize.ts compares against. */
declare module '@xmpp/xml' {
  interface Element {
    attrs: Record<string, string>;
    toString(): string;
  }
  function xml(name: string, attrs?: Record<string, string>, ...children: Array<Element | string>): Element;
  export default xml;
}
