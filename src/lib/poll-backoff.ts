/**
 * Work a poll retries for each id (a Slack post that did not go out), passed by more and more often while it keeps
 * failing: after the nth failure in a row the next 2^(n-1) - 1 polls pass it by, at most `maxSkip`. Work that fails
 * at every poll (an owner Slack cannot reach, a channel the bot was removed from) then costs a failed call and a
 * warning every few minutes, not every few seconds.
 */
export class PollBackoff {
  private readonly retries = new Map<string, { failures: number; skip: number }>();

  constructor(private readonly maxSkip: number) {}

  /** Forgets the ids that no longer wait (sent, decided, gone). */
  retain(waiting: ReadonlySet<string>): void {
    for (const id of this.retries.keys()) if (!waiting.has(id)) this.retries.delete(id);
  }

  /** Whether this poll tries `id`, or passes it by. */
  due(id: string): boolean {
    const retry = this.retries.get(id);
    if (!retry || retry.skip === 0) return true;
    retry.skip--;
    return false;
  }

  /** Records a failed try; returns how many tries in a row have failed. */
  failed(id: string): number {
    const failures = (this.retries.get(id)?.failures ?? 0) + 1;
    this.retries.set(id, { failures, skip: Math.min(2 ** (failures - 1) - 1, this.maxSkip) });
    return failures;
  }
}
