/**
 * Clock: the one way Vigil reads the time. Protocol code takes `nowMs` as an argument;
 * only the edges (socket layer, liveness worker) read a Clock, so tests can use ManualClock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock, for timestamps shown to operators). */
  now(): number;
  /**
   * Monotonic milliseconds (arbitrary origin) for deadlines and round-trip times; never jumps back
   * when the wall clock is set.
   */
  monotonic(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
