// HTTP for the Kognic client: one undici Agent, and the one retry loop every call goes through (token and
// API alike), with the shared 429 pause, bounded waits, and whether a failed write may have been stored.
import { STATUS_CODES } from 'node:http'
import { Agent, request } from 'undici'
import { errorCode } from '../guards.js'
import type { Clock, Logger } from '../types.js'
import {
  MAX_RESPONSE_BYTES,
  MAX_RETRY_WAIT_MS,
  MAX_WAIT_PER_REQUEST_MS,
  NOT_SENT_ERROR_CODES
} from './decisions.js'
import { KognicAuthError, KognicCancelledError } from './errors.js'
import { classifyFailure, parseRetryAfter, RESPONSE_TOO_LARGE, retryDelayMs } from './retry.js'

export interface HttpResponse {
  status: number
  statusText: string
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>
  text: string
}

/** No usable response: the connection failed, was dropped, or an exchange phase timed out. */
export class HttpTransportError extends Error {
  readonly code: string
  readonly timedOut: boolean
  /** False only when the failure came before a connection was made: then nothing was sent. */
  readonly requestSent: boolean

  constructor(message: string, details: { code: string; requestSent: boolean }, cause?: unknown) {
    super(message, { cause })
    this.name = 'HttpTransportError'
    this.code = details.code
    this.timedOut = /TIMEOUT/.test(details.code)
    this.requestSent = details.requestSent
  }
}

/** The access token an API call sends, and its renewal once after a 401. */
export interface TokenSource {
  getToken(): Promise<string>
  renewAfterRejection(rejectedToken: string): Promise<string>
}

export interface HttpCall {
  method: 'GET' | 'POST'
  url: URL
  /** `METHOD /path` for messages: never the host, the query or headers. */
  endpoint: string
  headers: Record<string, string>
  body?: Buffer | string
  /** Sent as a bearer token; absent for the token request itself. */
  token?: TokenSource
}

/** How a call ended after its retries: the last answer (any status), or the last transport failure. */
export interface HttpOutcome {
  response?: HttpResponse
  error?: HttpTransportError
  attempts: number
  /** Clock time the last attempt was sent: a token's lifetime counts from there, not from the first try. */
  sentAt: number
  /** An attempt of this write may have reached the server and been stored: Kognic may hold two copies. */
  possibleDuplicate: boolean
  /** The last failure is of a kind that is retried: the retries (or the wait budget) ran out. */
  retryable: boolean
  /** Why retrying stopped before max-retries, when it did. */
  stoppedEarly?: string
}

export interface HttpSessionOptions {
  maxRetries: number
  /** Bounds the connection, the wait for the answer's headers, and each gap in its body. */
  requestTimeoutMs: number
  clock: Clock
  logger: Logger
  userAgent: string
  /** Aborts requests in flight. */
  cancel: AbortSignal
  /** Starts no new attempt and ends waits at once; requests in flight go on until `cancel`. */
  stopAttempts: AbortSignal
}

export interface HttpStats {
  requests: number
  tokenRequests: number
  retries: number
  /** Wall-clock time during which at least one call was waiting to retry or paused by a 429. */
  waitedMs: number
}

const UNREACHABLE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH'
])

/** What the person reading the log can do about a request that got no answer. */
export function transportHint(error: HttpTransportError, input: string): string {
  if (UNREACHABLE_CODES.has(error.code)) return `. Check ${input} and that the runner can reach it`
  if (error.timedOut)
    return '. The server did not answer in time: raise the request timeout, or lower concurrency'
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(error.code)) {
    return `. The TLS certificate was not accepted: check ${input} (and NODE_EXTRA_CA_CERTS behind a proxy)`
  }
  return ''
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
}

export class HttpSession {
  readonly #options: HttpSessionOptions
  readonly #agent: Agent
  /** Clock time before which no new attempt starts: the server asked every caller to slow down. */
  #pausedUntil = 0
  #waiting = 0
  #waitingSince = 0
  readonly #stats: HttpStats = { requests: 0, tokenRequests: 0, retries: 0, waitedMs: 0 }

  constructor(options: HttpSessionOptions) {
    this.#options = options
    // Keep-alive is undici's default. No connection limit: the callers' pool bounds requests in flight.
    this.#agent = new Agent({
      connect: { timeout: options.requestTimeoutMs },
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs
    })
    // A cancel ends every request in flight at once by closing the pool: one listener for the run, as a
    // signal on each request costs about a fifth of an upload's own CPU time.
    if (options.cancel.aborted) void this.#agent.destroy()
    else options.cancel.addEventListener('abort', () => void this.#agent.destroy(), { once: true })
  }

  stats(): HttpStats {
    const open = this.#waiting > 0 ? this.#options.clock.now() - this.#waitingSince : 0
    return { ...this.#stats, waitedMs: this.#stats.waitedMs + open }
  }

  /**
   * Sends `call`, retrying what is worth retrying. Throws only when cancelled, or when the call's token
   * cannot be had; either error then says how many requests this call sent and whether one may be stored.
   */
  async send(call: HttpCall): Promise<HttpOutcome> {
    const progress = { attempts: 0, possibleDuplicate: false }
    try {
      return await this.#retrying(call, progress)
    } catch (error) {
      if (error instanceof KognicCancelledError) {
        error.attempts ??= progress.attempts
        error.possibleDuplicate = error.possibleDuplicate === true || progress.possibleDuplicate
      }
      // The refusal is shared by every call: each gets its own copy, counting its own requests.
      if (error instanceof KognicAuthError) throw error.forCall(progress.attempts, progress.possibleDuplicate)
      throw error
    }
  }

  async #retrying(
    call: HttpCall,
    progress: { attempts: number; possibleDuplicate: boolean }
  ): Promise<HttpOutcome> {
    const { clock, logger, maxRetries } = this.#options
    let renewedAfterRejection = false
    let waitedMs = 0
    for (;;) {
      await this.#waitWhilePaused(call.endpoint)
      const token = call.token ? await call.token.getToken() : undefined
      this.#throwIfStopped(call.endpoint)
      const attempts = ++progress.attempts
      if (call.token) this.#stats.requests++
      else this.#stats.tokenRequests++
      const headers = {
        accept: 'application/json',
        'user-agent': this.#options.userAgent,
        ...call.headers,
        ...(token ? { authorization: `Bearer ${token}` } : {})
      }
      const sentAt = clock.now()
      const outcome = await this.#sendOnce(call, headers)
      const ended = (retryable: boolean, stoppedEarly?: string): HttpOutcome => ({
        ...(outcome instanceof HttpTransportError ? { error: outcome } : { response: outcome }),
        attempts,
        sentAt,
        possibleDuplicate: progress.possibleDuplicate,
        retryable,
        ...(stoppedEarly ? { stoppedEarly } : {})
      })

      let reason: string
      let delayMs: number
      let askedMs: number | undefined
      if (outcome instanceof HttpTransportError) {
        const failure = classifyFailure({
          error: outcome,
          method: call.method,
          requestSent: outcome.requestSent
        })
        if (failure.possibleDuplicate) progress.possibleDuplicate = true
        if (!failure.retryable || attempts > maxRetries) return ended(failure.retryable)
        reason = outcome.code
        delayMs = this.#backoff(attempts)
      } else {
        if (outcome.status === 401 && call.token && token && !renewedAfterRejection) {
          // The token may have been revoked or expired early: renew once (shared with other callers).
          renewedAfterRejection = true
          logger.debug(`${call.endpoint} answered 401: renewing the access token and trying again`)
          await call.token.renewAfterRejection(token)
          continue
        }
        if (outcome.status < 300) return ended(false)
        const failure = classifyFailure({ status: outcome.status, method: call.method })
        if (failure.possibleDuplicate) progress.possibleDuplicate = true
        if (!failure.retryable || attempts > maxRetries) return ended(failure.retryable)
        reason = String(outcome.status)
        askedMs = parseRetryAfter(outcome.headers['retry-after'], clock.now())
        delayMs = Math.min(askedMs ?? this.#backoff(attempts), MAX_RETRY_WAIT_MS)
        if (outcome.status === 429 || askedMs !== undefined) {
          // The server asked for a pause: every caller honours it, not only the one that was told.
          this.#pausedUntil = Math.max(this.#pausedUntil, clock.now() + delayMs)
        }
      }
      if (waitedMs + delayMs > MAX_WAIT_PER_REQUEST_MS) {
        return ended(
          true,
          `waiting another ${seconds(delayMs)} would pass the ${seconds(MAX_WAIT_PER_REQUEST_MS)} one request may spend waiting to retry`
        )
      }
      this.#stats.retries++
      const asked =
        askedMs !== undefined && askedMs > delayMs ? ` (the server asked for ${seconds(askedMs)})` : ''
      const paused = this.#pausedUntil > clock.now() ? ', every request paused' : ''
      logger.info(
        `Retrying ${call.endpoint} after ${reason} (attempt ${attempts + 1} of ${maxRetries + 1}) in ${seconds(delayMs)}${asked}${paused}`
      )
      waitedMs += delayMs
      await this.#sleep(delayMs)
    }
  }

  async close(): Promise<void> {
    await this.#agent.destroy()
  }

  async #sendOnce(
    call: HttpCall,
    headers: Record<string, string>
  ): Promise<HttpResponse | HttpTransportError> {
    const { cancel } = this.#options
    let requestSent = false
    try {
      const response = await request(call.url, {
        dispatcher: this.#agent,
        method: call.method,
        headers,
        body: call.body ?? null
      })
      // From here on the server has answered: whatever fails now came after the request was sent.
      requestSent = true
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length
        if (size > MAX_RESPONSE_BYTES) {
          response.body.destroy()
          return new HttpTransportError(`the response is larger than ${MAX_RESPONSE_BYTES} bytes`, {
            code: RESPONSE_TOO_LARGE,
            requestSent
          })
        }
        chunks.push(chunk)
      }
      const responseHeaders: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value
      }
      return {
        status: response.statusCode,
        statusText: STATUS_CODES[response.statusCode] ?? '',
        headers: responseHeaders,
        text: Buffer.concat(chunks).toString('utf8')
      }
    } catch (error) {
      if (cancel.aborted) {
        // Whether the request had arrived is not known here: a write must be assumed to have been stored.
        const write = call.method === 'POST'
        const cancelled = new KognicCancelledError(
          write
            ? 'Cancelled with the request sent and its answer not yet in, so Kognic may have stored it: check before uploading it again'
            : 'Cancelled with the request sent and its answer not yet in',
          { cause: error }
        )
        cancelled.requestSent = true
        cancelled.possibleDuplicate = write
        throw cancelled
      }
      const code = errorCode(error) ?? 'UNKNOWN'
      const sent = requestSent || !NOT_SENT_ERROR_CODES.has(code)
      const message = error instanceof Error ? error.message : String(error)
      return new HttpTransportError(`${code}: ${message}`, { code, requestSent: sent }, error)
    }
  }

  #backoff(retry: number): number {
    return retryDelayMs(retry, () => this.#options.clock.random())
  }

  async #waitWhilePaused(endpoint: string): Promise<void> {
    const { clock } = this.#options
    this.#throwIfStopped(endpoint)
    for (let now = clock.now(); now < this.#pausedUntil; now = clock.now()) {
      await this.#sleep(this.#pausedUntil - now)
    }
  }

  async #sleep(ms: number): Promise<void> {
    const { clock, stopAttempts } = this.#options
    if (this.#waiting++ === 0) this.#waitingSince = clock.now()
    try {
      await clock.sleep(ms, stopAttempts)
    } finally {
      if (--this.#waiting === 0) this.#stats.waitedMs += clock.now() - this.#waitingSince
    }
    // An injected clock may ignore the signal; cancellation must still stop the next attempt.
    if (stopAttempts.aborted) throw new KognicCancelledError('Cancelled while waiting to retry')
  }

  #throwIfStopped(endpoint: string): void {
    if (this.#options.stopAttempts.aborted) throw new KognicCancelledError(`Cancelled before ${endpoint}`)
  }
}
