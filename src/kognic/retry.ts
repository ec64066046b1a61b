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
  const value = header?.trim()
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

/** The code of the failure when an answer is larger than MAX_RESPONSE_BYTES. */
export const RESPONSE_TOO_LARGE = 'KOGNIC_RESPONSE_TOO_LARGE'

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])

/**
 * Classifies a failed attempt: an HTTP status, or a transport failure (timeout, dropped connection).
 * Only a write (POST) that may have reached the server can have been stored before the failure: one
 * answered 5xx (a gateway may have lost the server's answer), or one that failed after connecting.
 */
export function classifyFailure(
  failure: { status: number; method: string } | { error: unknown; method: string; requestSent: boolean }
): FailureClass {
  const isWrite = failure.method.toUpperCase() !== 'GET' && failure.method.toUpperCase() !== 'HEAD'
  if ('status' in failure) {
    return {
      retryable: RETRYABLE_STATUSES.has(failure.status),
      possibleDuplicate: isWrite && failure.status >= 500
    }
  }
  const code = errorCode(failure.error)
  const retryable = code !== undefined && (TIMEOUT_CODES.has(code) || RETRYABLE_ERROR_CODES.has(code))
  // A failure without a network code (a bug, a bad argument) says nothing about what reached the server;
  // an answer too large to read came from a server that had the whole request.
  const reached = retryable || code === RESPONSE_TOO_LARGE
  return { retryable, possibleDuplicate: isWrite && failure.requestSent && reached }
}
