// The live change feed: GET /v1/events as Server-Sent Events with the session cookie.
//
// Messages are only queued as they arrive; the queue is drained once per animation frame, for at
// most BUDGET_MS per frame, so a burst of 10,000 changes is spread over frames instead of
// freezing the tab. While the tab is hidden, animation frames stop: the queue is then drained by
// a slow timer and the page is told not to redraw (`visible` false), so the state stays current
// and the first frame after the tab comes back draws it once.
//
// Resume: EventSource itself resends Last-Event-ID after a dropped connection; after a reload the
// page passes the last seq it applied as ?after=, so no change is lost between two page loads.

const BUDGET_MS = 8;
const HIDDEN_DRAIN_MS = 1000;
const RETRY_MS = 2000;

/**
 * @param {{ after: number | null,
 *           onEntries: (entries: object[], visible: boolean) => void,
 *           onStatus: (status: 'live' | 'reconnecting' | 'stopped') => void,
 *           onGone: () => void,
 *           onAuthLost: () => void }} opts
 */
export function startFeed(opts) {
  let queue = [];
  let head = 0;
  let scheduled = false;
  let lastSeq = opts.after;
  let es = null;
  let stopped = false;
  let retryTimer = 0;

  const schedule = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    if (document.hidden) setTimeout(drain, HIDDEN_DRAIN_MS);
    else requestAnimationFrame(drain);
  };

  function drain() {
    scheduled = false;
    if (stopped) return;
    const visible = !document.hidden;
    const until = performance.now() + BUDGET_MS;
    const batch = [];
    // Hidden: nothing is drawn, so take all; visible: stop at the frame budget.
    while (head < queue.length && (!visible || batch.length < 64 || performance.now() < until)) {
      const e = JSON.parse(queue[head]);
      queue[head++] = null;
      batch.push(e);
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    if (batch.length > 0) {
      lastSeq = batch[batch.length - 1].seq;
      opts.onEntries(batch, visible);
    }
    if (head < queue.length) schedule();
  }

  function open() {
    const url = lastSeq === null ? '/v1/events' : `/v1/events?after=${lastSeq}`;
    es = new EventSource(url);
    es.onopen = () => opts.onStatus('live');
    es.onmessage = (m) => {
      queue.push(m.data);
      schedule();
    };
    es.addEventListener('gone', () => {
      es.close();
      opts.onGone();
    });
    es.onerror = () => {
      if (es.readyState !== EventSource.CLOSED) {
        opts.onStatus('reconnecting');
        return;
      }
      // The server refused the stream (401, 410, ...): find out which, then act.
      opts.onStatus('reconnecting');
      void why();
    };
  }

  async function why() {
    const url = `/v1/events?limit=1${lastSeq === null ? '' : `&after=${lastSeq}`}`;
    let status = 0;
    try {
      status = (await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })).status;
    } catch {
      status = 0;
    }
    if (stopped) return;
    if (status === 401) return opts.onAuthLost();
    if (status === 410) return opts.onGone();
    retryTimer = setTimeout(open, RETRY_MS);
  }

  open();
  return {
    /** Seq of the last entry handed to onEntries. */
    lastSeq: () => lastSeq,
    /** Entries received but not yet applied. */
    pending: () => queue.length - head,
    /** Draw what was applied while hidden: call when the tab becomes visible. */
    kick: schedule,
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      es?.close();
      opts.onStatus('stopped');
    },
  };
}
