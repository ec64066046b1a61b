import { afterEach, describe, expect, it } from 'vitest'
import { TokenProvider } from '../src/kognic/auth.js'
import { KognicAuthError } from '../src/kognic/errors.js'
import { HttpSession } from '../src/kognic/http.js'
import { secretForms } from '../src/kognic/secrets.js'
import { ManualClock, RecordingLogger, startServer, startTokenServer } from './kognic-fixtures.js'
import type { TestServer } from './kognic-fixtures.js'

const SECRET = 'super-secret-value-42'
const cleanups: (() => Promise<void>)[] = []
const sessions = new WeakMap<TokenProvider, HttpSession>()

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function track<T extends TestServer>(server: T): Promise<T> {
  cleanups.push(() => server.close())
  return server
}

interface ProviderOverrides {
  maxRetries?: number
  signal?: AbortSignal
  clientSecret?: string
  scope?: string
  onToken?: (token: string) => void
}

function provider(authUrl: string, overrides: ProviderOverrides = {}) {
  const clock = new ManualClock()
  const logger = new RecordingLogger()
  const cancel = overrides.signal ?? new AbortController().signal
  const session = new HttpSession({
    maxRetries: overrides.maxRetries ?? 3,
    requestTimeoutMs: 2000,
    clock,
    logger,
    userAgent: 'test',
    cancel,
    stopAttempts: cancel
  })
  cleanups.push(() => session.close())
  const tokens = new TokenProvider({
    authUrl,
    clientId: 'my-client',
    clientSecret: overrides.clientSecret ?? SECRET,
    ...(overrides.scope ? { scope: overrides.scope } : {}),
    session,
    clock,
    ...(overrides.onToken ? { onToken: overrides.onToken } : {})
  })
  sessions.set(tokens, session)
  return { tokens, clock, logger }
}

/** Requests sent to the token endpoint, retries included. */
function requestsOf(tokens: TokenProvider): number {
  return sessions.get(tokens)!.stats().tokenRequests
}

async function authError(promise: Promise<unknown>): Promise<KognicAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(KognicAuthError)
  return error as KognicAuthError
}

describe('TokenProvider', () => {
  it('posts the client-credentials form to /v1/auth/oauth/token, even under a base ending in /v1/', async () => {
    const server = await track(await startTokenServer({ expiresIn: 3600 }))
    const seen: string[] = []
    const { tokens } = provider(`${server.url}/v1/`, { onToken: (token) => seen.push(token) })

    expect(await tokens.getToken()).toBe('token-1')

    expect(server.requests).toHaveLength(1)
    const [request] = server.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/v1/auth/oauth/token')
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      grant_type: 'client_credentials',
      client_id: 'my-client',
      client_secret: SECRET
    })
    expect(seen).toEqual(['token-1'])
    expect(requestsOf(tokens)).toBe(1)
  })

  it('keeps one token for the run while it is fresh', async () => {
    const server = await track(await startTokenServer({ expiresIn: 3600 }))
    const { tokens, clock } = provider(server.url)
    for (let i = 0; i < 5; i++) {
      expect(await tokens.getToken()).toBe('token-1')
      clock.advance(60_000)
    }
    expect(server.issued).toEqual(['token-1'])
  })

  it('renews a short-lived token shortly before it expires, not on every call', async () => {
    const server = await track(await startTokenServer({ expiresIn: 30 }))
    const { tokens, clock } = provider(server.url)

    expect(await tokens.getToken()).toBe('token-1')
    clock.advance(20_000)
    expect(await tokens.getToken()).toBe('token-1')
    clock.advance(6_900) // 26.9 s: still outside the 3 s margin
    expect(await tokens.getToken()).toBe('token-1')
    clock.advance(200) // 27.1 s: inside the margin
    expect(await tokens.getToken()).toBe('token-2')
    expect(await tokens.getToken()).toBe('token-2')
    expect(requestsOf(tokens)).toBe(2)
  })

  it('keeps a token without expires_in until the API rejects it', async () => {
    const server = await track(await startTokenServer({}))
    const { tokens, clock } = provider(server.url)
    expect(await tokens.getToken()).toBe('token-1')
    clock.advance(24 * 3600_000)
    expect(await tokens.getToken()).toBe('token-1')
    expect(await tokens.renewAfterRejection('token-1')).toBe('token-2')
    expect(requestsOf(tokens)).toBe(2)
  })

  it('shares one token request among 20 concurrent callers when the token has expired', async () => {
    const server = await track(await startTokenServer({ expiresIn: 60, delayMs: 50 }))
    const { tokens, clock } = provider(server.url)
    expect(await tokens.getToken()).toBe('token-1')
    clock.advance(61_000)

    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.getToken()))

    expect(new Set(results)).toEqual(new Set(['token-2']))
    expect(server.requests).toHaveLength(2)
    expect(requestsOf(tokens)).toBe(2)
  })

  it('renews once for a burst of 401s on the same token', async () => {
    const server = await track(await startTokenServer({ expiresIn: 3600, delayMs: 30 }))
    const { tokens } = provider(server.url)
    const first = await tokens.getToken()

    const renewed = await Promise.all(Array.from({ length: 10 }, () => tokens.renewAfterRejection(first)))
    // A late 401 for the old token after the renewal finished must not trigger another one.
    const late = await tokens.renewAfterRejection(first)

    expect(new Set([...renewed, late])).toEqual(new Set(['token-2']))
    expect(server.issued).toEqual(['token-1', 'token-2'])
  })

  it('backs off on 429 from the token endpoint, honouring Retry-After', async () => {
    const server = await track(
      await startTokenServer({
        expiresIn: 3600,
        failures: [
          {
            status: 429,
            body: { message: 'Client authentication rate limit exceeded' },
            headers: { 'retry-after': '7' }
          },
          { status: 429, body: { message: 'Client authentication rate limit exceeded' } }
        ]
      })
    )
    const { tokens, clock, logger } = provider(server.url)

    expect(await tokens.getToken()).toBe('token-1')

    // First wait from Retry-After, second from backoff (equal jitter, retry 2: 500..1000 ms).
    expect(clock.sleeps[0]).toBe(7000)
    expect(clock.sleeps[1]).toBeGreaterThanOrEqual(500)
    expect(clock.sleeps[1]).toBeLessThanOrEqual(1000)
    expect(requestsOf(tokens)).toBe(3)
    expect(logger.at('info')[0]).toBe(
      'Retrying POST /v1/auth/oauth/token after 429 (attempt 2 of 4) in 7.0s, every request paused'
    )
  })

  it('counts a token’s lifetime from the attempt that got it, not from before the waits', async () => {
    // A 3 s token after a 7 s wait: counted from the first try, it would be stale on arrival and be
    // renewed at once, into the rate limit again (the soak with a rate-limited token endpoint crawled so).
    const server = await track(
      await startTokenServer({
        expiresIn: 3,
        failures: [
          {
            status: 429,
            body: { message: 'Client authentication rate limit exceeded' },
            headers: { 'retry-after': '7' }
          }
        ]
      })
    )
    const { tokens } = provider(server.url)
    expect(await tokens.getToken()).toBe('token-1')
    expect(await tokens.getToken()).toBe('token-1')
    expect(requestsOf(tokens)).toBe(2)
  })

  it('retries 5xx and gives up after maxRetries with the last status', async () => {
    const failures = Array.from({ length: 10 }, () => ({ status: 503, body: { message: 'down' } }))
    const server = await track(await startTokenServer({ expiresIn: 3600, failures }))
    const { tokens } = provider(server.url, { maxRetries: 2 })

    const error = await authError(tokens.getToken())

    expect(error.message).toMatch(
      /Could not get a Kognic access token after 3 attempts .*503 Service Unavailable/
    )
    expect(error.status).toBe(503)
    expect(error.tokenRequests).toBe(3)
    expect(server.requests).toHaveLength(3)
  })

  it.each([400, 401, 403])(
    'does not retry %i and says to check the credentials, without the secret',
    async (status) => {
      // A server that echoes the secret back must not get it into the message.
      const server = await track(
        await startTokenServer({
          failures: [{ status, body: { message: `invalid client secret ${SECRET}` } }]
        })
      )
      const { tokens, logger } = provider(server.url)

      const error = await authError(tokens.getToken())

      expect(error.message).toContain(`Kognic rejected the client credentials (${status} `)
      expect(error.message).toContain('check client-id/client-secret or credentials')
      expect(error.message).toContain('invalid client secret ***')
      expect(error.message).not.toContain(SECRET)
      expect(error.status).toBe(status)
      expect(server.requests).toHaveLength(1)
      expect(logger.all()).not.toContain(SECRET)
    }
  )

  it('remembers a refusal: every later caller gets it, and the endpoint is not asked again', async () => {
    // Issues one token, then refuses the client (revoked by an admin mid-run).
    const server = await track(
      await startServer((request, res) => {
        if (server.requests.length === 1) {
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end('{"access_token": "token-1", "expires_in": 30}')
        } else {
          res.writeHead(401, { 'content-type': 'application/json' })
          res.end('{"error": "invalid_client", "message": "Client revoked"}')
        }
        void request
      })
    )
    const { tokens, clock } = provider(server.url)
    expect(await tokens.getToken()).toBe('token-1')

    const burst = await Promise.all(
      Array.from({ length: 10 }, () => authError(tokens.renewAfterRejection('token-1')))
    )
    // Later callers, in every way a worker asks: a renewal, a fresh token, and after the old one expired.
    const later = [await authError(tokens.renewAfterRejection('token-1')), await authError(tokens.getToken())]
    clock.advance(60_000)
    later.push(await authError(tokens.getToken()))

    expect(server.requests).toHaveLength(2)
    expect(requestsOf(tokens)).toBe(2)
    for (const error of [...burst, ...later]) {
      expect(error).toBe(burst[0])
      expect(error).toMatchObject({ status: 401, tokenRequests: 1 })
      expect(error.message).toContain(
        'Kognic rejected the client credentials (401 Unauthorized: Client revoked)'
      )
    }
  })

  it('a token request cancelled after it was sent says so plainly: nothing is stored by asking for a token', async () => {
    const server = await track(
      await startServer(async (_request, res) => {
        await new Promise((resolve) => setTimeout(resolve, 300))
        res.writeHead(200).end('{"access_token": "late"}')
      })
    )
    const controller = new AbortController()
    const { tokens } = provider(server.url, { signal: controller.signal })
    const pending = tokens.getToken().then(
      () => undefined,
      (e: unknown) => e
    )
    await expect.poll(() => server.requests.length).toBe(1)
    controller.abort()
    const error = (await pending) as Error
    expect(error.name).toBe('KognicCancelledError')
    expect(error.message).toBe('Cancelled before a Kognic token was obtained')
  })

  it('sends the credentials file scopes as scope, and no scope when there is none', async () => {
    const server = await track(await startTokenServer({ expiresIn: 3600 }))
    await provider(server.url, { scope: 'dataset:read dataset:write' }).tokens.getToken()
    await provider(server.url).tokens.getToken()
    const forms = server.requests.map((r) => Object.fromEntries(new URLSearchParams(r.body)))
    expect(forms[0]?.scope).toBe('dataset:read dataset:write')
    expect(forms[1]).not.toHaveProperty('scope')
  })

  it('cuts out a secret the server echoes JSON-escaped, after decoding, in every form', async () => {
    // Every character a JSON encoder may escape: quote, backslash, slash, &, é, < and a non-BMP one.
    const secret = 'a"b\\c/d&e\u00e9f<g\u{1F600}h'
    const escapes = [
      JSON.stringify(secret).slice(1, -1),
      JSON.stringify(secret).slice(1, -1).replace(/\//g, '\\/'),
      JSON.stringify(secret)
        .slice(1, -1)
        .replace(/&/g, '\\u0026')
        .replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    ]
    for (const escaped of escapes) {
      const server = await track(
        await startServer((_request, res) => {
          res.writeHead(401, { 'content-type': 'application/json' })
          // Written by hand, as a server with another JSON encoder would.
          res.end(`{"message": "invalid secret ${escaped}", "detail": "${escaped}"}`)
        })
      )
      const { tokens } = provider(server.url, { clientSecret: secret })
      const error = await authError(tokens.getToken())
      expect(error.message).toContain('invalid secret ***')
      for (const form of secretForms(secret)) expect(error.message).not.toContain(form)
      expect(error.message).not.toContain('e\u00e9f')
    }
  })

  it('names a wrong auth URL (404) instead of blaming the credentials', async () => {
    const server = await track(
      await startServer((_request, res) => {
        res.writeHead(404).end('Not Found')
      })
    )
    const { tokens } = provider(server.url)
    const error = await authError(tokens.getToken())
    expect(error.message).toBe(
      'The Kognic token endpoint (POST /v1/auth/oauth/token) answered 404 Not Found: Not Found: check auth-url'
    )
    expect(server.requests).toHaveLength(1)
  })

  it('cuts the secret out of an echoed form body, in its raw, URL-encoded and form-encoded shapes', async () => {
    // Every character that encodes differently: @ + / = # & and a space (%20 in a URL, + in a form).
    const secret = 'p@ss+w/rd=Zq9#xY&k z'
    const server = await track(
      await startServer((request, res) => {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            message: `bad client: ${request.body} | ${encodeURIComponent(secret)} | ${secret}`
          })
        )
      })
    )
    const { tokens } = provider(server.url, { clientSecret: secret })

    const error = await authError(tokens.getToken())

    const formEncoded = new URLSearchParams({ s: secret }).toString().slice(2)
    expect(formEncoded).toBe('p%40ss%2Bw%2Frd%3DZq9%23xY%26k+z')
    expect(error.message).toContain(
      'bad client: grant_type=client_credentials&client_id=my-client&client_secret=*** | *** | ***'
    )
    for (const shape of [secret, encodeURIComponent(secret), formEncoded, 'Zq9', 'xY%26k']) {
      expect(error.message).not.toContain(shape)
    }
  })

  it.each([
    ['a bare token', 'text/plain', 'eyJhbGciOi.bare-token-value.sig'],
    ['a JSON string', 'application/json', '"eyJhbGciOi.bare-token-value.sig"']
  ])('never quotes a 200 that is %s instead of a JSON object', async (_what, contentType, body) => {
    const server = await track(
      await startServer((_request, res) => {
        res.writeHead(200, { 'content-type': contentType }).end(body)
      })
    )
    const { tokens } = provider(server.url)
    const error = await authError(tokens.getToken())
    expect(error.message).toMatch(
      /^The Kognic token endpoint \(POST \/v1\/auth\/oauth\/token\) answered 200 with (a body that is not JSON|JSON that is not an object) \(\d+ characters, content-type [^)]+\) instead of \{"access_token", "expires_in"\}: check auth-url$/
    )
    expect(error.message).not.toContain('bare-token-value')
  })

  it('refuses a 200 without an access_token, naming the fields it got', async () => {
    const server = await track(
      await startServer((_request, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"token": "x", "expires_in": 60}')
      })
    )
    const { tokens } = provider(server.url)
    const error = await authError(tokens.getToken())
    expect(error.message).toMatch(/answered 200 without an access_token: "token, expires_in"/)
  })

  it('retries an unreachable token endpoint, then explains', async () => {
    const closed = await startServer(() => {})
    const url = closed.url
    await closed.close()
    const { tokens, clock } = provider(url, { maxRetries: 1 })
    const error = await authError(tokens.getToken())
    expect(error.message).toMatch(/Could not get a Kognic access token after 2 attempts .*ECONNREFUSED/)
    expect(clock.sleeps).toHaveLength(1)
  })

  it('masks the refresh token too', async () => {
    const server = await track(
      await startServer((_request, res) => {
        res.writeHead(200).end('{"access_token": "acc", "refresh_token": "ref", "expires_in": 60}')
      })
    )
    const seen: string[] = []
    const { tokens } = provider(server.url, { onToken: (token) => seen.push(token) })
    await tokens.getToken()
    expect(seen).toEqual(['acc', 'ref'])
  })
})
