/**
 * Log lines a person can read (`log.format: pretty`, or `auto` on a terminal): pino still builds
 * the JSON line (levels, redaction, serializers), and this destination rewrites it as
 *
 *   14:03:07.412 INFO  vigil started (vigil_started) data_dir=/var/lib/vigil addresses={"http":...}
 *   14:03:09.001 WARN  xmpp_limit_max_send_buffer ip=203.0.113.9 buffered=1048576
 *
 * time of day (local), level, message, the event name when it differs from the message, then the
 * other fields as key=value (strings bare when they hold no space or quote, else JSON; objects as
 * JSON); an `err` prints its stack on the following lines. Colour only when asked (a TTY, no
 * NO_COLOR). JSON stays the format for files and pipes: collectors parse it, and it is what `auto`
 * writes there. A few dozen lines of our own instead of pino-pretty and its dependencies.
 */
import type { DestinationStream } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[90m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
/** Fields every line has (or that the layout shows already). */
const SKIP = new Set(['level', 'time', 'msg', 'event', 'app', 'pid', 'hostname', 'err']);

/** Pretty on `pretty`, and on `auto` when the output is a terminal. */
export function wantsPretty(format: LogFormat, out: { isTTY?: boolean }): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

const two = (n: number) => String(n).padStart(2, '0');

function timeOfDay(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function fieldValue(v: unknown): string {
  if (typeof v === 'string') return v !== '' && !/[\s"=]/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line -> one human line (plus an error's stack). Not JSON: passed through. */
export function prettyLine(json: string, opts: { color?: boolean } = {}): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const [name, color] = LEVELS[o['level'] as number] ?? [String(o['level']).padEnd(5), ''];
  const level = opts.color && color ? `${color}${name}${RESET}` : name;
  const msg = typeof o['msg'] === 'string' ? o['msg'] : '';
  const event = typeof o['event'] === 'string' && o['event'] !== msg ? ` (${o['event']})` : '';
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => ` ${k}=${fieldValue(v)}`)
    .join('');
  let line = `${typeof o['time'] === 'number' ? timeOfDay(o['time']) : '--:--:--.---'} ${level} ${msg}${event}${fields}\n`;
  const err = o['err'] as { type?: string; message?: string; stack?: string } | undefined;
  if (err) line += `${(err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`).replace(/^/gm, '    ')}\n`;
  return line;
}

/** A pino destination that writes prettyLine()s to `out`. */
export function prettyDestination(out: { write(text: string): unknown }, opts: { color?: boolean } = {}): DestinationStream {
  return { write: (line: string) => void out.write(prettyLine(line, opts)) };
}
