// Safe to re-run (issue 15): resume-from read back through the built action (`node dist/index.js`),
// against the emulator, with the results file laid out as actions/download-artifact leaves it.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import {
  ACTION_NODE,
  annotations,
  makeWorkspace,
  ROOT,
  runAction,
  type ActionRun
} from '../scripts/runner.js'

const CLIENT_ID = 'resume-test-client'
const CLIENT_SECRET = 'resume-Test-Secret-0b204d41d8cd98f0'
const OD = '11111111-1111-4111-8111-111111111111'
const GROUP = '33333333-3333-4333-8333-333333333301'
const OTHER_GROUP = '33333333-3333-4333-8333-333333333302'
const scenes = Array.from({ length: 12 }, (_, i) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`)

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [
    {
      uuid: OD,
      name: 'object detection',
      scenes,
      groups: [
        { uuid: GROUP, name: 'nightly' },
        { uuid: OTHER_GROUP, name: 'other' }
      ]
    }
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

/** Where actions/download-artifact puts an artifact named kognic-results-1, and the pattern that finds it. */
const RESULTS_FILE = 'kognic-results/kognic-results-1/results.json'
const RESUME_GLOB = 'kognic-results/**/*.json'

/** The inputs of a run into GROUP; `extra` may name another group instead, by UUID or by name. */
function inputs(extra: Record<string, string> = {}): Record<string, string> {
  const group: Record<string, string> =
    'predictions-group' in extra ? {} : { 'predictions-group-uuid': GROUP }
  return {
    'dataset-uuid': OD,
    ...group,
    path: 'preds/*.json',
    'results-file': RESULTS_FILE,
    'client-id': CLIENT_ID,
    'client-secret': CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    ...extra
  }
}

function bboxFiles(n: number): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < n; i++) files[`preds/${scenes[i]}.json`] = json(bboxDoc({ seed: i + 1 }))
  return files
}

/** How many predictions the emulator holds per scene in `group`. */
function heldPerScene(group = GROUP): Map<string, number> {
  const held = new Map<string, number>()
  for (const p of emulator.state.predictions)
    if (p.groupUuid === group) held.set(p.sceneUuid, (held.get(p.sceneUuid) ?? 0) + 1)
  return held
}

function expectOk(run: ActionRun): void {
  expect(run.code, run.stdout + run.stderr).toBe(0)
}

function fileOf(run: ActionRun, scene: string) {
  return run.results!.files.find((f) => f.sceneUuid === scene)!
}

describe('resume-from after a run where some uploads failed', () => {
  it('uploads only what failed; the rest are already-uploaded with the earlier prediction, counted as done', async () => {
    const rejected = [scenes[1]!, scenes[4]!]
    emulator.setFaults({ rejectScenes: Object.fromEntries(rejected.map((s) => [s, 'Scene is busy'])) })
    const first = await runAction({ inputs: inputs(), files: bboxFiles(6) })
    expect(first.code).toBe(1)
    expect(first.outputs).toMatchObject({ uploaded: '4', failed: '2' })
    // The results file went where the artifact step picks it up, inside the workspace.
    expect(first.outputs['results-file']).toBe(path.join(first.workspace, RESULTS_FILE))

    emulator.setFaults({})
    const second = await runAction({
      inputs: inputs({ 'resume-from': RESUME_GLOB }),
      workspace: first.workspace,
      env: { GITHUB_RUN_ATTEMPT: '2' }
    })
    expectOk(second)
    expect(second.outputs).toMatchObject({ matched: '6', uploaded: '2', failed: '0' })

    // Each scene held once: nothing uploaded twice.
    const held = heldPerScene()
    expect(held.size).toBe(6)
    expect([...held.values()].every((count) => count === 1)).toBe(true)
    expect(emulator.state.duplicateUploads).toBe(0)

    for (const scene of scenes.slice(0, 6)) {
      const now = fileOf(second, scene)
      if (rejected.includes(scene)) {
        expect(now.status).toBe('uploaded')
      } else {
        expect(now.status).toBe('already-uploaded')
        expect(now.predictionUuid).toBe(fileOf(first, scene).predictionUuid)
        expect(now.error).toBeNull()
      }
    }
    expect(second.results!.counts).toMatchObject({
      uploaded: 2,
      alreadyUploaded: 4,
      notUploaded: 0,
      changedSinceUpload: 0
    })
    expect(second.summary).toContain('| Already uploaded (an earlier run) | 4 |')
    const verdict = 'All 6 files are in the group: 2 uploaded, 4 already uploaded by an earlier run.'
    expect(second.summary).toContain(verdict)
    expect(annotations(second.stdout, 'notice').map((a) => a.message)).toContain(verdict)
    expect(second.summary).not.toContain('Not uploaded | 4')
    // No re-run warning: resume-from is set.
    expect(annotations(second.stdout, 'warning').filter((a) => /attempt 2/.test(a.message))).toEqual([])
    // The results file written over the one read carries the earlier uploads on, for a third attempt.
    const third = await runAction({
      inputs: inputs({ 'resume-from': RESUME_GLOB }),
      workspace: first.workspace
    })
    expectOk(third)
    expect(third.outputs).toMatchObject({ uploaded: '0', failed: '0' })
    expect(third.results!.counts).toMatchObject({ alreadyUploaded: 6 })
    expect(heldPerScene().size).toBe(6)
    expect(emulator.state.duplicateUploads).toBe(0)
  })

  it('reads the results of several shards, one file each, as a matrix fan-out leaves them', async () => {
    const shardA = await runAction({
      inputs: inputs({ path: 'preds/a/*.json', 'results-file': 'kognic-results/shard-a/results.json' }),
      files: Object.fromEntries(
        Object.entries(bboxFiles(4)).map(([name, content], i) => [
          name.replace('preds/', `preds/${i < 2 ? 'a' : 'b'}/`),
          content
        ])
      )
    })
    expectOk(shardA)
    const shardB = await runAction({
      inputs: inputs({ path: 'preds/b/*.json', 'results-file': 'kognic-results/shard-b/results.json' }),
      workspace: shardA.workspace
    })
    expectOk(shardB)
    const again = await runAction({
      inputs: inputs({ path: 'preds/**/*.json', 'resume-from': RESUME_GLOB }),
      workspace: shardA.workspace
    })
    expectOk(again)
    expect(again.outputs).toMatchObject({ matched: '4', uploaded: '0', failed: '0' })
    expect(again.results!.counts.alreadyUploaded).toBe(4)
    expect([...heldPerScene().values()]).toEqual([1, 1, 1, 1])
  })
})

describe('the command line', () => {
  it('--resume-from with the file the previous run wrote uploads only what is left', async () => {
    const workspace = makeWorkspace(bboxFiles(4))
    emulator.setFaults({ rejectScenes: { [scenes[3]!]: 'Scene is busy' } })
    const args = ['--dataset-uuid', OD, '--predictions-group-uuid', GROUP, '--api-url', emulator.url]
    args.push('--auth-url', emulator.url, '--results-file', 'kognic-results.json', 'preds/')
    // A bare env, as another CI system gives; the command runs where the predictions are.
    // Spawned, not run synchronously: the emulator answers from this process.
    const cli = (extra: string[]): Promise<{ code: number | null; output: string }> => {
      const child = spawn(ACTION_NODE, [path.join(ROOT, 'dist', 'cli.js'), ...args, ...extra], {
        cwd: workspace,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env.PATH ?? '',
          HOME: workspace,
          TMPDIR: workspace,
          KOGNIC_CLIENT_ID: CLIENT_ID,
          KOGNIC_CLIENT_SECRET: CLIENT_SECRET
        }
      })
      let output = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
    }
    const once = await cli([])
    expect(once.code, once.output).toBe(1)
    emulator.setFaults({})
    const again = await cli(['--resume-from', 'kognic-results.json'])
    expect(again.code, again.output).toBe(0)
    expect([...heldPerScene().values()]).toEqual([1, 1, 1, 1])
    const results = JSON.parse(readFileSync(path.join(workspace, 'kognic-results.json'), 'utf8')) as {
      counts: Record<string, number>
    }
    expect(results.counts).toMatchObject({ uploaded: 1, alreadyUploaded: 3, notUploaded: 0 })
  })
})

describe('a file changed since it was uploaded', () => {
  it('is uploaded again with a warning naming it, and the count in the summary', async () => {
    const first = await runAction({ inputs: inputs(), files: bboxFiles(3) })
    expectOk(first)
    const changed = `preds/${scenes[2]}.json`
    writeFileSync(path.join(first.workspace, changed), json(bboxDoc({ seed: 99 })))

    const second = await runAction({
      inputs: inputs({ 'resume-from': RESUME_GLOB }),
      workspace: first.workspace
    })
    expectOk(second)
    expect(second.outputs).toMatchObject({ uploaded: '1', failed: '0' })
    const warnings = annotations(second.stdout, 'warning').filter((a) => /changed since/.test(a.message))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.file).toBe(changed)
    expect(warnings[0]!.message).toContain(fileOf(first, scenes[2]!).predictionUuid!)
    expect(warnings[0]!.message).toContain('two predictions')
    expect(second.results!.counts).toMatchObject({ uploaded: 1, alreadyUploaded: 2, changedSinceUpload: 1 })
    expect(second.summary).toContain('| Uploaded again (changed since an earlier run) | 1 |')
    // The group now holds two for that scene, as the warning says.
    expect(heldPerScene().get(scenes[2]!)).toBe(2)
    const sha = (run: ActionRun): unknown =>
      (fileOf(run, scenes[2]!) as { contentSha256?: string }).contentSha256
    expect(sha(second)).toMatch(/^[0-9a-f]{64}$/)
    expect(sha(second)).not.toBe(sha(first))
  })
})

describe('results files that cannot be used', () => {
  async function resumeWith(files: Record<string, string>): Promise<ActionRun> {
    const run = await runAction({
      inputs: inputs({ 'resume-from': 'earlier/*.json', 'results-file': 'out/results.json' }),
      files: { ...bboxFiles(3), ...files }
    })
    expectOk(run)
    // Nothing was left out: every file uploaded.
    expect(run.outputs).toMatchObject({ matched: '3', uploaded: '3', failed: '0' })
    return run
  }

  it('a resume-from that matches nothing is a notice, not an error', async () => {
    const run = await resumeWith({})
    const notices = annotations(run.stdout, 'notice').filter((a) => /resume-from/.test(a.message))
    expect(notices).toHaveLength(1)
    expect(notices[0]!.message).toContain('matched no results file')
    expect(annotations(run.stdout, 'warning')).toEqual([])
    expect(annotations(run.stdout, 'error')).toEqual([])
  })

  it('a malformed results file: one warning saying why, and the run goes on', async () => {
    const run = await resumeWith({
      'earlier/results.json': '{"kind": "kognic-upload-predictions-results", "ver'
    })
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ file: 'earlier/results.json' })
    expect(warnings[0]!.message).toContain('not valid JSON')
  })

  it('a JSON file that is not a results file: one warning saying why', async () => {
    const run = await resumeWith({ 'earlier/results.json': json({ files: [] }) })
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('not a results file of this action')
  })

  it('a results file from a later format: one warning naming the version', async () => {
    const future = { kind: 'kognic-upload-predictions-results', version: 2, files: [] }
    const run = await resumeWith({ 'earlier/results.json': json(future) })
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(/results format 2/)
  })

  it('a pattern that leads outside the workspace: one warning naming resume-from, never a stop', async () => {
    const run = await runAction({
      inputs: inputs({ 'resume-from': '/elsewhere/*.json', 'results-file': 'out/results.json' }),
      files: bboxFiles(3)
    })
    expectOk(run)
    expect(run.outputs).toMatchObject({ uploaded: '3', failed: '0' })
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(/^resume-from: the pattern .*outside the workspace/)
    expect(warnings[0]!.message).not.toMatch(/^path:/)
  })

  it('entries that are not well-formed (an edited results file) do not count as uploaded', async () => {
    const first = await runAction({
      inputs: inputs({ 'results-file': 'earlier/results.json' }),
      files: bboxFiles(3)
    })
    expectOk(first)
    const file = path.join(first.workspace, 'earlier/results.json')
    const edited = JSON.parse(readFileSync(file, 'utf8')) as { files: Record<string, unknown>[] }
    edited.files[0]!.predictionUuid = '::error::not a uuid'
    edited.files[1]!.contentSha256 = 'abc'
    writeFileSync(file, json(edited))
    const run = await runAction({
      inputs: inputs({ 'resume-from': 'earlier/*.json', 'results-file': 'out/results.json' }),
      workspace: first.workspace
    })
    expectOk(run)
    expect(run.outputs).toMatchObject({ uploaded: '2', failed: '0' })
    // The first has no usable record: uploaded as new. The second's hash matches nothing: uploaded again, warned.
    expect(run.results!.counts).toMatchObject({ alreadyUploaded: 1, changedSinceUpload: 1 })
    expect(run.stdout).not.toContain('::error::not a uuid')
  })

  it('a results file of another group: one warning naming it, nothing left out', async () => {
    const other = await runAction({
      inputs: inputs({ 'predictions-group-uuid': OTHER_GROUP, 'results-file': 'earlier/results.json' }),
      files: bboxFiles(3)
    })
    expectOk(other)
    const foreign = readFileSync(path.join(other.workspace, 'earlier/results.json'), 'utf8')
    const run = await resumeWith({ 'earlier/results.json': foreign })
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain(`for predictions group ${OTHER_GROUP}, not ${GROUP}`)
    expect(heldPerScene(GROUP).size).toBe(3)
  })
})

describe('a re-run without resume-from', () => {
  it('warns once on attempt 2 into a group that already existed, pointing to the recipe', async () => {
    const run = await runAction({
      inputs: inputs(),
      files: bboxFiles(2),
      env: { GITHUB_RUN_ATTEMPT: '2' }
    })
    expectOk(run)
    const warnings = annotations(run.stdout, 'warning').filter((a) => /attempt 2/.test(a.message))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('resume-from')
    expect(warnings[0]!.message).toContain('Safe to re-run')
  })

  it('warns on attempt 2 when resume-from finds no results file (the artifact was lost), instead of a notice', async () => {
    const run = await runAction({
      inputs: inputs({ 'resume-from': RESUME_GLOB }),
      files: bboxFiles(2),
      env: { GITHUB_RUN_ATTEMPT: '2' }
    })
    expectOk(run)
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('attempt 2')
    expect(warnings[0]!.message).toContain('matched no results file')
    expect(annotations(run.stdout, 'notice').filter((a) => /resume-from/.test(a.message))).toEqual([])
  })

  it('says nothing on a first attempt, nor into a group this run created', async () => {
    const first = await runAction({ inputs: inputs(), files: bboxFiles(2) })
    expectOk(first)
    const created = await runAction({
      inputs: inputs({ 'predictions-group': `fresh-${Date.now()}` }),
      files: bboxFiles(2),
      env: { GITHUB_RUN_ATTEMPT: '2' }
    })
    expectOk(created)
    expect(created.outputs['group-created']).toBe('true')
    for (const run of [first, created])
      expect(annotations(run.stdout, 'warning').filter((a) => /attempt/.test(a.message))).toEqual([])
  })
})

describe('the README documents the results file', () => {
  it('names every field a results file has, and every status', async () => {
    const run = await runAction({ inputs: inputs(), files: bboxFiles(1) })
    expectOk(run)
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const section = readme.slice(
      readme.indexOf('## The results file'),
      readme.indexOf('## The files it takes')
    )
    const written = JSON.parse(readFileSync(run.outputs['results-file']!, 'utf8')) as Record<string, unknown>
    const entry = (written.files as Record<string, unknown>[])[0]!
    const counts = Object.keys(written.counts as object)
    for (const key of [...Object.keys(written), ...Object.keys(entry), ...counts])
      expect(section, key).toContain(`\`${key}\``)
    for (const status of [
      'uploaded',
      'already-uploaded',
      'failed',
      'invalid',
      'would-upload',
      'not-attempted'
    ])
      expect(section, status).toContain(`\`${status}\``)
  })
})
