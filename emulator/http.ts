// One request being handled: reading its body, and sending its reply once its latency has passed.
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { EmulatorFaults, FaultKind } from './faults.js'
import type { EndpointName, Store } from './state.js'
import type { Latency } from './timing.js'

/** Settings fixed at start (see EmulatorOptions in server.ts for their meaning). */
export interface Settings {
  listShape: 'wrapped' | 'bare'
  keepBodies: boolean
  maxUploadBytes: number
  annotationsPageSize: number
  annotationsListing: 'ok' | 'missing' | 'no-scene-ids'
  groupsPageSize: number
  groupsIgnoreOffset: boolean
}

/** What every handler works with. */
export interface Context {
  store: Store
  latency: Latency
  settings: Settings
  /** Replaced as a whole by setFaults(). */
  faults: EmulatorFaults
}

export interface Exchange {
  ctx: Context
  req: IncomingMessage
  res: ServerResponse
  method: string
  path: string
  /** The raw query string, without `?` ('' when none). */
  query: string
  endpoint: EndpointName
  /** Date.now() on arrival. */
  arrivedAt: number
  /** The latency clock's time on arrival: the delay counts from here. */
  startedAt: number
  /** Latency plus slow-fault delay, counted from arrival, so reading and parsing the body overlap it. */
  delayMs: number
  key?: string
  attempt?: number
  fault?: FaultKind
  /** Uploads: store the prediction, then never answer. */
  hangAfterStore?: boolean
}

export interface Reply {
  status: number
  json?: unknown
  text?: string
  contentType?: string
  headers?: Record<string, string>
}

const MAX_SMALL_BODY_BYTES = 1024 * 1024

/** Resolves once the exchange's delay has passed; false when the emulator closed meanwhile. */
export function waitUntilDue(ex: Exchange): Promise<boolean> {
  return ex.ctx.latency.until(ex.startedAt + ex.delayMs)
}

export async function send(ex: Exchange, reply: Reply): Promise<void> {
  if (!(await waitUntilDue(ex)) || ex.res.destroyed) return
  const headers: Record<string, string | number> = { ...reply.headers }
  let body: Buffer
  if (reply.text !== undefined) {
    body = Buffer.from(reply.text)
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8'
  } else {
    body = Buffer.from(JSON.stringify(reply.json ?? null))
    headers['content-type'] = 'application/json; charset=utf-8'
  }
  headers['content-length'] = body.length
  const sunsetDate = ex.ctx.faults.sunsetDate
  if (ex.endpoint !== 'token' && sunsetDate !== undefined) headers['sunset-date'] = sunsetDate
  ex.res.writeHead(reply.status, headers)
  ex.res.end(body)
}

export function badRequest(ex: Exchange, message: string): Promise<void> {
  return send(ex, { status: 400, json: { message } })
}

/** A list in the configured shape: `{"data": [...]}` or a bare array. */
export function list(ex: Exchange, items: unknown[]): Reply {
  return { status: 200, json: ex.ctx.settings.listShape === 'bare' ? items : { data: items } }
}

export function isMediaType(req: IncomingMessage, expected: string): boolean {
  const contentType = req.headers['content-type']
  return contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() === expected
}

/**
 * Reads the body up to `limit` bytes (default 1 MiB). Answers 413 (and returns null) beyond it; returns
 * null when the client went away.
 */
export async function readBody(
  ex: Exchange,
  limit = MAX_SMALL_BODY_BYTES
): Promise<(Buffer & { sha256: string }) | null> {
  const declared = Number(ex.req.headers['content-length'] ?? NaN)
  if (declared > limit) {
    await tooLarge(ex, limit)
    return null
  }
  const chunks: Buffer[] = []
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of ex.req) {
      size += (chunk as Buffer).length
      if (size > limit) {
        await tooLarge(ex, limit)
        return null
      }
      chunks.push(chunk as Buffer)
      hash.update(chunk as Buffer)
    }
  } catch {
    return null // the client aborted the upload
  }
  return Object.assign(Buffer.concat(chunks, size), { sha256: hash.digest('hex') })
}

function tooLarge(ex: Exchange, limit: number): Promise<void> {
  return send(ex, {
    status: 413,
    json: { message: `Request body larger than ${limit} bytes` },
    headers: { connection: 'close' }
  })
}

/** Answers 415 and returns false unless the request says its body is JSON. */
export async function requireJsonContentType(ex: Exchange): Promise<boolean> {
  if (isMediaType(ex.req, 'application/json')) return true
  await send(ex, {
    status: 415,
    json: {
      message: `Content-Type must be application/json, got ${ex.req.headers['content-type'] ?? 'none'}`
    }
  })
  return false
}

/** JSON.parse of a UTF-8 body, with the 400 message when it is not JSON. */
export function parseJson(raw: Buffer): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(raw.toString('utf8')) as unknown }
  } catch (error) {
    return { error: `Invalid JSON body: ${(error as Error).message.slice(0, 200)}` }
  }
}
