// What a hostile or unlucky server can do to a run, through the built action (`node dist/index.js`): echo
// the client secret back escaped, store an upload and lose the answer, accept one without saying its id,
// refuse connections, and ask for a pause of three years.
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed
} from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { runAction, secretLeaks, visibleLog, type ActionRun, type ResultsFile } from '../scripts/runner.js'

let emulator: Emulator

beforeAll(async () => {
  emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
})
afterAll(async () => emulator?.close())

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'dataset-uuid': SAMPLE_OD_DATASET_UUID,
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    'predictions-group-uuid': SAMPLE_OD_GROUP_UUID,
    'check-scenes': 'false',
    path: 'preds/*.json',
    ...extra
  }
}

/** One prediction file per scene, named after its scene. */
function predictions(scenes: readonly string[]): Record<string, string> {
  return Object.fromEntries(scenes.map((scene, i) => [`preds/${scene}.json`, json(bboxDoc({ seed: i }))]))
}

function storedFor(scene: string): number {
  return emulator.state.predictions.filter((p) => p.sceneUuid === scene).length
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

interface Reply {
  status: number
  contentType: string
  body: string
}

interface GatewayOptions {
  /** The answer the client gets instead of the emulator's, for upload number `n` (1-based) once it is stored. */
  replaceUpload?: (n: number) => Reply | undefined
  /**
   * Stop listening once the groups listing is read (in one request without `offset`, or to its empty last
   * page): later connections, the uploads', are refused.
   */
  refuseAfterListing?: boolean
  /** The answer the client gets instead of the emulator's to the groups listing. */
  replaceGroupsListing?: (emulated: Reply) => Reply
}

/**
 * A gateway in front of the emulator's API: forwards each request, and may replace the answer to an upload
 * that the emulator has already stored. Every answer closes its connection, so each request connects anew.
 */
async function startGateway(options: GatewayOptions): Promise<{ url: string; close(): Promise<void> }> {
  let uploads = 0
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req)
      const headers: Record<string, string> = {}
      for (const name of ['authorization', 'content-type', 'accept']) {
        const value = req.headers[name]
        if (typeof value === 'string') headers[name] = value
      }
      const forwarded = await fetch(emulator.url + (req.url ?? '/'), {
        method: req.method,
        headers,
        ...(req.method === 'POST' ? { body } : {})
      })
      let reply: Reply = {
        status: forwarded.status,
        contentType: forwarded.headers.get('content-type') ?? 'application/json',
        body: await forwarded.text()
      }
      const [path = '', query = ''] = (req.url ?? '').split('?')
      if (req.method === 'POST' && path.endsWith('/predictions'))
        reply = options.replaceUpload?.(++uploads) ?? reply
      if (req.method === 'GET' && path.endsWith('/predictions-groups') && options.replaceGroupsListing)
        reply = options.replaceGroupsListing(reply)
      res.writeHead(reply.status, { 'content-type': reply.contentType, connection: 'close' })
      res.end(reply.body)
      const listed = !query.includes('offset=') || reply.body === '{"data":[]}'
      if (options.refuseAfterListing && path.endsWith('/predictions-groups') && listed) server.close()
    })()
  })
  const url = await listen(server)
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

describe('a secret the server echoes back escaped', () => {
  it('the leak scan finds a secret in any printed form, in every place', () => {
    const secret = 'a"b\\c/d&eé-top-secret'
    const clean: ActionRun = {
      code: 1,
      signal: null,
      stdout: `::add-mask::${secret}\nSigned in.`,
      stderr: '',
      outputs: { failed: '1' },
      summary: 'Kognic rejected ***',
      results: null,
      workspace: '/tmp',
      durationMs: 0
    }
    expect(secretLeaks(clean, [secret])).toEqual([])
    const json = 'a\\"b\\\\c\\/d\\u0026e\\u00e9-top-secret'
    // HTML-escaped; and escaped for markdown too (`\\` for `\`, a numeric reference `&#45;`), as in the summary.
    for (const summary of ['a&quot;b\\c/d&amp;eé-top-secret', 'a&quot;b\\\\c/d&amp;eé&#45;top-secret']) {
      expect(secretLeaks({ ...clean, summary }, [secret]), summary).toEqual(['summary: secret #0'])
    }
    expect(secretLeaks({ ...clean, stdout: `Said: ${json}` }, [secret])).toEqual(['stdout: secret #0'])
    expect(secretLeaks({ ...clean, stderr: encodeURIComponent(secret) }, [secret])).toEqual([
      'stderr: secret #0'
    ])
    const results = { fatalError: `401: ${secret}` } as unknown as ResultsFile
    expect(secretLeaks({ ...clean, results }, [secret])).toEqual(['results: secret #0'])
    expect(secretLeaks({ ...clean, outputs: { error: `x ${json}` } }, [secret])).toEqual([
      'outputs: secret #0'
    ])
  })

  it('shows in no form: raw, JSON-escaped, URI- or form-encoded, HTML-escaped', async () => {
    const secret = 'a"b\\c/d&eé-top-secret'
    // The secret as a JSON encoder that escapes everything it may would write it: \" \\ \/ \u0026 \u00e9.
    const escaped = 'a\\"b\\\\c\\/d\\u0026e\\u00e9-top-secret'
    const body = `{"error":"invalid_client","message":"client_secret ${escaped} is not valid for this client"}`
    const auth = createServer((req, res) => {
      void readBody(req).then(() => {
        res.writeHead(401, { 'content-type': 'application/json' })
        res.end(body)
      })
    })
    const authUrl = await listen(auth)
    try {
      expect(JSON.parse(body).message).toContain(secret)
      const run = await runAction({
        inputs: inputs({ 'auth-url': authUrl, 'client-secret': secret }),
        files: predictions(SAMPLE_OD_SCENES.slice(0, 1))
      })
      expect(run.code).toBe(1)
      expect(secretLeaks(run, [secret])).toEqual([])
      // The server's message is still shown, with the secret cut out.
      expect(run.results?.fatalError).toMatch(/401.*client_secret \*\*\* is not valid/)
      expect(run.summary).toContain('is not valid for this client')
    } finally {
      auth.closeAllConnections()
      await new Promise((resolve) => auth.close(resolve))
    }
  })
})

describe('an upload whose answer may not say what happened', () => {
  it.each([
    [500, 'application/json', '{"message":"Internal Server Error"}'],
    [504, 'text/html', '<html><body><h1>504 Gateway Time-out</h1></body></html>']
  ])(
    'stored, then answered %i: the retry stores it again, and the file is flagged',
    async (status, contentType, body) => {
      const scenes = SAMPLE_OD_SCENES.slice(2, 4)
      const gateway = await startGateway({
        replaceUpload: (n) => (n === 1 ? { status, contentType, body } : undefined)
      })
      const before = scenes.map(storedFor)
      try {
        const run = await runAction({
          inputs: inputs({ 'api-url': gateway.url, concurrency: '1', 'max-retries': '1' }),
          files: predictions(scenes)
        })
        expect(run.code, run.stdout).toBe(0)
        const stored = scenes.map((scene, i) => storedFor(scene) - before[i]!)
        expect([...stored].sort()).toEqual([1, 2])
        const twice = scenes[stored.indexOf(2)]!
        const files = run.results!.files
        expect(files.map((f) => [f.sceneUuid, f.status, f.possibleDuplicate]).sort()).toEqual(
          scenes.map((scene) => [scene, 'uploaded', scene === twice]).sort()
        )
        expect(run.summary).toMatch(/\| Possibly stored twice \| 1 \|/)
        expect(run.summary).toMatch(new RegExp(`1 upload may be stored twice: .*${twice}`))
      } finally {
        await gateway.close()
      }
    }
  )

  it('a 2xx without a prediction id: flagged, and the message says it may be stored', async () => {
    const scene = SAMPLE_OD_SCENES[5]!
    const gateway = await startGateway({
      replaceUpload: () => ({ status: 200, contentType: 'application/json', body: '{"data":{}}' })
    })
    try {
      const run = await runAction({
        inputs: inputs({ 'api-url': gateway.url }),
        files: predictions([scene])
      })
      const [file] = run.results!.files
      expect(file).toMatchObject({ sceneUuid: scene, possibleDuplicate: true, predictionUuid: null })
      expect(file!.error).toMatch(/may have been stored: check before uploading it again/)
      expect(run.summary).toMatch(/\| Possibly stored twice \| 1 \|/)
      expect(run.summary).toMatch(new RegExp(`1 upload may be stored twice: .*${scene}`))
      expect(storedFor(scene)).toBeGreaterThan(0)
    } finally {
      await gateway.close()
    }
  })

  it('a refused connection sent nothing: not flagged, and not called a timeout', async () => {
    const scene = SAMPLE_OD_SCENES[6]!
    const before = storedFor(scene)
    const gateway = await startGateway({ refuseAfterListing: true })
    try {
      const run = await runAction({
        inputs: inputs({ 'api-url': gateway.url, 'max-retries': '1' }),
        files: predictions([scene])
      })
      expect(run.code).toBe(1)
      const [file] = run.results!.files
      expect(file).toMatchObject({ sceneUuid: scene, status: 'failed', possibleDuplicate: false })
      expect(file!.error).toMatch(/ECONNREFUSED/)
      expect(file!.error).not.toMatch(/timed out|time-out|timeout|may have (been )?stored/i)
      expect(visibleLog(run.stdout)).not.toMatch(/timed out/i)
      expect(run.summary).not.toMatch(/stored twice/)
      expect(storedFor(scene)).toBe(before)
    } finally {
      await gateway.close()
    }
  })
})

describe('a groups listing of another shape, with the group given by UUID', () => {
  // Only the item with the UUID matters: names and fields of other items, or a listing that cannot be read
  // at all, must not stop an upload into a group the user named exactly.
  const odd: Record<string, (emulated: Reply) => Reply> = {
    'items without names, and other fields': (emulated) => {
      const items = (JSON.parse(emulated.body) as { data: { uuid: string }[] }).data
      return {
        ...emulated,
        body: JSON.stringify({ data: [{ label: 'x' }, ...items.map((g) => ({ id: g.uuid, created: 1 }))] })
      }
    },
    'an HTML error page': () => ({ status: 502, contentType: 'text/html', body: '<html>Bad gateway</html>' }),
    'JSON that is not a list': () => ({
      status: 200,
      contentType: 'application/json',
      body: '{"groups": {}}'
    })
  }
  for (const [shape, replaceGroupsListing] of Object.entries(odd)) {
    it(`uploads into the group: ${shape}`, async () => {
      const scene = SAMPLE_OD_SCENES[7]!
      const before = storedFor(scene)
      const gateway = await startGateway({ replaceGroupsListing })
      try {
        const run = await runAction({
          inputs: inputs({ 'api-url': gateway.url, 'max-retries': '0' }),
          files: predictions([scene])
        })
        expect(run.code, run.stdout).toBe(0)
        expect(run.outputs['predictions-group-uuid']).toBe(SAMPLE_OD_GROUP_UUID)
        expect(run.results!.files[0]).toMatchObject({ sceneUuid: scene, status: 'uploaded' })
        expect(storedFor(scene)).toBe(before + 1)
        if (shape.startsWith('items')) expect(run.stdout).not.toMatch(/::warning::Could not confirm/)
        else expect(run.stdout).toMatch(/::warning::Could not confirm that predictions group/)
      } finally {
        await gateway.close()
      }
    })
  }
})

describe('a server that asks for a pause of three years', () => {
  let pausing: Emulator
  beforeAll(async () => {
    pausing = await startEmulator({
      seed: sampleSeed(),
      quiet: true,
      faults: { rate429: 1, retryAfter: 99_999_999 }
    })
  })
  afterAll(async () => pausing?.close())

  it('waits at most the cap, says so in a plain log line, and counts the wait in the summary', async () => {
    // Waiting out the whole minute would make the suite a minute slower: the run is cancelled 1.5 s after
    // it says how long it will wait. The fallback kill only ends a run that never says it (the old code).
    const run = await runAction({
      inputs: inputs({
        'api-url': pausing.url,
        'auth-url': pausing.url,
        'max-retries': '1',
        'request-timeout': '2'
      }),
      files: predictions(SAMPLE_OD_SCENES.slice(0, 1)),
      kill: {
        signal: 'SIGTERM',
        whenStdoutMatches: /^Retrying .* in \d+s/m,
        afterMatchMs: 1500,
        afterMs: 20_000
      }
    })
    const waitLine = run.stdout.split('\n').find((line) => /Retrying .* after 429/.test(line))
    expect(waitLine, run.stdout).toMatch(
      /^Retrying GET \S+ after 429 \(attempt 2 of 2\) in 60s \(the server asked for 99999999s\)/
    )
    // The lookups that start together after the sign-in (group, annotations, dataset name) each meet one 429;
    // then every request waits out the one pause: none is asked twice.
    const paused = pausing.state.log.filter((entry) => entry.status === 429).map((entry) => entry.path)
    expect(paused.length).toBeGreaterThanOrEqual(1)
    expect(new Set(paused).size).toBe(paused.length)
    expect(run.code, run.stdout).toBe(1)
    // The wait until the cancel, a second or more, is in the summary.
    expect(run.summary, run.stdout).toMatch(
      /; (\d+(\.\d)?s|\d+m \d+s) spent waiting before retries and after "too many requests"/
    )
  })
})
