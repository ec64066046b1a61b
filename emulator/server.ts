// A local Kognic API on loopback: the token endpoint and the dataset API on one port, strict about the
// documented contract so that it catches mistakes of the action, with seeded faults. This module is the
// HTTP server around the pieces: routes.ts (endpoints), state.ts (what it holds), faults.ts, timing.ts.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

import { validateFaults } from './faults.js'
import type { EmulatorFaults } from './faults.js'
import type { Context, Exchange, Settings } from './http.js'
import { ANNOTATIONS_PAGE_SIZE, GROUPS_PAGE_SIZE, dispatch, matchRoute } from './routes.js'
import { validateSeed } from './seed.js'
import type { EmulatorSeed } from './seed.js'
import { REQUEST_LOG_CAP, Store } from './state.js'
import type { EmulatorState, RequestLogEntry } from './state.js'
import { Latency, realClock } from './timing.js'
import type { Clock } from './timing.js'

export {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  SAMPLE_SEG_CLASS_MAPPING,
  SAMPLE_SEG_DATASET_UUID,
  SAMPLE_SEG_GROUP_UUID,
  SAMPLE_SEG_SCENES,
  sampleSeed,
  validateSeed
} from './seed.js'
export type { EmulatorSeed, SeedClassMappingEntry, SeedDataset, SeedGroup } from './seed.js'
export { decideFault, hashUnit, validateFaults, FAULT_KINDS } from './faults.js'
export type { EmulatorFaults, FaultDecision, FaultKind } from './faults.js'
export { ANNOTATIONS_PAGE_SIZE, GROUPS_PAGE_SIZE, TOKEN_PATH, checkCreateGroupBody } from './routes.js'
export type { EmulatorState, EndpointName, RequestLogEntry, StoredGroup, StoredPrediction } from './state.js'
export { SteppedClock } from './timing.js'
export type { Clock } from './timing.js'

/** Largest accepted upload body; the real limit is undocumented. */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024

export interface EmulatorOptions {
  seed: EmulatorSeed
  faults?: EmulatorFaults
  /** Default 127.0.0.1. */
  host?: string
  /** 0 (default) = a random free port. */
  port?: number
  /** Shape of list responses: `{"data": [...]}` (default) or a bare array. Applies to every list endpoint. */
  listShape?: 'wrapped' | 'bare'
  /** When false (the default), one line per request goes to stdout. */
  quiet?: boolean
  /** Keep each uploaded `openlabelContent` in `state.predictions[].content` (memory grows with uploads). */
  keepBodies?: boolean
  /** Largest accepted upload body in bytes; default MAX_UPLOAD_BYTES (256 MiB). Larger bodies get 413. */
  maxUploadBytes?: number
  /** Items per page of the annotations listing; default ANNOTATIONS_PAGE_SIZE (100). */
  annotationsPageSize?: number
  /**
   * `'ok'` (default); `'missing'`: the listing answers 404 as an unknown route would; `'no-scene-ids'`:
   * its items carry no `sceneUuid`.
   */
  annotationsListing?: 'ok' | 'missing' | 'no-scene-ids'
  /** Groups per page of the groups listing; default GROUPS_PAGE_SIZE (100). */
  groupsPageSize?: number
  /** The groups listing ignores `offset` and answers the first page every time (a server without paging). */
  groupsIgnoreOffset?: boolean
  /** The clock latency is counted on; tests pass one they step by hand. Default: the real one. */
  clock?: Clock
}

export interface Emulator {
  /** e.g. http://127.0.0.1:43210; serves both the dataset API and the token endpoint. */
  url: string
  state: EmulatorState
  setFaults(faults: EmulatorFaults): void
  /**
   * Revokes a client mid-run, as an admin would in the Kognic app: its later token requests get 401
   * invalid_client, and the API answers 401 to every token it was issued. reset() restores it.
   */
  revokeClient(clientId: string): void
  /**
   * Clears counters, log, predictions and created groups (seeded groups come back) and revocations;
   * issued tokens stay valid.
   */
  reset(): void
  /** Closes the server and every socket promptly, hung ones included. */
  close(): Promise<void>
}

export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const settings: Settings = {
    listShape: opts.listShape ?? 'wrapped',
    keepBodies: opts.keepBodies ?? false,
    maxUploadBytes: opts.maxUploadBytes ?? MAX_UPLOAD_BYTES,
    annotationsPageSize: positiveInteger(
      opts.annotationsPageSize,
      'annotationsPageSize',
      ANNOTATIONS_PAGE_SIZE
    ),
    annotationsListing: opts.annotationsListing ?? 'ok',
    groupsPageSize: positiveInteger(opts.groupsPageSize, 'groupsPageSize', GROUPS_PAGE_SIZE),
    groupsIgnoreOffset: opts.groupsIgnoreOffset ?? false
  }
  const ctx: Context = {
    store: new Store(validateSeed(opts.seed)),
    latency: new Latency(opts.clock ?? realClock),
    settings,
    faults: validateFaults(opts.faults ?? {})
  }
  const quiet = opts.quiet ?? false
  const { state } = ctx.store
  const sockets = new Set<Socket>()
  let closed = false

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (closed) return
      console.error('emulator: internal error', error)
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message: `Emulator bug: ${String(error)}` }))
      }
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/'
    const queryAt = rawUrl.indexOf('?')
    const method = req.method ?? 'GET'
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
    const route = matchRoute(method, path)
    const ex: Exchange = {
      ctx,
      req,
      res,
      method,
      path,
      query: queryAt === -1 ? '' : rawUrl.slice(queryAt + 1),
      endpoint: route.endpoint,
      arrivedAt: Date.now(),
      startedAt: ctx.latency.now(),
      delayMs: ctx.faults.latencyMs ?? 0
    }
    state.requests++
    state.endpointCounts[route.endpoint]++
    if (req.headers.authorization !== undefined) state.authHeadersSeen++
    const isUpload = route.endpoint === 'uploadPrediction'
    if (isUpload) {
      state.inFlight++
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
      state.openUploads++
      state.maxOpenUploads = Math.max(state.maxOpenUploads, state.openUploads)
    }
    // In flight until both the emulator's work is done and the exchange closed: a slow answer to a client
    // that went away still counts until it is sent, and a hung upload until its connection ends.
    let pending = 2
    const settleOne = (): void => {
      if (--pending === 0 && isUpload) state.inFlight--
    }
    res.on('close', () => {
      if (isUpload) state.openUploads--
      log(ex)
      settleOne()
    })
    try {
      await dispatch(ex, route)
    } finally {
      settleOne()
    }
  }

  function log(ex: Exchange): void {
    const status = ex.res.headersSent ? ex.res.statusCode : 0
    const entry: RequestLogEntry = {
      at: ex.arrivedAt,
      method: ex.method,
      path: ex.path,
      query: ex.query,
      status,
      ms: Math.round((ctx.latency.now() - ex.startedAt) * 10) / 10
    }
    if (ex.key !== undefined) entry.key = ex.key
    if (ex.attempt !== undefined) entry.attempt = ex.attempt
    if (ex.fault !== undefined) entry.fault = ex.fault
    if (state.log.length >= REQUEST_LOG_CAP) state.log.splice(0, REQUEST_LOG_CAP / 10)
    state.log.push(entry)
    state.statusCounts[String(status)] = (state.statusCounts[String(status)] ?? 0) + 1
    if (!quiet) {
      const fault = ex.fault ? ` [${ex.fault}]` : ''
      console.log(`${ex.method} ${ex.path} ${status === 0 ? 'no response' : status} ${entry.ms}ms${fault}`)
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address

  return {
    url: `http://${host}:${address.port}`,
    state,
    setFaults(next: EmulatorFaults): void {
      ctx.faults = validateFaults(next)
    },
    revokeClient(clientId: string): void {
      if (!ctx.store.clients.has(clientId)) throw new Error(`No client ${clientId} in the emulator's seed`)
      ctx.store.revokedClients.add(clientId)
    },
    reset(): void {
      ctx.store.reset()
    },
    close(): Promise<void> {
      closed = true
      ctx.latency.close()
      return new Promise((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
      })
    }
  }
}

function positiveInteger(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} must be a positive integer, got ${value}`)
  return value
}
