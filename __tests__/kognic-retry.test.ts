import { describe, expect, it } from 'vitest'
import { classifyFailure, parseRetryAfter, retryDelayMs } from '../src/kognic/retry.js'

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const top = { baseMs: 500, capMs: 30_000, random: () => 0.999999, jitter: 'full' as const }
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelayMs(attempt, top))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000
    ])
    expect(retryDelayMs(10_000, top)).toBe(30_000)
  })

  it('full jitter spreads over [0, step]', () => {
    expect(retryDelayMs(3, { baseMs: 500, capMs: 30_000, random: () => 0, jitter: 'full' })).toBe(0)
    expect(retryDelayMs(3, { baseMs: 500, capMs: 30_000, random: () => 0.25, jitter: 'full' })).toBe(500)
  })

  it('equal jitter (the default) always waits at least half the step', () => {
    expect(retryDelayMs(3, { baseMs: 500, capMs: 30_000, random: () => 0 })).toBe(1000)
    expect(retryDelayMs(3, { baseMs: 500, capMs: 30_000, random: () => 0.5 })).toBe(1500)
    expect(retryDelayMs(1, { random: () => 0 })).toBe(250)
    expect(retryDelayMs(20, { random: () => 0.999999 })).toBe(30_000)
  })

  it('clamps a random source that misbehaves', () => {
    expect(retryDelayMs(1, { baseMs: 100, capMs: 1000, random: () => 7, jitter: 'full' })).toBe(100)
    expect(retryDelayMs(1, { baseMs: 100, capMs: 1000, random: () => -1, jitter: 'full' })).toBe(0)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z')

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000)
  })

  it('reads an HTTP date relative to now; a past date means now', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:10 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0)
  })

  it('caps long pauses', () => {
    expect(parseRetryAfter('99999', now)).toBe(5 * 60_000)
    expect(parseRetryAfter('Mon, 02 Mar 2026 12:00:00 GMT', now)).toBe(5 * 60_000)
    expect(parseRetryAfter('60', now, 10_000)).toBe(10_000)
  })

  it.each([undefined, '', '   ', '-1', '-0.5', 'soon', '1e3', '5 seconds', '2026-03-01', 'Thursday, never'])(
    'is undefined for %j',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined()
    }
  )
})

describe('classifyFailure', () => {
  it.each([429, 500, 502, 503, 504])('retries status %i without suspecting a duplicate', (status) => {
    expect(classifyFailure({ status })).toEqual({ kind: 'status', retryable: true, possibleDuplicate: false })
  })

  it.each([400, 401, 403, 404, 409, 413, 422, 501])('does not retry status %i', (status) => {
    expect(classifyFailure({ status }).retryable).toBe(false)
  })

  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

  it('a dropped connection after a POST was sent is retried and may duplicate', () => {
    expect(classifyFailure({ error: reset, method: 'POST', requestSent: true })).toEqual({
      kind: 'connection',
      retryable: true,
      possibleDuplicate: true
    })
  })

  it('a dropped connection before the request left cannot duplicate', () => {
    expect(classifyFailure({ error: reset, method: 'POST', requestSent: false }).possibleDuplicate).toBe(
      false
    )
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyFailure({ error: refused, method: 'POST', requestSent: false })).toEqual({
      kind: 'connection',
      retryable: true,
      possibleDuplicate: false
    })
  })

  it('a GET never duplicates anything', () => {
    expect(classifyFailure({ error: reset, method: 'GET', requestSent: true }).possibleDuplicate).toBe(false)
  })

  it('timeouts are retried; after a sent POST they may duplicate', () => {
    const ownTimeout = new Error('timed out')
    expect(classifyFailure({ error: ownTimeout, method: 'POST', requestSent: true, timedOut: true })).toEqual(
      {
        kind: 'timeout',
        retryable: true,
        possibleDuplicate: true
      }
    )
    const headersTimeout = Object.assign(new Error('Headers Timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })
    expect(classifyFailure({ error: headersTimeout, method: 'POST', requestSent: false })).toEqual({
      kind: 'timeout',
      retryable: true,
      possibleDuplicate: false
    })
  })

  it('finds the code on a wrapped cause', () => {
    const wrapped = new Error('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })
    expect(classifyFailure({ error: wrapped, method: 'GET', requestSent: false }).retryable).toBe(true)
  })

  it('does not retry unknown errors or a host that does not resolve', () => {
    expect(classifyFailure({ error: new TypeError('bad'), method: 'POST', requestSent: true })).toEqual({
      kind: 'other',
      retryable: false,
      possibleDuplicate: false
    })
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' })
    expect(classifyFailure({ error: notFound, method: 'GET', requestSent: false }).retryable).toBe(false)
  })
})
