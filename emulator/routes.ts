// The endpoints: which route a request takes, and what each one checks and answers.
import { createHash, randomBytes, randomUUID } from 'node:crypto'

import { isRecord } from '../src/guards.js'

import { DEFAULT_TOKEN_LIFETIME_SECONDS, applyFault, countFault } from './faults.js'
import { badRequest, isMediaType, list, parseJson, readBody, requireJsonContentType, send } from './http.js'
import type { Exchange } from './http.js'
import type { SeedClassMappingEntry } from './seed.js'
import type { Dataset, StoredGroup, StoredPrediction } from './state.js'
import { inspectUploadBody } from './upload-body.js'

export const TOKEN_PATH = '/v1/auth/oauth/token'
/** Annotations per page unless `annotationsPageSize` says otherwise. */
export const ANNOTATIONS_PAGE_SIZE = 100
/** Groups per page unless `groupsPageSize` says otherwise. */
export const GROUPS_PAGE_SIZE = 100
/** Each annotated scene has this many annotations in the listing. */
const ANNOTATIONS_PER_SCENE = 2

export type Route =
  | { endpoint: 'token' }
  | { endpoint: 'listDatasets' }
  | { endpoint: 'listGroups' | 'createGroup' | 'listAnnotations'; datasetUuid: string }
  | { endpoint: 'uploadPrediction'; groupUuid: string }
  | { endpoint: 'notFound'; message: string }

const GROUPS_ROUTE = /^\/v1\/datasets\/([^/]+)\/predictions-groups$/
const PREDICTIONS_ROUTE = /^\/v1\/predictions-groups\/([^/]+)\/predictions$/
const ANNOTATIONS_ROUTE = /^\/v1\/datasets\/([^/]+)\/annotations$/

export function matchRoute(method: string, path: string): Route {
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

/** Answers the request; resolves when the emulator's own work on it is done. */
export async function dispatch(ex: Exchange, route: Route): Promise<void> {
  switch (route.endpoint) {
    case 'token':
      return handleToken(ex)
    case 'notFound':
      return send(ex, { status: 404, json: { message: route.message } })
  }
  if (!(await authenticate(ex))) return
  if (route.endpoint === 'uploadPrediction') return handleUpload(ex, route.groupUuid)
  if (await applyFault(ex, `${ex.method} ${ex.path}`, false)) return
  switch (route.endpoint) {
    case 'listDatasets':
      return send(ex, list(ex, [...ex.ctx.store.datasets.values()].map(describeDataset)))
    case 'listGroups':
      return handleListGroups(ex, route.datasetUuid)
    case 'createGroup':
      return handleCreateGroup(ex, route.datasetUuid)
    case 'listAnnotations':
      return handleListAnnotations(ex, route.datasetUuid)
  }
}

// ---- auth

async function handleToken(ex: Exchange): Promise<void> {
  const { store, faults } = ex.ctx
  store.state.tokenRequests++
  const limit = faults.tokenRateLimit
  if (limit) {
    const now = Date.now()
    store.tokenWindow = store.tokenWindow.filter((at) => at > now - limit.windowMs)
    if (store.tokenWindow.length >= limit.max) {
      countFault(ex, 'tokenRateLimit')
      const oldest = store.tokenWindow[0] ?? now
      const retryAfterSeconds = Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000))
      return send(ex, {
        status: 429,
        json: { message: 'Client authentication rate limit exceeded' },
        headers: { 'retry-after': String(retryAfterSeconds) }
      })
    }
    store.tokenWindow.push(now)
  }
  const refuse = (status: number, error: string, message: string): Promise<void> =>
    send(ex, { status, json: { error, message } })
  if (!isMediaType(ex.req, 'application/x-www-form-urlencoded')) {
    return refuse(400, 'invalid_request', 'The token request body must be application/x-www-form-urlencoded')
  }
  const body = await readBody(ex)
  if (body === null) return
  const form = new URLSearchParams(body.toString('utf8'))
  if (form.get('grant_type') !== 'client_credentials') {
    return refuse(400, 'unsupported_grant_type', 'grant_type must be client_credentials')
  }
  const scope = form.get('scope')
  if (scope !== null) store.state.tokenScopes.push(scope)
  const basic = parseBasicAuth(ex.req.headers.authorization)
  const clientId = form.get('client_id') ?? basic?.clientId
  const clientSecret = form.get('client_secret') ?? basic?.clientSecret
  if (!clientId || !clientSecret) {
    return refuse(
      400,
      'invalid_request',
      'client_id and client_secret are required (form body or HTTP Basic)'
    )
  }
  if (store.clients.get(clientId) !== clientSecret) {
    return refuse(401, 'invalid_client', 'Invalid client credentials')
  }
  if (store.revokedClients.has(clientId)) return refuse(401, 'invalid_client', 'Client revoked')
  const lifetimeSeconds = faults.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS
  const accessToken = makeJwtLikeToken(clientId, lifetimeSeconds)
  const refreshToken = randomBytes(32).toString('base64url')
  store.tokens.set(accessToken, { clientId, expiresAt: Date.now() + lifetimeSeconds * 1000 })
  store.state.tokensIssued.push(accessToken)
  store.state.refreshTokensIssued.push(refreshToken)
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
  const { store } = ex.ctx
  const header = ex.req.headers.authorization
  const match = header === undefined ? null : /^Bearer +(\S+)$/i.exec(header)
  const unauthorized = async (message: string): Promise<false> => {
    await send(ex, { status: 401, json: { message }, headers: { 'www-authenticate': 'Bearer' } })
    return false
  }
  if (!match?.[1]) return unauthorized('Missing header Authorization: Bearer <access token>')
  const token = store.tokens.get(match[1])
  if (!token) return unauthorized('Invalid access token')
  if (store.revokedClients.has(token.clientId)) return unauthorized('Access token revoked')
  if (Date.now() >= token.expiresAt) return unauthorized('Token expired')
  return true
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

// ---- datasets, groups and annotations

function describeDataset(dataset: Dataset) {
  return {
    uuid: dataset.uuid,
    name: dataset.name,
    segmentation: dataset.segmentation,
    sceneCount: dataset.scenes.length
  }
}

function datasetNotFound(ex: Exchange, datasetUuid: string): Promise<void> {
  return send(ex, { status: 404, json: { message: `Dataset ${datasetUuid} not found` } })
}

/** The `offset` query parameter (0 when absent); null after answering 400 for a bad one. */
async function offsetOf(ex: Exchange): Promise<number | null> {
  const raw = new URLSearchParams(ex.query).get('offset') ?? '0'
  if (/^\d+$/.test(raw)) return Number(raw)
  await badRequest(ex, `offset must be a non-negative integer, got ${JSON.stringify(raw)}`)
  return null
}

async function handleListGroups(ex: Exchange, datasetUuid: string): Promise<void> {
  const { store, settings } = ex.ctx
  if (!store.datasets.has(datasetUuid)) return datasetNotFound(ex, datasetUuid)
  const requested = await offsetOf(ex)
  if (requested === null) return
  const offset = settings.groupsIgnoreOffset ? 0 : requested
  const groups = (store.state.groups[datasetUuid] ?? [])
    .slice(offset, offset + settings.groupsPageSize)
    .map((group) => ({
      uuid: group.uuid,
      name: group.name,
      description: group.description,
      createdAt: group.createdAt
    }))
  return send(ex, list(ex, groups))
}

async function handleCreateGroup(ex: Exchange, datasetUuid: string): Promise<void> {
  const dataset = ex.ctx.store.datasets.get(datasetUuid)
  if (!dataset) return datasetNotFound(ex, datasetUuid)
  if (!(await requireJsonContentType(ex))) return
  const raw = await readBody(ex)
  if (raw === null) return
  const parsed = parseJson(raw)
  if ('error' in parsed) return badRequest(ex, parsed.error)
  const problem = checkCreateGroupBody(parsed.value, dataset.segmentation)
  if (problem !== null) return badRequest(ex, problem)
  const fields = parsed.value as { name: string; description: string; classMapping?: SeedClassMappingEntry[] }
  const group: StoredGroup = {
    uuid: randomUUID(),
    datasetUuid,
    name: fields.name,
    description: fields.description,
    classMapping: fields.classMapping ? fields.classMapping.map((entry) => ({ ...entry })) : null,
    createdAt: new Date().toISOString()
  }
  ex.ctx.store.addGroup(group)
  return send(ex, { status: 201, json: { data: group.uuid } })
}

async function handleListAnnotations(ex: Exchange, datasetUuid: string): Promise<void> {
  const { store, settings } = ex.ctx
  if (settings.annotationsListing === 'missing') {
    return send(ex, { status: 404, json: { message: `No route for ${ex.method} ${ex.path}` } })
  }
  const dataset = store.datasets.get(datasetUuid)
  if (!dataset) return datasetNotFound(ex, datasetUuid)
  const offset = await offsetOf(ex)
  if (offset === null) return
  const scenes = dataset.annotatedScenes
  const total = scenes.length * ANNOTATIONS_PER_SCENE
  const page = []
  for (let i = offset; i < Math.min(total, offset + settings.annotationsPageSize); i++) {
    const sceneUuid = scenes[Math.floor(i / ANNOTATIONS_PER_SCENE)] ?? ''
    const n = i % ANNOTATIONS_PER_SCENE
    const item: Record<string, unknown> = {
      uuid: uuidFromHash(`${datasetUuid}/${sceneUuid}/${n}`),
      sceneUuid,
      datasetUuid,
      annotationType: dataset.segmentation ? 'segmentation' : 'object-detection',
      className: n === 0 ? 'car' : 'pedestrian',
      createdAt: '2024-01-01T00:00:00.000Z'
    }
    if (settings.annotationsListing === 'no-scene-ids') delete item.sceneUuid
    page.push(item)
  }
  return send(ex, list(ex, page))
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
  if (segmentation && body.classMapping.length === 0)
    return 'classMapping must not be empty in a segmentation dataset'
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

// ---- uploads

async function handleUpload(ex: Exchange, groupUuid: string): Promise<void> {
  const { store, settings, faults } = ex.ctx
  if (!(await requireJsonContentType(ex))) return
  const raw = await readBody(ex, settings.maxUploadBytes)
  if (raw === null) return
  const parsed = parseJson(raw)
  const inspection = inspectUploadBody('error' in parsed ? undefined : parsed.value)
  if (await applyFault(ex, `${ex.method} ${ex.path}#${inspection.sceneForKey}`, true)) return
  if ('error' in parsed) return badRequest(ex, parsed.error)
  const group = store.groupsByUuid.get(groupUuid)
  if (!group) return send(ex, { status: 404, json: { message: `Predictions group ${groupUuid} not found` } })
  if (inspection.problem !== null || inspection.sceneUuid === null) {
    return badRequest(ex, inspection.problem ?? 'sceneUuid must be a non-empty string')
  }
  const sceneUuid = inspection.sceneUuid.toLowerCase()
  if (!store.datasets.get(group.datasetUuid)?.sceneSet.has(sceneUuid)) {
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
    sizeBytes: raw.length,
    sha256: raw.sha256,
    receivedAt: Date.now()
  }
  if (settings.keepBodies) {
    prediction.content = (parsed.value as { openlabelContent: unknown }).openlabelContent
  }
  store.addPrediction(prediction)
  if (ex.hangAfterStore) {
    // Stored, and the response never comes: the client times out and cannot know it succeeded.
    countFault(ex, 'storeThenHang')
    return
  }
  return send(ex, { status: 201, json: { data: prediction.uuid } })
}

/** Classes of the upload that are not a `predicted` value of the group's class mapping, sorted. */
function unmappedClasses(group: StoredGroup, classes: readonly string[]): string[] {
  if (group.classMapping === null) return []
  const mapped = new Set(
    group.classMapping.flatMap((entry) => (entry.predicted === undefined ? [] : [entry.predicted]))
  )
  return classes.filter((name) => !mapped.has(name)).sort()
}
