import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { KognicApiError, KognicAuthError, KognicCancelledError, KognicClient } from '../src/kognic/client.js'
import type { KognicClientOptions } from '../src/kognic/client.js'
import {
  ANNOTATIONS_TIME_LIMIT_MS,
  ANNOTATION_PAGES_AT_ONCE,
  MAX_LIST_PAGES,
  MAX_RETRY_WAIT_MS,
  MAX_WAIT_PER_REQUEST_MS
} from '../src/kognic/decisions.js'
import { runPool } from '../src/pool.js'
import type { Clock } from '../src/types.js'
import {
  delay,
  FastClock,
  ManualClock,
  RecordingLogger,
  sendJson,
  startServer,
  startTokenServer
} from './kognic-fixtures.js'
import type { ReceivedRequest, Route, TestServer } from './kognic-fixtures.js'

const SECRET = 'client-secret-do-not-print'
const DATASET = 'ds-0001'
const GROUP = 'group-0001'
const UPLOAD_PATH = `/v1/predictions-groups/${GROUP}/predictions`
const cleanups: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Setup {
  client: KognicClient
  api: TestServer
  auth: TestServer & { issued: string[] }
  logger: RecordingLogger
  clock: Clock
}

async function setup(
  route: Route,
  options: Partial<KognicClientOptions> & { expiresIn?: number; tokenDelayMs?: number } = {}
): Promise<Setup> {
  const { expiresIn, tokenDelayMs, ...clientOptions } = options
  const api = await startServer(route)
  cleanups.push(() => api.close())
  const auth = await startTokenServer({
    expiresIn: expiresIn ?? 3600,
    ...(tokenDelayMs === undefined ? {} : { delayMs: tokenDelayMs })
  })
  cleanups.push(() => auth.close())
  const logger = new RecordingLogger()
  const clock = clientOptions.clock ?? new ManualClock()
  const client = new KognicClient({
    apiUrl: api.url,
    authUrl: auth.url,
    clientId: 'client-id',
    clientSecret: SECRET,
    maxRetries: 3,
    requestTimeoutMs: 2000,
    logger,
    clock,
    ...clientOptions
  })
  cleanups.push(() => client.close())
  return { client, api, auth, logger, clock }
}

async function rejection<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T
): Promise<T> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(type)
  return error as T
}

/** Answers 201 with a prediction uuid numbered by arrival. */
function created(res: ServerResponse, request: ReceivedRequest, index: number): void {
  sendJson(res, 201, { data: `prediction-${index}` })
  void request
}

/** A route that answers the listed statuses in order, then 201. */
function sequence(...answers: (number | ((res: ServerResponse) => void))[]): Route {
  let index = 0
  return (request, res) => {
    const answer = answers[index++]
    if (answer === undefined) created(res, request, index)
    else if (typeof answer === 'number') sendJson(res, answer, { message: `status ${answer}` })
    else answer(res)
  }
}

describe('KognicClient calls', () => {
  it('lists predictions groups with a bearer token', async () => {
    const { client, api } = await setup((_request, res) =>
      sendJson(res, 200, { data: [{ uuid: 'g1', name: 'baseline', createdAt: 'x' }] })
    )
    // The items as Kognic gives them: reading them is findGroup's.
    expect(await client.listPredictionsGroups(DATASET)).toEqual([
      { uuid: 'g1', name: 'baseline', createdAt: 'x' }
    ])
    expect(api.requests[0]?.method).toBe('GET')
    // The server ignores offset: the second page repeats the first, which ends the listing.
    expect(api.requests.map((r) => r.path)).toEqual(
      [0, 1].map((offset) => `/v1/datasets/${DATASET}/predictions-groups?offset=${offset}`)
    )
    expect(api.requests[0]?.headers.authorization).toBe('Bearer token-1')
    expect(api.requests[0]?.headers['user-agent']).toBe('kognic-upload-predictions')
  })

  it('creates a group with name, description and class mapping as JSON', async () => {
    const { client, api } = await setup((_request, res) => sendJson(res, 201, { data: 'new-group' }))
    const uuid = await client.createPredictionsGroup(DATASET, {
      name: 'run 42',
      description: 'from CI',
      classMapping: [{ annotated: 'oak', predicted: 'tree' }, { annotated: '_background' }]
    })
    expect(uuid).toBe('new-group')
    expect(api.requests[0]?.method).toBe('POST')
    expect(api.requests[0]?.headers['content-type']).toBe('application/json')
    expect(JSON.parse(api.requests[0]?.body ?? '')).toEqual({
      name: 'run 42',
      description: 'from CI',
      classMapping: [{ annotated: 'oak', predicted: 'tree' }, { annotated: '_background' }]
    })
  })

  it('leaves classMapping out when there is none', async () => {
    const { client, api } = await setup((_request, res) => sendJson(res, 201, { data: { uuid: 'g2' } }))
    expect(await client.createPredictionsGroup(DATASET, { name: 'n', description: 'd' })).toBe('g2')
    expect(JSON.parse(api.requests[0]?.body ?? '')).toEqual({ name: 'n', description: 'd' })
  })

  it('uploads the given bytes as-is with content-type application/json', async () => {
    const { client, api } = await setup((request, res) => created(res, request, 7))
    const body = Buffer.from('{"sceneUuid":"s1",  "openlabelContent":{"openlabel":{}}}\n')
    const result = await client.uploadPrediction(GROUP, body)
    expect(result).toEqual({ predictionUuid: 'prediction-7', attempts: 1, possibleDuplicate: false })
    expect(api.requests[0]?.path).toBe(UPLOAD_PATH)
    expect(api.requests[0]?.headers['content-type']).toBe('application/json')
    expect(api.requests[0]?.body).toBe(body.toString())
    expect(client.stats()).toEqual({
      requests: 1,
      retries: 0,
      tokenRequests: 1,
      possibleDuplicates: 0,
      waitedMs: 0
    })
  })

  it('works with docs-style base URLs ending in /v1/ (no /v1/v1, no //)', async () => {
    const server = await startServer((request, res) => {
      if (request.path === '/v1/auth/oauth/token') sendJson(res, 200, { access_token: 'tok', expires_in: 60 })
      else if (request.path === UPLOAD_PATH) created(res, request, 1)
      else sendJson(res, 404, { message: `no route ${request.path}` })
    })
    cleanups.push(() => server.close())
    const client = new KognicClient({
      apiUrl: `${server.url}/v1/`,
      authUrl: `${server.url}/v1/`,
      clientId: 'c',
      clientSecret: 's',
      maxRetries: 0,
      requestTimeoutMs: 1000,
      logger: new RecordingLogger(),
      clock: new ManualClock()
    })
    cleanups.push(() => client.close())
    await client.uploadPrediction(GROUP, '{}')
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/auth/oauth/token', UPLOAD_PATH])
  })

  it('a 2xx without a prediction id is a failure flagged as a possible duplicate, and counted', async () => {
    const { client } = await setup((_request, res) => sendJson(res, 201, { ok: true }))
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error.message).toBe(
      `POST ${UPLOAD_PATH}: expected {"data": "<uuid>"} or {"data": {"uuid": …}}, got "{"ok":true}" ` +
        '(Kognic accepted the request, so it may have been stored: check before uploading it again)'
    )
    expect(error).toMatchObject({ status: 201, retryable: false, possibleDuplicate: true, attempts: 1 })
    expect(client.stats().possibleDuplicates).toBe(1)
  })

  it('a 2xx whose body breaks off is flagged as a possible duplicate', async () => {
    const { client } = await setup(
      (_request, res) => {
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' })
        res.write('{"data": "pred')
        setTimeout(() => res.socket?.destroy(), 20)
      },
      { maxRetries: 0 }
    )
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error).toMatchObject({ possibleDuplicate: true, attempts: 1 })
    expect(error.message).toMatch(/may have stored it/)
    expect(client.stats().possibleDuplicates).toBe(1)
  })

  it('rejects bad settings up front', () => {
    const base = {
      apiUrl: 'http://127.0.0.1:1',
      authUrl: 'http://127.0.0.1:1',
      clientId: 'c',
      clientSecret: 's',
      maxRetries: 1,
      requestTimeoutMs: 100,
      logger: new RecordingLogger()
    }
    expect(() => new KognicClient({ ...base, maxRetries: -1 })).toThrow(/maxRetries must be/)
    expect(() => new KognicClient({ ...base, requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs must be/)
  })
})

describe('KognicClient retries', () => {
  it.each([
    [429, false],
    [500, true],
    [502, true],
    [503, true],
    [504, true]
  ])('retries %i, then succeeds (a write answered 5xx may have been stored: %s)', async (status, flagged) => {
    const { client, api, logger, clock } = await setup(sequence(status))
    const result = await client.uploadPrediction(GROUP, '{}')
    expect(result).toEqual({ predictionUuid: 'prediction-2', attempts: 2, possibleDuplicate: flagged })
    expect(api.requests).toHaveLength(2)
    expect(client.stats()).toMatchObject({ requests: 2, retries: 1, possibleDuplicates: flagged ? 1 : 0 })
    const sleeps = (clock as ManualClock).sleeps
    expect(sleeps).toEqual([375]) // first retry: 250 + 250·0.5
    // One short line at the normal level per retry.
    const paused = status === 429 ? ', every request paused' : ''
    expect(logger.at('info')).toEqual([
      `Retrying POST ${UPLOAD_PATH} after ${status} (attempt 2 of 4) in 0.4s${paused}`
    ])
  })

  it('honours Retry-After in seconds', async () => {
    const { client, clock } = await setup(
      sequence((res) => sendJson(res, 503, { message: 'busy' }, { 'retry-after': '4' }))
    )
    await client.uploadPrediction(GROUP, '{}')
    expect((clock as ManualClock).sleeps).toEqual([4000])
  })

  it.each([
    [400, 'Bad Request', 'Scene 5f1c is not part of dataset ds-0001'],
    [404, 'Not Found', 'Predictions group group-0001 not found'],
    [422, 'Unprocessable Entity', 'openlabelContent.openlabel.frames is required']
  ])('does not retry %i and shows the server message', async (status, text, message) => {
    const { client, api, clock } = await setup((_request, res) =>
      sendJson(res, status, { message, statusCode: status })
    )
    const error = await rejection(client.uploadPrediction(GROUP, '{"secret-body": 1}'), KognicApiError)
    expect(error.message).toBe(`${message} (${status} ${text} from POST ${UPLOAD_PATH})`)
    expect(error).toMatchObject({ status, attempts: 1, retryable: false, possibleDuplicate: false })
    expect(error.endpoint).toBe(`POST ${UPLOAD_PATH}`)
    expect(api.requests).toHaveLength(1)
    expect((clock as ManualClock).sleeps).toEqual([])
  })

  it('shows a plain-text error body when there is no JSON message', async () => {
    const { client } = await setup((_request, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('Request body too large\r\n')
    })
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error.message).toBe(`Request body too large (413 Payload Too Large from POST ${UPLOAD_PATH})`)
  })

  it('gives up after maxRetries with attempts = maxRetries + 1', async () => {
    const { client, api } = await setup((_request, res) => sendJson(res, 503, { message: 'maintenance' }), {
      maxRetries: 2
    })
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error).toMatchObject({ status: 503, attempts: 3, retryable: true, possibleDuplicate: true })
    expect(error.message).toBe(
      'maintenance (an attempt may have reached Kognic before it failed: Kognic may have stored it; check ' +
        `before uploading it again) (503 Service Unavailable from POST ${UPLOAD_PATH} after 3 attempts)`
    )
    expect(api.requests).toHaveLength(3)
    expect(client.stats()).toMatchObject({ requests: 3, retries: 2 })
  })

  it('with maxRetries 0 tries exactly once', async () => {
    const { client, api } = await setup(sequence(500), { maxRetries: 0 })
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error.attempts).toBe(1)
    expect(api.requests).toHaveLength(1)
  })

  it('retries a refused connection; nothing was sent, so no duplicate', async () => {
    const auth = await startTokenServer({ expiresIn: 3600 })
    cleanups.push(() => auth.close())
    const closed = await startServer(() => {})
    await closed.close()
    const clock = new ManualClock()
    const client = new KognicClient({
      apiUrl: closed.url,
      authUrl: auth.url,
      clientId: 'c',
      clientSecret: SECRET,
      maxRetries: 2,
      requestTimeoutMs: 2000,
      logger: new RecordingLogger(),
      clock
    })
    cleanups.push(() => client.close())
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error).toMatchObject({ attempts: 3, retryable: true, possibleDuplicate: false })
    expect(error.status).toBeUndefined()
    expect(error.message).toMatch(/^ECONNREFUSED/)
    expect(error.message).toMatch(
      new RegExp(`Check api-url and that the runner can reach it \\(POST ${UPLOAD_PATH} after 3 attempts\\)$`)
    )
    expect(error.message).not.toMatch(/timed out|in time|may have stored/)
    expect(clock.sleeps).toHaveLength(2)
    expect(client.stats().possibleDuplicates).toBe(0)
  })
})

describe('KognicClient possible duplicates', () => {
  it('marks an upload retried after a timeout with the body sent', async () => {
    let calls = 0
    const { client, api } = await setup(
      (request, res) => {
        calls++
        // The first upload is read in full and never answered: the client cannot know if it was stored.
        if (calls === 1) return
        created(res, request, calls)
      },
      { requestTimeoutMs: 150 }
    )
    const result = await client.uploadPrediction(GROUP, '{"x":1}')
    expect(result).toEqual({ predictionUuid: 'prediction-2', attempts: 2, possibleDuplicate: true })
    expect(api.requests.map((r) => r.body)).toEqual(['{"x":1}', '{"x":1}'])
    expect(client.stats()).toMatchObject({ retries: 1, possibleDuplicates: 1 })
  })

  it('marks an upload retried after the connection dropped once the body arrived', async () => {
    let calls = 0
    const { client, logger } = await setup((request, res) => {
      calls++
      if (calls === 1) res.socket?.destroy()
      else created(res, request, calls)
    })
    const result = await client.uploadPrediction(GROUP, '{}')
    expect(result.possibleDuplicate).toBe(true)
    expect(result.attempts).toBe(2)
    expect(logger.at('info')[0]).toMatch(/Retrying POST .* after (UND_ERR_SOCKET|ECONNRESET)/)
  })

  it('keeps the mark when the retries run out, and says why', async () => {
    const { client } = await setup(() => {}, { requestTimeoutMs: 60, maxRetries: 1 })
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error).toMatchObject({ attempts: 2, possibleDuplicate: true, retryable: true })
    expect(error.message).toMatch(
      new RegExp(
        `^UND_ERR_HEADERS_TIMEOUT: .*Kognic may have stored it.*\\(POST ${UPLOAD_PATH} after 2 attempts\\)$`
      )
    )
    expect(error.message).toMatch(/The server did not answer in time: raise the request timeout/)
    expect(client.stats().possibleDuplicates).toBe(1)
  })

  it('does not mark a GET that timed out', async () => {
    let calls = 0
    const { client } = await setup(
      (_request, res) => {
        if (++calls === 1) return
        sendJson(res, 200, { data: [] })
      },
      { requestTimeoutMs: 60 }
    )
    expect(await client.listPredictionsGroups(DATASET)).toEqual([])
    expect(client.stats()).toMatchObject({ retries: 1, possibleDuplicates: 0 })
  })

  it('does not mark a GET retried after a 5xx status', async () => {
    const { client } = await setup(sequence(502, (res) => sendJson(res, 200, { data: [] })))
    await client.listPredictionsGroups(DATASET)
    expect(client.stats()).toMatchObject({ retries: 1, possibleDuplicates: 0 })
  })
})

describe('KognicClient tokens', () => {
  it('authenticate() checks the credentials and the error holds no secret', async () => {
    const api = await startServer(() => {})
    cleanups.push(() => api.close())
    const auth = await startTokenServer({ failures: [{ status: 401, body: { message: 'invalid_client' } }] })
    cleanups.push(() => auth.close())
    const logger = new RecordingLogger()
    const client = new KognicClient({
      apiUrl: api.url,
      authUrl: auth.url,
      clientId: 'client-id',
      clientSecret: SECRET,
      maxRetries: 3,
      requestTimeoutMs: 1000,
      logger,
      clock: new ManualClock()
    })
    cleanups.push(() => client.close())
    const error = await rejection(client.authenticate(), KognicAuthError)
    expect(error.message).toBe(
      'Kognic rejected the client credentials (401 Unauthorized: invalid_client): check client-id/client-secret or credentials'
    )
    expect(`${error.message} ${error.stack ?? ''}`).not.toContain(SECRET)
    expect(auth.requests).toHaveLength(1)
    expect(api.requests).toHaveLength(0)
  })

  it('on 401 renews the token once and retries the request', async () => {
    const { client, api, auth } = await setup((request, res) => {
      if (request.headers.authorization === 'Bearer token-1') sendJson(res, 401, { message: 'jwt expired' })
      else created(res, request, 1)
    })
    const result = await client.uploadPrediction(GROUP, '{}')
    expect(result).toEqual({ predictionUuid: 'prediction-1', attempts: 2, possibleDuplicate: false })
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer token-1', 'Bearer token-2'])
    expect(auth.issued).toEqual(['token-1', 'token-2'])
    expect(client.stats().tokenRequests).toBe(2)
  })

  it('a second 401 is an error, after exactly one renewal', async () => {
    const { client, api, auth } = await setup((_request, res) => sendJson(res, 401, { message: 'no access' }))
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error).toMatchObject({ status: 401, attempts: 2, retryable: false })
    expect(error.message).toBe(
      'no access (a freshly renewed access token was refused too: check the credentials) ' +
        `(401 Unauthorized from POST ${UPLOAD_PATH} after 2 attempts)`
    )
    expect(api.requests).toHaveLength(2)
    expect(auth.issued).toEqual(['token-1', 'token-2'])
  })

  it('20 concurrent calls with an expired token share one token request', async () => {
    const clock = new ManualClock()
    const { client, auth, api } = await setup((request, res) => created(res, request, api.requests.length), {
      clock,
      expiresIn: 60,
      tokenDelayMs: 40
    })
    await client.authenticate()
    clock.advance(120_000)
    const results = await Promise.all(Array.from({ length: 20 }, () => client.uploadPrediction(GROUP, '{}')))
    expect(results).toHaveLength(20)
    expect(auth.requests).toHaveLength(2)
    expect(new Set(api.requests.map((r) => r.headers.authorization))).toEqual(new Set(['Bearer token-2']))
    expect(client.stats().tokenRequests).toBe(2)
  })

  it('a burst of 401s renews the token once', async () => {
    const { client, auth, api } = await setup(
      async (request, res) => {
        await delay(10)
        if (request.headers.authorization === 'Bearer token-1') sendJson(res, 401, { message: 'revoked' })
        else created(res, request, api.requests.length)
      },
      { tokenDelayMs: 20 }
    )
    await Promise.all(Array.from({ length: 16 }, () => client.uploadPrediction(GROUP, '{}')))
    expect(auth.issued).toEqual(['token-1', 'token-2'])
  })

  it('credentials revoked mid-run: one refused token request for every waiting call, each counting its own requests', async () => {
    const api = await startServer(async (request, res) => {
      await delay(5)
      // Revoked after the fifth upload: the live token is refused from then on.
      if (api.requests.length > 5) sendJson(res, 401, { message: 'Access token revoked' })
      else created(res, request, api.requests.length)
    })
    cleanups.push(() => api.close())
    const auth = await startServer((_request, res) => {
      if (auth.requests.length === 1) sendJson(res, 200, { access_token: 'token-1', expires_in: 3600 })
      else sendJson(res, 401, { error: 'invalid_client', message: 'Client revoked' })
    })
    cleanups.push(() => auth.close())
    const client = new KognicClient({
      apiUrl: api.url,
      authUrl: auth.url,
      clientId: 'client-id',
      clientSecret: SECRET,
      maxRetries: 3,
      requestTimeoutMs: 2000,
      logger: new RecordingLogger(),
      clock: new ManualClock()
    })
    cleanups.push(() => client.close())

    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, () => client.uploadPrediction(GROUP, '{}'))
    )

    expect(auth.requests).toHaveLength(2)
    expect(client.stats().tokenRequests).toBe(2)
    const refusals = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))
    expect(refusals.length).toBeGreaterThan(30)
    let sent = 0
    for (const outcome of outcomes) {
      if (outcome.status === 'fulfilled') {
        sent += outcome.value.attempts
        continue
      }
      const error = outcome.reason as KognicAuthError
      expect(error).toBeInstanceOf(KognicAuthError)
      expect(error.message).toContain(
        'Kognic rejected the client credentials (401 Unauthorized: Client revoked)'
      )
      expect(error).toMatchObject({ tokenRequests: 1, possibleDuplicate: false })
      expect([0, 1]).toContain(error.attempts)
      sent += error.attempts ?? NaN
    }
    // Every request the API saw is counted by exactly one call.
    expect(sent).toBe(api.requests.length)
  })

  it('passes every new token to onToken before it is used, and never logs it or the body', async () => {
    const seen: string[] = []
    const { client, logger } = await setup(sequence(503, 401), {
      onToken: (token) => seen.push(token)
    })
    await client.uploadPrediction(GROUP, '{"sceneUuid": "very-private-content"}')
    expect(seen).toEqual(['token-1', 'token-2'])
    const log = logger.all()
    expect(log).not.toContain('token-1')
    expect(log).not.toContain('token-2')
    expect(log).not.toContain('very-private-content')
    expect(log).not.toContain(SECRET)
    expect(log).not.toMatch(/authorization|bearer/i)
  })
})

describe('KognicClient sharing the server', () => {
  it('pauses every worker while the server asks one to wait (429 Retry-After)', async () => {
    const clock = new FastClock(20) // 2 s of client time pass in 100 ms
    const arrivals: { at: number; status: number }[] = []
    let pauseSentAt = 0
    const { client } = await setup(
      async (request, res) => {
        const at = clock.now()
        if (arrivals.length === 0) {
          arrivals.push({ at, status: 429 })
          pauseSentAt = clock.now()
          sendJson(res, 429, { message: 'Too many requests' }, { 'retry-after': '2' })
          return
        }
        arrivals.push({ at, status: 201 })
        await delay(10) // 200 ms of client time: without a shared pause the next round would start long before 2 s
        created(res, request, arrivals.length)
      },
      { clock }
    )

    // Four workers, each one upload at a time, as the upload pool runs them.
    await runPool(10, 4, async () => void (await client.uploadPrediction(GROUP, '{}')))

    expect(arrivals).toHaveLength(11)
    // The first round (4 requests) was already on its way when the 429 went out; nothing else may start
    // until the 2 s pause is over.
    const duringPause = arrivals.filter((a) => a.at < pauseSentAt + 2000)
    expect(duringPause).toHaveLength(4)
    expect(arrivals.slice(4).every((a) => a.at >= pauseSentAt + 2000)).toBe(true)
  })

  // The ManualClock starts at 1970-01-01T00:16:40Z.
  it.each([
    ['1970-03-01', 'warning', 'it is retired on 1970-03-01, in 59 day(s) (sunset-date: 1970-03-01)'],
    ['1970-01-08T12:00:00Z', 'error', 'it is retired on 1970-01-08, in 8 day(s)'],
    ['Thu, 08 Jan 1970 00:00:00 GMT', 'error', 'it is retired on 1970-01-08, in 7 day(s)'],
    ['1969-12-25', 'error', 'it was due to be retired on 1969-12-25, 7 day(s) ago']
  ])('says once how many days are left before a sunset-date of %s (%s)', async (date, level, said) => {
    const { client, logger } = await setup((_request, res) => {
      sendJson(res, 201, { data: 'p' }, { 'sunset-date': date })
    })
    for (let i = 0; i < 3; i++) await client.uploadPrediction(GROUP, '{}')
    await client.createPredictionsGroup(DATASET, { name: 'n', description: 'd' })
    const lines = logger.entries.filter((e) => e.level === 'warning' || e.level === 'error')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level, props: { title: 'Kognic API deprecation' } })
    expect(lines[0]?.message).toContain(
      `Kognic deprecated POST /v1/predictions-groups/${GROUP}/predictions: ${said}`
    )
  })

  it('an unreadable sunset-date is a warning quoting it', async () => {
    const { client, logger } = await setup((_request, res) => {
      sendJson(res, 201, { data: 'p' }, { 'sunset-date': 'soon-ish' })
    })
    await client.uploadPrediction(GROUP, '{}')
    expect(logger.at('warning')).toEqual([
      `Kognic marks POST /v1/predictions-groups/${GROUP}/predictions as deprecated (sunset-date: soon-ish): this action may need an update`
    ])
  })

  it('cancellation aborts requests in flight and starts no new ones', async () => {
    const controller = new AbortController()
    const { client, api } = await setup(
      async (request, res) => {
        await delay(200)
        created(res, request, 1)
      },
      { signal: controller.signal, clock: new ManualClock() }
    )
    const uploads = Array.from({ length: 2 }, () => client.uploadPrediction(GROUP, '{}'))
    await expect.poll(() => api.requests.length).toBe(2)
    controller.abort()
    const outcomes = await Promise.allSettled([...uploads, client.uploadPrediction(GROUP, '{}')])
    expect(outcomes.every((o) => o.status === 'rejected' && o.reason instanceof KognicCancelledError)).toBe(
      true
    )
    await delay(20)
    expect(api.requests.length).toBe(2)
  })

  it('an upload cancelled after its body was sent is flagged as a possible duplicate; a GET is not', async () => {
    const controller = new AbortController()
    const { client, api } = await setup(
      async (request, res) => {
        await delay(300)
        if (request.method === 'GET') sendJson(res, 200, { data: [] })
        else created(res, request, 1)
      },
      { signal: controller.signal, clock: new ManualClock() }
    )
    const upload = rejection(client.uploadPrediction(GROUP, '{"sceneUuid": "s"}'), KognicCancelledError)
    const list = rejection(client.listPredictionsGroups(DATASET), KognicCancelledError)
    await expect.poll(() => api.requests.length).toBe(2)
    controller.abort()

    const uploadError = await upload
    expect(uploadError).toMatchObject({ attempts: 1, possibleDuplicate: true, requestSent: true })
    expect(uploadError.message).toBe(
      'Cancelled with the request sent and its answer not yet in, so Kognic may have stored it: check before uploading it again'
    )
    const listError = await list
    expect(listError).toMatchObject({ attempts: 1, possibleDuplicate: false, requestSent: true })
    expect(listError.message).toBe('Cancelled with the request sent and its answer not yet in')
    expect(client.stats().possibleDuplicates).toBe(1)
  })

  it('an already-cancelled run sends nothing', async () => {
    const controller = new AbortController()
    controller.abort()
    const { client, api, auth } = await setup((request, res) => created(res, request, 1), {
      signal: controller.signal
    })
    await rejection(client.uploadPrediction(GROUP, '{}'), KognicCancelledError)
    expect(api.requests).toHaveLength(0)
    expect(auth.requests).toHaveLength(0)
  })

  it('many uploads sharing one cancellation signal raise no listener-leak warning', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name)
    }
    process.on('warning', onWarning)
    cleanups.push(async () => {
      process.off('warning', onWarning)
    })
    const controller = new AbortController()
    const { client } = await setup(
      async (request, res) => {
        await delay(5)
        created(res, request, 1)
      },
      { signal: controller.signal }
    )
    await Promise.all(Array.from({ length: 40 }, () => client.uploadPrediction(GROUP, '{}')))
    await delay(10)
    expect(warnings).not.toContain('MaxListenersExceededWarning')
  })

  it('close() ends the pool; later calls fail clearly', async () => {
    const { client } = await setup((request, res) => created(res, request, 1))
    await client.uploadPrediction(GROUP, '{}')
    await client.close()
    await expect(client.uploadPrediction(GROUP, '{}')).rejects.toThrow(/client is closed/)
  })
})

describe('KognicClient waits are bounded and said', () => {
  it('caps a huge Retry-After at MAX_RETRY_WAIT_MS, says so at info, and counts the time waited', async () => {
    const { client, logger, clock } = await setup(
      sequence((res) => sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '99999999' })),
      { maxRetries: 1 }
    )
    await client.uploadPrediction(GROUP, '{}')
    expect((clock as ManualClock).sleeps).toEqual([MAX_RETRY_WAIT_MS])
    expect(logger.at('info')).toEqual([
      `Retrying POST ${UPLOAD_PATH} after 429 (attempt 2 of 2) in 60s (the server asked for 99999999s), every request paused`
    ])
    expect(client.stats().waitedMs).toBe(MAX_RETRY_WAIT_MS)
  })

  it('stops retrying when the waits of one request would pass MAX_WAIT_PER_REQUEST_MS', async () => {
    const { client, api, clock } = await setup(
      (_request, res) => sendJson(res, 503, { message: 'busy' }, { 'retry-after': '60' }),
      { maxRetries: 10 }
    )
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    const sleeps = (clock as ManualClock).sleeps
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(MAX_WAIT_PER_REQUEST_MS)
    expect(api.requests).toHaveLength(sleeps.length + 1)
    expect(error.message).toContain('would pass the 120s one request may spend waiting to retry')
    expect(error).toMatchObject({ retryable: true, attempts: sleeps.length + 1 })
  })

  it('counts overlapping waits of many requests once, as wall-clock time', async () => {
    // Time moves only when the test says; every sleep ends when the test releases it.
    const clock = new ManualClock()
    const pending: (() => void)[] = []
    clock.sleep = () => new Promise<void>((resolve) => pending.push(resolve))
    let calls = 0
    const { client } = await setup(
      (request, res) => {
        if (++calls <= 3) sendJson(res, 503, { message: 'busy' })
        else created(res, request, calls)
      },
      { clock }
    )
    const uploads = Promise.all(Array.from({ length: 3 }, () => client.uploadPrediction(GROUP, '{}')))
    await expect.poll(() => pending.length).toBe(3)
    clock.advance(1000)
    expect(client.stats().waitedMs).toBe(1000)
    for (const release of pending) release()
    await uploads
    expect(client.stats().waitedMs).toBe(1000)
  })
})

describe('KognicClient redaction of what servers echo', () => {
  it('cuts a token the API echoes JSON-escaped out of the error', async () => {
    const server = await startServer((request, res) => {
      if (request.path === '/v1/auth/oauth/token') {
        sendJson(res, 200, { access_token: 'tok/with"odd&chars', expires_in: 3600 })
        return
      }
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end('{"message": "bad token tok\\/with\\"odd\\u0026chars"}')
    })
    cleanups.push(() => server.close())
    const client = new KognicClient({
      apiUrl: server.url,
      authUrl: server.url,
      clientId: 'c',
      clientSecret: SECRET,
      maxRetries: 0,
      requestTimeoutMs: 1000,
      logger: new RecordingLogger(),
      clock: new ManualClock()
    })
    cleanups.push(() => client.close())
    const error = await rejection(client.uploadPrediction(GROUP, '{}'), KognicApiError)
    expect(error.message).toBe(`bad token *** (400 Bad Request from POST ${UPLOAD_PATH})`)
  })
})

describe('KognicClient listings', () => {
  const GROUPS_PATH = `/v1/datasets/${DATASET}/predictions-groups`
  const offsetOf = (path: string): number => Number(new URL(path, 'http://x').searchParams.get('offset'))

  it('reads the groups page by page (offset = items so far) until an empty page', async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({ uuid: `g${i}`, name: `group ${i}` }))
    const { client, api } = await setup((request, res) => {
      const offset = offsetOf(request.path)
      sendJson(res, 200, { data: all.slice(offset, offset + 2) })
    })
    expect(await client.listPredictionsGroups(DATASET)).toEqual(all)
    expect(api.requests.map((r) => offsetOf(r.path))).toEqual([0, 2, 4, 5])
    expect(api.requests.every((r) => r.path.startsWith(`${GROUPS_PATH}?offset=`))).toBe(true)
  })

  it('stops at MAX_LIST_PAGES and says so', async () => {
    const { client, api } = await setup((request, res) => {
      sendJson(res, 200, { data: [{ uuid: `g${offsetOf(request.path)}`, name: 'n' }] })
    })
    await expect(client.listPredictionsGroups(DATASET)).rejects.toThrow(`more than ${MAX_LIST_PAGES} pages`)
    expect(api.requests).toHaveLength(MAX_LIST_PAGES)
  })

  it('lists the annotated scenes of a dataset, page by page, from sceneUuid and its close variants', async () => {
    const pages = [
      [{ sceneUuid: 's1' }, { scene_uuid: 's2' }],
      [{ sceneId: 's3' }, { scene: { uuid: 's4' } }],
      [{ sceneUuid: 's1', annotationType: 'other' }]
    ]
    const { client, api } = await setup((request, res) => {
      const index = [0, 2, 4].indexOf(offsetOf(request.path))
      sendJson(res, 200, { data: pages[index] ?? [] })
    })
    expect(await client.listAnnotatedScenes(DATASET)).toEqual({ scenes: new Set(['s1', 's2', 's3', 's4']) })
    // The first page alone, then ANNOTATION_PAGES_AT_ONCE at the offsets full pages reach: 2, 4, … 16. The
    // short page at 4 makes those beyond it worthless, so the listing goes on from the real offset, 5.
    const batch = (from: number): number[] =>
      Array.from({ length: ANNOTATION_PAGES_AT_ONCE }, (_, k) => from + 2 * k)
    expect(api.requests.map((r) => offsetOf(r.path))).toEqual([0, ...batch(2), ...batch(5)])
  })

  it.each([
    ['missing (404)', (res: ServerResponse) => sendJson(res, 404, { message: 'no route' }), /404 Not Found/],
    ['refused (403)', (res: ServerResponse) => sendJson(res, 403, { message: 'forbidden' }), /403 Forbidden/],
    ['not a list', (res: ServerResponse) => sendJson(res, 200, { rows: 1 }), /expected \{"data"/],
    [
      'items without a scene id',
      (res: ServerResponse) => sendJson(res, 200, { data: [{ uuid: 'a1' }] }),
      /an item carries no scene id/
    ]
  ])('is unavailable, without throwing, when the listing is %s', async (_what, answer, why) => {
    const { client } = await setup((_request, res) => answer(res), { maxRetries: 0 })
    const listed = await client.listAnnotatedScenes(DATASET)
    expect(listed).toEqual({ unavailable: expect.stringMatching(why) })
  })

  it('is unavailable when the listing takes longer than ANNOTATIONS_TIME_LIMIT_MS', async () => {
    const clock = new ManualClock()
    const { client, api } = await setup(
      (request, res) => {
        clock.advance(ANNOTATIONS_TIME_LIMIT_MS / 2)
        sendJson(res, 200, { data: [{ sceneUuid: `s${offsetOf(request.path)}` }] })
      },
      { clock }
    )
    expect(await client.listAnnotatedScenes(DATASET)).toEqual({
      unavailable: expect.stringMatching(/took longer than 120s/)
    })
    // The first page, then one batch; the next batch is not asked for.
    expect(api.requests).toHaveLength(1 + ANNOTATION_PAGES_AT_ONCE)
  })

  it('is unavailable past MAX_LIST_PAGES', async () => {
    const { client } = await setup((request, res) => {
      sendJson(res, 200, { data: [{ sceneUuid: `s${offsetOf(request.path)}` }] })
    })
    expect(await client.listAnnotatedScenes(DATASET)).toEqual({
      unavailable: expect.stringMatching(/more than \d+ pages/)
    })
  })
})
