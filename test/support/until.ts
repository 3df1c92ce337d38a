/**
 * The one wait of the test suite: until `cond()` holds. Protocol logic is timed under the manual
 * clock (ManualScheduler.advance), never with this; it is for work that runs outside it: a
 * password check on the libuv pool, a real socket, a client in another process.
 *
 * `everyMs` 0 (the default) checks once per event-loop turn (setImmediate) and, once `cond()`
 * holds, lets a few more turns run so that what the same write set off has arrived too; a positive
 * `everyMs` polls on a timer, for real sockets and other processes. After `capMs` of wall time it
 * throws, naming `what`: a bound on a broken test, not a protocol timer.
 */
export interface UntilOptions {
  capMs?: number;
  everyMs?: number;
  what?: string;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** `cond` may be async (a metrics read): it is awaited each time. */
export async function until(cond: () => boolean | Promise<boolean>, opts: UntilOptions = {}): Promise<true> {
  const { capMs = 10_000, everyMs = 0, what = 'the condition' } = opts;
  const end = Date.now() + capMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`${what} did not hold within ${capMs} ms`);
    await (everyMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, everyMs)) : turn());
  }
  if (everyMs === 0) for (let i = 0; i < 4; i++) await turn();
  return true;
}
