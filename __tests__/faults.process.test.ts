// The fault matrix: the built action (`node dist/index.js`) against an emulator that injects one fault at a
// time, then all of them. Each case checks what reached Kognic against what the action says happened.
import { afterEach, describe, expect, it } from 'vitest'
import {
  startEmulator,
  type Emulator,
  type EmulatorFaults,
  type EmulatorSeed,
  type RequestLogEntry
} from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, maskedValues, runAction, secretLeaks, type ActionRun } from '../scripts/runner.js'

const CLIENT_ID = 'fault-matrix-client'
const CLIENT_SECRET = 'fAult-Matrix-Secret-9e107d9d372bb6826bd81d3542a419d6'
const DATASET = '44444444-4444-4444-8444-444444444444'
const GROUP = '55555555-5555-4555-8555-555555555555'
const SCENE_COUNT = 200
const scenes = Array.from(
  { length: SCENE_COUNT },
  (_, i) => `cccccccc-0000-4000-8000-${String(i).padStart(12, '0')}`
)

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: DATASET, name: 'fault matrix', scenes, groups: [{ uuid: GROUP, name: 'faults' }] }]
}

let emulator: Emulator | undefined
afterEach(async () => {
  await emulator?.close()
  emulator = undefined
})

interface Case {
  faults: EmulatorFaults
  files: number
  concurrency?: number
  requestTimeoutSeconds?: number
  maxRetries?: number
  /** Inputs that replace the defaults, e.g. credentials instead of client-id/client-secret. */
  inputs?: Record<string, string>
  /** Called as each upload reaches the emulator, before its faults are decided. */
  onUploadArrival?: (count: number, em: Emulator) => void
}

interface Outcome {
  run: ActionRun
  emulator: Emulator
  concurrency: number
  /** Stored predictions per scene. */
  stored: Map<string, number>
}

async function runCase(c: Case): Promise<Outcome> {
  const em = await startEmulator({ seed, quiet: true, faults: c.faults })
  emulator = em
  if (c.onUploadArrival) recordUploadArrivals(em, (count) => c.onUploadArrival?.(count, em))
  const concurrency = c.concurrency ?? 6
  const files: Record<string, string> = {}
  for (let i = 0; i < c.files; i++) files[`preds/${scenes[i]}.json`] = json(bboxDoc({ seed: i + 1 }))
  const run = await runAction({
    inputs: {
      'dataset-uuid': DATASET,
      'predictions-group-uuid': GROUP,
      path: 'preds/*.json',
      'client-id': CLIENT_ID,
      'client-secret': CLIENT_SECRET,
      'api-url': em.url,
      'auth-url': em.url,
      concurrency: String(concurrency),
      'max-retries': String(c.maxRetries ?? 10),
      'request-timeout': String(c.requestTimeoutSeconds ?? 10),
      ...c.inputs
    },
    files,
    timeoutMs: 60_000
  })
  const stored = new Map<string, number>()
  for (const p of em.state.predictions) stored.set(p.sceneUuid, (stored.get(p.sceneUuid) ?? 0) + 1)
  return { run, emulator: em, concurrency, stored }
}

/** A count from the summary's table, e.g. `| Uploaded | 60 |`. */
function summaryCount(summary: string, label: string): number {
  const match = new RegExp(`^\\| ${label} \\| ([\\d,]+) \\|$`, 'm').exec(summary)
  return match ? Number(match[1]!.replace(/,/g, '')) : 0
}

/**
 * What every case must show: each uploaded file stored exactly once (twice only when flagged as a possible
 * duplicate), each failed file not stored, never more than `concurrency` uploads in flight, and outputs,
 * results file and summary that agree with what the emulator holds.
 */
function expectTrueOutcome(
  o: Outcome,
  expected: {
    failedScenes?: string[]
    secrets?: string[]
    /** Requests time out while the server still works on them: its own count may then exceed concurrency. */
    serverOutlivesTimeouts?: boolean
  } = {}
): void {
  const { run, stored } = o
  const state = o.emulator.state
  const log = `${run.stdout}\n${run.stderr}`
  expect(run.results, log).not.toBeNull()
  const results = run.results!
  const failedScenes = new Set(expected.failedScenes ?? [])
  for (const file of results.files) {
    const copies = stored.get(file.sceneUuid!) ?? 0
    if (failedScenes.has(file.sceneUuid!)) {
      expect({ path: file.path, status: file.status, copies }).toEqual({
        path: file.path,
        status: 'failed',
        copies: 0
      })
      continue
    }
    expect({ path: file.path, status: file.status, error: file.error }).toEqual({
      path: file.path,
      status: 'uploaded',
      error: null
    })
    // Only a request stored and then unanswered can leave extra copies: one per such attempt, and flagged.
    if (copies !== 1) {
      expect({ path: file.path, more: copies > 1, flagged: file.possibleDuplicate }).toEqual({
        path: file.path,
        more: true,
        flagged: true
      })
      expect(copies).toBeLessThanOrEqual(file.attempts)
    }
    expect(file.predictionUuid).toMatch(/^[0-9a-f-]{36}$/)
  }
  // The action's own counts agree with the emulator's.
  const uploaded = results.files.filter((f) => f.status === 'uploaded').length
  expect(stored.size).toBe(uploaded)
  expect(run.outputs).toMatchObject({
    matched: String(results.files.length),
    uploaded: String(uploaded),
    failed: String(results.files.length - uploaded)
  })
  expect(summaryCount(run.summary, 'Uploaded')).toBe(uploaded)
  expect(summaryCount(run.summary, '↳ failed to upload')).toBe(failedScenes.size)
  // Every upload request the emulator saw is an attempt some file counted.
  const attempts = results.files.reduce((sum, f) => sum + f.attempts, 0)
  expect(attempts).toBe(state.endpointCounts.uploadPrediction)
  expect(results.counts.retries).toBeGreaterThanOrEqual(attempts - results.files.length)
  expect(results.counts.possibleDuplicates).toBe(results.files.filter((f) => f.possibleDuplicate).length)
  // The client's bound: connections with an upload open. The server's own work is bounded too, unless
  // requests time out while it still works on them (the client cannot know when it stops).
  expect(state.maxOpenUploads).toBeLessThanOrEqual(o.concurrency)
  if (!expected.serverOutlivesTimeouts) expect(state.maxInFlight).toBeLessThanOrEqual(o.concurrency)
  expect(run.code, log).toBe(failedScenes.size > 0 ? 1 : 0)
  expectNoSecretsLeaked(o, expected.secrets)
}

/** The secret and every token the emulator issued were masked, and appear nowhere a person or step reads. */
function expectNoSecretsLeaked(o: Outcome, secrets: string[] = [CLIENT_SECRET]): void {
  const { run } = o
  const masked = maskedValues(run.stdout)
  for (const secret of secrets) expect(masked).toContain(secret)
  const issued = [...o.emulator.state.tokensIssued, ...o.emulator.state.refreshTokensIssued]
  for (const token of o.emulator.state.tokensIssued) expect(masked).toContain(token)
  expect(secretLeaks(run, [...secrets, ...issued])).toEqual([])
}

describe('each fault alone', () => {
  it('429 with Retry-After in seconds: every worker pauses, then retries; every file once', async () => {
    const o = await runCase({ faults: { rate429: 0.1, retryAfter: 1, seed: 3 }, files: 40 })
    expectTrueOutcome(o)
    await everyRequestLogged(o.emulator)
    // From the emulator's own log: after each 429, the same upload came back no sooner than Retry-After
    // (less a millisecond or two of clock rounding), and meanwhile no more uploads arrived than were
    // already on their way (at most one per worker).
    const uploads = o.emulator.state.log.filter((e) => e.key?.includes('#'))
    const answered429 = uploads.filter((e) => e.status === 429)
    expect(answered429.length).toBeGreaterThan(0)
    for (const entry of answered429) {
      const answeredAt = entry.at + entry.ms
      const retry = uploads.find((e) => e.key === entry.key && e.attempt === entry.attempt! + 1)!
      expect(retry.at - answeredAt).toBeGreaterThanOrEqual(998)
      const during = uploads.filter((e) => e.at > answeredAt && e.at < answeredAt + 1000)
      expect(during.length).toBeLessThanOrEqual(o.concurrency)
    }
    expect(o.emulator.state.faultsInjected.rate429).toBeGreaterThan(0)
    expect(o.run.results!.counts.retries).toBeGreaterThanOrEqual(o.emulator.state.faultsInjected.rate429)
    expect(o.emulator.state.tokenRequests).toBe(1)
  })

  it('429 with Retry-After as an HTTP date', async () => {
    const o = await runCase({ faults: { rate429: 0.08, retryAfter: 'http-date', seed: 4 }, files: 40 })
    expectTrueOutcome(o)
    expect(o.emulator.state.faultsInjected.rate429).toBeGreaterThan(0)
  })

  it('500/502/503/504: retried with backoff', async () => {
    const o = await runCase({ faults: { rate5xx: 0.2, seed: 5 }, files: 80 })
    expectTrueOutcome(o)
    expect(o.emulator.state.faultsInjected.http5xx).toBeGreaterThan(5)
  })

  it('dropped connections: retried; a POST whose body had left is flagged, never doubled', async () => {
    const o = await runCase({ faults: { dropRate: 0.15, seed: 6 }, files: 80 })
    expectTrueOutcome(o)
    expect(o.emulator.state.faultsInjected.drop).toBeGreaterThan(5)
    // A drop happens before the emulator stores anything: nothing is doubled.
    expect(o.emulator.state.duplicateUploads).toBe(0)
  })

  it('slow responses within the timeout: nothing retried, nothing doubled', async () => {
    const o = await runCase({
      faults: { slowRate: 0.3, slowMs: 800, seed: 7 },
      files: 60,
      requestTimeoutSeconds: 5
    })
    expectTrueOutcome(o)
    expect(o.emulator.state.faultsInjected.slow).toBeGreaterThan(5)
    expect(o.run.results!.files.every((f) => f.attempts === 1)).toBe(true)
  })

  it('slow past the timeout: the client never has more than `concurrency` uploads open; the server may', async () => {
    // Each slow upload is stored, then answered 2.5 s later; the client gives up at 1 s and retries.
    const o = await runCase({
      faults: { slowRate: 0.3, slowMs: 2500, seed: 15 },
      files: 30,
      concurrency: 4,
      requestTimeoutSeconds: 1
    })
    expectTrueOutcome(o, { serverOutlivesTimeouts: true })
    const state = o.emulator.state
    expect(state.faultsInjected.slow).toBeGreaterThan(3)
    expect(o.run.results!.counts.retries).toBeGreaterThan(0)
    // Every abandoned request's connection was closed before its retry went out...
    expect(state.maxOpenUploads).toBeLessThanOrEqual(o.concurrency)
    // ...but the server went on with it: the overlap a client cannot prevent, seen from the server.
    expect(state.maxInFlight).toBeGreaterThan(o.concurrency)
  })

  it('stored, then no answer: the timeout is retried and the scene is flagged as a possible duplicate', async () => {
    const o = await runCase({
      faults: { storeThenHangRate: 0.1, seed: 8 },
      files: 60,
      requestTimeoutSeconds: 2
    })
    expectTrueOutcome(o)
    const hung = o.emulator.state.faultsInjected.storeThenHang
    expect(hung).toBeGreaterThan(0)
    const doubled = [...o.stored].filter(([, n]) => n > 1).map(([scene]) => scene)
    const extraCopies = [...o.stored.values()].reduce((sum, n) => sum + n - 1, 0)
    expect(extraCopies).toBe(o.emulator.state.duplicateUploads)
    expect(doubled.length).toBeGreaterThan(0)
    const flagged = o.run.results!.files.filter((f) => f.possibleDuplicate).map((f) => f.sceneUuid)
    for (const scene of doubled) expect(flagged).toContain(scene)
    expect(o.run.summary).toMatch(/may be stored twice/)
  })

  it('tokens that expire mid-run are renewed before expiry, one request at a time', async () => {
    const o = await runCase({
      faults: { tokenLifetimeSeconds: 2, latencyMs: 150, seed: 9 },
      files: 100,
      concurrency: 4
    })
    expectTrueOutcome(o)
    const lifetimes = Math.ceil(o.run.durationMs / 1800)
    // At least one renewal happened, and no more than one per lifetime (plus the first and one 401 renewal).
    expect(o.emulator.state.tokenRequests).toBeGreaterThanOrEqual(2)
    expect(o.emulator.state.tokenRequests).toBeLessThanOrEqual(lifetimes + 2)
    expect(o.emulator.state.statusCounts['401'] ?? 0).toBeLessThanOrEqual(o.concurrency)
  })

  it('a rate-limited token endpoint is backed off, not hammered', async () => {
    const o = await runCase({
      faults: {
        tokenLifetimeSeconds: 2,
        tokenRateLimit: { max: 1, windowMs: 3000 },
        latencyMs: 100,
        seed: 10
      },
      files: 80,
      concurrency: 4
    })
    expectTrueOutcome(o)
    const state = o.emulator.state
    expect(state.faultsInjected.tokenRateLimit).toBeGreaterThan(0)
    // Each 429 names a pause of a second or more: at most one token request per second, plus the first.
    expect(state.tokenRequests).toBeLessThanOrEqual(Math.ceil(o.run.durationMs / 1000) + 1)
    const granted = state.tokensIssued.length
    expect(granted).toBeGreaterThanOrEqual(2)
  })

  it('per-scene rejections: failed at once with the server message, named in an annotation', async () => {
    const rejected = [scenes[3]!, scenes[17]!, scenes[40]!]
    const rejectScenes = Object.fromEntries(rejected.map((s) => [s, `Scene ${s} is archived & read-only`]))
    const o = await runCase({ faults: { rejectScenes, seed: 11 }, files: 60 })
    expectTrueOutcome(o, { failedScenes: rejected })
    const errors = annotations(o.run.stdout)
    for (const scene of rejected) {
      const file = o.run.results!.files.find((f) => f.sceneUuid === scene)!
      expect(file).toMatchObject({ status: 'failed', attempts: 1, possibleDuplicate: false })
      expect(file.error).toContain(`Scene ${scene} is archived & read-only`)
      expect(file.error).toMatch(/400/)
      expect(errors.some((a) => a.file === file.path && a.message.includes('is archived'))).toBe(true)
      const tries = o.emulator.state.log.filter((e) => e.key?.endsWith(`#${scene}`))
      expect(tries).toHaveLength(1)
    }
    expect(o.run.summary).toContain('is archived')
  })

  it('a sunset-date header becomes one annotation per run (an error: the date is past)', async () => {
    const o = await runCase({ faults: { sunsetDate: 'Wed, 01 Jul 2026 00:00:00 GMT', seed: 12 }, files: 30 })
    expectTrueOutcome(o)
    const warnings = annotations(o.run.stdout, 'error').filter((a) => /deprecated/.test(a.message))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('01 Jul 2026')
    expect(o.run.stdout.match(/sunset-date/g)).toHaveLength(1)
  })
})

describe('credentials revoked mid-run', () => {
  it('stops at the refusal: one fatal error, a bounded number of token requests, no file blamed', async () => {
    // Late enough that the 2 s token was renewed once before the refusal.
    const revokeAt = 100
    const o = await runCase({
      faults: { tokenLifetimeSeconds: 2, latencyMs: 80, seed: 14 },
      files: 160,
      concurrency: 4,
      onUploadArrival: (count, em) => {
        if (count === revokeAt) em.revokeClient(CLIENT_ID)
      }
    })
    const { run, stored } = o
    const state = o.emulator.state
    const log = `${run.stdout}\n${run.stderr}`
    expect(run.code, log).toBe(1)
    // The first token, perhaps one renewal of the 2 s token, and the one refused: never one per worker.
    expect(state.tokenRequests, log).toBeLessThanOrEqual(3)
    const errors = annotations(run.stdout)
    expect(errors, log).toHaveLength(1)
    expect(errors[0]!.file).toBeUndefined()
    expect(errors[0]!.message).toMatch(/Kognic refused the credentials during the upload/)
    expect(errors[0]!.message).toContain('Client revoked')

    const files = run.results!.files
    const uploaded = files.filter((f) => f.status === 'uploaded')
    expect(uploaded.length).toBe(revokeAt - 1)
    expect(stored.size).toBe(uploaded.length)
    for (const file of uploaded) expect(stored.get(file.sceneUuid!)).toBe(1)
    for (const file of files.filter((f) => f.status !== 'uploaded')) {
      expect({ path: file.path, status: file.status, flagged: file.possibleDuplicate }).toEqual({
        path: file.path,
        status: 'not-attempted',
        flagged: false
      })
      expect(file.error).toMatch(/^Not uploaded: .*Kognic rejected the client credentials/)
    }
    // Attempts are upload requests: every one the emulator saw is counted once, none of the token endpoint's.
    expect(files.reduce((sum, f) => sum + f.attempts, 0)).toBe(state.endpointCounts.uploadPrediction)
    expect(run.outputs).toMatchObject({ uploaded: String(revokeAt - 1), failed: String(160 - revokeAt + 1) })
    expect(state.tokensIssued.length).toBeGreaterThanOrEqual(2)
    expectNoSecretsLeaked(o)
  })
})

describe('every fault at once', () => {
  it('uploads every file once (or flags it), fails only the rejected scenes, and says so truly', async () => {
    const rejected = [scenes[9]!, scenes[99]!]
    const o = await runCase({
      faults: {
        seed: 13,
        rate429: 0.04,
        retryAfter: 1,
        rate5xx: 0.05,
        dropRate: 0.03,
        storeThenHangRate: 0.03,
        slowRate: 0.05,
        slowMs: 500,
        latencyMs: 20,
        tokenLifetimeSeconds: 3,
        tokenRateLimit: { max: 2, windowMs: 2000 },
        rejectScenes: Object.fromEntries(rejected.map((s) => [s, `Scene ${s} was withdrawn`])),
        sunsetDate: '2027-01-01'
      },
      files: 150,
      concurrency: 8,
      requestTimeoutSeconds: 2,
      maxRetries: 12
    })
    expectTrueOutcome(o, { failedScenes: rejected })
    const state = o.emulator.state
    for (const kind of ['rate429', 'http5xx', 'drop', 'storeThenHang', 'slow'] as const) {
      expect({ kind, injected: state.faultsInjected[kind] > 0 }).toEqual({ kind, injected: true })
    }
    expect(state.tokenRequests).toBeLessThanOrEqual(Math.ceil(o.run.durationMs / 1000) + 2)
    // A warning, or an error once the date is within 14 days: one line either way.
    const notices = [...annotations(o.run.stdout, 'warning'), ...annotations(o.run.stdout, 'error')]
    expect(notices.filter((a) => /deprecated/.test(a.message))).toHaveLength(1)
  })
})

/** Times at which upload requests reached the emulator, recorded as its counter is bumped on arrival. */
function recordUploadArrivals(em: Emulator, onArrival?: (count: number) => void): number[] {
  const arrivals: number[] = []
  em.state.endpointCounts = new Proxy(em.state.endpointCounts, {
    set(target, key, value: number) {
      if (key === 'uploadPrediction') onArrival?.(arrivals.push(Date.now()))
      target[key as keyof typeof target] = value
      return true
    }
  })
  return arrivals
}

/** Waits until the emulator has logged every request (it logs one when its connection closes). */
async function everyRequestLogged(em: Emulator): Promise<void> {
  await expect.poll(() => em.state.log.length).toBe(em.state.requests)
}

/** The emulator's log entries of upload requests, in the order their exchanges closed. */
function uploadLog(o: Outcome): RequestLogEntry[] {
  return o.emulator.state.log.filter((e) => e.key?.includes('#'))
}

/** The status the emulator answered each upload with, in arrival order (0: no answer sent). */
function uploadStatuses(o: Outcome): number[] {
  return uploadLog(o)
    .sort((a, b) => a.at - b.at)
    .map((e) => e.status)
}

/** The debug line of the first file uploaded: uploads are under way. */
const FIRST_UPLOADED = /→ uploaded /

async function runCancelled(
  faults: EmulatorFaults,
  signal: NodeJS.Signals,
  opts: {
    files?: number
    concurrency?: number
    whenStdoutMatches?: RegExp
    /** Faults switched on as upload number `at` arrives (and applied to it), sparing the group lookup. */
    faultsFromUpload?: { at: number; faults: EmulatorFaults }
  } = {}
): Promise<Outcome & { arrivals: number[]; endedAt: number }> {
  const em = await startEmulator({ seed, quiet: true, faults })
  emulator = em
  const later = opts.faultsFromUpload
  const arrivals = recordUploadArrivals(em, (count) => {
    if (count === later?.at) em.setFaults(later.faults)
  })
  const concurrency = opts.concurrency ?? 4
  const files: Record<string, string> = {}
  for (let i = 0; i < (opts.files ?? 40); i++) files[`preds/${scenes[i]}.json`] = json(bboxDoc({ seed: i }))
  const run = await runAction({
    inputs: {
      'dataset-uuid': DATASET,
      'predictions-group-uuid': GROUP,
      path: 'preds/*.json',
      'client-id': CLIENT_ID,
      'client-secret': CLIENT_SECRET,
      'api-url': emulator.url,
      'auth-url': emulator.url,
      concurrency: String(concurrency),
      'max-retries': '10',
      'request-timeout': '30'
    },
    files,
    // Per-file lines are debug lines: the runner shows them with RUNNER_DEBUG=1.
    env: { RUNNER_DEBUG: '1' },
    kill: { signal, whenStdoutMatches: opts.whenStdoutMatches ?? FIRST_UPLOADED },
    timeoutMs: 40_000
  })
  const endedAt = Date.now()
  await everyRequestLogged(em)
  const stored = new Map<string, number>()
  for (const p of emulator.state.predictions) stored.set(p.sceneUuid, (stored.get(p.sceneUuid) ?? 0) + 1)
  return { run, emulator, concurrency, stored, arrivals, endedAt }
}

/** A cancelled run: exit 1, every file accounted for, the summary and results say it was cancelled. */
function expectCancelledReport(o: Outcome, signal: NodeJS.Signals): void {
  const { run } = o
  const log = `${run.stdout}\n${run.stderr}`
  expect(run.code, log).toBe(1)
  expect(run.stdout).toContain(`Received ${signal}`)
  const results = run.results!
  expect(results, log).not.toBeNull()
  expect((results as unknown as { cancelled: boolean }).cancelled).toBe(true)
  for (const file of results.files) {
    if (file.status === 'uploaded') {
      expect(o.stored.get(file.sceneUuid!)).toBe(1)
      continue
    }
    expect({ path: file.path, status: file.status, error: file.error }).toEqual({
      path: file.path,
      status: expect.stringMatching(/^(not-attempted|failed)$/),
      error: expect.stringMatching(/cancel/i)
    })
    if (file.status === 'not-attempted') expect(o.stored.has(file.sceneUuid!)).toBe(false)
  }
  const uploaded = results.files.filter((f) => f.status === 'uploaded').length
  expect(run.outputs.uploaded).toBe(String(uploaded))
  expect(run.outputs.failed).toBe(String(results.files.length - uploaded))
  expect(run.summary).toContain('Cancelled:')
  expect(run.summary).toContain(
    `${uploaded} of ${results.files.length} files uploaded before the run stopped`
  )
  expect(summaryCount(run.summary, 'Uploaded')).toBe(uploaded)
  expect(o.emulator.state.maxInFlight).toBeLessThanOrEqual(o.concurrency)
  expectNoSecretsLeaked(o)
}

describe('cancellation', () => {
  it('SIGTERM mid-upload: starts nothing new, lets in-flight uploads finish, reports, exits 1', async () => {
    // The first upload is answered at once (the signal follows it); every later one takes 1.5 s.
    const o = await runCancelled({ seed: 20 }, 'SIGTERM', {
      faultsFromUpload: { at: 2, faults: { slowRate: 1, slowMs: 1500, seed: 20 } }
    })
    expectCancelledReport(o, 'SIGTERM')
    // Only the first wave, and the one upload started as the first returned, ever reached the emulator.
    expect(o.arrivals.length).toBeGreaterThan(1)
    expect(o.arrivals.length).toBeLessThanOrEqual(o.concurrency + 1)
    const uploaded = o.run.results!.files.filter((f) => f.status === 'uploaded')
    expect(uploaded).toHaveLength(o.arrivals.length)
    expect(o.run.results!.files.filter((f) => f.status === 'not-attempted')).toHaveLength(
      40 - o.arrivals.length
    )
    // Every upload that reached the emulator was let finish: answered, none cut off.
    expect(uploadStatuses(o)).toEqual(o.arrivals.map(() => 201))
  })

  it('SIGINT behaves the same', async () => {
    const o = await runCancelled({ seed: 21 }, 'SIGINT', {
      files: 20,
      faultsFromUpload: { at: 2, faults: { slowRate: 1, slowMs: 1000, seed: 21 } }
    })
    expectCancelledReport(o, 'SIGINT')
    expect(o.arrivals.length).toBeLessThanOrEqual(o.concurrency + 1)
    expect(o.run.results!.files.filter((f) => f.status === 'uploaded')).toHaveLength(o.arrivals.length)
    expect(uploadStatuses(o)).toEqual(o.arrivals.map(() => 201))
  })

  it('aborts uploads still in flight after the grace period, says they may be stored, and exits', async () => {
    const o = await runCancelled({ seed: 22 }, 'SIGTERM', {
      files: 12,
      faultsFromUpload: { at: 2, faults: { slowRate: 1, slowMs: 20_000, seed: 22 } }
    })
    expectCancelledReport(o, 'SIGTERM')
    expect(o.arrivals.length).toBeLessThanOrEqual(o.concurrency + 1)
    // Grace is 5 s from the signal, which came after the first upload arrived; the answers would take 20 s.
    // The emulator's log: each slow upload's connection was closed by the client before its answer (status
    // 0), and no sooner than the grace period (less a millisecond or two of clock rounding).
    const firstArrival = Math.min(...uploadLog(o).map((e) => e.at))
    const cut = uploadLog(o).filter((e) => e.status === 0)
    expect(cut).toHaveLength(o.arrivals.length - 1)
    for (const entry of cut) expect(entry.at + entry.ms - firstArrival).toBeGreaterThanOrEqual(4998)
    const aborted = o.run.results!.files.filter((f) => f.status === 'failed')
    expect(aborted).toHaveLength(o.arrivals.length - 1)
    // The emulator stored them before the slow answer: the results must not pass them off as not stored.
    for (const file of aborted) {
      expect(o.stored.get(file.sceneUuid!)).toBe(1)
      expect(file.error).toMatch(/may have (been )?stored/)
      // A flag a script can act on, not only prose.
      expect(file.possibleDuplicate).toBe(true)
    }
  })

  it('during a long 429 pause: the progress line keeps printing, and a cancel ends the wait at once', async () => {
    const o = await runCancelled({ seed: 23 }, 'SIGTERM', {
      faultsFromUpload: { at: 1, faults: { rate429: 1, retryAfter: 60, seed: 23 } },
      files: 10,
      whenStdoutMatches: /no file finished in the last/
    })
    expectCancelledReport(o, 'SIGTERM')
    // Every worker paused after the first 429: no request hammered the server while it asked for a pause.
    expect(o.arrivals.length).toBeLessThanOrEqual(o.concurrency)
    const lastArrival = o.arrivals[o.arrivals.length - 1]!
    // The progress line came ~5 s into the pause; the cancel ended it: nothing was retried after the 429s.
    expect(o.endedAt - lastArrival).toBeGreaterThan(4500)
    expect(uploadStatuses(o).every((status) => status === 429)).toBe(true)
    expect(o.run.results!.files.every((f) => f.status !== 'uploaded')).toBe(true)
  })
})

describe('secrets under faults', () => {
  it('the credentials JSON, its secret and every token stay out of logs, summary, outputs and results', async () => {
    const credentials = JSON.stringify({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      email: 'ml@acme.test',
      userId: 7,
      issuer: 'auth.kognic.test'
    })
    const rejected = [scenes[5]!]
    const o = await runCase({
      faults: {
        seed: 30,
        rate5xx: 0.1,
        dropRate: 0.05,
        storeThenHangRate: 0.05,
        tokenLifetimeSeconds: 1,
        latencyMs: 60,
        rejectScenes: { [rejected[0]!]: `Scene ${rejected[0]} refused` }
      },
      files: 40,
      concurrency: 4,
      requestTimeoutSeconds: 1,
      inputs: { 'client-id': '', 'client-secret': '', credentials }
    })
    expectTrueOutcome(o, { failedScenes: rejected, secrets: [CLIENT_SECRET, credentials] })
    // Tokens were renewed under faults: several were issued, and each was masked and kept out of sight.
    expect(o.emulator.state.tokensIssued.length).toBeGreaterThan(1)
  })
})

describe('a server that echoes secrets', () => {
  it('has the token and the secret it echoes in an error cut out of results, summary and log', async () => {
    const echoing = scenes[30]!
    const o = await runCase({
      faults: { seed: 31 },
      files: 40,
      concurrency: 2,
      // Once uploads run, the server starts quoting the live token and the secret back in a refusal.
      onUploadArrival: (count, em) => {
        if (count !== 1) return
        const token = em.state.tokensIssued[em.state.tokensIssued.length - 1]!
        em.setFaults({
          seed: 31,
          rejectScenes: { [echoing]: `Bearer ${token} may not write; client_secret=${CLIENT_SECRET} refused` }
        })
      }
    })
    expectTrueOutcome(o, { failedScenes: [echoing] })
    const file = o.run.results!.files.find((f) => f.sceneUuid === echoing)!
    expect(file.error).toContain('Bearer *** may not write; client_secret=*** refused')
  })
})
