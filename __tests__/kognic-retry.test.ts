import { describe, expect, it } from 'vitest'
import { RETRY_BASE_MS, RETRY_CAP_MS } from '../src/kognic/decisions.js'
import { classifyFailure, parseRetryAfter, RESPONSE_TOO_LARGE, retryDelayMs } from '../src/kognic/retry.js'

describe('retryDelayMs', () => {
  it('doubles from the base and stops at the cap', () => {
    const top = (): number => 0.999999
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((retry) => retryDelayMs(retry, top))).toEqual([
      500, 1000, 2000, 4000, 8000, 16000, 30000, 30000
    ])
    expect(retryDelayMs(10_000, top)).toBe(RETRY_CAP_MS)
  })

  it('always waits at least half the step', () => {
    expect(retryDelayMs(1, () => 0)).toBe(RETRY_BASE_MS / 2)
    expect(retryDelayMs(3, () => 0)).toBe(1000)
    expect(retryDelayMs(3, () => 0.5)).toBe(1500)
  })

  it('clamps a random source that misbehaves', () => {
    expect(retryDelayMs(1, () => 7)).toBe(RETRY_BASE_MS)
    expect(retryDelayMs(1, () => -1)).toBe(RETRY_BASE_MS / 2)
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z')

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000)
    expect(parseRetryAfter(' 0 ', now)).toBe(0)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
  })

  it('reads an HTTP date relative to now; a past date means now', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:10 GMT', now)).toBe(10_000)
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0)
  })

  it('gives what the server asked, uncapped: the caller caps it and says so', () => {
    expect(parseRetryAfter('99999999', now)).toBe(99_999_999_000)
  })

  it.each([undefined, '', '   ', '-1', '-0.5', 'soon', '1e3', '5 seconds', '2026-03-01', 'Thursday, never'])(
    'is undefined for %j',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined()
    }
  )
})

describe('classifyFailure', () => {
  it.each([500, 502, 503, 504])('retries status %i; a write answered so may have been stored', (status) => {
    expect(classifyFailure({ status, method: 'POST' })).toEqual({ retryable: true, possibleDuplicate: true })
    expect(classifyFailure({ status, method: 'GET' })).toEqual({ retryable: true, possibleDuplicate: false })
  })

  it('retries 429 without suspecting a duplicate', () => {
    expect(classifyFailure({ status: 429, method: 'POST' })).toEqual({
      retryable: true,
      possibleDuplicate: false
    })
  })

  it.each([400, 401, 403, 404, 409, 413, 422])('does not retry status %i', (status) => {
    expect(classifyFailure({ status, method: 'POST' })).toEqual({
      retryable: false,
      possibleDuplicate: false
    })
  })

  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })

  it('a dropped connection after a POST was sent is retried and may duplicate', () => {
    expect(classifyFailure({ error: reset, method: 'POST', requestSent: true })).toEqual({
      retryable: true,
      possibleDuplicate: true
    })
  })

  it('a refused connection (nothing sent) is retried and cannot duplicate', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    expect(classifyFailure({ error: refused, method: 'POST', requestSent: false })).toEqual({
      retryable: true,
      possibleDuplicate: false
    })
  })

  it('a GET never duplicates anything', () => {
    expect(classifyFailure({ error: reset, method: 'GET', requestSent: true }).possibleDuplicate).toBe(false)
  })

  it('timeouts are retried; after a connection was made, a POST may duplicate', () => {
    const headersTimeout = Object.assign(new Error('Headers Timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })
    expect(classifyFailure({ error: headersTimeout, method: 'POST', requestSent: true })).toEqual({
      retryable: true,
      possibleDuplicate: true
    })
    const connectTimeout = Object.assign(new Error('Connect Timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })
    expect(classifyFailure({ error: connectTimeout, method: 'POST', requestSent: false })).toEqual({
      retryable: true,
      possibleDuplicate: false
    })
  })

  it('an answer too large to read is not retried, but the write may have been stored', () => {
    const tooLarge = Object.assign(new Error('too large'), { code: RESPONSE_TOO_LARGE })
    expect(classifyFailure({ error: tooLarge, method: 'POST', requestSent: true })).toEqual({
      retryable: false,
      possibleDuplicate: true
    })
  })

  it('finds the code on a wrapped cause', () => {
    const wrapped = new Error('fetch failed', { cause: { code: 'UND_ERR_SOCKET' } })
    expect(classifyFailure({ error: wrapped, method: 'GET', requestSent: false }).retryable).toBe(true)
  })

  it('does not retry unknown errors or a host that does not resolve', () => {
    expect(classifyFailure({ error: new TypeError('bad'), method: 'POST', requestSent: true })).toEqual({
      retryable: false,
      possibleDuplicate: false
    })
    const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' })
    expect(classifyFailure({ error: notFound, method: 'GET', requestSent: false }).retryable).toBe(false)
  })
})
