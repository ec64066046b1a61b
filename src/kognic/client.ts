// Typed calls to the Kognic dataset API over one keep-alive pool: bounded concurrency, retries with
// backoff, a shared pause when the server says "too many requests", and errors that say what failed.
import { setMaxListeners } from 'node:events'
import { Agent } from 'undici'
import type { ClassMappingEntry, Clock, Logger } from '../types.js'
import { TokenProvider } from './auth.js'
import { systemClock } from './clock.js'
import {
  ENDPOINT_TEMPLATES,
  excerpt,
  extractServerMessage,
  joinUrl,
  KognicResponseShapeError,
  parseBaseUrl,
  parseCreatedResponse,
  parseListResponse,
  predictionsGroupsPath,
  predictionsPath,
  SUNSET_HEADERS
} from './decisions.js'
import type { ListedItem } from './decisions.js'
import { KognicApiError, KognicAuthError, KognicCancelledError } from './errors.js'
import { HttpTransportError, sendRequest } from './http.js'
import type { HttpResponse } from './http.js'
import { classifyFailure, parseRetryAfter, retryDelayMs } from './retry.js'

export { KognicApiError, KognicAuthError, KognicCancelledError } from './errors.js'

export interface KognicClientOptions {
  apiUrl: string
  authUrl: string
  clientId: string
  clientSecret: string
  /** Connections per origin in the pool, and requests in flight at most. */
  concurrency: number
  /** Retries per request after a retryable failure. */
  maxRetries: number
  /** Whole request (headers and body) timeout. */
  requestTimeoutMs: number
  logger: Logger
  /** Defaults to the real clock. */
  clock?: Clock
  /** Cancellation: no new attempt starts, and requests in flight are aborted. */
  signal?: AbortSignal
  /**
   * Winding down: no new attempt starts (retries included) and waits for a pause or a backoff end at once,
   * while requests already in flight go on until `signal`.
   */
  stopNewAttempts?: AbortSignal
  /** Called with every new access token before it is used, so it can be masked. */
  onToken?: (token: string) => void
  userAgent?: string
}

export interface UploadedPrediction {
  predictionUuid: string
  /** HTTP attempts made, the successful one included. */
  attempts: number
  /** An attempt timed out or lost its connection after the body was sent: Kognic may hold two copies. */
  possibleDuplicate: boolean
}

export interface KognicClientStats {
  /** HTTP requests to the dataset API, retries included (token requests are counted apart). */
  requests: number
  retries: number
  tokenRequests: number
  /** Calls whose outcome is marked possibleDuplicate. */
  possibleDuplicates: number
}

export const DEFAULT_USER_AGENT = 'kognic-upload-predictions'

interface ApiCall {
  method: 'GET' | 'POST'
  path: string
  /** The endpoint without ids, for messages that are said once per run. */
  template: string
  body?: Buffer | string
  contentType?: string
}

interface Exchange {
  response: HttpResponse
  attempts: number
  possibleDuplicate: boolean
}

/** Lets at most `size` holders through at once, first come first served. */
class Slots {
  readonly #waiters: (() => void)[] = []
  #free: number

  constructor(size: number) {
    this.#free = size
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new KognicCancelledError('Cancelled while waiting for a free connection')
    if (this.#free > 0) {
      this.#free--
    } else {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          const index = this.#waiters.indexOf(grant)
          if (index >= 0) this.#waiters.splice(index, 1)
          reject(new KognicCancelledError('Cancelled while waiting for a free connection'))
        }
        const grant = (): void => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        this.#waiters.push(grant)
        signal?.addEventListener('abort', onAbort, { once: true })
      })
    }
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiters.shift()
      // A slot handed straight to a waiter never becomes free in between, so no one can jump the queue.
      if (next) next()
      else this.#free++
    }
  }
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
function transportHint(error: HttpTransportError): string {
  if (error.timedOut)
    return '. The server did not answer in time: raise the request timeout, or lower concurrency'
  if (UNREACHABLE_CODES.has(error.code)) return '. Check api-url and that the runner can reach it'
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(error.code)) {
    return '. The TLS certificate was not accepted: check api-url (and NODE_EXTRA_CA_CERTS behind a proxy)'
  }
  return ''
}

export class KognicClient {
  readonly #options: KognicClientOptions
  readonly #clock: Clock
  readonly #apiBase: string
  readonly #agent: Agent
  readonly #tokens: TokenProvider
  readonly #slots: Slots
  /** Clock time before which no new request starts: the server asked every worker to slow down. */
  #pausedUntil = 0
  #sunsetWarned = false
  #closed = false
  /** Follows the caller's signal; every request in flight and every waiter listens to this one. */
  readonly #cancel = new AbortController()
  readonly #followCancel = (): void => this.#cancel.abort(this.#options.signal?.reason)
  /** Aborted on cancel or on stopNewAttempts: every wait and every new attempt listens to this one. */
  readonly #stopAttempts = new AbortController()
  readonly #followStop = (): void => this.#stopAttempts.abort(this.#options.stopNewAttempts?.reason)
  readonly #stats = { requests: 0, retries: 0, possibleDuplicates: 0 }
  /** Origin and path of each API path, parsed once: every upload goes to the same one. */
  readonly #targets = new Map<string, { origin: string; path: string }>()

  constructor(options: KognicClientOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number of at least 1, got ${options.concurrency}`)
    }
    if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0) {
      throw new RangeError(`maxRetries must be a whole number of at least 0, got ${options.maxRetries}`)
    }
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be above 0, got ${options.requestTimeoutMs}`)
    }
    parseBaseUrl(options.apiUrl, 'api-url')
    parseBaseUrl(options.authUrl, 'auth-url')
    this.#options = options
    this.#clock = options.clock ?? systemClock
    // Many listeners at once are expected here (one per request or wait), not a leak worth a warning.
    setMaxListeners(0, this.#cancel.signal)
    setMaxListeners(0, this.#stopAttempts.signal)
    this.#cancel.signal.addEventListener(
      'abort',
      () => this.#stopAttempts.abort(this.#cancel.signal.reason),
      {
        once: true
      }
    )
    const callerSignal = options.signal
    if (callerSignal?.aborted) this.#cancel.abort(callerSignal.reason)
    else callerSignal?.addEventListener('abort', this.#followCancel, { once: true })
    const stopSignal = options.stopNewAttempts
    if (stopSignal?.aborted) this.#stopAttempts.abort(stopSignal.reason)
    else stopSignal?.addEventListener('abort', this.#followStop, { once: true })
    this.#apiBase = options.apiUrl
    // Keep-alive is undici's default; one connection per concurrent worker, no pipelining behind a slow upload.
    this.#agent = new Agent({ connections: options.concurrency, pipelining: 1 })
    this.#slots = new Slots(options.concurrency)
    this.#tokens = new TokenProvider({
      authUrl: options.authUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      dispatcher: this.#agent,
      clock: this.#clock,
      logger: options.logger,
      maxRetries: options.maxRetries,
      requestTimeoutMs: options.requestTimeoutMs,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      // A token is only ever needed for a new attempt, so winding down stops token requests too.
      signal: this.#stopAttempts.signal,
      ...(options.onToken ? { onToken: options.onToken } : {})
    })
  }

  /** Gets the first token, so bad credentials stop the run before anything else happens. */
  async authenticate(): Promise<void> {
    await this.#tokens.getToken()
  }

  async listPredictionsGroups(datasetUuid: string): Promise<ListedItem[]> {
    const call: ApiCall = {
      method: 'GET',
      path: predictionsGroupsPath(datasetUuid),
      template: ENDPOINT_TEMPLATES.listGroups
    }
    const exchange = await this.#exchange(call)
    return this.#parse(call, exchange, (text, what) => parseListResponse(text, what))
  }

  async createPredictionsGroup(
    datasetUuid: string,
    body: { name: string; description: string; classMapping?: ClassMappingEntry[] }
  ): Promise<string> {
    const payload = {
      name: body.name,
      description: body.description,
      ...(body.classMapping ? { classMapping: body.classMapping } : {})
    }
    const call: ApiCall = {
      method: 'POST',
      path: predictionsGroupsPath(datasetUuid),
      template: ENDPOINT_TEMPLATES.createGroup,
      body: JSON.stringify(payload),
      contentType: 'application/json'
    }
    const exchange = await this.#exchange(call)
    return this.#parse(call, exchange, (text, what) => parseCreatedResponse(text, what))
  }

  /** Posts one prediction; `body` is the complete request body, sent as-is. */
  async uploadPrediction(groupUuid: string, body: Buffer | string): Promise<UploadedPrediction> {
    const call: ApiCall = {
      method: 'POST',
      path: predictionsPath(groupUuid),
      template: ENDPOINT_TEMPLATES.uploadPrediction,
      body,
      contentType: 'application/json'
    }
    const exchange = await this.#exchange(call)
    const predictionUuid = this.#parse(call, exchange, (text, what) => parseCreatedResponse(text, what))
    return { predictionUuid, attempts: exchange.attempts, possibleDuplicate: exchange.possibleDuplicate }
  }

  stats(): KognicClientStats {
    return { ...this.#stats, tokenRequests: this.#tokens.tokenRequests }
  }

  /** Destroys the connection pool; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#options.signal?.removeEventListener('abort', this.#followCancel)
    this.#options.stopNewAttempts?.removeEventListener('abort', this.#followStop)
    await this.#agent.destroy()
  }

  #parse<T>(call: ApiCall, exchange: Exchange, parse: (text: string, what: string) => T): T {
    const endpoint = `${call.method} ${call.path}`
    try {
      return parse(exchange.response.text, endpoint)
    } catch (error) {
      if (!(error instanceof KognicResponseShapeError)) throw error
      // A 2xx on a write means it was probably stored even though its answer is unreadable.
      const stored =
        call.method === 'POST' ? ' (the server accepted the request, so it may have been stored)' : ''
      throw new KognicApiError(
        `${this.#tokens.redact(error.message)}${stored}`,
        {
          endpoint,
          status: exchange.response.status,
          attempts: exchange.attempts,
          possibleDuplicate: exchange.possibleDuplicate,
          retryable: false
        },
        { cause: error }
      )
    }
  }

  async #exchange(call: ApiCall): Promise<Exchange> {
    const { logger, maxRetries } = this.#options
    const endpoint = `${call.method} ${call.path}`
    const target = this.#target(call.path)
    let attempts = 0
    let retries = 0
    let possibleDuplicate = false
    let renewedAfterRejection = false
    const finish = <T>(outcome: T): T => {
      if (possibleDuplicate) this.#stats.possibleDuplicates++
      return outcome
    }

    try {
      for (;;) {
        this.#throwIfStopped(endpoint)
        let token: string
        let outcome: HttpResponse | HttpTransportError
        const release = await this.#slots.acquire(this.#stopAttempts.signal)
        try {
          await this.#waitWhilePaused()
          token = await this.#tokens.getToken()
          this.#throwIfStopped(endpoint)
          attempts++
          this.#stats.requests++
          outcome = await sendRequest(this.#agent, {
            origin: target.origin,
            path: target.path,
            method: call.method,
            headers: {
              authorization: `Bearer ${token}`,
              accept: 'application/json',
              'user-agent': this.#options.userAgent ?? DEFAULT_USER_AGENT,
              ...(call.contentType ? { 'content-type': call.contentType } : {})
            },
            ...(call.body !== undefined ? { body: call.body } : {}),
            timeoutMs: this.#options.requestTimeoutMs,
            signal: this.#cancel.signal
          }).catch((error: unknown) => {
            if (error instanceof HttpTransportError) return error
            throw error
          })
        } finally {
          release()
        }

        let reason: string
        let delayMs: number
        if (outcome instanceof HttpTransportError) {
          const failure = classifyFailure({
            error: outcome,
            method: call.method,
            requestSent: outcome.requestSent,
            timedOut: outcome.timedOut
          })
          if (failure.possibleDuplicate) possibleDuplicate = true
          if (!failure.retryable || retries >= maxRetries) {
            const duplicateNote = possibleDuplicate
              ? ' (a request was sent in full before its answer was lost: Kognic may have stored it)'
              : ''
            throw finish(
              new KognicApiError(
                `${endpoint} failed${this.#afterAttempts(attempts)}: ${outcome.message}${duplicateNote}` +
                  transportHint(outcome),
                { endpoint, attempts, possibleDuplicate, retryable: failure.retryable },
                { cause: outcome }
              )
            )
          }
          reason = outcome.message
          delayMs = this.#backoff(retries + 1)
        } else {
          const response = outcome
          this.#warnIfSunset(response, call.template)
          if (response.status >= 200 && response.status < 300) {
            return finish({ response, attempts, possibleDuplicate })
          }
          if (response.status === 401 && !renewedAfterRejection) {
            // The token may have been revoked or expired early: renew once (shared with other workers).
            renewedAfterRejection = true
            logger.debug(`${endpoint} answered 401: renewing the access token and trying again`)
            await this.#tokens.renewAfterRejection(token)
            continue
          }
          const failure = classifyFailure({ status: response.status })
          if (!failure.retryable || retries >= maxRetries) {
            const hint =
              response.status === 401
                ? ' (a freshly renewed access token was refused too: check the credentials)'
                : ''
            throw finish(
              new KognicApiError(
                `${endpoint} failed${this.#afterAttempts(attempts)}: ${this.#describe(response)}${hint}`,
                {
                  endpoint,
                  status: response.status,
                  attempts,
                  possibleDuplicate,
                  retryable: failure.retryable
                }
              )
            )
          }
          reason = `${response.status} ${response.statusText}`.trim()
          const retryAfterMs = parseRetryAfter(response.headers['retry-after'], this.#clock.now())
          delayMs = retryAfterMs ?? this.#backoff(retries + 1)
          if (response.status === 429 || retryAfterMs !== undefined) {
            // The server asked for a pause: every worker honours it, not only the one that was told.
            this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + delayMs)
          }
        }
        retries++
        this.#stats.retries++
        logger.debug(
          `Retrying ${endpoint} after ${reason} in ${delayMs} ms (attempt ${attempts + 1} of at most ${maxRetries + 1})`
        )
        await this.#sleep(delayMs)
      }
    } catch (error) {
      // Tell "cancelled before anything was sent" from "cancelled with a request out": the file's fate differs.
      if (error instanceof KognicCancelledError) {
        // A write sent in full may have been stored: say so, or a re-run may store it twice.
        const writeSent = error.requestSent === true && call.method === 'POST'
        if (writeSent) {
          error.message +=
            '; the request had been sent in full, so Kognic may have stored it: check before uploading it again'
        }
        error.attempts ??= attempts
        error.possibleDuplicate = error.possibleDuplicate === true || possibleDuplicate || writeSent
        if (error.possibleDuplicate) this.#stats.possibleDuplicates++
      }
      // The refusal is shared by every call: each gets its own copy, counting its own requests.
      if (error instanceof KognicAuthError) throw error.forCall(attempts, possibleDuplicate)
      throw error
    }
  }

  #target(apiPath: string): { origin: string; path: string } {
    let target = this.#targets.get(apiPath)
    if (!target) {
      const url = new URL(joinUrl(this.#apiBase, apiPath))
      target = { origin: url.origin, path: url.pathname + url.search }
      this.#targets.set(apiPath, target)
    }
    return target
  }

  #backoff(retry: number): number {
    return retryDelayMs(retry, { random: () => this.#clock.random() })
  }

  #afterAttempts(attempts: number): string {
    return attempts > 1 ? ` after ${attempts} attempts` : ''
  }

  /** Status and the server's message, with any secret or token the server echoed cut out. */
  #describe(response: HttpResponse): string {
    // Redact before the message is cut short, so no prefix of a secret survives either.
    const message = extractServerMessage(this.#tokens.redact(response.text))
    return `${response.status} ${response.statusText}`.trim() + (message ? `: ${message}` : '')
  }

  async #waitWhilePaused(): Promise<void> {
    for (let now = this.#clock.now(); now < this.#pausedUntil; now = this.#clock.now()) {
      await this.#sleep(this.#pausedUntil - now)
    }
  }

  async #sleep(ms: number): Promise<void> {
    await this.#clock.sleep(ms, this.#stopAttempts.signal)
    // An injected clock may ignore the signal; cancellation must still stop the next attempt.
    if (this.#stopAttempts.signal.aborted) throw new KognicCancelledError('Cancelled while waiting to retry')
  }

  #throwIfStopped(endpoint: string): void {
    if (this.#stopAttempts.signal.aborted) throw new KognicCancelledError(`Cancelled before ${endpoint}`)
    if (this.#closed) throw new Error(`The Kognic client is closed; cannot run ${endpoint}`)
  }

  #warnIfSunset(response: HttpResponse, template: string): void {
    if (this.#sunsetWarned) return
    const header = SUNSET_HEADERS.find((name) => response.headers[name] !== undefined)
    if (header === undefined) return
    this.#sunsetWarned = true
    const date = excerpt(response.headers[header] ?? '', 80)
    this.#options.logger.warning(
      `Kognic marks ${template} as deprecated (${header}: ${date}): this action may need an update before then`,
      { title: 'Kognic API deprecation' }
    )
  }
}
