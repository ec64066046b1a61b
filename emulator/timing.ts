// When the emulator answers: a request's latency runs from its arrival, as a network's would, so the time
// spent receiving and parsing a body overlaps the wait instead of adding to it.

/** The emulator's clock. Tests inject their own to step time by hand instead of waiting. */
export interface Clock {
  /** Milliseconds on a monotonic scale (performance.now() for the real clock). */
  now(): number
  /** Resolves once `now()` has reached `deadline`. */
  sleepUntil(deadline: number): Promise<void>
}

/**
 * performance.now() and one setTimeout per wait (it lands up to ~1 ms late; the bench compares clients on
 * the same emulator, so that cost is the same for each). Unref'd: a pending answer never keeps a closed
 * emulator's process alive.
 */
export const realClock: Clock = {
  now: () => performance.now(),
  sleepUntil(deadline) {
    const ms = deadline - performance.now()
    if (ms <= 0) return Promise.resolve()
    return new Promise((resolve) => setTimeout(resolve, Math.ceil(ms)).unref())
  }
}

/** A clock that moves only when told, for tests: `deadlines` lists what the emulator is waiting for. */
export class SteppedClock implements Clock {
  private time = 0
  private readonly waiting: { deadline: number; resolve: () => void }[] = []

  now(): number {
    return this.time
  }

  sleepUntil(deadline: number): Promise<void> {
    return new Promise((resolve) => this.waiting.push({ deadline, resolve }))
  }

  get deadlines(): number[] {
    return this.waiting.map((w) => w.deadline)
  }

  /** Moves the time to `time` and ends every wait due by then. */
  set(time: number): void {
    this.time = time
    for (const w of this.waiting.filter((x) => x.deadline <= time)) {
      this.waiting.splice(this.waiting.indexOf(w), 1)
      w.resolve()
    }
  }
}

/** Waits on `clock` until a deadline; once closed, waits end never (their sockets are gone anyway). */
export class Latency {
  private closed = false

  constructor(private readonly clock: Clock) {}

  now(): number {
    return this.clock.now()
  }

  /** Resolves true at `deadline`, or false when the emulator closed meanwhile. */
  async until(deadline: number): Promise<boolean> {
    if (this.closed) return false
    if (this.clock.now() < deadline) await this.clock.sleepUntil(deadline)
    return !this.closed
  }

  close(): void {
    this.closed = true
  }
}
