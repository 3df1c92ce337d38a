/** The slice of @xmpp/client 0.13 (untyped) the end-to-end tests use. */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';
  export interface XmlElement {
    name: string;
    attrs: Record<string, string>;
    getChild(name: string, ns?: string): XmlElement | undefined;
    getChildren(name: string, ns?: string): XmlElement[];
    is(name: string, ns?: string): boolean;
    toString(): string;
  }
  export interface Client extends EventEmitter {
    jid: { toString(): string } | null;
    /** After STARTTLS the @xmpp/tls wrapper, whose `socket` is the TLSSocket. */
    socket: { constructor: { name: string }; socket?: { destroy(): void } } | null;
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
    reconnect: { stop(): void; delay: number };
    /** @xmpp/stream-management 0.13 state (XEP-0198). */
    streamManagement: { enabled: boolean; id: string; inbound: number; outbound: number; max: string | null; allowResume: boolean };
    iqCaller: { request(el: XmlElement, timeout?: number): Promise<XmlElement> };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: { stanza: XmlElement }) => unknown): void;
    };
  }
  export function client(options: Record<string, unknown>): Client;
  export function xml(name: string, attrs?: Record<string, string | undefined>, ...children: Array<XmlElement | string>): XmlElement;
}
