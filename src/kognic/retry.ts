// Pure retry decisions: how long to wait, whether to try again, and whether trying again may store twice.
import { errorCode } from '../guards.js'
import {
  RETRY_AFTER_CAP_MS,
  RETRY_BASE_MS,
  RETRY_CAP_MS,
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUSES
} from './decisions.js'

export interface BackoffOptions {
  baseMs?: number
  capMs?: number
  /** A number in [0, 1), injected so tests are deterministic. */
  random: () => number
  /** `equal` (default) always waits at least half the step, so a struggling server gets a real pause. */
  jitter?: 'full' | 'equal'
}

/** Delay before retry number `attempt` (1 for the first retry): min(cap, base·2^(attempt−1)), jittered. */
export function retryDelayMs(attempt: number, options: BackoffOptions): number {
  const baseMs = options.baseMs ?? RETRY_BASE_MS
  const capMs = options.capMs ?? RETRY_CAP_MS
  const exponent = Math.max(0, Math.floor(attempt) - 1)
  // 2^exponent overflows to Infinity for huge attempts; min() then keeps it at the cap.
  const step = Math.min(capMs, baseMs * 2 ** exponent)
  const random = Math.min(Math.max(options.random(), 0), 1)
  const delay = options.jitter === 'full' ? step * random : step / 2 + (step / 2) * random
  return Math.round(delay)
}

/**
 * A `Retry-After` header in milliseconds from `nowMs`: delay-seconds or an HTTP date. A past date is 0
 * (retry now). Negative, empty or unreadable values are undefined (the caller backs off on its own).
 * Capped so a confused server cannot park the run for hours.
 */
export function parseRetryAfter(
  header: string | string[] | undefined,
  nowMs: number,
  capMs: number = RETRY_AFTER_CAP_MS
): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim()
  if (!value) return undefined
  if (/^\d+(\.\d+)?$/.test(value)) {
    return Math.min(Math.round(Number(value) * 1000), capMs)
  }
  // Date.parse accepts odd strings like "5" or "-1"; an HTTP date always has a letter (the day or month).
  if (!/[a-z]/i.test(value)) return undefined
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.min(Math.max(at - nowMs, 0), capMs)
}

/** Why a request may be tried again. */
export type FailureKind = 'status' | 'timeout' | 'connection' | 'other'

export interface FailureClass {
  kind: FailureKind
  retryable: boolean
  /** Retrying may store the same write twice: the request left in full and the answer was lost. */
  possibleDuplicate: boolean
}

/** What is known about a request that failed without a usable response. */
export interface TransportFailure {
  error: unknown
  method: string
  /** The whole request (headers and body) had been written to the socket when it failed. */
  requestSent: boolean
  timedOut?: boolean
}

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])

/**
 * Classifies a failed attempt: an HTTP status, or a transport failure (timeout, dropped connection).
 * Only a write (POST) whose request was fully sent can have been stored by the server before the
 * failure, so only that case is a possible duplicate when retried.
 */
export function classifyFailure(failure: { status: number } | TransportFailure): FailureClass {
  if ('status' in failure) {
    return { kind: 'status', retryable: RETRYABLE_STATUSES.has(failure.status), possibleDuplicate: false }
  }
  const code = errorCode(failure.error)
  const timedOut = failure.timedOut === true || (code !== undefined && TIMEOUT_CODES.has(code))
  const connection = !timedOut && code !== undefined && RETRYABLE_ERROR_CODES.has(code)
  if (!timedOut && !connection) return { kind: 'other', retryable: false, possibleDuplicate: false }
  const isWrite = failure.method.toUpperCase() !== 'GET' && failure.method.toUpperCase() !== 'HEAD'
  return {
    kind: timedOut ? 'timeout' : 'connection',
    retryable: true,
    possibleDuplicate: isWrite && failure.requestSent
  }
}
