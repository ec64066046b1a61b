// Typed calls to the Kognic dataset API: list, create and upload, each through the one retry loop in
// http.ts, with errors that say what failed and whether a write may have been stored.
import { setMaxListeners } from 'node:events'
import type { ClassMappingEntry, Clock, Logger } from '../types.js'
import { TokenProvider } from './auth.js'
import { systemClock } from './clock.js'
import {
  ANNOTATIONS_TIME_LIMIT_MS,
  annotationsPath,
  DATASETS_PATH,
  excerpt,
  extractServerMessage,
  joinUrl,
  KognicResponseShapeError,
  ANNOTATION_PAGES_AT_ONCE,
  MAX_LIST_PAGES,
  parseCreatedResponse,
  parseListPage,
  listedItem,
  parseSunsetDate,
  predictionsGroupsPath,
  predictionsPath,
  sceneIdOf,
  SUNSET_ERROR_DAYS,
  SUNSET_HEADERS
} from './decisions.js'
import { KognicApiError, KognicAuthError, KognicCancelledError } from './errors.js'
import { HttpSession, transportHint } from './http.js'
import type { HttpOutcome, HttpResponse } from './http.js'

export { KognicApiError, KognicAuthError, KognicCancelledError } from './errors.js'

export interface KognicClientOptions {
  apiUrl: string
  authUrl: string
  /** What a message tells the reader to check for each host; default `api-url` and `auth-url`. */
  hostSettings?: { apiUrl: string; authUrl: string }
  clientId: string
  clientSecret: string
  /** The credentials file's `scopes`, sent as `scope` in the token request when given. */
  scope?: string
  /** Retries per request after a retryable failure. */
  maxRetries: number
  /** Bounds the connection, the wait for an answer's headers, and each gap in its body. */
  requestTimeoutMs: number
  logger: Logger
  /** Defaults to the real clock. */
  clock?: Clock
  /** Cancellation: no new attempt starts, and requests in flight are aborted. */
  signal?: AbortSignal
  /**
   * Winding down: no new attempt starts (retries included) and waits end at once, while requests already
   * in flight go on until `signal`.
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
  /** An earlier attempt may have reached Kognic (5xx, timeout or lost connection after sending): two copies. */
  possibleDuplicate: boolean
}

export interface KognicClientStats {
  /** HTTP requests to the dataset API, retries included. */
  requests: number
  /** HTTP requests to the token endpoint, retries included. */
  tokenRequests: number
  retries: number
  /** Calls whose outcome (success or failure) is marked possibleDuplicate. */
  possibleDuplicates: number
  /** Wall-clock time during which at least one request was waiting to retry or paused by a 429. */
  waitedMs: number
}

/** Which scenes of a dataset have annotations, or why that could not be learnt (said once, as a notice). */
export type AnnotatedScenes = { scenes: Set<string> } | { unavailable: string }

const DEFAULT_USER_AGENT = 'kognic-upload-predictions'

export class KognicClient {
  readonly #options: KognicClientOptions
  readonly #clock: Clock
  readonly #session: HttpSession
  readonly #tokens: TokenProvider
  #sunsetNoticed = false
  #closed = false
  #possibleDuplicates = 0
  /** Follows the caller's signal; every request in flight listens to this one. */
  readonly #cancel = new AbortController()
  readonly #followCancel = (): void => this.#cancel.abort(this.#options.signal?.reason)
  /** Aborted on cancel or on stopNewAttempts: every wait and every new attempt listens to this one. */
  readonly #stopAttempts = new AbortController()
  readonly #followStop = (): void => this.#stopAttempts.abort(this.#options.stopNewAttempts?.reason)

  constructor(options: KognicClientOptions) {
    if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0) {
      throw new RangeError(`maxRetries must be a whole number of at least 0, got ${options.maxRetries}`)
    }
    if (!(options.requestTimeoutMs > 0)) {
      throw new RangeError(`requestTimeoutMs must be above 0, got ${options.requestTimeoutMs}`)
    }
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
    this.#session = new HttpSession({
      maxRetries: options.maxRetries,
      requestTimeoutMs: options.requestTimeoutMs,
      clock: this.#clock,
      logger: options.logger,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      cancel: this.#cancel.signal,
      stopAttempts: this.#stopAttempts.signal
    })
    this.#tokens = new TokenProvider({
      authUrl: options.authUrl,
      authUrlSetting: options.hostSettings?.authUrl,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      ...(options.scope ? { scope: options.scope } : {}),
      session: this.#session,
      clock: this.#clock,
      ...(options.onToken ? { onToken: options.onToken } : {})
    })
  }

  /** Gets the first token, so bad credentials stop the run before anything else happens. */
  async authenticate(): Promise<void> {
    await this.#tokens.getToken()
  }

  /**
   * Every item of the dataset's groups listing, read page by page (`?offset=N`) until an empty page, as Kognic
   * gives them: their fields are not documented, so reading them is the caller's (a group named by UUID does
   * not need every item to have a name).
   */
  async listPredictionsGroups(datasetUuid: string): Promise<unknown[]> {
    const groups: unknown[] = []
    for await (const items of this.#pages(predictionsGroupsPath(datasetUuid), 1, () => undefined)) {
      groups.push(...items)
    }
    return groups
  }

  /** The dataset's name, for people to read beside its UUID; null when the listing does not give it. */
  async datasetName(datasetUuid: string): Promise<string | null> {
    try {
      const response = await this.#call('GET', DATASETS_PATH)
      const items = parseListPage(response.text, `GET ${DATASETS_PATH}`)
      const found = items
        .map((item, index) => listedItem(item, index, `GET ${DATASETS_PATH}`))
        .find((item) => item.uuid.toLowerCase() === datasetUuid.toLowerCase())
      return found?.name ?? null
    } catch (error) {
      // Only a nicety: a refused or odd listing must not stop the run, but credentials refused and a cancel do.
      if (error instanceof KognicAuthError || error instanceof KognicCancelledError) throw error
      return null
    }
  }

  /**
   * The scenes of the dataset that have annotations (the scenes predictions can be given for), read page
   * by page within MAX_LIST_PAGES and ANNOTATIONS_TIME_LIMIT_MS. Never throws because the listing is
   * missing, refused, unreadable or too long: says why instead. Cancellation and refused credentials throw.
   */
  async listAnnotatedScenes(datasetUuid: string): Promise<AnnotatedScenes> {
    const path = annotationsPath(datasetUuid)
    const endpoint = `GET ${path}`
    const startedAt = this.#clock.now()
    const scenes = new Set<string>()
    try {
      const overTime = (): string | undefined =>
        this.#clock.now() - startedAt > ANNOTATIONS_TIME_LIMIT_MS
          ? `${endpoint} took longer than ${ANNOTATIONS_TIME_LIMIT_MS / 1000}s`
          : undefined
      for await (const items of this.#pages(path, ANNOTATION_PAGES_AT_ONCE, overTime)) {
        for (const item of items) {
          const scene = sceneIdOf(item)
          if (scene === undefined) {
            return {
              unavailable: `${endpoint}: an item carries no scene id (sceneUuid): "${this.#tokens.redact(excerpt(JSON.stringify(item) ?? '', 120))}"`
            }
          }
          scenes.add(scene)
        }
      }
    } catch (error) {
      if (error instanceof KognicCancelledError || error instanceof KognicAuthError) throw error
      if (
        error instanceof KognicApiError ||
        error instanceof KognicResponseShapeError ||
        error instanceof ListingStopped
      )
        return { unavailable: error.message }
      throw error
    }
    return { scenes }
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
    const { uuid } = await this.#post(predictionsGroupsPath(datasetUuid), JSON.stringify(payload))
    return uuid
  }

  /** Posts one prediction; `body` is the complete request body, sent as-is. */
  async uploadPrediction(groupUuid: string, body: Buffer | string): Promise<UploadedPrediction> {
    const { uuid, outcome } = await this.#post(predictionsPath(groupUuid), body)
    return { predictionUuid: uuid, attempts: outcome.attempts, possibleDuplicate: outcome.possibleDuplicate }
  }

  stats(): KognicClientStats {
    const { requests, tokenRequests, retries, waitedMs } = this.#session.stats()
    return { requests, tokenRequests, retries, possibleDuplicates: this.#possibleDuplicates, waitedMs }
  }

  /** Destroys the connection pool; later calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#options.signal?.removeEventListener('abort', this.#followCancel)
    this.#options.stopNewAttempts?.removeEventListener('abort', this.#followStop)
    await this.#session.close()
  }

  /**
   * The items of each page of a listing (`?offset=<items so far>`) until an empty page, or a page that
   * repeats one already seen (a server that ignores offset); throws past MAX_LIST_PAGES or when
   * `overTime()` names a reason.
   */
  async *#pages(path: string, atOnce: number, overTime: () => string | undefined): AsyncGenerator<unknown[]> {
    const seen = new Set<string>()
    let offset = 0
    let pageSize = 0
    for (let pages = 0; ;) {
      if (pages >= MAX_LIST_PAGES)
        throw new ListingStopped(`GET ${path} has more than ${MAX_LIST_PAGES} pages`)
      const late = overTime()
      if (late) throw new ListingStopped(late)
      // The first page alone; after it, a few at once at the offsets full pages would reach.
      const count = pageSize === 0 ? 1 : Math.min(atOnce, MAX_LIST_PAGES - pages)
      const batch = await Promise.all(
        Array.from({ length: count }, (_, k) => this.#call('GET', `${path}?offset=${offset + k * pageSize}`))
      )
      pages += count
      for (const response of batch) {
        const items = parseListPage(response.text, `GET ${path}`)
        if (items.length === 0 || seen.has(response.text)) return
        seen.add(response.text)
        yield items
        offset += items.length
        // A short page that is not the last: the pages asked for beyond it started at the wrong offsets.
        if (pageSize !== 0 && items.length !== pageSize) break
        pageSize ||= items.length
      }
    }
  }

  /** A POST whose 2xx answer must carry a new id; a 2xx without one may still have been stored. */
  async #post(path: string, body: Buffer | string): Promise<{ uuid: string; outcome: HttpOutcome }> {
    let outcome: HttpOutcome | undefined
    const response = await this.#call('POST', path, body, (o) => (outcome = o))
    try {
      return { uuid: parseCreatedResponse(response.text, `POST ${path}`), outcome: outcome! }
    } catch (error) {
      if (!(error instanceof KognicResponseShapeError)) throw error
      if (!outcome!.possibleDuplicate) this.#possibleDuplicates++
      // The excerpt in the message is cut from the raw text: redact that first, so no prefix of a secret shows.
      let message = error.message
      try {
        parseCreatedResponse(this.#tokens.redact(response.text), `POST ${path}`)
      } catch (redacted) {
        if (redacted instanceof Error) message = redacted.message
      }
      throw new KognicApiError(
        `${message} (Kognic accepted the request, so it may have been stored: check before uploading it again)`,
        {
          endpoint: `POST ${path}`,
          status: response.status,
          attempts: outcome!.attempts,
          possibleDuplicate: true,
          retryable: false
        },
        { cause: error }
      )
    }
  }

  /** One call through the retry loop: its 2xx answer, or a KognicApiError saying what failed. */
  async #call(
    method: 'GET' | 'POST',
    path: string,
    body?: Buffer | string,
    seen?: (outcome: HttpOutcome) => void
  ): Promise<HttpResponse> {
    const endpoint = `${method} ${path.split('?')[0]}`
    if (this.#closed) throw new Error(`The Kognic client is closed; cannot run ${endpoint}`)
    let outcome: HttpOutcome
    try {
      outcome = await this.#session.send({
        method,
        url: new URL(joinUrl(this.#options.apiUrl, path)),
        endpoint,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body }),
        token: this.#tokens
      })
    } catch (error) {
      if ((error as { possibleDuplicate?: unknown }).possibleDuplicate === true) this.#possibleDuplicates++
      throw error
    }
    seen?.(outcome)
    const { response, error, attempts, possibleDuplicate, retryable } = outcome
    if (response) this.#noticeSunset(response, endpoint)
    if (response && response.status >= 200 && response.status < 300) {
      if (possibleDuplicate) this.#possibleDuplicates++
      return response
    }
    if (possibleDuplicate) this.#possibleDuplicates++
    const after = attempts > 1 ? ` after ${attempts} attempts` : ''
    const stopped = outcome.stoppedEarly ? ` (${outcome.stoppedEarly})` : ''
    const stored = possibleDuplicate
      ? ' (an attempt may have reached Kognic before it failed: Kognic may have stored it; check before uploading it again)'
      : ''
    // The human reason first; which request and what status after it.
    let message: string
    if (error) {
      message = `${error.message}${stopped}${stored}${transportHint(error, this.#options.hostSettings?.apiUrl ?? 'api-url')} (${endpoint}${after})`
    } else {
      const hint =
        response!.status === 401
          ? ' (a freshly renewed access token was refused too: check the credentials)'
          : ''
      const reason = extractServerMessage(response!.text, (text) => this.#tokens.redact(text))
      const status = `${response!.status} ${response!.statusText}`.trim()
      message = `${reason || status}${hint}${stopped}${stored} (${reason ? `${status} from ` : ''}${endpoint}${after})`
    }
    throw new KognicApiError(
      message,
      { endpoint, ...(response ? { status: response.status } : {}), attempts, possibleDuplicate, retryable },
      error ? { cause: error } : undefined
    )
  }

  /** Once per run: an endpoint Kognic will retire, with the days left; an error within SUNSET_ERROR_DAYS. */
  #noticeSunset(response: HttpResponse, endpoint: string): void {
    if (this.#sunsetNoticed) return
    const header = SUNSET_HEADERS.find((name) => response.headers[name] !== undefined)
    if (header === undefined) return
    this.#sunsetNoticed = true
    const raw = excerpt(response.headers[header] ?? '', 80)
    const at = parseSunsetDate(response.headers[header] ?? '')
    const template = endpoint.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/gi, '{uuid}')
    const props = { title: 'Kognic API deprecation' }
    if (at === undefined) {
      this.#options.logger.warning(
        `Kognic marks ${template} as deprecated (${header}: ${raw}): this action may need an update`,
        props
      )
      return
    }
    const days = Math.ceil((at - this.#clock.now()) / 86_400_000)
    const on = new Date(at).toISOString().slice(0, 10)
    const when =
      days >= 0
        ? `it is retired on ${on}, in ${days} day(s)`
        : `it was due to be retired on ${on}, ${-days} day(s) ago`
    const message = `Kognic deprecated ${template}: ${when} (${header}: ${raw}); update this action`
    if (days <= SUNSET_ERROR_DAYS) this.#options.logger.error(message, props)
    else this.#options.logger.warning(message, props)
  }
}

/** A listing stopped at one of its bounds. */
class ListingStopped extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ListingStopped'
  }
}
