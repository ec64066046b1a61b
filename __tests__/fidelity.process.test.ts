// Agreeing with Kognic (issue 11) through the built action (`node dist/index.js`) against the emulator: the
// scenes checked before anything is created, coverage, the paged groups listing, and auth as kognic-auth.
import { mkdtempSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorOptions, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, runAction, type ActionRun } from '../scripts/runner.js'

const CLIENT_ID = 'fidelity-test-client'
const CLIENT_SECRET = 'fidelity-Test-Secret-98f00b204d41d8cd'
const OD = '11111111-1111-4111-8111-111111111111'
const OTHER = '22222222-2222-4222-8222-222222222222'
const scenes = Array.from({ length: 10 }, (_, i) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`)
const otherScenes = Array.from(
  { length: 3 },
  (_, i) => `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`
)
/** Five groups in OD, so that with two per page the last is on the third page. */
const groupNames = ['first', 'second', 'third', 'fourth', 'fifth']
const groupUuid = (i: number): string => `33333333-3333-4333-8333-${String(i + 1).padStart(12, '0')}`

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [
    {
      uuid: OD,
      name: 'object detection',
      scenes,
      groups: groupNames.map((name, i) => ({ uuid: groupUuid(i), name }))
    },
    { uuid: OTHER, name: 'another dataset', scenes: otherScenes }
  ]
}

let emulator: Emulator

beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})
beforeEach(() => {
  emulator.reset()
  emulator.setFaults({})
})

/** An emulator of its own, for options fixed at start; closed after `fn`. */
async function withEmulator<T>(
  options: Partial<EmulatorOptions>,
  fn: (em: Emulator) => Promise<T>
): Promise<T> {
  const em = await startEmulator({ seed, quiet: true, ...options })
  try {
    return await fn(em)
  } finally {
    await em.close()
  }
}

function inputs(em: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'dataset-uuid': OD,
    'predictions-group': `run-${Date.now()}-${Math.random().toString(16).slice(2)}`,
    path: 'preds/*.json',
    'client-id': CLIENT_ID,
    'client-secret': CLIENT_SECRET,
    'api-url': em.url,
    'auth-url': em.url,
    ...extra
  }
}

/** Credentials from KOGNIC_CREDENTIALS instead: the inputs without client-id and client-secret. */
function withoutClientPair(given: Record<string, string>): Record<string, string> {
  const rest = { ...given }
  delete rest['client-id']
  delete rest['client-secret']
  return rest
}

function filesFor(sceneList: string[]): Record<string, string> {
  return Object.fromEntries(
    sceneList.map((scene, i) => [`preds/${scene}.json`, json(bboxDoc({ seed: i + 1 }))])
  )
}

function expectOk(run: ActionRun): void {
  expect(run.code, run.stdout + run.stderr).toBe(0)
}

function requestsTo(em: Emulator, suffix: string) {
  return em.state.log.filter((e) => e.method === 'GET' && e.path.endsWith(suffix))
}

describe('scenes checked before anything is created', () => {
  it('files that all belong to another dataset: nothing is created, and the run says why', async () => {
    const run = await runAction({ inputs: inputs(emulator), files: filesFor(otherScenes) })
    expect(run.code).toBe(1)
    expect(emulator.state.endpointCounts.createGroup).toBe(0)
    expect(emulator.state.endpointCounts.uploadPrediction).toBe(0)
    expect(run.outputs).toMatchObject({ 'group-created': 'false', uploaded: '0', failed: '3' })
    const why = annotations(run.stdout, 'warning').filter((a) => /another dataset/.test(a.message))
    expect(why).toHaveLength(1)
    expect(why[0]!.message).toContain('Nothing was created or uploaded')
    for (const file of run.results!.files) {
      expect(file.status).toBe('invalid')
      expect(file.error).toContain(`is not in dataset ${OD}`)
    }
  })

  it('a file whose scene is not in the dataset is invalid; the others are uploaded', async () => {
    const run = await runAction({
      inputs: inputs(emulator),
      files: filesFor([scenes[0]!, scenes[1]!, otherScenes[0]!])
    })
    expect(run.code).toBe(1)
    expect(run.outputs).toMatchObject({ 'group-created': 'true', uploaded: '2', failed: '1' })
    const stray = run.results!.files.find((f) => f.sceneUuid === otherScenes[0])!
    expect(stray.status).toBe('invalid')
    expect(stray.error).toContain(`Scene ${otherScenes[0]} is not in dataset ${OD}`)
    // Refused before upload: Kognic never saw it.
    expect(emulator.state.predictions.map((p) => p.sceneUuid).sort()).toEqual([scenes[0], scenes[1]])
    expect(emulator.state.log.filter((e) => e.key?.endsWith(`#${otherScenes[0]}`))).toEqual([])
  })

  it("check-scenes: 'false' skips the check: the listing is not asked and Kognic refuses the stray file", async () => {
    const run = await runAction({
      inputs: inputs(emulator, { 'check-scenes': 'false' }),
      files: filesFor([scenes[0]!, otherScenes[0]!])
    })
    expect(run.code).toBe(1)
    expect(emulator.state.endpointCounts.listAnnotations).toBe(0)
    const stray = run.results!.files.find((f) => f.sceneUuid === otherScenes[0])!
    expect(stray.status).toBe('failed')
    expect(run.outputs['scenes-without-prediction']).toBe('')
  })

  for (const listing of ['missing', 'no-scene-ids'] as const) {
    it(`a listing that is ${listing}: one notice, and the run goes on as before`, async () => {
      await withEmulator({ annotationsListing: listing }, async (em) => {
        const run = await runAction({ inputs: inputs(em), files: filesFor(scenes.slice(0, 3)) })
        expectOk(run)
        expect(run.outputs).toMatchObject({ uploaded: '3', failed: '0', 'scenes-without-prediction': '' })
        const notices = annotations(run.stdout, 'notice').filter((a) =>
          /scenes were not checked/.test(a.message)
        )
        expect(notices).toHaveLength(1)
        expect(annotations(run.stdout, 'warning')).toEqual([])
        expect(run.summary).not.toContain('Annotated scenes without a prediction')
      })
    })
  }
})

/**
 * The emulator behind a proxy that answers the annotations listing with the scene UUIDs in upper case, as a
 * server may: UUIDs are case-insensitive. Closed after `fn`.
 */
async function withUpperCaseScenes<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      void fetch(emulator.url + req.url, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            ([k, v]) => typeof v === 'string' && !['host', 'connection'].includes(k)
          )
        ) as Record<string, string>,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined
      }).then(async (answer) => {
        let text = await answer.text()
        if (req.url?.includes('/annotations'))
          text = text.replace(
            /"sceneUuid":\s*"([^"]+)"/g,
            (_, id: string) => `"sceneUuid":"${id.toUpperCase()}"`
          )
        res.writeHead(answer.status, {
          'content-type': answer.headers.get('content-type') ?? 'application/json'
        })
        res.end(text)
      })
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  try {
    return await fn(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`)
  } finally {
    proxy.closeAllConnections()
    await new Promise((resolve) => proxy.close(resolve))
  }
}

describe('scene UUIDs in another case', () => {
  it('an annotations listing in upper case still matches the files, and coverage counts them', async () => {
    await withUpperCaseScenes(async (url) => {
      const run = await runAction({
        inputs: inputs(emulator, { 'api-url': url }),
        files: filesFor(scenes.slice(0, 3))
      })
      expectOk(run)
      expect(run.outputs).toMatchObject({ uploaded: '3', failed: '0', 'scenes-without-prediction': '7' })
    })
  })
})

describe('coverage', () => {
  it('the output and the summary say how many annotated scenes got no prediction', async () => {
    const run = await runAction({ inputs: inputs(emulator), files: filesFor(scenes.slice(0, 3)) })
    expectOk(run)
    expect(run.outputs['scenes-without-prediction']).toBe('7')
    // "7 of 10" once the report carries the total (main.ts assembleReport: annotatedScenes).
    expect(run.summary).toMatch(/Annotated scenes without a prediction:\*\* 7 of 10\n/)
  })

  it('counts every annotated scene when the listing spans several pages', async () => {
    await withEmulator({ annotationsPageSize: 3 }, async (em) => {
      const run = await runAction({ inputs: inputs(em), files: filesFor(scenes.slice(0, 4)) })
      expectOk(run)
      expect(run.outputs['scenes-without-prediction']).toBe('6')
      expect(requestsTo(em, '/annotations').length).toBeGreaterThan(2)
    })
  })
})

describe('the groups listing, paged', () => {
  it('finds a group on a later page instead of creating it again', async () => {
    await withEmulator({ groupsPageSize: 2 }, async (em) => {
      const run = await runAction({
        inputs: inputs(em, { 'predictions-group': 'fifth' }),
        files: filesFor(scenes.slice(0, 2))
      })
      expectOk(run)
      expect(run.outputs).toMatchObject({ 'group-created': 'false', 'predictions-group-uuid': groupUuid(4) })
      expect(em.state.endpointCounts.createGroup).toBe(0)
      expect((em.state.groups[OD] ?? []).filter((g) => g.name === 'fifth')).toHaveLength(1)
      expect(requestsTo(em, '/predictions-groups').map((e) => e.query)).toContain('offset=4')
    })
  })

  it('stops at the repeated page when the server ignores offset', async () => {
    await withEmulator({ groupsPageSize: 2, groupsIgnoreOffset: true }, async (em) => {
      const run = await runAction({
        inputs: inputs(em, { 'predictions-group': 'second' }),
        files: filesFor(scenes.slice(0, 1))
      })
      expectOk(run)
      // 'second' is on the first page, which is all such a server ever answers.
      expect(run.outputs).toMatchObject({ 'group-created': 'false', 'predictions-group-uuid': groupUuid(1) })
      const before = requestsTo(em, '/predictions-groups').length
      const late = await runAction({
        inputs: inputs(em, { 'predictions-group': 'fifth' }),
        files: filesFor(scenes.slice(0, 1))
      })
      // 'fifth' cannot be seen: the listing stops at the first repeat (two requests), and the group is created.
      expectOk(late)
      expect(late.outputs['group-created']).toBe('true')
      expect(
        requestsTo(em, '/predictions-groups')
          .slice(before)
          .filter((e) => e.method === 'GET')
          .map((e) => e.query)
      ).toEqual(['offset=0', 'offset=2'])
    })
  })
})

describe('auth as kognic-auth does it', () => {
  function credentialsFile(dir: string, extra: Record<string, unknown> = {}): string {
    const file = path.join(dir, 'kognic-credentials.json')
    writeFileSync(file, json({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...extra }))
    return file
  }

  it("the credentials file's scopes reach the token request as scope; ~ in KOGNIC_CREDENTIALS expands", async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kup-home-'))
    credentialsFile(home, { scopes: ['predictions:write', 'datasets:read'] })
    const rest = withoutClientPair(inputs(emulator))
    const run = await runAction({
      inputs: rest,
      files: filesFor(scenes.slice(0, 1)),
      env: { HOME: home, KOGNIC_CREDENTIALS: '~/kognic-credentials.json' }
    })
    expectOk(run)
    expect(run.stdout).toContain(
      `Kognic credentials from the file ${path.join(home, 'kognic-credentials.json')}`
    )
    expect(emulator.state.tokenScopes).toEqual(['predictions:write datasets:read'])
  })

  it('no scope is sent when the file has none', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kup-home-'))
    credentialsFile(home)
    const rest = withoutClientPair(inputs(emulator))
    const run = await runAction({
      inputs: rest,
      files: filesFor(scenes.slice(0, 1)),
      env: { HOME: home, KOGNIC_CREDENTIALS: '~/kognic-credentials.json' }
    })
    expectOk(run)
    expect(emulator.state.tokenRequests).toBeGreaterThan(0)
    expect(emulator.state.tokenScopes).toEqual([])
  })

  it('a sunset-date within 14 days: an error-level annotation with the days left, and the step succeeds', async () => {
    const inTenDays = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10)
    emulator.setFaults({ sunsetDate: inTenDays })
    const run = await runAction({ inputs: inputs(emulator), files: filesFor(scenes.slice(0, 2)) })
    expectOk(run)
    expect(run.outputs).toMatchObject({ uploaded: '2', failed: '0' })
    const errors = annotations(run.stdout, 'error').filter((a) => /deprecated/.test(a.message))
    expect(errors).toHaveLength(1)
    expect(errors[0]!.message).toContain(inTenDays)
    expect(errors[0]!.message).toMatch(/\b(9|10) days?\b/)
  })

  it('a sunset-date further away is a warning, not an error', async () => {
    const inSixtyDays = new Date(Date.now() + 60 * 86_400_000).toISOString().slice(0, 10)
    emulator.setFaults({ sunsetDate: inSixtyDays })
    const run = await runAction({ inputs: inputs(emulator), files: filesFor(scenes.slice(0, 1)) })
    expectOk(run)
    expect(annotations(run.stdout, 'error')).toEqual([])
    expect(annotations(run.stdout, 'warning').filter((a) => /deprecated/.test(a.message))).toHaveLength(1)
  })
})
