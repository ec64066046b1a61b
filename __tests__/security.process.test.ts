// Hostile file names, inputs and server answers, and where the action may write: through the built action
// (`node dist/index.js`) against the emulator, as an attacker or an unlucky user would meet it.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed
} from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { makeWorkspace, runAction } from '../scripts/runner.js'

let emulator: Emulator
const HOSTILE_GROUP_UUID = 'c3f4a5b6-2d2f-4a21-8c33-0000000000e1'

beforeAll(async () => {
  const seed = sampleSeed()
  // A server answer is data too: a group name that carries a workflow command.
  seed.datasets[0]!.groups = [
    ...(seed.datasets[0]!.groups ?? []),
    { uuid: HOSTILE_GROUP_UUID, name: 'from the server\n::error::INJECTED-BY-SERVER' }
  ]
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => emulator?.close())

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'dataset-uuid': SAMPLE_OD_DATASET_UUID,
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    path: 'preds/**/*.json',
    ...extra
  }
}

function predictions(n: number, from = 0): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < n; i++) files[`preds/${SAMPLE_OD_SCENES[from + i]}.json`] = json(bboxDoc({ seed: i }))
  return files
}

/** Lines of the log the runner would run as a command whose text comes from the attacker. */
function injectedCommands(stdout: string): string[] {
  return stdout.split(/\r\n|\r|\n/).filter((line) => /^\s*::[a-z-]+(?: [^:]*)?::INJECTED/.test(line))
}

describe('workflow commands in data', () => {
  it('neutralises commands in file names, in info and debug lines alike', async () => {
    const scene = SAMPLE_OD_SCENES[0]!
    const run = await runAction({
      inputs: inputs({ 'predictions-group': 'nightly', 'dry-run': 'true' }),
      files: {
        [`preds/x\n::error::INJECTED-BY-DIRECTORY/${scene}.json`]: json(bboxDoc()),
        [`preds/y\r::add-mask::INJECTED-BY-NAME.json`]: '{'
      },
      env: { RUNNER_DEBUG: '1' }
    })
    expect(run.stdout).toContain('INJECTED-BY-DIRECTORY')
    expect(injectedCommands(run.stdout)).toEqual([])
  })

  it('neutralises commands in a group name from the inputs and from the server', async () => {
    const created = await runAction({
      inputs: inputs({ 'predictions-group': `made here ${Date.now()}\n::warning::INJECTED-BY-INPUT` }),
      files: predictions(1)
    })
    expect(created.code, created.stdout).toBe(0)
    expect(created.stdout).toContain('INJECTED-BY-INPUT')
    expect(injectedCommands(created.stdout)).toEqual([])

    const found = await runAction({
      inputs: inputs({ 'predictions-group-uuid': HOSTILE_GROUP_UUID }),
      files: predictions(1, 1)
    })
    expect(found.code, found.stdout).toBe(0)
    expect(found.stdout).toContain('INJECTED-BY-SERVER')
    expect(injectedCommands(found.stdout)).toEqual([])
  })
})

describe('where the results file may go', () => {
  const outside = (): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'kup-outside-')), 'r.json')

  it.each([
    ['a relative path out of the workspace', () => '../../kup-escaped-results.json'],
    ['an absolute path elsewhere', outside]
  ])('refuses %s before uploading anything', async (_what, target) => {
    const configured = target()
    const before = emulator.state.predictions.length
    const run = await runAction({
      inputs: inputs({ 'predictions-group': 'results-outside', 'results-file': configured }),
      files: predictions(2)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::.*results-file .* leads outside the workspace/)
    expect(emulator.state.predictions.length).toBe(before)
    expect(existsSync(path.resolve(run.workspace, configured))).toBe(false)
    // The run still reports, in the runner's temporary folder.
    expect(run.outputs['results-file']).toContain(path.join('kup-runner-'))
  })

  it('refuses a path through a symbolic link to a folder outside the workspace', async () => {
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'kup-elsewhere-'))
    const workspace = makeWorkspace(predictions(1))
    symlinkSync(elsewhere, path.join(workspace, 'out'))
    const run = await runAction({
      workspace,
      inputs: inputs({ 'predictions-group': 'results-symlink', 'results-file': 'out/results.json' })
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/results-file "out\/results.json" leads outside the workspace \(to /)
    expect(existsSync(path.join(elsewhere, 'results.json'))).toBe(false)
  })

  it('never overwrites a matched prediction file', async () => {
    const files = predictions(2)
    const victim = Object.keys(files)[0]!
    const run = await runAction({
      inputs: inputs({ 'predictions-group': 'results-victim', 'results-file': victim }),
      files
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/results-file names preds\/.*\.json, which path matches as a prediction file/)
    expect(readFileSync(path.join(run.workspace, victim), 'utf8')).toBe(files[victim])
  })

  it('does not take its own results file for a prediction on the next run', async () => {
    const workspace = makeWorkspace(predictions(2))
    const settings = inputs({
      'predictions-group': `results-inside-${Date.now()}`,
      'results-file': 'preds/results.json'
    })
    const first = await runAction({ workspace, inputs: settings })
    expect(first.code, first.stdout).toBe(0)
    expect(existsSync(path.join(workspace, 'preds/results.json'))).toBe(true)
    // A new scene appears; the earlier results file is set aside, not checked as a prediction.
    writeFileSync(path.join(workspace, `preds/${SAMPLE_OD_SCENES[5]}.json`), json(bboxDoc()))
    const second = await runAction({ workspace, inputs: settings })
    expect(second.code, second.stdout).toBe(0)
    expect(second.outputs.matched).toBe('3')
    expect(second.results!.files.map((f) => f.path)).not.toContain('preds/results.json')
  })

  it('sets aside any results file of this action among the matches, whatever its name', async () => {
    const workspace = makeWorkspace(predictions(2))
    const group = `results-any-name-${Date.now()}`
    const first = await runAction({
      workspace,
      inputs: inputs({ 'predictions-group': group, 'results-file': 'downloaded/earlier.json' })
    })
    expect(first.code, first.stdout).toBe(0)
    // A broad pattern now matches the earlier run's results file too.
    const second = await runAction({
      workspace,
      inputs: inputs({ 'predictions-group': group, path: '**/*.json', 'results-file': 'now.json' })
    })
    expect(second.code, second.stdout).toBe(0)
    expect(second.outputs).toMatchObject({ matched: '2', failed: '0' })
    expect(second.stdout).toContain(
      'downloaded/earlier.json: a results file of this action, not a prediction'
    )
  })
})

describe('counts in the log', () => {
  it('counts a matched path that cannot be used in the log as the output does', async () => {
    const workspace = makeWorkspace()
    mkdirSync(path.join(workspace, 'preds'))
    symlinkSync('/nonexistent/target.json', path.join(workspace, `preds/${SAMPLE_OD_SCENES[0]}.json`))
    const run = await runAction({ workspace, inputs: inputs({ 'predictions-group': 'broken' }) })
    expect(run.outputs.matched).toBe('1')
    expect(run.stdout).toMatch(/^1 file\(s\) matched path; 1 of them cannot be used/m)
  })
})
