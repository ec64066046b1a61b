// Every guess this project makes about the Kognic API (paths, shapes, limits), in one place: when the real
// API turns out to differ, this is the file to change.
import { isRecord } from '../guards.js'
import { oneLine } from '../report/escape.js'

export const TOKEN_PATH = '/v1/auth/oauth/token'

export function predictionsGroupsPath(datasetUuid: string): string {
  return `/v1/datasets/${encodeURIComponent(datasetUuid)}/predictions-groups`
}

export function predictionsPath(groupUuid: string): string {
  return `/v1/predictions-groups/${encodeURIComponent(groupUuid)}/predictions`
}

/** The datasets the client may see; its items' `name` is shown beside the dataset's UUID. */
export const DATASETS_PATH = '/v2/datasets'

export function annotationsPath(datasetUuid: string): string {
  return `/v1/datasets/${encodeURIComponent(datasetUuid)}/annotations`
}

/** A listing is read `?offset=N` until an empty page; at most this many pages. */
export const MAX_LIST_PAGES = 200
/**
 * Pages of the annotations listing asked for at once, once the first page shows the page size: a dataset
 * of thousands of scenes is listed in a few round trips instead of one per page, before the first upload.
 * With the groups listing (a page at a time: a dataset has few groups) and the datasets listing running
 * alongside, that is Kognic's advice of at most 10 connections.
 */
export const ANNOTATION_PAGES_AT_ONCE = 8
/** The annotations listing gives up (the scene check is skipped) after this long. */
export const ANNOTATIONS_TIME_LIMIT_MS = 120_000

/** Statuses that mean "not now" rather than "never": retried with backoff. Other 4xx are the caller's fault. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504])

/** Connection failures worth another try (the network or the server blinked). */
export const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])

/** Failures before a connection was made: nothing of the request reached the server. */
export const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT'
])

/** Backoff between retries: exponential from the base, capped, with jitter. */
export const RETRY_BASE_MS = 500
export const RETRY_CAP_MS = 30_000
/** One wait before a retry, whatever Retry-After asks: at most a minute. */
export const MAX_RETRY_WAIT_MS = 60_000
/** All the waits before retries of one request together: past this, the request fails with its last error. */
export const MAX_WAIT_PER_REQUEST_MS = 120_000

/** Responses larger than this are refused rather than held in memory. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024

const EXCERPT_MAX_CHARS = 200
const SERVER_MESSAGE_MAX_CHARS = 300

/**
 * How long before expiry a token is renewed: 10% of its lifetime, at most a minute, so a 30 s token is
 * renewed ~3 s before it expires instead of on every call.
 */
export function tokenRenewalMarginMs(lifetimeMs: number): number {
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) return 0
  return Math.min(60_000, lifetimeMs * 0.1)
}

/** Either header marks a deprecated endpoint; `sunset-date` is what Kognic sends, `sunset` is RFC 8594. */
export const SUNSET_HEADERS = ['sunset-date', 'sunset'] as const
/** Within this many days of an endpoint's sunset date, the notice is an error-level line. */
export const SUNSET_ERROR_DAYS = 14

/**
 * A sunset date as kognic-auth reads it: an ISO date or date-time (a date alone is midnight UTC), or an HTTP
 * date. Undefined when unreadable.
 */
export function parseSunsetDate(value: string): number | undefined {
  const text = value.trim()
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(text)
  // An HTTP date always names its day or month; Date.parse alone accepts loose strings like "5".
  if (!iso && !/^[a-z]{3},? \d{1,2}[ -][a-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} (GMT|UTC)$/i.test(text))
    return undefined
  const at = Date.parse(!iso ? text : text.length === 10 ? `${text}T00:00:00Z` : text.replace(' ', 'T'))
  return Number.isNaN(at) ? undefined : at
}

/**
 * Joins a base URL and an absolute API path without `//` or a doubled version segment: the docs give the
 * base as `https://…/v1/` and then append `/v1/…`-style paths, so a base ending in `/v<N>` loses that
 * segment when the path brings its own version (`/v1/…` or `/v2/…`).
 */
export function joinUrl(base: string, path: string): string {
  let trimmedBase = base.trim().replace(/\/+$/, '')
  const cleanPath = '/' + path.replace(/^\/+/, '')
  if (/^\/v\d+(\/|$)/.test(cleanPath)) {
    trimmedBase = trimmedBase.replace(/\/v\d+$/, '')
  }
  return trimmedBase + cleanPath
}

/** One line of at most `max` characters of untrusted text, as the reports clean it. */
export function excerpt(text: string, max: number = EXCERPT_MAX_CHARS): string {
  return oneLine(text, max)
}

/** A list item as this project uses it: the id and the name. */
export interface ListedItem {
  uuid: string
  name: string
}

export class KognicResponseShapeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KognicResponseShapeError'
  }
}

function parseJsonOrExplain(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new KognicResponseShapeError(`${what}: the response is not JSON: "${excerpt(text)}"`)
  }
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined
}

/** The items of one list page: `{"data": [...]}` or a bare array. */
export function parseListPage(text: string, what: string): unknown[] {
  const parsed = parseJsonOrExplain(text, what)
  const items = Array.isArray(parsed) ? parsed : isRecord(parsed) ? parsed['data'] : undefined
  if (!Array.isArray(items)) {
    throw new KognicResponseShapeError(
      `${what}: expected {"data": [...]} or a JSON array, got "${excerpt(text)}"`
    )
  }
  return items
}

/**
 * The scene an annotations-listing item is for: `sceneUuid`, or a close variant (`scene_uuid`, `sceneId`,
 * `scene_id`, `scene.uuid`, `scene.id`). The item fields are not documented.
 */
export function sceneIdOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined
  for (const key of ['sceneUuid', 'scene_uuid', 'sceneId', 'scene_id']) {
    const id = nonEmptyString(item[key])
    if (id !== undefined) return id
  }
  const scene = item['scene']
  return isRecord(scene) ? (nonEmptyString(scene['uuid']) ?? nonEmptyString(scene['id'])) : undefined
}

/** A list item's id: `uuid`, or `id`; undefined when it has neither. */
export function listedId(item: unknown): string | undefined {
  return isRecord(item) ? (nonEmptyString(item['uuid']) ?? nonEmptyString(item['id'])) : undefined
}

/** A list item's `name`; null when it has no string name. */
export function listedName(item: unknown): string | null {
  return isRecord(item) && typeof item['name'] === 'string' ? item['name'] : null
}

/** One item of a list: its id (`uuid`, or `id`) and its `name`. */
export function listedItem(item: unknown, index: number, what: string): ListedItem {
  const uuid = listedId(item)
  const name = listedName(item)
  if (uuid === undefined || name === null) {
    throw new KognicResponseShapeError(
      `${what}: item ${index} has no string "uuid"/"id" and "name": "${excerpt(JSON.stringify(item) ?? String(item))}"`
    )
  }
  return { uuid, name }
}

/** Reads a create response: `{"data": "<uuid>"}`, or `{"data": {"uuid": …}}` (or `id`). */
export function parseCreatedResponse(text: string, what: string): string {
  const parsed = parseJsonOrExplain(text, what)
  const data = isRecord(parsed) ? parsed['data'] : undefined
  const uuid =
    nonEmptyString(data) ??
    (isRecord(data) ? (nonEmptyString(data['uuid']) ?? nonEmptyString(data['id'])) : undefined)
  if (uuid === undefined) {
    throw new KognicResponseShapeError(
      `${what}: expected {"data": "<uuid>"} or {"data": {"uuid": …}}, got "${excerpt(text)}"`
    )
  }
  return uuid
}

/**
 * What the server said went wrong, fit for a log line: the JSON `message` when there is one (a list of
 * messages is joined), else the body text. `redact` runs on the decoded text, before it is cut to ~300
 * characters, so neither an escaped secret nor a prefix of one survives.
 */
export function extractServerMessage(text: string, redact: (text: string) => string = (t) => t): string {
  let message = text
  try {
    const parsed = JSON.parse(text) as unknown
    if (isRecord(parsed)) {
      const field = parsed['message']
      if (typeof field === 'string' && field.trim() !== '') message = field
      else if (Array.isArray(field) && field.length > 0) message = field.map((m) => String(m)).join('; ')
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return excerpt(redact(message), SERVER_MESSAGE_MAX_CHARS)
}
