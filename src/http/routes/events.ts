/**
 * The change feed: GET /v1/events?after=SEQ
 *   - `Accept: application/json` -> one page `{entries, last_seq, next_after}`;
 *   - otherwise Server-Sent Events (WHATWG HTML §9.2): each change is `id: <seq>` + `data: <json>`,
 *     and a reconnecting client's `Last-Event-ID` resumes right after that seq, with no gap.
 * Where to start: Last-Event-ID, else `after`, else (SSE) now / (JSON) the oldest kept entry.
 * A reader behind the bounded feed (or ahead of it, after a restart reset the sequence) gets 410
 * VIGIL_ERR_FEED_GONE with oldest_seq/last_seq and must re-snapshot. A live SSE reader that falls
 * behind gets a final `event: gone` frame and the stream ends.
 *
 * The SSE writer is a pump reading the feed by cursor, so it is never out of order and honours
 * stream backpressure (a slow client costs a cursor, not a queue); onChange only wakes it.
 */
import { PassThrough } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChangeEntry, PresenceTable } from '../../presence/types.js';
import type { Scheduler } from '../../time/scheduler.js';
import type { HttpDeps } from '../deps.js';
import { sendError } from '../error-handler.js';
import { AUTH_ERRORS, errors } from '../schemas.js';

type Deps = Pick<HttpDeps, 'presence' | 'scheduler'>;

export const SSE_HEARTBEAT_MS = 15_000;
const PUMP_BATCH = 500;

const EventsQuery = Type.Object(
  {
    after: Type.Optional(Type.Integer({ minimum: 0, description: 'Return changes with seq > after' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size (JSON only)' }),
  },
  { additionalProperties: false },
);
const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'SSE resume point' })),
});
const JsonPage = Type.Object({
  entries: Type.Array(Type.Ref('ChangeEntry')),
  last_seq: Type.Integer({ description: 'Newest seq in the feed' }),
  next_after: Type.Integer({ description: 'Pass as after for the next page' }),
});

export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = accept.indexOf('application/json');
  const sse = accept.indexOf('text/event-stream');
  return json >= 0 && (sse < 0 || json < sse);
}

const frame = (e: ChangeEntry) => `id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`;

export function eventRoutes(app: FastifyInstance, deps: Deps): void {
  const open = new Set<PassThrough>();
  app.addHook('preClose', async () => {
    for (const s of open) s.end();
  });

  app.get<{ Querystring: Static<typeof EventsQuery>; Headers: Static<typeof EventsHeaders> }>(
    '/events',
    {
      schema: {
        summary: 'Change feed: SSE (id = seq, Last-Event-ID resumes) or JSON pages (Accept: application/json)',
        tags: ['events'],
        querystring: EventsQuery,
        headers: EventsHeaders,
        produces: ['text/event-stream', 'application/json'],
        response: {
          200: { content: { 'application/json': { schema: JsonPage }, 'text/event-stream': { schema: Type.String() } } },
          ...errors(400, ...AUTH_ERRORS, 410),
        },
      },
    },
    async (req, reply) => {
      const resume = req.headers['last-event-id'];
      const explicit = resume !== undefined ? Number(resume) : req.query.after;
      const json = wantsJson(req.headers.accept);
      const last = deps.presence.lastSeq();
      let after = explicit ?? (json ? 0 : last);
      if (after > last) return sendError(reply, 'VIGIL_ERR_FEED_GONE', `seq ${after} is ahead of the feed (last ${last}): it was reset`, { oldest_seq: 1, last_seq: last });
      const probe = deps.presence.readFeed(after, json ? req.query.limit : 1);
      if (probe.kind === 'gone') {
        if (explicit !== undefined) {
          return sendError(reply, 'VIGIL_ERR_FEED_GONE', `seq ${after} is older than the oldest kept (${probe.oldest_seq})`, {
            oldest_seq: probe.oldest_seq,
            last_seq: probe.last_seq,
          });
        }
        after = probe.oldest_seq - 1;
      }
      if (!json) return streamEvents(req, reply, deps.presence, deps.scheduler, after, open);
      const page = probe.kind === 'ok' ? probe : deps.presence.readFeed(after, req.query.limit);
      if (page.kind === 'gone') return sendError(reply, 'VIGIL_ERR_FEED_GONE', undefined, { oldest_seq: page.oldest_seq, last_seq: page.last_seq });
      const next = page.entries.at(-1)?.seq ?? after;
      return reply.type('application/json').send({ entries: page.entries, last_seq: page.last_seq, next_after: next });
    },
  );
}

function streamEvents(
  req: FastifyRequest,
  reply: FastifyReply,
  presence: Pick<PresenceTable, 'readFeed' | 'onChange'>,
  scheduler: Scheduler,
  startAfter: number,
  open: Set<PassThrough>,
): FastifyReply {
  const out = new PassThrough();
  open.add(out);
  let cursor = startAfter;
  let waitingDrain = false;
  let closed = false;

  const pump = () => {
    while (!closed && !waitingDrain) {
      const r = presence.readFeed(cursor, PUMP_BATCH);
      if (r.kind === 'gone') {
        const body = { code: 'VIGIL_ERR_FEED_GONE', oldest_seq: r.oldest_seq, last_seq: r.last_seq };
        out.end(`event: gone\ndata: ${JSON.stringify(body)}\n\n`);
        return;
      }
      if (r.entries.length === 0) return;
      let chunk = '';
      for (const e of r.entries) chunk += frame(e);
      cursor = r.entries[r.entries.length - 1]!.seq;
      if (!out.write(chunk)) waitingDrain = true;
    }
  };
  out.on('drain', () => {
    waitingDrain = false;
    pump();
  });

  let heartbeat = scheduler.setTimer(SSE_HEARTBEAT_MS, function beat() {
    if (closed) return;
    out.write(': keepalive\n\n');
    heartbeat = scheduler.setTimer(SSE_HEARTBEAT_MS, beat);
  });
  // Wake the pump once per burst of changes, after the table has finished its update.
  let woken = false;
  const unsubscribe = presence.onChange(() => {
    if (woken) return;
    woken = true;
    queueMicrotask(() => {
      woken = false;
      pump();
    });
  });
  const cleanup = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    heartbeat.cancel();
    open.delete(out);
    out.end();
  };
  req.raw.on('close', cleanup);
  out.on('close', cleanup);
  out.on('finish', cleanup);

  // The first frame tells the client how long to wait before reconnecting (WHATWG HTML §9.2.6).
  out.write('retry: 2000\n\n');
  pump();
  req.log.debug({ event: 'sse_open', after: startAfter }, 'change feed stream opened');
  return reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache, no-transform')
    .header('x-accel-buffering', 'no')
    .send(out);
}
