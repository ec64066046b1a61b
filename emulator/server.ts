// A local Kognic API on loopback: the token endpoint and the dataset API on one port, strict about the
// documented contract (docs/kognic-api.md) so that it catches mistakes of the action, with seeded faults.
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

import { isRecord } from '../src/guards.js'

import { DEFAULT_TOKEN_LIFETIME_SECONDS, FAULT_KINDS, decideFault, validateFaults } from './faults.js'
import type { EmulatorFaults, FaultDecision, FaultKind } from './faults.js'
import { OffThreadInspector } from './off-thread.js'
import { validateSeed } from './seed.js'
import { parseAndInspectUploadBody } from './upload-body.js'
import type { UploadInspection } from './upload-body.js'
import type { EmulatorSeed, SeedClassMappingEntry } from './seed.js'

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

export const TOKEN_PATH = '/v1/auth/oauth/token'
/** Largest accepted upload body; the real limit is undocumented. */
export const MAX_UPLOAD_BYTES = 256 * 1024 * 1024
const MAX_SMALL_BODY_BYTES = 1024 * 1024
/** Upload bodies from this size on are parsed on a worker thread. */
const OFF_THREAD_MIN_BYTES = 1024 * 1024
export const ANNOTATIONS_PAGE_SIZE = 25
const ANNOTATIONS_PER_SCENE = 2
const REQUEST_LOG_CAP = 100_000
/** How long before a delay ends its timer fires; the rest is waited out precisely (see pauseUntil). */
const SPIN_MS = 1

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
}

export type EndpointName =
  | 'token'
  | 'listDatasets'
  | 'listGroups'
  | 'createGroup'
  | 'uploadPrediction'
  | 'listAnnotations'
  | 'notFound'

const ENDPOINT_NAMES: readonly EndpointName[] = [
  'token',
  'listDatasets',
  'listGroups',
  'createGroup',
  'uploadPrediction',
  'listAnnotations',
  'notFound'
]

export interface StoredPrediction {
  uuid: string
  groupUuid: string
  datasetUuid: string
  sceneUuid: string
  /** Size of the request body in bytes. */
  sizeBytes: number
  /** sha256 of the request body, hex: tells identical re-uploads apart from different ones. */
  sha256: string
  /** Date.now() when stored. */
  receivedAt: number
  /** The uploaded `openlabelContent`, only with `keepBodies`. */
  content?: unknown
}

export interface StoredGroup {
  uuid: string
  datasetUuid: string
  name: string
  description: string
  classMapping: SeedClassMappingEntry[] | null
  createdAt: string
}

export interface RequestLogEntry {
  /** Date.now() when the request arrived. */
  at: number
  method: string
  /** The path without the query string. */
  path: string
  /** 0 when no response was sent (dropped, hung, or the client went away). */
  status: number
  ms: number
  /** The fault key (method + path, `#<sceneUuid>` for uploads); absent for the token endpoint and 404s. */
  key?: string
  /** The attempt number for `key`, 1-based. */
  attempt?: number
  fault?: FaultKind
}

export interface EmulatorState {
  predictions: StoredPrediction[]
  /** Uploads for a (group, scene) pair that already had a stored prediction. */
  duplicateUploads: number
  /** Predictions groups by dataset UUID (lower case). */
  groups: Record<string, StoredGroup[]>
  /** Every access token ever issued (kept across reset()), so tests can scan logs for leaks. */
  tokensIssued: string[]
  refreshTokensIssued: string[]
  tokenRequests: number
  /** Every HTTP request, the token endpoint included. */
  requests: number
  endpointCounts: Record<EndpointName, number>
  statusCounts: Record<string, number>
  /**
   * Uploads the emulator is working on, from arrival until its own response is sent and the exchange has
   * closed (a hung upload counts until its connection ends). A client that timed out and went away does
   * not end it: the server keeps working on a slow answer, as a real one would.
   */
  inFlight: number
  maxInFlight: number
  /** Uploads whose exchange is open, from arrival until the response ends or the client goes away. */
  openUploads: number
  maxOpenUploads: number
  faultsInjected: Record<FaultKind, number>
  /** Requests that carried an Authorization header (any endpoint). */
  authHeadersSeen: number
  /** Upload bodies parsed on the worker thread (those of 1 MiB or more). */
  offThreadParses: number
  /** The last REQUEST_LOG_CAP requests, oldest first. */
  log: RequestLogEntry[]
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

interface IssuedToken {
  clientId: string
  expiresAt: number
}

/** One request being handled. */
interface Exchange {
  req: IncomingMessage
  res: ServerResponse
  method: string
  path: string
  /** The raw query string, without `?` ('' when none). */
  query: string
  endpoint: EndpointName
  /** Date.now() on arrival. */
  arrivedAt: number
  /** performance.now() on arrival: the latency counts from here, as a network's would. */
  startedAt: number
  /** Latency plus slow-fault delay, counted from arrival, so reading and parsing the body overlap it. */
  delayMs: number
  key?: string
  attempt?: number
  fault?: FaultKind
  /** Uploads: store the prediction, then never answer. */
  hangAfterStore?: boolean
}

interface Reply {
  status: number
  json?: unknown
  text?: string
  contentType?: string
  headers?: Record<string, string>
}

type Route =
  | { endpoint: 'token' }
  | { endpoint: 'listDatasets' }
  | { endpoint: 'listGroups' | 'createGroup' | 'listAnnotations'; datasetUuid: string }
  | { endpoint: 'uploadPrediction'; groupUuid: string }
  | { endpoint: 'notFound'; message: string }

export async function startEmulator(opts: EmulatorOptions): Promise<Emulator> {
  const seed = validateSeed(opts.seed)
  let faults = validateFaults(opts.faults ?? {})
  const listShape = opts.listShape ?? 'wrapped'
  const quiet = opts.quiet ?? false
  const keepBodies = opts.keepBodies ?? false
  const maxUploadBytes = opts.maxUploadBytes ?? MAX_UPLOAD_BYTES

  const datasets = new Map(
    seed.datasets.map((dataset) => [
      dataset.uuid.toLowerCase(),
      {
        uuid: dataset.uuid.toLowerCase(),
        name: dataset.name,
        segmentation: dataset.segmentation ?? false,
        scenes: new Set(dataset.scenes.map((scene) => scene.toLowerCase())),
        sceneList: dataset.scenes.map((scene) => scene.toLowerCase())
      }
    ])
  )
  const clients = new Map(seed.clients.map((client) => [client.clientId, client.clientSecret]))
  const tokens = new Map<string, IssuedToken>()
  const revokedClients = new Set<string>()
  let groupsByUuid = new Map<string, StoredGroup>()
  let attempts = new Map<string, number>()
  let tokenWindow: number[] = []
  const seenUploads = new Set<string>()
  const pendingTimers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let closed = false
  const offThread = new OffThreadInspector()

  const state: EmulatorState = freshState()
  loadSeedGroups()

  function freshState(): EmulatorState {
    return {
      predictions: [],
      duplicateUploads: 0,
      groups: {},
      tokensIssued: [],
      refreshTokensIssued: [],
      tokenRequests: 0,
      requests: 0,
      endpointCounts: Object.fromEntries(ENDPOINT_NAMES.map((name) => [name, 0])) as Record<
        EndpointName,
        number
      >,
      statusCounts: {},
      inFlight: 0,
      maxInFlight: 0,
      openUploads: 0,
      maxOpenUploads: 0,
      faultsInjected: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
      authHeadersSeen: 0,
      offThreadParses: 0,
      log: []
    }
  }

  function loadSeedGroups(): void {
    groupsByUuid = new Map()
    state.groups = {}
    const seededAt = new Date().toISOString()
    for (const dataset of seed.datasets) {
      const datasetUuid = dataset.uuid.toLowerCase()
      state.groups[datasetUuid] = []
      for (const group of dataset.groups ?? []) {
        addGroup({
          uuid: (group.uuid ?? randomUUID()).toLowerCase(),
          datasetUuid,
          name: group.name,
          description: group.description ?? '',
          classMapping: group.classMapping ? group.classMapping.map((entry) => ({ ...entry })) : null,
          createdAt: seededAt
        })
      }
    }
  }

  function addGroup(group: StoredGroup): void {
    groupsByUuid.set(group.uuid, group)
    ;(state.groups[group.datasetUuid] ??= []).push(group)
  }

  /**
   * Resolves at `deadline` (a performance.now() time); never resolves once the emulator is closed (its
   * socket is gone anyway). A timer alone lands 0.3–1 ms late, on whole milliseconds, and releases every
   * request due in the same millisecond at once: an emulator asked for 20 ms would answer in ~20.7 and
   * charge that to the client measured. So the timer wakes it up to SPIN_MS early and the rest is waited
   * out turn by turn of the event loop (setImmediate), which keeps serving other requests meanwhile.
   */
  function pauseUntil(deadline: number): Promise<void> {
    if (performance.now() >= deadline) return Promise.resolve()
    return new Promise((resolve) => {
      const spin = (): void => {
        if (closed) return
        if (performance.now() >= deadline) resolve()
        else setImmediate(spin)
      }
      const coarseMs = Math.floor(deadline - performance.now() - SPIN_MS)
      if (coarseMs < 1) return spin()
      const timer = setTimeout(() => {
        pendingTimers.delete(timer)
        spin()
      }, coarseMs)
      pendingTimers.add(timer)
    })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (closed) return // a pending off-thread parse was cancelled by close()
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
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
    const method = req.method ?? 'GET'
    const route = matchRoute(method, path)
    const ex: Exchange = {
      req,
      res,
      method,
      path,
      query: queryAt === -1 ? '' : rawUrl.slice(queryAt + 1),
      endpoint: route.endpoint,
      arrivedAt: Date.now(),
      startedAt: performance.now(),
      delayMs: faults.latencyMs ?? 0
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
      finishLog(ex)
      settleOne()
    })
    try {
      await dispatch(ex, route)
    } finally {
      settleOne()
    }
  }

  /** Answers the request; resolves when the emulator's own work on it is done. */
  async function dispatch(ex: Exchange, route: Route): Promise<void> {
    const { method, path } = ex

    switch (route.endpoint) {
      case 'token':
        return handleToken(ex)
      case 'notFound':
        return send(ex, { status: 404, json: { message: route.message } })
    }
    if (!(await authenticate(ex))) return
    if (route.endpoint === 'uploadPrediction') return handleUpload(ex, route.groupUuid)
    if (await injectFault(ex, `${method} ${path}`, false)) return
    switch (route.endpoint) {
      case 'listDatasets':
        return send(ex, { status: 200, json: list([...datasets.values()].map(describeDataset)) })
      case 'listGroups':
        return handleListGroups(ex, route.datasetUuid)
      case 'createGroup':
        return handleCreateGroup(ex, route.datasetUuid)
      case 'listAnnotations':
        return handleListAnnotations(ex, route.datasetUuid)
    }
  }

  function finishLog(ex: Exchange): void {
    const status = ex.res.headersSent ? ex.res.statusCode : 0
    const entry: RequestLogEntry = {
      at: ex.arrivedAt,
      method: ex.method,
      path: ex.path,
      status,
      ms: Math.round((performance.now() - ex.startedAt) * 10) / 10
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

  /** When the request's delay ends: it runs from arrival, like a network's latency, so reading and parsing
   * the body overlap it. */
  function dueAt(ex: Exchange): number {
    return ex.startedAt + ex.delayMs
  }

  async function send(ex: Exchange, reply: Reply): Promise<void> {
    await pauseUntil(dueAt(ex))
    if (closed || ex.res.destroyed) return
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
    if (ex.endpoint !== 'token' && faults.sunsetDate !== undefined) headers['sunset-date'] = faults.sunsetDate
    ex.res.writeHead(reply.status, headers)
    ex.res.end(body)
  }

  function list(items: unknown[]): unknown {
    return listShape === 'bare' ? items : { data: items }
  }

  function describeDataset(dataset: {
    uuid: string
    name: string
    segmentation: boolean
    sceneList: string[]
  }) {
    return {
      uuid: dataset.uuid,
      name: dataset.name,
      segmentation: dataset.segmentation,
      sceneCount: dataset.sceneList.length
    }
  }

  // ---- faults

  /** Decides and applies the fault for this request; true when the request was answered (or dropped). */
  async function injectFault(ex: Exchange, key: string, isUpload: boolean): Promise<boolean> {
    const attempt = (attempts.get(key) ?? 0) + 1
    attempts.set(key, attempt)
    ex.key = key
    ex.attempt = attempt
    const decision: FaultDecision = decideFault(faults, key, attempt, isUpload)
    if (decision.slowMs > 0) {
      ex.delayMs += decision.slowMs
      countFault(ex, 'slow')
    }
    switch (decision.kind) {
      case 'none':
        return false
      case 'storeThenHang': // applied by the upload handler once the prediction is stored
        ex.hangAfterStore = true
        return false
      case 'rate429': {
        countFault(ex, 'rate429')
        const headers: Record<string, string> = {}
        const retryAfter = faults.retryAfter ?? 1
        if (retryAfter === 'http-date') {
          // HTTP dates have whole seconds: round up so the date is at least ~1 s ahead.
          headers['retry-after'] = new Date(Math.ceil((Date.now() + 1000) / 1000) * 1000).toUTCString()
        } else if (retryAfter !== 'none') {
          headers['retry-after'] = String(retryAfter)
        }
        await send(ex, { status: 429, json: { message: 'Too Many Requests' }, headers })
        return true
      }
      case 'http5xx':
        countFault(ex, 'http5xx')
        await send(ex, serverErrorReply(decision.status ?? 500))
        return true
      case 'drop':
        countFault(ex, 'drop')
        await pauseUntil(dueAt(ex))
        // A TCP reset, as a crashed proxy would give; destroy() alone would be a clean FIN.
        if (!ex.req.socket.destroyed) ex.req.socket.resetAndDestroy()
        return true
    }
  }

  function countFault(ex: Exchange, kind: FaultKind): void {
    state.faultsInjected[kind]++
    // The log shows the fault that decided the outcome; slow only when nothing else happened.
    if (ex.fault === undefined || ex.fault === 'slow') ex.fault = kind
  }

  // ---- auth

  async function handleToken(ex: Exchange): Promise<void> {
    state.tokenRequests++
    const limit = faults.tokenRateLimit
    if (limit) {
      const now = Date.now()
      tokenWindow = tokenWindow.filter((at) => at > now - limit.windowMs)
      if (tokenWindow.length >= limit.max) {
        countFault(ex, 'tokenRateLimit')
        const oldest = tokenWindow[0] ?? now
        const retryAfterSeconds = Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000))
        return send(ex, {
          status: 429,
          json: { message: 'Client authentication rate limit exceeded' },
          headers: { 'retry-after': String(retryAfterSeconds) }
        })
      }
      tokenWindow.push(now)
    }
    if (!isMediaType(ex.req, 'application/x-www-form-urlencoded')) {
      return send(ex, {
        status: 400,
        json: {
          error: 'invalid_request',
          message: 'The token request body must be application/x-www-form-urlencoded'
        }
      })
    }
    const body = await readBody(ex, MAX_SMALL_BODY_BYTES)
    if (body === null) return
    const form = new URLSearchParams(body.toString('utf8'))
    if (form.get('grant_type') !== 'client_credentials') {
      return send(ex, {
        status: 400,
        json: { error: 'unsupported_grant_type', message: 'grant_type must be client_credentials' }
      })
    }
    const basic = parseBasicAuth(ex.req.headers.authorization)
    const clientId = form.get('client_id') ?? basic?.clientId
    const clientSecret = form.get('client_secret') ?? basic?.clientSecret
    if (!clientId || !clientSecret) {
      return send(ex, {
        status: 400,
        json: {
          error: 'invalid_request',
          message: 'client_id and client_secret are required (form body or HTTP Basic)'
        }
      })
    }
    if (clients.get(clientId) !== clientSecret) {
      return send(ex, {
        status: 401,
        json: { error: 'invalid_client', message: 'Invalid client credentials' }
      })
    }
    if (revokedClients.has(clientId)) {
      return send(ex, { status: 401, json: { error: 'invalid_client', message: 'Client revoked' } })
    }
    const lifetimeSeconds = faults.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS
    const accessToken = makeJwtLikeToken(clientId, lifetimeSeconds)
    const refreshToken = randomBytes(32).toString('base64url')
    tokens.set(accessToken, { clientId, expiresAt: Date.now() + lifetimeSeconds * 1000 })
    state.tokensIssued.push(accessToken)
    state.refreshTokensIssued.push(refreshToken)
    return send(ex, {
      status: 200,
      json: {
        access_token: accessToken,
        token_type: 'bearer',
        expires_in: lifetimeSeconds,
        refresh_token: refreshToken
      },
      headers: { 'cache-control': 'no-store' }
    })
  }

  /** Answers 401 and returns false unless the request carries a live bearer token. */
  async function authenticate(ex: Exchange): Promise<boolean> {
    const header = ex.req.headers.authorization
    const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header)
    const unauthorized = async (message: string): Promise<false> => {
      await send(ex, { status: 401, json: { message }, headers: { 'www-authenticate': 'Bearer' } })
      return false
    }
    if (!match?.[1]) return unauthorized('Missing header Authorization: Bearer <access token>')
    const token = tokens.get(match[1])
    if (!token) return unauthorized('Invalid access token')
    if (revokedClients.has(token.clientId)) return unauthorized('Access token revoked')
    if (Date.now() >= token.expiresAt) return unauthorized('Token expired')
    return true
  }

  // ---- datasets and groups

  async function handleListGroups(ex: Exchange, datasetUuid: string): Promise<void> {
    if (!datasets.has(datasetUuid)) return datasetNotFound(ex, datasetUuid)
    const groups = (state.groups[datasetUuid] ?? []).map((group) => ({
      uuid: group.uuid,
      name: group.name,
      description: group.description,
      createdAt: group.createdAt
    }))
    return send(ex, { status: 200, json: list(groups) })
  }

  async function handleCreateGroup(ex: Exchange, datasetUuid: string): Promise<void> {
    const dataset = datasets.get(datasetUuid)
    if (!dataset) return datasetNotFound(ex, datasetUuid)
    const body = await readJsonBody(ex, MAX_SMALL_BODY_BYTES)
    if (body === undefined) return
    const problem = checkCreateGroupBody(body, dataset.segmentation)
    if (problem !== null) return badRequest(ex, problem)
    const fields = body as { name: string; description: string; classMapping?: SeedClassMappingEntry[] }
    const group: StoredGroup = {
      uuid: randomUUID(),
      datasetUuid,
      name: fields.name,
      description: fields.description,
      classMapping: fields.classMapping ? fields.classMapping.map((entry) => ({ ...entry })) : null,
      createdAt: new Date().toISOString()
    }
    addGroup(group)
    return send(ex, { status: 201, json: { data: group.uuid } })
  }

  async function handleListAnnotations(ex: Exchange, datasetUuid: string): Promise<void> {
    const dataset = datasets.get(datasetUuid)
    if (!dataset) return datasetNotFound(ex, datasetUuid)
    const rawOffset = new URLSearchParams(ex.query).get('offset') ?? '0'
    if (!/^\d+$/.test(rawOffset)) {
      return badRequest(ex, `offset must be a non-negative integer, got ${JSON.stringify(rawOffset)}`)
    }
    const offset = Number(rawOffset)
    const total = dataset.sceneList.length * ANNOTATIONS_PER_SCENE
    const page = []
    for (let i = offset; i < Math.min(total, offset + ANNOTATIONS_PAGE_SIZE); i++) {
      const sceneUuid = dataset.sceneList[Math.floor(i / ANNOTATIONS_PER_SCENE)] ?? ''
      page.push({
        uuid: uuidFromHash(`${datasetUuid}/${sceneUuid}/${i % ANNOTATIONS_PER_SCENE}`),
        sceneUuid,
        datasetUuid,
        className: i % ANNOTATIONS_PER_SCENE === 0 ? 'car' : 'pedestrian',
        createdAt: '2024-01-01T00:00:00.000Z'
      })
    }
    return send(ex, { status: 200, json: list(page) })
  }

  // ---- uploads

  async function handleUpload(ex: Exchange, groupUuid: string): Promise<void> {
    if (!(await requireJsonContentType(ex))) return
    const raw = await readBody(ex, maxUploadBytes)
    if (raw === null) return
    const sizeBytes = raw.length // read now: handing the body to the worker detaches it
    let inspection: UploadInspection
    let parsed: unknown
    if (keepBodies || raw.length < OFF_THREAD_MIN_BYTES) {
      ;({ parsed, ...inspection } = parseAndInspectUploadBody(raw))
    } else {
      state.offThreadParses++
      inspection = await offThread.inspect(raw)
      if (closed) return
    }
    if (await injectFault(ex, `${ex.method} ${ex.path}#${inspection.sceneForKey}`, true)) return
    if (inspection.parseError !== undefined) return badRequest(ex, inspection.parseError)
    const group = groupsByUuid.get(groupUuid)
    if (!group)
      return send(ex, { status: 404, json: { message: `Predictions group ${groupUuid} not found` } })
    if (inspection.problem !== null || inspection.sceneUuid === null) {
      return badRequest(ex, inspection.problem ?? 'sceneUuid must be a non-empty string')
    }
    const sceneUuid = inspection.sceneUuid.toLowerCase()
    if (!datasets.get(group.datasetUuid)?.scenes.has(sceneUuid)) {
      return badRequest(ex, `Scene ${inspection.sceneUuid} is not part of dataset ${group.datasetUuid}`)
    }
    const rejection = faults.rejectScenes?.[sceneUuid] ?? faults.rejectScenes?.[inspection.sceneUuid]
    if (rejection !== undefined) return badRequest(ex, rejection)
    const unmapped = unmappedClasses(group, inspection.classes)
    if (unmapped.length > 0) {
      return badRequest(
        ex,
        `Class(es) not in the class mapping of predictions group ${group.uuid}: ${unmapped.join(', ')}; every predicted class must be a "predicted" value of the mapping`
      )
    }

    const prediction: StoredPrediction = {
      uuid: randomUUID(),
      groupUuid: group.uuid,
      datasetUuid: group.datasetUuid,
      sceneUuid,
      sizeBytes,
      sha256: raw.sha256,
      receivedAt: Date.now()
    }
    if (keepBodies) prediction.content = (parsed as { openlabelContent: unknown }).openlabelContent
    const pair = `${group.uuid}/${sceneUuid}`
    if (seenUploads.has(pair)) state.duplicateUploads++
    seenUploads.add(pair)
    state.predictions.push(prediction)

    if (ex.hangAfterStore) {
      // Stored, and the response never comes: the client times out and cannot know it succeeded.
      countFault(ex, 'storeThenHang')
      return
    }
    return send(ex, { status: 201, json: { data: prediction.uuid } })
  }

  // ---- request bodies

  /**
   * Reads the body up to `limit` bytes. Answers 413 (and returns null) beyond it; returns null when the client
   * went away. The body streams in without blocking the event loop.
   */
  async function readBody(ex: Exchange, limit: number): Promise<(Buffer & { sha256: string }) | null> {
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
        hash.update(chunk as Buffer) // chunk by chunk, so hashing a large body never blocks for long
      }
    } catch {
      return null // the client aborted the upload
    }
    return Object.assign(Buffer.concat(chunks, size), { sha256: hash.digest('hex') })
  }

  async function tooLarge(ex: Exchange, limit: number): Promise<void> {
    await send(ex, {
      status: 413,
      json: { message: `Request body larger than ${limit} bytes` },
      headers: { connection: 'close' }
    })
  }

  /** Answers 415 and returns false unless the request says its body is JSON. */
  async function requireJsonContentType(ex: Exchange): Promise<boolean> {
    if (isMediaType(ex.req, 'application/json')) return true
    await send(ex, {
      status: 415,
      json: {
        message: `Content-Type must be application/json, got ${ex.req.headers['content-type'] ?? 'none'}`
      }
    })
    return false
  }

  /** Checks Content-Type, reads and parses; answers the error itself and returns undefined on failure. */
  async function readJsonBody(ex: Exchange, limit: number): Promise<unknown> {
    if (!(await requireJsonContentType(ex))) return undefined
    const raw = await readBody(ex, limit)
    if (raw === null) return undefined
    try {
      return JSON.parse(raw.toString('utf8')) as unknown
    } catch (error) {
      await badRequest(ex, `Invalid JSON body: ${(error as Error).message.slice(0, 200)}`)
      return undefined
    }
  }

  function badRequest(ex: Exchange, message: string): Promise<void> {
    return send(ex, { status: 400, json: { message } })
  }

  function datasetNotFound(ex: Exchange, datasetUuid: string): Promise<void> {
    return send(ex, { status: 404, json: { message: `Dataset ${datasetUuid} not found` } })
  }

  // ---- lifecycle

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
      faults = validateFaults(next)
    },
    revokeClient(clientId: string): void {
      if (!clients.has(clientId)) throw new Error(`No client ${clientId} in the emulator's seed`)
      revokedClients.add(clientId)
    },
    reset(): void {
      const kept = { tokensIssued: state.tokensIssued, refreshTokensIssued: state.refreshTokensIssued }
      const { inFlight, openUploads } = state
      Object.assign(state, freshState(), kept, { inFlight, openUploads })
      loadSeedGroups()
      attempts = new Map()
      tokenWindow = []
      seenUploads.clear()
      revokedClients.clear()
    },
    close(): Promise<void> {
      closed = true
      for (const timer of pendingTimers) clearTimeout(timer)
      pendingTimers.clear()
      const workerStopped = offThread.close()
      return new Promise((resolve) => {
        server.close(() => resolve(workerStopped))
        for (const socket of sockets) socket.destroy()
        server.closeAllConnections()
      })
    }
  }
}

// ---- routing and validation (pure)

// Compiled once: routing runs on every request.
const GROUPS_ROUTE = /^\/v1\/datasets\/([^/]+)\/predictions-groups$/
const PREDICTIONS_ROUTE = /^\/v1\/predictions-groups\/([^/]+)\/predictions$/
const ANNOTATIONS_ROUTE = /^\/v1\/datasets\/([^/]+)\/annotations$/

function matchRoute(method: string, path: string): Route {
  const notFound = (): Route => {
    const hint = path.includes('//') ? ' (the path has "//": join the base URL and the path cleanly)' : ''
    return { endpoint: 'notFound', message: `No route for ${method} ${path}${hint}` }
  }
  if (path === TOKEN_PATH) return method === 'POST' ? { endpoint: 'token' } : notFound()
  if (path === '/v2/datasets') return method === 'GET' ? { endpoint: 'listDatasets' } : notFound()
  let match = GROUPS_ROUTE.exec(path)
  if (match?.[1]) {
    const datasetUuid = match[1].toLowerCase()
    if (method === 'GET') return { endpoint: 'listGroups', datasetUuid }
    if (method === 'POST') return { endpoint: 'createGroup', datasetUuid }
    return notFound()
  }
  match = PREDICTIONS_ROUTE.exec(path)
  if (match?.[1]) {
    return method === 'POST'
      ? { endpoint: 'uploadPrediction', groupUuid: match[1].toLowerCase() }
      : notFound()
  }
  match = ANNOTATIONS_ROUTE.exec(path)
  if (match?.[1]) {
    return method === 'GET'
      ? { endpoint: 'listAnnotations', datasetUuid: match[1].toLowerCase() }
      : notFound()
  }
  return notFound()
}

/** 5xx replies in the shapes gateways and apps really give: JSON, plain text and HTML. */
function serverErrorReply(status: 500 | 502 | 503 | 504): Reply {
  switch (status) {
    case 500:
      return { status, json: { message: 'Internal Server Error' } }
    case 502:
      return { status, text: 'Bad Gateway' }
    case 503:
      return { status, json: { message: 'Service Unavailable' } }
    case 504:
      return {
        status,
        text: '<html><head><title>504 Gateway Time-out</title></head><body><h1>504 Gateway Time-out</h1></body></html>',
        contentType: 'text/html'
      }
  }
}

function isMediaType(req: IncomingMessage, expected: string): boolean {
  const contentType = req.headers['content-type']
  return contentType !== undefined && contentType.split(';')[0]?.trim().toLowerCase() === expected
}

function parseBasicAuth(header: string | undefined): { clientId: string; clientSecret: string } | null {
  const match = header === undefined ? null : /^Basic +(\S+)$/i.exec(header)
  if (!match?.[1]) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return null
  try {
    // RFC 6749 2.3.1: id and secret are form-urlencoded before Basic encoding.
    return {
      clientId: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')),
      clientSecret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '))
    }
  } catch {
    return null
  }
}

function makeJwtLikeToken(clientId: string, lifetimeSeconds: number): string {
  const now = Math.floor(Date.now() / 1000)
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url')
  const payload = Buffer.from(
    JSON.stringify({ sub: clientId, iat: now, exp: now + lifetimeSeconds, jti: randomUUID() })
  ).toString('base64url')
  return `${header}.${payload}.${randomBytes(48).toString('base64url')}`
}

function uuidFromHash(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

function unknownKeys(value: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(value).filter((key) => !allowed.includes(key))
}

/** The create-group body rules; returns the 400 message, or null when the body is acceptable. */
export function checkCreateGroupBody(body: unknown, segmentation: boolean): string | null {
  const allowed = ['name', 'description', 'classMapping']
  if (!isRecord(body)) return 'Body must be a JSON object {"name", "description", "classMapping"?}'
  const extra = unknownKeys(body, allowed)
  if (extra.length > 0) return `Unknown field(s): ${extra.join(', ')}; allowed: ${allowed.join(', ')}`
  if (typeof body.name !== 'string' || body.name.trim() === '') return 'name must be a non-empty string'
  if (typeof body.description !== 'string') return 'description is required and must be a string'
  if (body.classMapping === undefined) {
    return segmentation
      ? 'classMapping is required when creating a predictions group in a segmentation dataset'
      : null
  }
  if (!Array.isArray(body.classMapping)) return 'classMapping must be a list of {"annotated", "predicted"?}'
  if (segmentation && body.classMapping.length === 0) {
    return 'classMapping must not be empty in a segmentation dataset'
  }
  for (const [i, entry] of body.classMapping.entries()) {
    if (!isRecord(entry)) return `classMapping[${i}] must be an object {"annotated", "predicted"?}`
    const extraInEntry = unknownKeys(entry, ['annotated', 'predicted'])
    if (extraInEntry.length > 0) return `classMapping[${i}] has unknown field(s): ${extraInEntry.join(', ')}`
    if (typeof entry.annotated !== 'string' || entry.annotated === '') {
      return `classMapping[${i}].annotated must be a non-empty string`
    }
    if (entry.predicted !== undefined && (typeof entry.predicted !== 'string' || entry.predicted === '')) {
      return `classMapping[${i}].predicted must be a non-empty string when present`
    }
  }
  return null
}

/** Classes of the upload that are not a `predicted` value of the group's class mapping, sorted. */
function unmappedClasses(group: Pick<StoredGroup, 'classMapping'>, classes: readonly string[]): string[] {
  if (group.classMapping === null) return []
  const mapped = new Set(
    group.classMapping.flatMap((entry) => (entry.predicted === undefined ? [] : [entry.predicted]))
  )
  return classes.filter((name) => !mapped.has(name)).sort()
}
