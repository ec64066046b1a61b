// The catalogue of bad inputs, each through the built action (`node dist/index.js`) among good files: every
// bad one gets a clear error naming it, and the good ones still land.
import { execFileSync } from 'node:child_process'
import { mkdirSync, openSync, closeSync, ftruncateSync, symlinkSync, writeSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json, requestBody } from '../scripts/sample-predictions.js'
import {
  annotations,
  makeWorkspace,
  maskedValues,
  runAction,
  secretLeaks,
  type ActionRun
} from '../scripts/runner.js'

const CLIENT_ID = 'bad-inputs-client'
const CLIENT_SECRET = 'bAd-Inputs-Secret-0cc175b9c0f1b6a831c399e269772661'
const DATASET = '66666666-6666-4666-8666-666666666666'
const GROUP = '77777777-7777-4777-8777-777777777777'
const scenes = Array.from({ length: 30 }, (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`)
const NOT_IN_DATASET = 'eeeeeeee-0000-4000-8000-000000000000'

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: DATASET, name: 'bad inputs', scenes, groups: [{ uuid: GROUP, name: 'bad' }] }]
}

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})

function baseInputs(): Record<string, string> {
  return {
    'dataset-uuid': DATASET,
    'predictions-group-uuid': GROUP,
    'client-id': CLIENT_ID,
    'client-secret': CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url
  }
}

function expectNoSecrets(run: ActionRun): void {
  expect(maskedValues(run.stdout)).toContain(CLIENT_SECRET)
  expect(secretLeaks(run, [CLIENT_SECRET, ...emulator.state.tokensIssued])).toEqual([])
}

describe('bad files among good ones', () => {
  const GOOD = scenes.slice(0, 5)
  // Each bad file, the status it must end with, and what its error must say.
  const bad: { path: string; status: 'invalid' | 'failed'; error: RegExp }[] = [
    { path: `preds/${scenes[10]}.json`, status: 'invalid', error: /not valid JSON: .* at line 1, column 28/ },
    { path: `preds/${scenes[11]}.json`, status: 'invalid', error: /empty/i },
    { path: `preds/${scenes[12]}.json`, status: 'invalid', error: /the top level is \[1,2,3\]/ },
    { path: `preds/${scenes[13]}.json`, status: 'invalid', error: /no "openlabel" or "sceneUuid"/ },
    { path: 'preds/not-a-scene-id.json', status: 'invalid', error: /file name is not a scene UUID/ },
    { path: `preds/${NOT_IN_DATASET}.json`, status: 'invalid', error: /is not in dataset/ },
    { path: `preds/${scenes[14]}.json`, status: 'invalid', error: /preds\/twin\/copy\.json/ },
    { path: 'preds/twin/copy.json', status: 'invalid', error: new RegExp(`preds/${scenes[14]}\\.json`) },
    { path: `preds/${scenes[15]}.json`, status: 'invalid', error: /max-file-size/ },
    { path: `preds/${scenes[16]}.json`, status: 'invalid', error: /not a regular file/ },
    // A folder that the pattern matches is all the files in it, as in @actions/glob (implicitDescendants).
    { path: 'preds/folder.json/inside.txt', status: 'invalid', error: /not valid JSON/ }
  ]
  let run: ActionRun

  beforeAll(async () => {
    const files: Record<string, string> = {}
    GOOD.forEach((scene, i) => (files[`preds/${scene}.json`] = json(bboxDoc({ seed: i + 1 }))))
    files[`preds/${scenes[10]}.json`] = '{"openlabel": {"metadata": '
    files[`preds/${scenes[11]}.json`] = ''
    files[`preds/${scenes[12]}.json`] = '[1, 2, 3]'
    files[`preds/${scenes[13]}.json`] = '{"predictions": []}'
    files['preds/not-a-scene-id.json'] = json(bboxDoc())
    files[`preds/${NOT_IN_DATASET}.json`] = json(bboxDoc())
    files[`preds/${scenes[14]}.json`] = json(bboxDoc({ seed: 14 }))
    files['preds/twin/copy.json'] = json(requestBody(scenes[14]!, bboxDoc({ seed: 15 })))
    files['preds/folder.json/inside.txt'] = 'a directory whose name matches the glob'
    const workspace = makeWorkspace(files)
    // 2 MiB of nothing: a sparse file over a 1 MiB limit, never read.
    const big = openSync(path.join(workspace, `preds/${scenes[15]}.json`), 'w')
    writeSync(big, '{')
    ftruncateSync(big, 2 * 1024 * 1024)
    closeSync(big)
    // A FIFO: reading it would block forever; chmod 000 does not stop root, so this is the unreadable file.
    execFileSync('mkfifo', [path.join(workspace, `preds/${scenes[16]}.json`)])
    symlinkSync('gone/missing.json', path.join(workspace, `preds/${scenes[17]}.json`))
    mkdirSync(path.join(workspace, 'preds/empty-dir.json'))

    run = await runAction({
      inputs: { ...baseInputs(), path: 'preds/**/*.json', 'max-file-size': '1' },
      workspace
    })
  })

  it('uploads every good file once, and fails the step', () => {
    expect(run.code, run.stdout + run.stderr).toBe(1)
    for (const scene of GOOD) {
      expect(emulator.state.predictions.filter((p) => p.sceneUuid === scene)).toHaveLength(1)
      expect(run.results!.files.find((f) => f.sceneUuid === scene)!.status).toBe('uploaded')
    }
    // The bad files, and the broken link: a path meant as a file that cannot be used.
    expect(run.outputs).toMatchObject({ uploaded: String(GOOD.length), failed: String(bad.length + 1) })
    // Only the good files were sent: the unknown scene was refused before, from the annotations listing.
    expect(emulator.state.endpointCounts.uploadPrediction).toBe(GOOD.length)
  })

  it('gives each bad file its own result, with an error that says what is wrong', () => {
    const byPath = new Map(run.results!.files.map((f) => [f.path, f]))
    for (const b of bad) {
      const result = byPath.get(b.path)
      expect({ path: b.path, status: result?.status }).toEqual({ path: b.path, status: b.status })
      expect({ path: b.path, error: result?.error }).toEqual({
        path: b.path,
        error: expect.stringMatching(b.error)
      })
    }
    expect(byPath.size).toBe(GOOD.length + bad.length + 1)
  })

  it('annotates the first bad files by name within GitHub’s limit, and names every one in the summary', () => {
    const errors = annotations(run.stdout)
    // The overall result first, then at most nine files: GitHub shows ten errors per step.
    expect(errors[0]!.file).toBeUndefined()
    expect(errors[0]!.message).toMatch(/files not uploaded/)
    const files = errors.slice(1)
    expect(files.length).toBe(9)
    for (const a of files)
      expect(run.results!.files.find((f) => f.path === a.file)?.status).toMatch(/invalid|failed/)
    const more = annotations(run.stdout, 'notice').find((a) => /more files with errors/.test(a.message))
    expect(more?.message).toMatch(/^\d+ more files with errors are listed in the job summary/)
    for (const b of bad) {
      expect({ path: b.path, inSummary: run.summary.includes(path.basename(b.path)) }).toEqual({
        path: b.path,
        inSummary: true
      })
    }
  })

  it('names a broken symbolic link in the log, and counts it as invalid; an empty matched folder is nothing', () => {
    const line = run.stdout.split('\n').find((l) => l.startsWith(`preds/${scenes[17]}.json: `))
    expect(line).toContain('broken symbolic link')
    expect(run.stdout).not.toMatch(/empty-dir/)
    // The broken link was meant as a file, so it counts as invalid.
    expect(run.results!.files.find((f) => f.path === `preds/${scenes[17]}.json`)).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/broken symbolic link to "gone\/missing.json"/)
    })
  })

  it('leaks no secret anywhere', () => {
    expectNoSecrets(run)
  })
})

describe('matched paths that cannot be used, among only good files', () => {
  it('fails the step and lists a broken link and a link out of the workspace as invalid; a second path is a note', async () => {
    const good = scenes.slice(25, 28)
    const files: Record<string, string> = {}
    good.forEach((scene, i) => (files[`preds/${scene}.json`] = json(bboxDoc({ seed: i + 40 }))))
    const workspace = makeWorkspace(files)
    symlinkSync(`${good[0]}.json`, path.join(workspace, 'preds/zz-second-path.json'))
    const outside = makeWorkspace({ 'elsewhere.json': json(bboxDoc({ seed: 50 })) })
    symlinkSync('gone/missing.json', path.join(workspace, `preds/${scenes[28]}.json`))
    symlinkSync(path.join(outside, 'elsewhere.json'), path.join(workspace, `preds/${scenes[29]}.json`))

    const run = await runAction({ inputs: { ...baseInputs(), path: 'preds/*.json' }, workspace })

    expect(run.code, run.stdout + run.stderr).toBe(1)
    for (const scene of good) {
      expect(run.results!.files.find((f) => f.sceneUuid === scene)?.status).toBe('uploaded')
    }
    const unusable = run.results!.files.filter((f) => f.status !== 'uploaded')
    expect(unusable.map((f) => [f.path, f.status])).toEqual([
      [`preds/${scenes[28]}.json`, 'invalid'],
      [`preds/${scenes[29]}.json`, 'invalid']
    ])
    expect(unusable[0]!.error).toMatch(/broken symbolic link to "gone\/missing.json"/)
    expect(unusable[1]!.error).toMatch(/outside the workspace/)
    expect(emulator.state.predictions.some((p) => p.sceneUuid === scenes[29])).toBe(false)
    expect(run.outputs).toMatchObject({ uploaded: '3', failed: '2' })
    expect((run.results as unknown as { skipped: { displayPath: string }[] }).skipped).toEqual([
      { displayPath: 'preds/zz-second-path.json', reason: expect.stringMatching(/is the same file as/) }
    ])
    // The two links fail like bad files; the second path to a good file is a note in the log and the summary.
    const failed = annotations(run.stdout).map((a) => a.file)
    expect(failed).toEqual(expect.arrayContaining([`preds/${scenes[28]}.json`, `preds/${scenes[29]}.json`]))
    expect(run.stdout).toMatch(/^preds\/zz-second-path\.json: .*is the same file as/m)
    expect(run.summary).toMatch(/\| ↳ invalid \| 2 \|/)
    expectNoSecrets(run)
  })
})

describe('bad input values', () => {
  it('lists every bad number at once, naming each input, and uploads nothing', async () => {
    const before = emulator.state.requests
    const run = await runAction({
      inputs: {
        ...baseInputs(),
        path: 'preds/*.json',
        concurrency: '0',
        'max-retries': 'many',
        'request-timeout': '-5',
        'max-file-size': '1.5x'
      },
      files: { [`preds/${scenes[20]}.json`]: json(bboxDoc()) }
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/Invalid inputs \(4\)/)
    for (const name of ['concurrency', 'max-retries', 'request-timeout', 'max-file-size']) {
      expect(run.stdout).toMatch(new RegExp(`${name}:`))
    }
    expect(emulator.state.requests).toBe(before)
    expect(run.outputs).toMatchObject({ uploaded: '0', failed: '0' })
    expect(run.summary).toMatch(/Invalid inputs/)
    expectNoSecrets(run)
  })

  it.each([
    ['concurrency', '65'],
    ['concurrency', '2.5'],
    ['max-retries', '-1'],
    ['max-retries', '21']
  ])('refuses %s: %s, naming the input and its range', async (name, value) => {
    const run = await runAction({
      inputs: { ...baseInputs(), path: 'preds/*.json', [name]: value },
      files: { [`preds/${scenes[21]}.json`]: json(bboxDoc()) }
    })
    expect(run.code).toBe(1)
    const error = annotations(run.stdout)
      .map((a) => a.message)
      .join('\n')
    expect(error).toContain(`${name}:`)
    expect(error).toMatch(/\d+ to \d+|at least|at most|whole number/)
    expect(run.outputs.uploaded).toBe('0')
  })
})

describe('a file the action may not read', () => {
  // Root reads every file whatever its mode, so the action runs as an unprivileged user here.
  const asRoot = process.getuid?.() === 0
  it.skipIf(!asRoot)(
    'fails alone with a permission error naming it (EACCES), and the good files land',
    async () => {
      const unreadable = `preds/${scenes[25]}.json`
      const workspace = makeWorkspace({
        [`preds/${scenes[23]}.json`]: json(bboxDoc({ seed: 23 })),
        [`preds/${scenes[24]}.json`]: json(bboxDoc({ seed: 24 })),
        [unreadable]: json(bboxDoc({ seed: 25 }))
      })
      const { chmodSync } = await import('node:fs')
      chmodSync(path.join(workspace, unreadable), 0o000)
      const run = await runAction({
        inputs: { ...baseInputs(), path: 'preds/*.json' },
        workspace,
        runAs: { uid: 65534, gid: 65534 }
      })
      expect(run.code, run.stdout + run.stderr).toBe(1)
      expect(run.outputs).toMatchObject({ matched: '3', uploaded: '2', failed: '1' })
      const bad = run.results!.files.find((f) => f.path === unreadable)!
      expect(bad).toMatchObject({ status: 'invalid', error: expect.stringMatching(/cannot read .*EACCES/) })
      expect(annotations(run.stdout).map((a) => a.file)).toContain(unreadable)
    }
  )
})
