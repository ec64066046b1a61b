// Number and time formatting shared by the job summary and the progress log. Locale-independent on
// purpose: the same run must render the same text on every runner.

/** `1234567` → `1,234,567`. Rounds to an integer; anything not finite renders as `?`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '?'
  const rounded = Math.round(n)
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  return rounded < 0 ? `-${digits}` : digits
}

/**
 * A duration for people: `850ms`, `4.2s`, `38s`, `1m 18s`, `2h 5m`. Negative or not finite renders as
 * `0ms`, because a clock that went backwards should not print nonsense.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '0ms'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 9_950) return `${trimZero((ms / 1000).toFixed(1))}s`
  const totalSeconds = Math.round(ms / 1000)
  if (totalSeconds < 60) return `${totalSeconds}s`
  const totalMinutes = Math.floor(totalSeconds / 60)
  if (totalMinutes < 60) return `${totalMinutes}m ${totalSeconds % 60}s`
  const hours = Math.floor(totalMinutes / 60)
  return `${formatCount(hours)}h ${totalMinutes % 60}m`
}

/**
 * `n` things in `ms` milliseconds as a rate: `48.3 files/s`. `–` when no time has passed, since a rate
 * over zero time means nothing.
 */
export function formatRate(n: number, ms: number, unit = 'files/s'): string {
  if (!Number.isFinite(n) || !Number.isFinite(ms) || ms <= 0 || n < 0) return `– ${unit}`
  const perSecond = (n * 1000) / ms
  const text =
    perSecond >= 100 ? formatCount(perSecond) : perSecond >= 1 ? perSecond.toFixed(1) : perSecond.toFixed(2)
  return `${text} ${unit}`
}

function trimZero(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed
}

/**
 * A reason shown beside its file's name: a reason that starts with the path (the checks name the file in
 * their messages) loses it, and says "the file" where it names the path again.
 */
export function withoutOwnName(reason: string, path: string): string {
  if (!path) return reason
  const rest = reason.startsWith(`${path}: `) ? reason.slice(path.length + 2) : reason
  return rest.split(path).join('the file')
}

/** `path: reason`, the path said once. */
export function aboutFile(path: string, reason: string): string {
  return `${path}: ${withoutOwnName(reason, path)}`
}
