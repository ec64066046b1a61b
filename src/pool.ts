// A fixed number of workers pulling the next index: at most `limit` tasks run at once, and a stopped pool
// starts nothing new. Used for reading files and for uploading them.

/** Runs task(0 … count-1) with at most `limit` in flight; resolves when all started tasks have finished. */
export async function runPool(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
  stop?: AbortSignal
): Promise<void> {
  let next = 0
  async function worker(): Promise<void> {
    while (next < count && !stop?.aborted) {
      await task(next++)
    }
  }
  const workers = Math.max(1, Math.min(limit, count))
  await Promise.all(Array.from({ length: workers }, worker))
}
