// OAuth2 client-credentials tokens for the Kognic API: one token per run, renewed shortly before it
// expires or once after a 401, and never fetched twice at the same time (the token endpoint rate-limits).
import type { Dispatcher } from 'undici'
import { isRecord } from '../guards.js'
import type { Clock, Logger } from '../types.js'
import { excerpt, extractServerMessage, joinUrl, TOKEN_PATH, tokenRenewalMarginMs } from './decisions.js'
import { KognicAuthError, KognicCancelledError } from './errors.js'
import { HttpTransportError, sendRequest } from './http.js'
import type { HttpResponse } from './http.js'
import { classifyFailure, parseRetryAfter, retryDelayMs } from './retry.js'

export interface TokenProviderOptions {
  authUrl: string
  clientId: string
  clientSecret: string
  dispatcher: Dispatcher
  clock: Clock
  logger: Logger
  /** Retries after a 429, 5xx or connection failure of the token endpoint. */
  maxRetries: number
  requestTimeoutMs: number
  signal?: AbortSignal
  /** Called with every new access token before it is used, so the caller can mask it. */
  onToken?: (token: string) => void
  userAgent?: string
}

interface HeldToken {
  accessToken: string
  /** Clock time after which the token is renewed before use (expiry minus the margin). */
  renewAtMs: number
}

export class TokenProvider {
  readonly #options: TokenProviderOptions
  readonly #tokenUrl: URL
  #held: HeldToken | undefined
  #inFlight: Promise<HeldToken> | undefined
  /** The token endpoint refused the credentials: they stay refused for the run, so no caller asks again. */
  #refused: KognicAuthError | undefined
  #tokenRequests = 0
  /** Every access and refresh token obtained: a server may echo one back in an error message. */
  readonly #issued: string[] = []

  constructor(options: TokenProviderOptions) {
    this.#options = options
    this.#tokenUrl = new URL(joinUrl(options.authUrl, TOKEN_PATH))
  }

  /** How many HTTP requests went to the token endpoint, retries included. */
  get tokenRequests(): number {
    return this.#tokenRequests
  }

  /** A token that is not about to expire; fetched (once, shared by all callers) when needed. */
  async getToken(): Promise<string> {
    const held = this.#held
    if (held && this.#options.clock.now() < held.renewAtMs) return held.accessToken
    return (await this.#renew()).accessToken
  }

  /**
   * After the API answered 401 to `rejectedToken`: a new token, unless another caller already renewed
   * it, in which case that newer token is returned without another request.
   */
  async renewAfterRejection(rejectedToken: string): Promise<string> {
    const held = this.#held
    if (held && held.accessToken !== rejectedToken) return held.accessToken
    if (held) this.#held = undefined
    return (await this.#renew()).accessToken
  }

  #renew(): Promise<HeldToken> {
    if (this.#refused) return Promise.reject(this.#refused)
    // Single flight: whoever comes while a request is out waits for that same request.
    this.#inFlight ??= this.#fetchToken().finally(() => {
      this.#inFlight = undefined
    })
    return this.#inFlight
  }

  async #fetchToken(): Promise<HeldToken> {
    const { clock, logger, maxRetries, signal } = this.#options
    const endpoint = `POST ${this.#tokenUrl.pathname}`
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new KognicCancelledError('Cancelled before a Kognic token was obtained')
      this.#tokenRequests++
      const startedAt = clock.now()
      let response: HttpResponse
      let retryReason: string
      let retryAfterMs: number | undefined
      let status: number | undefined
      try {
        response = await this.#post()
        status = response.status
        if (response.status >= 200 && response.status < 300) {
          const held = this.#readToken(response, startedAt, endpoint, attempt)
          this.#held = held
          return held
        }
        this.#throwIfRefused(response, attempt)
        if (!classifyFailure({ status: response.status }).retryable) {
          throw new KognicAuthError(
            `The Kognic token endpoint (${endpoint}) answered ${this.#describe(response)}: check auth-url`,
            { status: response.status, tokenRequests: attempt }
          )
        }
        retryReason = `${response.status} ${response.statusText}`.trim()
        retryAfterMs = parseRetryAfter(response.headers['retry-after'], clock.now())
      } catch (error) {
        if (!(error instanceof HttpTransportError)) throw error
        const failure = classifyFailure({
          error,
          method: 'POST',
          requestSent: error.requestSent,
          timedOut: error.timedOut
        })
        if (!failure.retryable) {
          throw new KognicAuthError(
            `Could not reach the Kognic token endpoint (${this.#tokenUrl.origin}): ${error.message}: check auth-url`,
            { tokenRequests: attempt },
            { cause: error }
          )
        }
        retryReason = error.message
      }
      if (attempt > maxRetries) {
        throw new KognicAuthError(
          `Could not get a Kognic access token after ${attempt} attempts (${endpoint}): last ${retryReason}`,
          status === undefined ? { tokenRequests: attempt } : { status, tokenRequests: attempt }
        )
      }
      const delayMs = retryAfterMs ?? retryDelayMs(attempt, { random: () => clock.random() })
      logger.debug(
        `Retrying ${endpoint} after ${retryReason} in ${delayMs} ms (attempt ${attempt + 1} of ${maxRetries + 1})`
      )
      await clock.sleep(delayMs, signal)
    }
  }

  #post(): Promise<HttpResponse> {
    const { clientId, clientSecret, dispatcher, requestTimeoutMs, signal, userAgent } = this.#options
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret
    }).toString()
    return sendRequest(dispatcher, {
      origin: this.#tokenUrl.origin,
      path: this.#tokenUrl.pathname,
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        ...(userAgent ? { 'user-agent': userAgent } : {})
      },
      body,
      timeoutMs: requestTimeoutMs,
      ...(signal ? { signal } : {})
    })
  }

  /**
   * 400/401/403 mean the credentials are wrong (or were revoked): retrying cannot help and may trip the
   * rate limit, so the refusal is kept and given to every later caller.
   */
  #throwIfRefused(response: HttpResponse, attempt: number): void {
    if (response.status !== 400 && response.status !== 401 && response.status !== 403) return
    this.#held = undefined
    this.#refused = new KognicAuthError(
      `Kognic rejected the client credentials (${this.#describe(response)}): check client-id/client-secret ` +
        `or credentials`,
      { status: response.status, tokenRequests: attempt }
    )
    throw this.#refused
  }

  /** `401 Unauthorized: <server message>`, with the secret cut out should the server echo it. */
  #describe(response: HttpResponse): string {
    const message = extractServerMessage(this.#redact(response.text))
    return `${response.status} ${response.statusText}`.trim() + (message ? `: ${message}` : '')
  }

  #redact(text: string): string {
    return this.redact(text)
  }

  /**
   * `text` with the client secret and every token this provider obtained cut out: for server messages.
   * The secret also in its URL-encoded and form-encoded shapes: the token request sends it form-encoded,
   * and a server may echo that body back.
   */
  redact(text: string): string {
    let clean = text
    for (const secret of this.#secretShapes()) clean = clean.split(secret).join('***')
    return clean
  }

  #secretShapes(): string[] {
    const secret = this.#options.clientSecret
    const shapes = new Set([
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ s: secret }).toString().slice('s='.length),
      ...this.#issued
    ])
    // Longest first: a shorter shape inside a longer one must not leave the rest of the longer one behind.
    return [...shapes].filter((shape) => shape.length >= 4).sort((a, b) => b.length - a.length)
  }

  #readToken(response: HttpResponse, startedAt: number, endpoint: string, attempt: number): HeldToken {
    let body: unknown
    try {
      body = JSON.parse(response.text)
    } catch {
      body = undefined
    }
    if (!isRecord(body)) {
      // Never quoted: a body that is not a JSON object may well be a bare token.
      const what = body === undefined ? 'a body that is not JSON' : `JSON that is not an object`
      throw new KognicAuthError(
        `The Kognic token endpoint (${endpoint}) answered ${response.status} with ${what} ` +
          `(${response.text.length} characters, content-type ${excerpt(response.headers['content-type'] ?? 'none', 80)}) ` +
          `instead of {"access_token", "expires_in"}: check auth-url`,
        { status: response.status, tokenRequests: attempt }
      )
    }
    const accessToken = body['access_token']
    if (typeof accessToken !== 'string' || accessToken === '') {
      // Only the field names are quoted: their values may be secrets.
      throw new KognicAuthError(
        `The Kognic token endpoint (${endpoint}) answered ${response.status} without an access_token: ` +
          `"${this.#redact(excerpt(Object.keys(body).join(', ')))}"`,
        { status: response.status, tokenRequests: attempt }
      )
    }
    this.#issued.push(accessToken)
    this.#options.onToken?.(accessToken)
    const refreshToken = body['refresh_token']
    if (typeof refreshToken === 'string' && refreshToken !== '') {
      this.#issued.push(refreshToken)
      this.#options.onToken?.(refreshToken)
    }
    const expiresIn = body['expires_in']
    // Lifetime is undocumented: without expires_in the token is kept until the API answers 401.
    const lifetimeMs =
      typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0
        ? expiresIn * 1000
        : Number.POSITIVE_INFINITY
    // Measured from when the request started, so time spent waiting for the answer counts against it.
    return { accessToken, renewAtMs: startedAt + lifetimeMs - tokenRenewalMarginMs(lifetimeMs) }
  }
}
