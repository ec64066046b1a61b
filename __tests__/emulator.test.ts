import { request as httpRequest } from 'node:http'

import { afterEach, describe, expect, it } from 'vitest'

import {
  ANNOTATIONS_PAGE_SIZE,
  MAX_UPLOAD_BYTES,
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  SAMPLE_SEG_DATASET_UUID,
  SAMPLE_SEG_GROUP_UUID,
  SAMPLE_SEG_SCENES,
  SteppedClock,
  decideFault,
  sampleSeed,
  startEmulator,
  validateFaults,
  validateSeed
} from '../emulator/server.js'
import type { Emulator, EmulatorFaults, EmulatorOptions } from '../emulator/server.js'

const OTHER_DATASET_SCENE = SAMPLE_SEG_SCENES[0] as string
const SCENE = SAMPLE_OD_SCENES[0] as string

const running: Emulator[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
})

async function start(options: Partial<EmulatorOptions> = {}): Promise<Emulator> {
  const emulator = await startEmulator({ seed: sampleSeed(), quiet: true, ...options })
  running.push(emulator)
  return emulator
}

function tokenForm(fields: Record<string, string>): RequestInit {
  return { method: 'POST', body: new URLSearchParams(fields) }
}

async function getToken(emulator: Emulator): Promise<string> {
  const response = await fetch(
    `${emulator.url}/v1/auth/oauth/token`,
    tokenForm({
      grant_type: 'client_credentials',
      client_id: SAMPLE_CLIENT_ID,
      client_secret: SAMPLE_CLIENT_SECRET
    })
  )
  expect(response.status).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

interface ApiCall {
  status: number
  body: unknown
  headers: Headers
}

async function api(
  emulator: Emulator,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  extra: RequestInit = {}
): Promise<ApiCall> {
  const headers: Record<string, string> = {}
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (body !== undefined) headers['content-type'] = 'application/json'
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...extra
  })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // plain-text bodies (some 5xx) stay text
  }
  return { status: response.status, body: parsed, headers: response.headers }
}

function openlabel(extra: Record<string, unknown> = {}): { openlabel: Record<string, unknown> } {
  return {
    openlabel: { metadata: { schema_version: '1.0.0' }, streams: {}, objects: {}, frames: {}, ...extra }
  }
}

function upload(
  emulator: Emulator,
  token: string,
  groupUuid: string,
  sceneUuid: string,
  content = openlabel()
) {
  return api(emulator, token, 'POST', `/v1/predictions-groups/${groupUuid}/predictions`, {
    sceneUuid,
    openlabelContent: content
  })
}

/** GETs `path?offset=N` from 0 on, `offset` advancing by each page's length, until an empty page. */
async function readPages(
  emulator: Emulator,
  token: string,
  path: string
): Promise<Record<string, string>[][]> {
  const pages: Record<string, string>[][] = []
  for (let offset = 0; pages.length < 50;) {
    const response = await api(emulator, token, 'GET', `${path}?offset=${offset}`)
    expect(response.status).toBe(200)
    const items = (response.body as { data: Record<string, string>[] }).data
    pages.push(items)
    if (items.length === 0) break
    offset += items.length
  }
  return pages
}

async function createGroup(
  emulator: Emulator,
  token: string,
  datasetUuid: string,
  body: unknown
): Promise<ApiCall> {
  return api(emulator, token, 'POST', `/v1/datasets/${datasetUuid}/predictions-groups`, body)
}

describe('token endpoint', () => {
  it('issues a unique JWT-looking bearer token for good form credentials', async () => {
    const emulator = await start()
    const first = await fetch(
      `${emulator.url}/v1/auth/oauth/token`,
      tokenForm({
        grant_type: 'client_credentials',
        client_id: SAMPLE_CLIENT_ID,
        client_secret: SAMPLE_CLIENT_SECRET
      })
    )
    expect(first.status).toBe(200)
    const body = (await first.json()) as Record<string, unknown>
    expect(body.token_type).toBe('bearer')
    expect(body.expires_in).toBe(3600)
    expect(typeof body.refresh_token).toBe('string')
    expect(body.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/)
    const second = await getToken(emulator)
    expect(second).not.toBe(body.access_token)
    expect(emulator.state.tokensIssued).toEqual([body.access_token, second])
    expect(emulator.state.tokenRequests).toBe(2)
  })

  it('accepts HTTP Basic client authentication', async () => {
    const emulator = await start()
    const basic = Buffer.from(`${SAMPLE_CLIENT_ID}:${SAMPLE_CLIENT_SECRET}`).toString('base64')
    const response = await fetch(`${emulator.url}/v1/auth/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'client_credentials' })
    })
    expect(response.status).toBe(200)
  })

  it('refuses a wrong secret and an unknown client with 401 "Invalid client credentials"', async () => {
    const emulator = await start()
    for (const [clientId, clientSecret] of [
      [SAMPLE_CLIENT_ID, 'wrong'],
      ['nobody', SAMPLE_CLIENT_SECRET]
    ] as const) {
      const response = await fetch(
        `${emulator.url}/v1/auth/oauth/token`,
        tokenForm({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret })
      )
      expect(response.status).toBe(401)
      expect(((await response.json()) as { message: string }).message).toBe('Invalid client credentials')
    }
    expect(emulator.state.tokensIssued).toEqual([])
  })

  it('answers 400 for a wrong or missing grant type, missing credentials and a JSON body', async () => {
    const emulator = await start()
    const url = `${emulator.url}/v1/auth/oauth/token`
    const credentials = { client_id: SAMPLE_CLIENT_ID, client_secret: SAMPLE_CLIENT_SECRET }
    expect((await fetch(url, tokenForm({ grant_type: 'password', ...credentials }))).status).toBe(400)
    expect((await fetch(url, tokenForm(credentials))).status).toBe(400)
    expect((await fetch(url, tokenForm({ grant_type: 'client_credentials' }))).status).toBe(400)
    const asJson = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', ...credentials })
    })
    expect(asJson.status).toBe(400)
    expect(((await asJson.json()) as { message: string }).message).toMatch(/x-www-form-urlencoded/)
  })

  it('rate-limits token requests beyond tokenRateLimit per window', async () => {
    const emulator = await start({ faults: { tokenRateLimit: { max: 2, windowMs: 60_000 } } })
    await getToken(emulator)
    await getToken(emulator)
    const limited = await fetch(
      `${emulator.url}/v1/auth/oauth/token`,
      tokenForm({
        grant_type: 'client_credentials',
        client_id: SAMPLE_CLIENT_ID,
        client_secret: SAMPLE_CLIENT_SECRET
      })
    )
    expect(limited.status).toBe(429)
    expect(((await limited.json()) as { message: string }).message).toBe(
      'Client authentication rate limit exceeded'
    )
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(emulator.state.faultsInjected.tokenRateLimit).toBe(1)
    expect(emulator.state.tokensIssued).toHaveLength(2)
  })
})

describe('bearer authentication on API endpoints', () => {
  it('answers 401 without a token and with an unknown one', async () => {
    const emulator = await start()
    const missing = await api(emulator, null, 'GET', '/v2/datasets')
    expect(missing.status).toBe(401)
    const unknown = await api(emulator, 'not-a-token', 'GET', '/v2/datasets')
    expect(unknown.status).toBe(401)
    expect(unknown.body).toEqual({ message: 'Invalid access token' })
    expect(emulator.state.authHeadersSeen).toBe(1)
  })

  it('answers 401 "Token expired" once the token lifetime has passed', async () => {
    const emulator = await start({ faults: { tokenLifetimeSeconds: 1 } })
    const response = await fetch(
      `${emulator.url}/v1/auth/oauth/token`,
      tokenForm({
        grant_type: 'client_credentials',
        client_id: SAMPLE_CLIENT_ID,
        client_secret: SAMPLE_CLIENT_SECRET
      })
    )
    const body = (await response.json()) as { access_token: string; expires_in: number }
    expect(body.expires_in).toBe(1)
    expect((await api(emulator, body.access_token, 'GET', '/v2/datasets')).status).toBe(200)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const expired = await api(emulator, body.access_token, 'GET', '/v2/datasets')
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual({ message: 'Token expired' })
  })
})

describe('revoking a client mid-run', () => {
  it('answers 401 to its live tokens and its later token requests; reset() restores it', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(200)

    emulator.revokeClient(SAMPLE_CLIENT_ID)

    const refused = await api(emulator, token, 'GET', '/v2/datasets')
    expect(refused).toMatchObject({ status: 401, body: { message: 'Access token revoked' } })
    const again = await fetch(
      `${emulator.url}/v1/auth/oauth/token`,
      tokenForm({
        grant_type: 'client_credentials',
        client_id: SAMPLE_CLIENT_ID,
        client_secret: SAMPLE_CLIENT_SECRET
      })
    )
    expect(again.status).toBe(401)
    expect(await again.json()).toEqual({ error: 'invalid_client', message: 'Client revoked' })
    expect(emulator.state.tokensIssued).toHaveLength(1)
    expect(() => emulator.revokeClient('no-such-client')).toThrow(/No client no-such-client/)

    emulator.reset()
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(200)
  })
})

describe('datasets and predictions groups', () => {
  it('lists datasets wrapped in data, or bare with listShape "bare"', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const wrapped = await api(emulator, token, 'GET', '/v2/datasets')
    expect(wrapped.status).toBe(200)
    const items = (wrapped.body as { data: { uuid: string; name: string }[] }).data
    expect(items.map((item) => item.uuid)).toEqual([SAMPLE_OD_DATASET_UUID, SAMPLE_SEG_DATASET_UUID])

    const bareEmulator = await start({ listShape: 'bare' })
    const bare = await api(bareEmulator, await getToken(bareEmulator), 'GET', '/v2/datasets')
    expect(Array.isArray(bare.body)).toBe(true)
    const groups = await api(
      bareEmulator,
      await getToken(bareEmulator),
      'GET',
      `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    )
    expect(groups.body).toEqual([
      expect.objectContaining({ uuid: SAMPLE_OD_GROUP_UUID, name: 'baseline-model' })
    ])
  })

  it('creates a group, lists it, and allows a duplicate name', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const created = await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, {
      name: 'run-1',
      description: 'ci'
    })
    expect(created.status).toBe(201)
    const uuid = (created.body as { data: string }).data
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/)
    const again = await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, {
      name: 'run-1',
      description: ''
    })
    expect(again.status).toBe(201)
    expect((again.body as { data: string }).data).not.toBe(uuid)

    const listed = await api(
      emulator,
      token,
      'GET',
      `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    )
    const groups = (listed.body as { data: Record<string, unknown>[] }).data
    expect(groups.map((group) => group.name)).toEqual(['baseline-model', 'run-1', 'run-1'])
    expect(groups[1]).toEqual({ uuid, name: 'run-1', description: 'ci', createdAt: expect.any(String) })
    expect(emulator.state.groups[SAMPLE_OD_DATASET_UUID]?.[1]).toMatchObject({ uuid, classMapping: null })
  })

  it('answers 404 for an unknown dataset', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const unknown = '00000000-0000-4000-8000-000000000000'
    const listed = await api(emulator, token, 'GET', `/v1/datasets/${unknown}/predictions-groups`)
    expect(listed.status).toBe(404)
    expect(listed.body).toEqual({ message: `Dataset ${unknown} not found` })
    expect((await createGroup(emulator, token, unknown, { name: 'x', description: '' })).status).toBe(404)
  })

  it.each([
    ['a missing description', { name: 'x' }, /description is required/],
    ['an empty name', { name: ' ', description: '' }, /name must be a non-empty string/],
    ['an unknown field', { name: 'x', description: '', owner: 'me' }, /Unknown field\(s\): owner/],
    ['a classMapping that is not a list', { name: 'x', description: '', classMapping: {} }, /must be a list/],
    [
      'a classMapping entry without annotated',
      { name: 'x', description: '', classMapping: [{ predicted: 'car' }] },
      /classMapping\[0\]\.annotated/
    ],
    [
      'a classMapping entry with an unknown key',
      { name: 'x', description: '', classMapping: [{ annotated: 'car', colour: 'red' }] },
      /classMapping\[0\] has unknown field\(s\): colour/
    ],
    ['a body that is a list', [], /must be a JSON object/]
  ])('refuses a group with %s (400)', async (_what, body, message) => {
    const emulator = await start()
    const response = await createGroup(emulator, await getToken(emulator), SAMPLE_OD_DATASET_UUID, body)
    expect(response.status).toBe(400)
    expect((response.body as { message: string }).message).toMatch(message)
    expect(emulator.state.groups[SAMPLE_OD_DATASET_UUID]).toHaveLength(1)
  })

  it('requires classMapping on a segmentation dataset and accepts it when given', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const without = await createGroup(emulator, token, SAMPLE_SEG_DATASET_UUID, {
      name: 'seg',
      description: ''
    })
    expect(without.status).toBe(400)
    expect((without.body as { message: string }).message).toMatch(/classMapping is required.*segmentation/)
    const withMapping = await createGroup(emulator, token, SAMPLE_SEG_DATASET_UUID, {
      name: 'seg',
      description: '',
      classMapping: [{ annotated: 'car', predicted: 'car' }, { annotated: 'sign' }]
    })
    expect(withMapping.status).toBe(201)
    expect(emulator.state.groups[SAMPLE_SEG_DATASET_UUID]?.at(-1)?.classMapping).toEqual([
      { annotated: 'car', predicted: 'car' },
      { annotated: 'sign' }
    ])
  })

  it('answers 415 without a JSON content type and 400 for invalid JSON', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const path = `${emulator.url}/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    const noType = await fetch(path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'x', description: '' })
    })
    expect(noType.status).toBe(415)
    const broken = await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, '{"name": ')
    expect(broken.status).toBe(400)
    expect((broken.body as { message: string }).message).toMatch(/^Invalid JSON body/)
  })
})

describe('uploading predictions', () => {
  it('stores a valid prediction and answers with its uuid', async () => {
    const emulator = await start({ keepBodies: true })
    const token = await getToken(emulator)
    const response = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    expect(response.status).toBe(201)
    const uuid = (response.body as { data: string }).data
    expect(emulator.state.predictions).toEqual([
      expect.objectContaining({
        uuid,
        groupUuid: SAMPLE_OD_GROUP_UUID,
        datasetUuid: SAMPLE_OD_DATASET_UUID,
        sceneUuid: SCENE,
        sizeBytes: expect.any(Number),
        content: openlabel()
      })
    ])
    expect(emulator.state.endpointCounts.uploadPrediction).toBe(1)
  })

  it('refuses geometries the predictions API does not support, in root and frame objects', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const withData = (where: 'root' | 'frame', objectData: Record<string, unknown>) => {
      const object = { name: 'o', type: 'car', object_data: objectData }
      return where === 'root'
        ? openlabel({ objects: { o: object } })
        : openlabel({
            objects: { o: { name: 'o', type: 'car' } },
            frames: { '0': { objects: { o: object } } }
          })
    }
    const poly = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE, withData('frame', { poly2d: [] }))
    expect(poly.status).toBe(400)
    expect((poly.body as { message: string }).message).toBe(
      'Unsupported geometry poly2d in openlabel.frames.0.objects.o.object_data: predictions support only bbox, cuboid, image'
    )
    const point = await upload(
      emulator,
      token,
      SAMPLE_OD_GROUP_UUID,
      SCENE,
      withData('root', { point3d: [] })
    )
    expect((point.body as { message: string }).message).toMatch(
      /^Unsupported geometry point3d in openlabel\.objects\.o/
    )
    expect(emulator.state.predictions).toEqual([])
    // The three geometries, OpenLABEL's non-geometric attributes, and keys OpenLABEL does not define pass.
    const accepted = withData('frame', {
      bbox: [],
      cuboid: [],
      image: [],
      text: [],
      num: [],
      boolean: [],
      vec: [],
      note: 1
    })
    expect((await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE, accepted)).status).toBe(201)
  })

  it('answers 404 for an unknown group', async () => {
    const emulator = await start()
    const response = await upload(
      emulator,
      await getToken(emulator),
      '00000000-0000-4000-8000-000000000000',
      SCENE
    )
    expect(response.status).toBe(404)
    expect(emulator.state.predictions).toEqual([])
  })

  it('answers 400 naming scene and dataset when the scene is not in the group dataset', async () => {
    const emulator = await start()
    const response = await upload(
      emulator,
      await getToken(emulator),
      SAMPLE_OD_GROUP_UUID,
      OTHER_DATASET_SCENE
    )
    expect(response.status).toBe(400)
    expect(response.body).toEqual({
      message: `Scene ${OTHER_DATASET_SCENE} is not part of dataset ${SAMPLE_OD_DATASET_UUID}`
    })
  })

  it.each([
    [
      'a wrong schema_version',
      { sceneUuid: SCENE, openlabelContent: { openlabel: { metadata: { schema_version: '0.9' } } } },
      /schema_version must be "1.0.0", got "0.9"/
    ],
    [
      'no metadata',
      { sceneUuid: SCENE, openlabelContent: { openlabel: {} } },
      /schema_version must be "1.0.0", got null/
    ],
    ['an OpenLABEL document instead of a request body', openlabel(), /Unknown field\(s\): openlabel/],
    [
      'openlabelContent without openlabel',
      { sceneUuid: SCENE, openlabelContent: openlabel().openlabel },
      /openlabelContent has unknown field/
    ],
    [
      'openlabel that is a string',
      { sceneUuid: SCENE, openlabelContent: { openlabel: '{}' } },
      /openlabel must be an object/
    ],
    ['a missing sceneUuid', { openlabelContent: openlabel() }, /sceneUuid must be a non-empty string/]
  ])('refuses a body with %s (400)', async (_what, body, message) => {
    const emulator = await start()
    const token = await getToken(emulator)
    const response = await api(
      emulator,
      token,
      'POST',
      `/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`,
      body
    )
    expect(response.status).toBe(400)
    expect((response.body as { message: string }).message).toMatch(message)
    expect(emulator.state.predictions).toEqual([])
  })

  it('refuses invalid JSON with 400', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const path = `/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`
    const response = await api(emulator, token, 'POST', path, '{"sceneUuid": "x", ')
    expect(response.status).toBe(400)
    expect((response.body as { message: string }).message).toMatch(/^Invalid JSON body/)
  })

  it('checks segmentation classes (ontology classifications) against the group class mapping', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const scene = SAMPLE_SEG_SCENES[1] as string
    const mapped = openlabel({
      ontologies: { '0': { classifications: { '0': '_background', '1': 'tree', '2': 'person' } } },
      objects: { a: { name: 'a', type: 'car' } }
    })
    expect((await upload(emulator, token, SAMPLE_SEG_GROUP_UUID, scene, mapped)).status).toBe(201)

    const unmapped = openlabel({
      ontologies: { '0': { classifications: { '0': '_background', '1': 'oak', '2': 'bus' } } },
      objects: { a: { name: 'a', type: 'segmentation' } }
    })
    const refused = await upload(emulator, token, SAMPLE_SEG_GROUP_UUID, scene, unmapped)
    expect(refused.status).toBe(400)
    const message = (refused.body as { message: string }).message
    expect(message).toContain(`class mapping of predictions group ${SAMPLE_SEG_GROUP_UUID}: bus, oak`)
    // 'traffic_sign' has no predicted value in the sample mapping, so it is not a predicted class
    const annotatedOnly = openlabel({ ontologies: { '0': { classifications: { '0': 'traffic_sign' } } } })
    expect((await upload(emulator, token, SAMPLE_SEG_GROUP_UUID, scene, annotatedOnly)).status).toBe(400)
    expect(emulator.state.predictions).toHaveLength(1)
  })

  it('applies the same rules to bodies of 1 MiB or more', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const scene = SAMPLE_SEG_SCENES[2] as string
    const padding = { '@padding': { type: 'camera', note: 'x'.repeat(1.5 * 1024 * 1024) } }
    const good = openlabel({ streams: padding, objects: { a: { name: 'a', type: 'tree' } } })
    const stored = await upload(emulator, token, SAMPLE_SEG_GROUP_UUID, scene, good)
    expect(stored.status).toBe(201)
    expect(emulator.state.predictions[0]?.sizeBytes).toBeGreaterThan(1.5 * 1024 * 1024)

    const unmapped = openlabel({
      streams: padding,
      ontologies: { '0': { classifications: { '0': 'oak' } } },
      objects: { a: { name: 'a', type: 'tree' } }
    })
    const refused = await upload(emulator, token, SAMPLE_SEG_GROUP_UUID, scene, unmapped)
    expect(refused.status).toBe(400)
    expect((refused.body as { message: string }).message).toContain(': oak;')

    const path = `/v1/predictions-groups/${SAMPLE_SEG_GROUP_UUID}/predictions`
    const broken = await api(
      emulator,
      token,
      'POST',
      path,
      JSON.stringify({ sceneUuid: scene, openlabelContent: good }).slice(0, -1)
    )
    expect(broken.status).toBe(400)
    expect((broken.body as { message: string }).message).toMatch(/^Invalid JSON body/)
    expect(emulator.state.predictions).toHaveLength(1)
  })

  it('stores both uploads of the same scene into one group and counts the duplicate', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const first = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    const second = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    expect([first.status, second.status]).toEqual([201, 201])
    expect(emulator.state.predictions.map((p) => p.sceneUuid)).toEqual([SCENE, SCENE])
    expect(emulator.state.duplicateUploads).toBe(1)
    expect(emulator.state.predictions[0]?.sha256).toBe(emulator.state.predictions[1]?.sha256)
  })

  it('answers 400 with the configured message for rejectScenes', async () => {
    const emulator = await start({ faults: { rejectScenes: { [SCENE]: 'Frame timestamps do not match' } } })
    const token = await getToken(emulator)
    const response = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    expect(response).toMatchObject({ status: 400, body: { message: 'Frame timestamps do not match' } })
    expect((await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SAMPLE_OD_SCENES[1] as string)).status).toBe(
      201
    )
  })

  it('answers 413 to a body declared larger than the limit without reading it', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${emulator.url}/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': String(MAX_UPLOAD_BYTES + 1)
        }
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
        req.destroy()
      })
      req.on('error', reject)
      req.flushHeaders()
    })
    expect(status).toBe(413)
  })

  it('answers 413 once a chunked body grows past maxUploadBytes, and stores nothing', async () => {
    const emulator = await start({ maxUploadBytes: 64 * 1024 })
    const token = await getToken(emulator)
    const big = { sceneUuid: SCENE, openlabelContent: openlabel({ padding: 'x'.repeat(100 * 1024) }) }
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${emulator.url}/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
      })
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      // Two chunks without Content-Length: the limit must be enforced while streaming.
      const text = JSON.stringify(big)
      req.write(text.slice(0, 1000))
      req.end(text.slice(1000))
    })
    expect(status).toBe(413)
    expect(emulator.state.predictions).toEqual([])
    const small = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    expect(small.status).toBe(201)
  })

  it('counts the peak number of concurrent uploads', async () => {
    const emulator = await start({ faults: { latencyMs: 150 } })
    const token = await getToken(emulator)
    const responses = await Promise.all(
      SAMPLE_OD_SCENES.slice(0, 7).map((scene) => upload(emulator, token, SAMPLE_OD_GROUP_UUID, scene))
    )
    expect(responses.map((r) => r.status)).toEqual(Array(7).fill(201))
    expect(emulator.state.maxInFlight).toBe(7)
    await expect.poll(() => emulator.state.inFlight).toBe(0)
    for (const scene of SAMPLE_OD_SCENES.slice(0, 3))
      await upload(emulator, token, SAMPLE_OD_GROUP_UUID, scene)
    expect(emulator.state.maxInFlight).toBe(7)
  })
})

describe('annotations, routing and headers', () => {
  it('pages annotations by offset until an empty page', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const all: { sceneUuid: string }[] = []
    let pages = 0
    for (let offset = 0; ; pages++) {
      const page = await api(
        emulator,
        token,
        'GET',
        `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/annotations?offset=${offset}`
      )
      expect(page.status).toBe(200)
      const items = (page.body as { data: { sceneUuid: string }[] }).data
      if (items.length === 0) break
      expect(items.length).toBeLessThanOrEqual(ANNOTATIONS_PAGE_SIZE)
      all.push(...items)
      offset += items.length
    }
    expect(pages).toBe(Math.ceil((SAMPLE_OD_SCENES.length * 2) / ANNOTATIONS_PAGE_SIZE))
    expect(new Set(all.map((item) => item.sceneUuid))).toEqual(new Set(SAMPLE_OD_SCENES))
    const bad = await api(
      emulator,
      token,
      'GET',
      `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/annotations?offset=-1`
    )
    expect(bad.status).toBe(400)
  })

  it('pages annotations by annotationsPageSize, naming only annotatedScenes', async () => {
    const seed = sampleSeed()
    const annotated = SAMPLE_OD_SCENES.slice(0, 7)
    seed.datasets[0]!.annotatedScenes = [...annotated]
    const emulator = await start({ seed, annotationsPageSize: 3 })
    const token = await getToken(emulator)
    const pages = await readPages(emulator, token, `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/annotations`)
    expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 3, 2, 0])
    expect(new Set(pages.flat().map((item) => item.sceneUuid))).toEqual(new Set(annotated))
  })

  it('annotationsListing "missing" answers 404; "no-scene-ids" leaves sceneUuid out', async () => {
    const missing = await start({ annotationsListing: 'missing' })
    const path = `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/annotations?offset=0`
    expect((await api(missing, await getToken(missing), 'GET', path)).status).toBe(404)
    const anonymous = await start({ annotationsListing: 'no-scene-ids' })
    const page = await api(anonymous, await getToken(anonymous), 'GET', path)
    const items = (page.body as { data: Record<string, unknown>[] }).data
    expect(items.length).toBeGreaterThan(0)
    for (const item of items) {
      expect(item).not.toHaveProperty('sceneUuid')
      expect(item.uuid).toMatch(/^[0-9a-f-]{36}$/)
    }
  })

  it('validateSeed refuses an annotated scene that is not a scene of the dataset', () => {
    const seed = sampleSeed()
    seed.datasets[0]!.annotatedScenes = [SAMPLE_SEG_SCENES[0]!]
    expect(() => validateSeed(seed, 'seed.json')).toThrow(
      /datasets\[0\]\.annotatedScenes\[0\] must be one of/
    )
  })

  it('pages predictions groups by offset until an empty page', async () => {
    const emulator = await start({ groupsPageSize: 2 })
    const token = await getToken(emulator)
    for (const name of ['a', 'b', 'c', 'd']) {
      await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, { name, description: '' })
    }
    const pages = await readPages(
      emulator,
      token,
      `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    )
    expect(pages.map((page) => page.map((group) => group.name))).toEqual([
      ['baseline-model', 'a'],
      ['b', 'c'],
      ['d'],
      []
    ])
    expect(
      emulator.state.log
        .filter((e) => e.method === 'GET' && e.path.endsWith('/predictions-groups'))
        .map((e) => e.query)
    ).toEqual(['offset=0', 'offset=2', 'offset=4', 'offset=5'])
  })

  it('groupsIgnoreOffset answers the first page whatever the offset', async () => {
    const emulator = await start({ groupsPageSize: 1, groupsIgnoreOffset: true })
    const token = await getToken(emulator)
    await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, { name: 'second', description: '' })
    const path = `/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    const first = await api(emulator, token, 'GET', `${path}?offset=0`)
    const later = await api(emulator, token, 'GET', `${path}?offset=1`)
    expect(later.body).toEqual(first.body)
    expect((first.body as { data: { name: string }[] }).data.map((g) => g.name)).toEqual(['baseline-model'])
  })

  it('answers 404 JSON for unknown paths, wrong methods and a doubled slash', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    const doubled = await api(
      emulator,
      token,
      'GET',
      `/v1//datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups`
    )
    expect(doubled.status).toBe(404)
    expect((doubled.body as { message: string }).message).toMatch(/join the base URL and the path cleanly/)
    expect((await api(emulator, token, 'DELETE', '/v2/datasets')).status).toBe(404)
    expect((await api(emulator, token, 'GET', '/v1/auth/oauth/token')).status).toBe(404)
    expect((await api(emulator, token, 'GET', '/v2/datasets/')).status).toBe(404)
    expect(emulator.state.endpointCounts.notFound).toBe(4)
  })

  it('sends sunset-date on API responses, not on the token endpoint', async () => {
    const emulator = await start({ faults: { sunsetDate: '2030-01-01' } })
    const token = await fetch(
      `${emulator.url}/v1/auth/oauth/token`,
      tokenForm({
        grant_type: 'client_credentials',
        client_id: SAMPLE_CLIENT_ID,
        client_secret: SAMPLE_CLIENT_SECRET
      })
    )
    expect(token.headers.get('sunset-date')).toBeNull()
    const accessToken = ((await token.json()) as { access_token: string }).access_token
    const response = await api(emulator, accessToken, 'GET', '/v2/datasets')
    expect(response.headers.get('sunset-date')).toBe('2030-01-01')
  })

  it('applies latencyMs to the token endpoint and API calls', async () => {
    const emulator = await start({ faults: { latencyMs: 120 } })
    const startedAt = performance.now()
    const token = await getToken(emulator)
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(115)
    const apiStartedAt = performance.now()
    await api(emulator, token, 'GET', '/v2/datasets')
    expect(performance.now() - apiStartedAt).toBeGreaterThanOrEqual(115)
  })
})

describe('faults', () => {
  type Outcome = number | 'reset' | 'timeout'

  /** Uploads each scene with up to 6 attempts, all scenes concurrently; returns outcomes per scene. */
  async function uploadWithRetries(
    emulator: Emulator,
    scenes: readonly string[]
  ): Promise<Record<string, Outcome[]>> {
    const token = await getToken(emulator)
    const outcomes: Record<string, Outcome[]> = {}
    await Promise.all(
      scenes.map(async (scene) => {
        const seen: Outcome[] = (outcomes[scene] = [])
        for (let attempt = 0; attempt < 6; attempt++) {
          try {
            const response = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, scene)
            seen.push(response.status)
            if (response.status === 201) return
          } catch {
            seen.push('reset')
          }
        }
      })
    )
    return outcomes
  }

  const mixedFaults: EmulatorFaults = { seed: 7, rate429: 0.25, rate5xx: 0.2, dropRate: 0.1 }

  it('gives the same faults per request key run after run, under concurrency', async () => {
    const first = await start({ faults: mixedFaults })
    const second = await start({ faults: { ...mixedFaults, latencyMs: 5 } })
    const scenes = SAMPLE_OD_SCENES
    const [a, b] = await Promise.all([
      uploadWithRetries(first, scenes),
      uploadWithRetries(second, [...scenes].reverse())
    ])
    expect(b).toEqual(a)
    const all = Object.values(a).flat()
    expect(all).toContain(429)
    expect(all).toContain('reset')
    expect(all.some((outcome) => typeof outcome === 'number' && outcome >= 500)).toBe(true)
    expect(first.state.faultsInjected).toEqual(second.state.faultsInjected)
    expect(first.state.faultsInjected.rate429).toBe(all.filter((outcome) => outcome === 429).length)
    expect(first.state.faultsInjected.drop).toBe(all.filter((outcome) => outcome === 'reset').length)

    // reset() restarts the attempt counters, so the same run gives the same faults again
    first.reset()
    expect(await uploadWithRetries(first, scenes)).toEqual(a)

    const otherSeed = await start({ faults: { ...mixedFaults, seed: 8 } })
    expect(await uploadWithRetries(otherSeed, scenes)).not.toEqual(a)
  })

  it('logs each fault with its key and attempt, matching decideFault', async () => {
    const emulator = await start({ faults: mixedFaults })
    await uploadWithRetries(emulator, SAMPLE_OD_SCENES.slice(0, 8))
    const uploads = emulator.state.log.filter((entry) => entry.key?.includes('#'))
    expect(uploads.length).toBeGreaterThan(8)
    for (const entry of uploads) {
      const decision = decideFault(mixedFaults, entry.key as string, entry.attempt as number, true)
      const expected = decision.kind === 'none' ? undefined : decision.kind
      expect(entry.fault).toBe(expected)
      if (decision.kind === 'http5xx') expect(entry.status).toBe(decision.status)
      if (decision.kind === 'drop') expect(entry.status).toBe(0)
    }
  })

  it('gives 5xx bodies as JSON, plain text and HTML', async () => {
    const emulator = await start({ faults: { rate5xx: 1 } })
    const token = await getToken(emulator)
    const seen = new Map<number, unknown>()
    for (const scene of SAMPLE_OD_SCENES) {
      const response = await upload(emulator, token, SAMPLE_OD_GROUP_UUID, scene)
      seen.set(response.status, response.body)
    }
    expect([...seen.keys()].sort()).toEqual([500, 502, 503, 504])
    expect(seen.get(502)).toBe('Bad Gateway')
    expect(seen.get(503)).toEqual({ message: 'Service Unavailable' })
    expect(String(seen.get(504))).toMatch(/^<html>/)
    expect(emulator.state.predictions).toEqual([])
  })

  it.each([
    [undefined, (value: string | null) => expect(value).toBe('1')],
    [3, (value: string | null) => expect(value).toBe('3')],
    ['none' as const, (value: string | null) => expect(value).toBeNull()],
    [
      'http-date' as const,
      (value: string | null) => {
        const ahead = Date.parse(value ?? '') - Date.now()
        expect(ahead).toBeGreaterThan(0)
        expect(ahead).toBeLessThanOrEqual(2000)
      }
    ]
  ])('sends Retry-After %s on 429s', async (retryAfter, check) => {
    const faults: EmulatorFaults = { rate429: 1 }
    if (retryAfter !== undefined) faults.retryAfter = retryAfter
    const emulator = await start({ faults })
    const response = await api(emulator, await getToken(emulator), 'GET', '/v2/datasets')
    expect(response.status).toBe(429)
    check(response.headers.get('retry-after'))
  })

  it('delays slow responses by slowMs', async () => {
    const emulator = await start({ faults: { slowRate: 1, slowMs: 200 } })
    const token = await getToken(emulator)
    const startedAt = performance.now()
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(200)
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(195)
    expect(emulator.state.faultsInjected.slow).toBe(1)
  })

  it('storeThenHang stores the prediction and never answers', async () => {
    const emulator = await start({ faults: { storeThenHangRate: 1 } })
    const token = await getToken(emulator)
    const attempt = upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    await expect.poll(() => emulator.state.predictions.length).toBe(1)
    const timedOut = fetch(`${emulator.url}/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sceneUuid: SCENE, openlabelContent: openlabel() }),
      signal: AbortSignal.timeout(300)
    })
    await expect(timedOut).rejects.toThrow()
    expect(emulator.state.predictions.map((p) => p.sceneUuid)).toEqual([SCENE, SCENE])
    expect(emulator.state.faultsInjected.storeThenHang).toBe(2)
    expect(emulator.state.inFlight).toBeGreaterThanOrEqual(1) // the first upload still hangs

    // close() ends although a socket hangs (else the test times out), and the hung client sees the end
    await emulator.close()
    await expect(attempt).rejects.toThrow()
  })

  it('counts a slow upload in flight until its answer is sent, though the client went away before', async () => {
    const clock = new SteppedClock()
    const emulator = await start({ clock, faults: { slowRate: 1, slowMs: 700 } })
    const token = await getToken(emulator) // no latency: answered without the clock moving
    const client = new AbortController()
    const gaveUp = fetch(`${emulator.url}/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sceneUuid: SCENE, openlabelContent: openlabel() }),
      signal: client.signal
    })
    await expect.poll(() => clock.deadlines).toEqual([700])
    client.abort()
    await expect(gaveUp).rejects.toThrow()
    // The exchange closed with the client; the emulator still works on its slow answer.
    await expect.poll(() => emulator.state.openUploads).toBe(0)
    expect(emulator.state.inFlight).toBe(1)
    clock.set(700)
    await expect.poll(() => emulator.state.inFlight).toBe(0)
    expect(emulator.state).toMatchObject({ maxInFlight: 1, maxOpenUploads: 1 })
  })

  it('close() returns promptly while a slow response is pending', async () => {
    const emulator = await start({ faults: { slowRate: 1, slowMs: 60_000 } })
    const token = await getToken(emulator)
    const pending = api(emulator, token, 'GET', '/v2/datasets')
    await expect.poll(() => emulator.state.faultsInjected.slow).toBe(1)
    // Waiting for the answer would outlast the test's timeout.
    await emulator.close()
    await expect(pending).rejects.toThrow()
  })

  it('does not inject faults on the token endpoint', async () => {
    const emulator = await start({ faults: { rate429: 0.5, rate5xx: 0.5 } })
    for (let i = 0; i < 5; i++) await getToken(emulator)
    expect(emulator.state.faultsInjected.rate429 + emulator.state.faultsInjected.http5xx).toBe(0)
  })

  it('setFaults changes faults of a running emulator', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(200)
    emulator.setFaults({ rate429: 1 })
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(429)
    expect(() => emulator.setFaults({ rate429: 2 })).toThrow(/rate429.*from 0 to 1/)
  })
})

describe('reset and validation', () => {
  it('reset() clears predictions, created groups and counters but keeps seed groups and tokens', async () => {
    const emulator = await start()
    const token = await getToken(emulator)
    await createGroup(emulator, token, SAMPLE_OD_DATASET_UUID, { name: 'temp', description: '' })
    await upload(emulator, token, SAMPLE_OD_GROUP_UUID, SCENE)
    emulator.reset()
    expect(emulator.state.predictions).toEqual([])
    expect(emulator.state.requests).toBe(0)
    expect(emulator.state.log).toEqual([])
    expect(emulator.state.groups[SAMPLE_OD_DATASET_UUID]?.map((group) => group.uuid)).toEqual([
      SAMPLE_OD_GROUP_UUID
    ])
    expect(emulator.state.tokensIssued).toEqual([token])
    expect((await api(emulator, token, 'GET', '/v2/datasets')).status).toBe(200)
  })

  it('validateSeed names the bad field', () => {
    const seed = sampleSeed()
    expect(() => validateSeed({ ...seed, clients: [] }, 'seed.json')).toThrow(/^seed\.json: "clients"/)
    const badScene = sampleSeed()
    badScene.datasets[0]?.scenes.push('not-a-uuid')
    expect(() => validateSeed(badScene, 'seed.json')).toThrow(/datasets\[0\]\.scenes\[20\] must be a UUID/)
    const repeated = sampleSeed()
    repeated.datasets[1]?.scenes.push(SCENE)
    expect(() => validateSeed(repeated)).toThrow(/repeats UUID/)
    expect(() => validateSeed(sampleSeed())).not.toThrow()
  })

  it('validateFaults refuses unknown fields, bad rates and shares above 1', async () => {
    expect(() => validateFaults({ rate249: 0.1 })).toThrow(/unknown field\(s\) rate249/)
    expect(() => validateFaults({ dropRate: -0.1 })).toThrow(/dropRate/)
    expect(() => validateFaults({ rate429: 0.6, rate5xx: 0.6 })).toThrow(/must not exceed 1/)
    expect(() => validateFaults({ retryAfter: 'soon' })).toThrow(/retryAfter/)
    expect(() => validateFaults({ tokenRateLimit: { max: 1 } })).toThrow(/tokenRateLimit/)
    await expect(startEmulator({ seed: sampleSeed(), faults: { latencyMs: -1 } })).rejects.toThrow(
      /latencyMs/
    )
  })
})
