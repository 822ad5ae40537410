import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';

/** Tracks listener work that continues after the ack, so shutdown can wait for it before the database closes. */
export function trackInFlight() {
  const running = new Set<Promise<unknown>>();
  const middleware: Middleware<AnyMiddlewareArgs> = async ({ next }) => {
    const work = next();
    const tracked = work.catch(() => {});
    running.add(tracked);
    try {
      await work;
    } finally {
      running.delete(tracked);
    }
  };
  return {
    middleware,
    /** Resolves when the listeners running now have finished, or after `timeoutMs`. */
    async drain(timeoutMs: number): Promise<void> {
      const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...running]), deadline]);
    },
  };
}
