/** log.format: JSON lines for pipes and files, a human line on a terminal (src/log-format.ts, src/log.ts). */
import { describe, expect, it } from 'vitest';
import { createConfiguredLogger } from '../src/log.js';
import { prettyLine, wantsPretty } from '../src/log-format.js';

/** A stand-in for stdout: a terminal or a pipe. */
function sink(isTTY: boolean) {
  const lines: string[] = [];
  return { isTTY, lines, write: (text: string) => void lines.push(text) };
}

const TIME = /^\d\d:\d\d:\d\d\.\d{3} /;

describe('log.format', () => {
  it('auto: pretty on a terminal, JSON on a pipe; json and pretty whatever the output', () => {
    expect(wantsPretty('auto', { isTTY: true })).toBe(true);
    expect(wantsPretty('auto', { isTTY: false })).toBe(false);
    expect(wantsPretty('auto', {})).toBe(false);
    expect(wantsPretty('json', { isTTY: true })).toBe(false);
    expect(wantsPretty('pretty', { isTTY: false })).toBe(true);
  });

  it('json: one JSON object a line, fields intact', () => {
    const out = sink(false);
    createConfiguredLogger({ level: 'info', format: 'auto' }, out).info({ event: 'vigil_started', data_dir: '/srv/vigil' }, 'vigil started');
    expect(out.lines).toHaveLength(1);
    expect(JSON.parse(out.lines[0]!)).toMatchObject({ level: 30, app: 'vigil', event: 'vigil_started', data_dir: '/srv/vigil', msg: 'vigil started' });
  });

  it('pretty: time, level, message, event, fields; secrets still redacted; no colour when NO_COLOR', () => {
    const out = sink(true);
    const log = createConfiguredLogger({ level: 'info', format: 'auto' }, out, { NO_COLOR: '1' });
    log.warn({ event: 'xmpp_limit_max_send_buffer', ip: '203.0.113.9', buffered: 1_048_576, password: 'hunter2' }, 'slow reader closed');
    log.info({ event: 'api_token_generated', file: '/var/lib/vigil/api-token', hosts: ['a.org'] }, 'api_token_generated');
    expect(out.lines[0]).toMatch(TIME);
    expect(out.lines[0]!.slice(13)).toBe('WARN  slow reader closed (xmpp_limit_max_send_buffer) ip=203.0.113.9 buffered=1048576 password=[redacted]\n');
    expect(out.lines[1]!.slice(13)).toBe('INFO  api_token_generated file=/var/lib/vigil/api-token hosts=["a.org"]\n');
    expect(out.lines.join('')).not.toContain('hunter2');
    expect(out.lines.join('')).not.toContain('\x1b[');
  });

  it('pretty: colours the level on a terminal, prints an error stack indented, quotes strings with spaces', () => {
    const out = sink(true);
    const log = createConfiguredLogger({ level: 'info', format: 'pretty' }, out, {});
    log.error({ event: 'http_internal_error', err: new Error('boom'), path: '/v1/a b' }, 'request failed');
    const [first, ...stack] = out.lines[0]!.split('\n');
    expect(first!.slice(13)).toBe('\x1b[31mERROR\x1b[0m request failed (http_internal_error) path="/v1/a b"');
    expect(stack[0]).toBe('    Error: boom');
    expect(stack[1]).toMatch(/^ {4}\s*at /);
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });
});
