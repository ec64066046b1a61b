// OAuth2 client-credentials tokens for the Kognic API: one token per run, renewed shortly before it
// expires or once after a 401, and never fetched twice at the same time (the token endpoint rate-limits).
import { isRecord } from '../guards.js'
import type { Clock } from '../types.js'
import { excerpt, extractServerMessage, joinUrl, TOKEN_PATH, tokenRenewalMarginMs } from './decisions.js'
import { KognicAuthError, KognicCancelledError } from './errors.js'
import { transportHint } from './http.js'
import type { HttpResponse, HttpSession, TokenSource } from './http.js'
import { redactSecrets } from './secrets.js'

export interface TokenProviderOptions {
  authUrl: string
  /** What a message tells the reader to check for the token host; default `auth-url`. */
  authUrlSetting?: string
  clientId: string
  clientSecret: string
  /** The credentials file's `scopes`, sent as `scope` when given (as kognic-auth does). */
  scope?: string
  /** Sends the token request, with the same retries as every other call. */
  session: HttpSession
  clock: Clock
  /** Called with every new access token before it is used, so the caller can mask it. */
  onToken?: (token: string) => void
}

interface HeldToken {
  accessToken: string
  /** Clock time after which the token is renewed before use (expiry minus the margin). */
  renewAtMs: number
}

export class TokenProvider implements TokenSource {
  readonly #options: TokenProviderOptions
  readonly #tokenUrl: URL
  #held: HeldToken | undefined
  #inFlight: Promise<HeldToken> | undefined
  /** The token endpoint refused the credentials: they stay refused for the run, so no caller asks again. */
  #refused: KognicAuthError | undefined
  /** Every access and refresh token obtained: a server may echo one back in an error message. */
  readonly #issued: string[] = []

  constructor(options: TokenProviderOptions) {
    this.#options = options
    this.#tokenUrl = new URL(joinUrl(options.authUrl, TOKEN_PATH))
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

  /** `text` with the client secret and every token obtained cut out, in every form: for server messages. */
  redact(text: string): string {
    return redactSecrets(text, [this.#options.clientSecret, ...this.#issued])
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
    const { clientId, clientSecret, scope, session } = this.#options
    const endpoint = `POST ${this.#tokenUrl.pathname}`
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
      ...(scope ? { scope } : {})
    })
    const outcome = await session
      .send({
        method: 'POST',
        url: this.#tokenUrl,
        endpoint,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString()
      })
      .catch((error: unknown) => {
        // Asking for a token stores nothing: the cancellation is plain, whatever had been sent.
        if (error instanceof KognicCancelledError)
          throw new KognicCancelledError('Cancelled before a Kognic token was obtained')
        throw error
      })
    const { response, error, attempts } = outcome
    const after = attempts > 1 ? ` after ${attempts} attempts` : ''
    const stopped = outcome.stoppedEarly ? ` (${outcome.stoppedEarly})` : ''
    if (error) {
      const what = outcome.retryable
        ? `Could not get a Kognic access token${after}`
        : 'Could not reach the Kognic token endpoint'
      throw new KognicAuthError(
        `${what} (${endpoint} at ${this.#tokenUrl.origin}): ${error.message}${stopped}${transportHint(error, this.#options.authUrlSetting ?? 'auth-url') || `: check ${this.#options.authUrlSetting ?? 'auth-url'}`}`,
        { tokenRequests: attempts },
        { cause: error }
      )
    }
    const status = response!.status
    if (status >= 200 && status < 300) {
      // Its lifetime counts from the attempt that got it: waits before a retry must not eat into it.
      const held = this.#readToken(response!, outcome.sentAt, endpoint, attempts)
      this.#held = held
      return held
    }
    if (status === 400 || status === 401 || status === 403) {
      // The credentials are wrong (or were revoked): retrying cannot help and may trip the rate limit.
      this.#held = undefined
      this.#refused = new KognicAuthError(
        `Kognic rejected the client credentials (${this.#describe(response!)}): check client-id/client-secret or credentials`,
        { status, tokenRequests: attempts }
      )
      throw this.#refused
    }
    const what = outcome.retryable
      ? `Could not get a Kognic access token${after} (${endpoint}): last`
      : `The Kognic token endpoint (${endpoint}) answered`
    throw new KognicAuthError(
      `${what} ${this.#describe(response!)}${stopped}: check ${this.#options.authUrlSetting ?? 'auth-url'}`,
      {
        status,
        tokenRequests: attempts
      }
    )
  }

  /** `401 Unauthorized: <server message>`, with the secret cut out should the server echo it. */
  #describe(response: HttpResponse): string {
    const message = extractServerMessage(response.text, (text) => this.redact(text))
    return `${response.status} ${response.statusText}`.trim() + (message ? `: ${message}` : '')
  }

  #readToken(response: HttpResponse, startedAt: number, endpoint: string, attempts: number): HeldToken {
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
          `instead of {"access_token", "expires_in"}: check ${this.#options.authUrlSetting ?? 'auth-url'}`,
        { status: response.status, tokenRequests: attempts }
      )
    }
    const accessToken = body['access_token']
    if (typeof accessToken !== 'string' || accessToken === '') {
      // Only the field names are quoted: their values may be secrets.
      throw new KognicAuthError(
        `The Kognic token endpoint (${endpoint}) answered ${response.status} without an access_token: ` +
          `"${this.redact(excerpt(Object.keys(body).join(', ')))}"`,
        { status: response.status, tokenRequests: attempts }
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
