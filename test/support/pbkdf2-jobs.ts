/**
 * Watches PBKDF2 runs on the libuv pool through async_hooks: crypto.pbkdf2 makes a PBKDF2REQUEST
 * resource, pbkdf2Sync none. `total` counts pool runs, `most` the most running at once.
 */
import { createHook } from 'node:async_hooks';

export function watchPbkdf2Jobs(): { readonly total: number; readonly most: number; stop(): void } {
  const running = new Set<number>();
  let total = 0;
  let most = 0;
  const hook = createHook({
    init(id, type) {
      if (type !== 'PBKDF2REQUEST') return;
      running.add(id);
      total++;
      most = Math.max(most, running.size);
    },
    before(id) {
      running.delete(id); // its callback runs: the pool thread is done
    },
  }).enable();
  return {
    get total() {
      return total;
    },
    get most() {
      return most;
    },
    stop: () => void hook.disable(),
  };
}
