// Type guards for values whose shape is not known: parsed JSON, and errors thrown by Node or undici.
import path from 'node:path'

/** A plain JSON-like object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The `code` of an error (`ENOENT`, `ECONNRESET`, `UND_ERR_SOCKET`, …), or of the nearest error in its
 * `cause` chain that has one: wrappers such as fetch's `TypeError` keep the code only on the cause.
 */
export function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return undefined
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string') return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** A UUID as Kognic writes them (8-4-4-4-12 hexadecimal digits), in either case. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Whether a path.relative() result leaves the directory it is relative to: `..` or `../…`, or another
 * drive; not a name inside it that merely starts with two dots, like `..x.json`.
 */
export function leavesRoot(relative: string): boolean {
  return relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)
}
