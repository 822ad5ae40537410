/** Tracks listener work that continues after the ack, so shutdown can wait for it before the database closes. */
export function trackInFlight() {
  const running = new Set<Promise<unknown>>();
  return {
    /** Tracks `work` until it settles, and returns it. */
    track<T>(work: Promise<T>): Promise<T> {
      running.add(work);
      const done = () => running.delete(work);
      work.then(done, done);
      return work;
    },
    /** Resolves when the listeners running now have finished, or after `timeoutMs`. */
    async drain(timeoutMs: number): Promise<void> {
      const deadline = new Promise((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...running]), deadline]);
    },
  };
}
