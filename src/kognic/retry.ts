// Pure retry decisions: how long to wait, whether to try again, and whether trying again may store twice.
import { errorCode } from '../guards.js'
import { RETRY_BASE_MS, RETRY_CAP_MS, RETRYABLE_ERROR_CODES, RETRYABLE_STATUSES } from './decisions.js'

/**
 * Delay before retry number `retry` (1 for the first): min(cap, base·2^(retry−1)), of which a random part
 * (`random` in [0, 1), injected so tests are deterministic) of the second half: at least half the step.
 */
export function retryDelayMs(retry: number, random: () => number): number {
  const exponent = Math.max(0, Math.floor(retry) - 1)
  // 2^exponent overflows to Infinity for huge retries; min() then keeps it at the cap.
  const step = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** exponent)
  const share = Math.min(Math.max(random(), 0), 1)
  return Math.round(step / 2 + (step / 2) * share)
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delay-seconds or an HTTP date. A past date is 0
 * (retry now). Negative, empty or unreadable values are undefined (the caller backs off on its own).
 * Not capped here: the caller caps it and can say what the server asked for.
 */
export function parseRetryAfter(header: string | undefined, nowMs: number): number | undefined {
  const value = header?.split(',')[0]?.trim()
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000)
  // Date.parse accepts odd strings like "5" or "-1"; an HTTP date always has a letter (the day or month).
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(at - nowMs, 0)
}

export interface FailureClass {
  retryable: boolean
  /** Retrying may store the same write twice: the request may have reached the server. */
  possibleDuplicate: boolean
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])

/**
 * Classifies a failed attempt: an HTTP status, or a transport failure (timeout, dropped connection).
 * Only a write (POST) that may have reached the server can have been stored before the failure.
 */
export function classifyFailure(
  failure: { status: number } | { error: unknown; method: string; requestSent: boolean }
): FailureClass {
  if ('status' in failure) {
    return { retryable: RETRYABLE_STATUSES.has(failure.status), possibleDuplicate: false }
  }
  const code = errorCode(failure.error)
  const retryable = code !== undefined && (TIMEOUT_CODES.has(code) || RETRYABLE_ERROR_CODES.has(code))
  if (!retryable) return { retryable: false, possibleDuplicate: false }
  const isWrite = failure.method.toUpperCase() !== 'GET' && failure.method.toUpperCase() !== 'HEAD'
  return { retryable: true, possibleDuplicate: isWrite && failure.requestSent }
}
