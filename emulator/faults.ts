// Fault injection that is deterministic under concurrency: each decision is a hash of (seed, request key,
// attempt number for that key), never a draw from a shared stream whose order depends on arrival order.
import { createHash } from 'node:crypto'

import { send, waitUntilDue } from './http.js'
import type { Exchange, Reply } from './http.js'

export interface EmulatorFaults {
  /** PRNG seed; default 1. */
  seed?: number
  /** Fixed delay before every response (token and API), default 0. */
  latencyMs?: number
  /** 0..1 share of API requests answered 429. */
  rate429?: number
  /** Retry-After on 429s: seconds (default 1), an HTTP date ~1 s ahead, or absent. */
  retryAfter?: number | 'http-date' | 'none'
  /** Share answered 500/502/503/504 (the status is chosen by the same hash). */
  rate5xx?: number
  /** Share where the socket is reset without a response. */
  dropRate?: number
  /** Share delayed by slowMs extra (independent of the other faults). */
  slowRate?: number
  /** Extra delay of a slow response; default 1000. */
  slowMs?: number
  /** Uploads only: the prediction IS stored, then the response never comes. */
  storeThenHangRate?: number
  /** expires_in of issued tokens; default 3600; tokens past expiry get 401. */
  tokenLifetimeSeconds?: number
  /** The token endpoint answers 429 beyond `max` requests per sliding window. */
  tokenRateLimit?: { max: number; windowMs: number }
  /** sceneUuid -> message: uploads for that scene get 400 {"message": ...}. */
  rejectScenes?: Record<string, string>
  /** When set, every API response carries header `sunset-date: <value>`. */
  sunsetDate?: string
}

export type FaultKind = 'rate429' | 'http5xx' | 'drop' | 'slow' | 'storeThenHang' | 'tokenRateLimit'

export const FAULT_KINDS: readonly FaultKind[] = [
  'rate429',
  'http5xx',
  'drop',
  'slow',
  'storeThenHang',
  'tokenRateLimit'
]

/** What happens to one request. `slowMs` adds to whatever else happens. */
export interface FaultDecision {
  kind: 'none' | 'rate429' | 'http5xx' | 'drop' | 'storeThenHang'
  /** The status for `http5xx`. */
  status?: 500 | 502 | 503 | 504
  slowMs: number
}

const SERVER_ERROR_STATUSES = [500, 502, 503, 504] as const
export const DEFAULT_SLOW_MS = 1000
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600

/** A number in [0, 1) from (seed, key, attempt, stream); `stream` separates independent draws. */
export function hashUnit(seed: number, key: string, attempt: number, stream: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}\u0000${attempt}\u0000${stream}`).digest()
  return digest.readUIntBE(0, 6) / 2 ** 48
}

/**
 * Decides the fault for attempt `attempt` (1-based) of the request identified by `key`. The rates share one
 * draw, in this order: 429, 5xx, drop, store-then-hang (uploads only); so they never overlap.
 */
export function decideFault(
  faults: EmulatorFaults,
  key: string,
  attempt: number,
  isUpload: boolean
): FaultDecision {
  const seed = faults.seed ?? 1
  const slowMs =
    (faults.slowRate ?? 0) > 0 && hashUnit(seed, key, attempt, 'slow') < (faults.slowRate ?? 0)
      ? (faults.slowMs ?? DEFAULT_SLOW_MS)
      : 0
  const anyShare =
    (faults.rate429 ?? 0) + (faults.rate5xx ?? 0) + (faults.dropRate ?? 0) + (faults.storeThenHangRate ?? 0)
  // No share to draw against: skip the hash (a benchmark's requests would each pay it for nothing).
  if (anyShare === 0) return { kind: 'none', slowMs }
  const draw = hashUnit(seed, key, attempt, 'kind')
  let threshold = faults.rate429 ?? 0
  if (draw < threshold) return { kind: 'rate429', slowMs }
  threshold += faults.rate5xx ?? 0
  if (draw < threshold) {
    const pick = Math.floor(hashUnit(seed, key, attempt, 'status') * SERVER_ERROR_STATUSES.length)
    return { kind: 'http5xx', status: SERVER_ERROR_STATUSES[pick] ?? 500, slowMs }
  }
  threshold += faults.dropRate ?? 0
  if (draw < threshold) return { kind: 'drop', slowMs }
  if (isUpload) {
    threshold += faults.storeThenHangRate ?? 0
    if (draw < threshold) return { kind: 'storeThenHang', slowMs }
  }
  return { kind: 'none', slowMs }
}

/** Throws an Error naming the bad field, so a typo in `--faults` is not silently ignored. */
export function validateFaults(value: unknown, source = 'faults'): EmulatorFaults {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${source}: must be an object such as {"rate429": 0.1}`)
  }
  const faults = value as Record<string, unknown>
  const known = new Set([
    'seed',
    'latencyMs',
    'rate429',
    'retryAfter',
    'rate5xx',
    'dropRate',
    'slowRate',
    'slowMs',
    'storeThenHangRate',
    'tokenLifetimeSeconds',
    'tokenRateLimit',
    'rejectScenes',
    'sunsetDate'
  ])
  const unknown = Object.keys(faults).filter((key) => !known.has(key))
  if (unknown.length > 0) {
    throw new Error(`${source}: unknown field(s) ${unknown.join(', ')}; known: ${[...known].join(', ')}`)
  }
  const fail = (field: string, what: string): never => {
    throw new Error(`${source}: "${field}" ${what}, got ${JSON.stringify(faults[field])}`)
  }
  for (const field of ['rate429', 'rate5xx', 'dropRate', 'slowRate', 'storeThenHangRate']) {
    const rate = faults[field]
    if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate <= 1))) {
      fail(field, 'must be a number from 0 to 1')
    }
  }
  for (const field of ['latencyMs', 'slowMs', 'seed']) {
    const n = faults[field]
    if (n !== undefined && (typeof n !== 'number' || !Number.isFinite(n) || n < 0)) {
      fail(field, 'must be a non-negative number')
    }
  }
  const lifetime = faults.tokenLifetimeSeconds
  if (lifetime !== undefined && (typeof lifetime !== 'number' || !(lifetime > 0))) {
    fail('tokenLifetimeSeconds', 'must be a positive number')
  }
  const retryAfter = faults.retryAfter
  if (
    retryAfter !== undefined &&
    retryAfter !== 'http-date' &&
    retryAfter !== 'none' &&
    (typeof retryAfter !== 'number' || !(retryAfter >= 0))
  ) {
    fail('retryAfter', 'must be a number of seconds, "http-date" or "none"')
  }
  const limit = faults.tokenRateLimit
  if (limit !== undefined) {
    const ok =
      typeof limit === 'object' &&
      limit !== null &&
      typeof (limit as { max?: unknown }).max === 'number' &&
      (limit as { max: number }).max >= 0 &&
      typeof (limit as { windowMs?: unknown }).windowMs === 'number' &&
      (limit as { windowMs: number }).windowMs > 0
    if (!ok) fail('tokenRateLimit', 'must be {"max": <count>, "windowMs": <positive ms>}')
  }
  const rejectScenes = faults.rejectScenes
  if (rejectScenes !== undefined) {
    const ok =
      typeof rejectScenes === 'object' &&
      rejectScenes !== null &&
      !Array.isArray(rejectScenes) &&
      Object.values(rejectScenes).every((message) => typeof message === 'string')
    if (!ok) fail('rejectScenes', 'must map scene UUIDs to message strings')
  }
  if (faults.sunsetDate !== undefined && typeof faults.sunsetDate !== 'string') {
    fail('sunsetDate', 'must be a string')
  }
  const shareSum =
    Number(faults.rate429 ?? 0) +
    Number(faults.rate5xx ?? 0) +
    Number(faults.dropRate ?? 0) +
    Number(faults.storeThenHangRate ?? 0)
  if (shareSum > 1 + 1e-9) {
    throw new Error(
      `${source}: rate429 + rate5xx + dropRate + storeThenHangRate must not exceed 1 (is ${shareSum})`
    )
  }
  return value as EmulatorFaults
}

/** Decides and applies the fault for this request; true when the request was answered (or dropped). */
export async function applyFault(ex: Exchange, key: string, isUpload: boolean): Promise<boolean> {
  const { store, faults } = ex.ctx
  const attempt = (store.attempts.get(key) ?? 0) + 1
  store.attempts.set(key, attempt)
  ex.key = key
  ex.attempt = attempt
  const decision = decideFault(faults, key, attempt, isUpload)
  if (decision.slowMs > 0) {
    ex.delayMs += decision.slowMs
    countFault(ex, 'slow')
  }
  switch (decision.kind) {
    case 'none':
      return false
    case 'storeThenHang': // applied by the upload handler once the prediction is stored
      ex.hangAfterStore = true
      return false
    case 'rate429': {
      countFault(ex, 'rate429')
      const headers: Record<string, string> = {}
      const retryAfter = faults.retryAfter ?? 1
      if (retryAfter === 'http-date') {
        // HTTP dates have whole seconds: round up so the date is at least ~1 s ahead.
        headers['retry-after'] = new Date(Math.ceil((Date.now() + 1000) / 1000) * 1000).toUTCString()
      } else if (retryAfter !== 'none') {
        headers['retry-after'] = String(retryAfter)
      }
      await send(ex, { status: 429, json: { message: 'Too Many Requests' }, headers })
      return true
    }
    case 'http5xx':
      countFault(ex, 'http5xx')
      await send(ex, serverErrorReply(decision.status ?? 500))
      return true
    case 'drop':
      countFault(ex, 'drop')
      // A TCP reset, as a crashed proxy would give; destroy() alone would be a clean FIN.
      if ((await waitUntilDue(ex)) && !ex.req.socket.destroyed) ex.req.socket.resetAndDestroy()
      return true
  }
}

export function countFault(ex: Exchange, kind: FaultKind): void {
  ex.ctx.store.state.faultsInjected[kind]++
  // The log shows the fault that decided the outcome; slow only when nothing else happened.
  if (ex.fault === undefined || ex.fault === 'slow') ex.fault = kind
}

/** 5xx replies in the shapes gateways and apps really give: JSON, plain text and HTML. */
function serverErrorReply(status: 500 | 502 | 503 | 504): Reply {
  switch (status) {
    case 500:
      return { status, json: { message: 'Internal Server Error' } }
    case 502:
      return { status, text: 'Bad Gateway' }
    case 503:
      return { status, json: { message: 'Service Unavailable' } }
    case 504:
      return {
        status,
        text: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>',
        contentType: 'text/html'
      }
  }
}
