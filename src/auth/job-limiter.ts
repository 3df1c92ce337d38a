/**
 * At most `max` jobs at a time, the rest wait in arrival order. Used to bound the PBKDF2 runs that
 * creating users puts on the libuv pool (REST create and import share one limiter per HTTP app), so
 * user creation never takes every pool thread from logins nor every core from the event loop.
 */
export interface JobLimiter {
  run<T>(job: () => Promise<T>): Promise<T>;
  /** Jobs running now. */
  readonly active: number;
}

export function createJobLimiter(max: number): JobLimiter {
  const waiting: (() => void)[] = [];
  let active = 0;
  const release = () => {
    active--;
    waiting.shift()?.();
  };
  return {
    get active() {
      return active;
    },
    async run<T>(job: () => Promise<T>): Promise<T> {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        return await job();
      } finally {
        release();
      }
    },
  };
}
