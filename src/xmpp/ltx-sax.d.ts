/** Types for the one ltx module we use: its SAX lexer (ltx ships no typings). */
declare module 'ltx/lib/parsers/ltx.js' {
  import { EventEmitter } from 'node:events';
  export default class SaxLtx extends EventEmitter {
    write(data: string): void;
    end(data?: string): void;
  }
}
