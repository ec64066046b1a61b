// A progress line in the log every few seconds while uploading, so a long run visibly moves and says
// roughly how long it has left. Knows nothing of where the line goes: `print` decides.
import { formatCount, formatDuration, formatRate } from './format.js'

export interface ProgressOptions {
  /** Files to upload. */
  total: number
  /** How often a line is printed. Default 5,000 ms. */
  intervalMs?: number
  now?: () => number
  print: (line: string) => void
}

export interface Progress {
  tick(status: 'uploaded' | 'failed'): void
  /** Starts the clock and the periodic line. */
  start(): void
  /** Stops the periodic line; nothing is printed after this. */
  stop(): void
  /** The line as it would be printed now. */
  line(): string
}

export const DEFAULT_PROGRESS_INTERVAL_MS = 5000
/** The rate for the estimate is taken over about this long, so a slow start does not skew it forever. */
const RATE_WINDOW_MS = 30_000

interface Sample {
  at: number
  done: number
}

export function createProgress(opts: ProgressOptions): Progress {
  const intervalMs = Math.max(1, opts.intervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS)
  const now = opts.now ?? Date.now
  const windowMs = Math.max(RATE_WINDOW_MS, intervalMs * 3)
  let uploaded = 0
  let failed = 0
  let timer: ReturnType<typeof setInterval> | null = null
  let stopped = false
  // samples[0] is the baseline the recent rate is measured from.
  const samples: Sample[] = []

  const done = (): number => uploaded + failed

  function record(at: number): void {
    samples.push({ at, done: done() })
    while (samples.length > 1 && (samples[1]?.at ?? Infinity) <= at - windowMs) samples.shift()
  }

  function line(): string {
    const failedText = failed > 0 ? ` (${formatCount(failed)} failed)` : ''
    const head = `Uploaded ${formatCount(uploaded)}/${formatCount(opts.total)}${failedText}`
    const baseline = samples[0]
    if (!baseline) return head
    const at = now()
    const elapsed = at - baseline.at
    const recent = done() - baseline.done
    if (elapsed <= 0) return head
    const rate = formatRate(recent, elapsed)
    const remaining = opts.total - done()
    if (remaining <= 0) return `${head} · ${rate}`
    if (recent <= 0) return `${head} · ${rate} · no file finished in the last ${formatDuration(elapsed)}`
    const etaMs = Math.ceil((remaining * elapsed) / recent / 1000) * 1000
    return `${head} · ${rate} · about ${formatDuration(etaMs)} left`
  }

  return {
    tick(status) {
      if (status === 'uploaded') uploaded++
      else failed++
    },
    start() {
      if (timer || stopped) return
      record(now())
      timer = setInterval(() => {
        if (stopped) return
        // Record first, so the baseline is exactly one window back when the line is printed.
        record(now())
        opts.print(line())
      }, intervalMs)
      // A progress line must never keep the process alive.
      timer.unref()
    },
    stop() {
      stopped = true
      if (timer) clearInterval(timer)
      timer = null
    },
    line
  }
}
