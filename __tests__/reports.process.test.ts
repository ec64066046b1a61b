// One set of numbers: the outputs, the job summary, the pull-request comment and the log say the same
// "not uploaded" for a partial failure, a cancelled run, a stopped run and a run of 300 invalid files, and the
// annotations stay within what GitHub shows (10 errors per step), the overall result first.
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed
} from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, runAction, type ActionRun, type RunOptions } from '../scripts/runner.js'
import { pullRequestEvent, startGitHubStub, type GitHubStub } from './github-stub.js'

const REPO = 'acme/perception'
const TOKEN = 'ghs_reportsTestToken0123456789abcdef'
let emulator: Emulator
let github: GitHubStub

beforeAll(async () => {
  emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
  github = await startGitHubStub({ acceptToken: TOKEN })
})
afterAll(async () => {
  await emulator?.close()
  await github?.close()
})
afterEach(() => emulator.setFaults({}))

let prNumber = 100

function run(opts: Omit<RunOptions, 'inputs'> & { inputs?: Record<string, string> }): Promise<ActionRun> {
  const eventDir = mkdtempSync(path.join(os.tmpdir(), 'kup-event-'))
  const eventPath = path.join(eventDir, 'event.json')
  writeFileSync(eventPath, JSON.stringify(pullRequestEvent(++prNumber, REPO)))
  return runAction({
    ...opts,
    inputs: {
      'dataset-uuid': SAMPLE_OD_DATASET_UUID,
      'predictions-group': `reports-${prNumber}`,
      path: 'preds/*.json',
      'client-id': SAMPLE_CLIENT_ID,
      'client-secret': SAMPLE_CLIENT_SECRET,
      'api-url': emulator.url,
      'auth-url': emulator.url,
      'pr-comment': 'true',
      'github-token': TOKEN,
      ...opts.inputs
    },
    env: {
      GITHUB_REPOSITORY: REPO,
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_API_URL: github.url,
      ...opts.env
    }
  })
}

function good(from: number, count: number): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < count; i++)
    files[`preds/${SAMPLE_OD_SCENES[from + i]}.json`] = json(bboxDoc({ seed: i }))
  return files
}

/** The "not uploaded" number each report gives; every one must be there. */
function notUploadedEverywhere(result: ActionRun): Record<string, number | null> {
  const comment = github.comments.find((c) => c.issueNumber === prNumber)?.body ?? ''
  const fromText = (text: string): number | null => {
    const m = /([\d,]+) (?:of [\d,]+ files )?not uploaded/.exec(text)
    return m ? Number(m[1]!.replace(/,/g, '')) : null
  }
  const failedLine = annotations(result.stdout)[0]?.message ?? ''
  return {
    output: Number(result.outputs.failed),
    summary: fromText(result.summary),
    comment: fromText(comment),
    log: fromText(failedLine),
    results: result.results?.counts.notUploaded ?? null
  }
}

function expectOneNumber(result: ActionRun, expected: number): void {
  const seen = notUploadedEverywhere(result)
  expect(seen).toEqual({
    output: expected,
    summary: expected,
    comment: expected,
    log: expected,
    results: expected
  })
}

/** At most ten error annotations, the overall result first (it names no file). */
function expectAnnotationBudget(result: ActionRun): void {
  const errors = annotations(result.stdout)
  expect(errors.length).toBeGreaterThan(0)
  expect(errors.length).toBeLessThanOrEqual(10)
  expect(errors[0]!.file).toBeUndefined()
}

describe('one set of numbers', () => {
  it('a partial failure: invalid files and scenes Kognic rejects', async () => {
    const rejected = [SAMPLE_OD_SCENES[2]!, SAMPLE_OD_SCENES[3]!]
    emulator.setFaults({
      rejectScenes: Object.fromEntries(rejected.map((s) => [s, `Scene ${s} is archived`]))
    })
    const result = await run({
      files: { ...good(0, 8), 'preds/broken.json': '{', [`preds/${SAMPLE_OD_SCENES[9]}.json`]: '{}' }
    })
    expect(result.code).toBe(1)
    expectOneNumber(result, 4)
    expect(result.summary).toContain('| Not uploaded | 4 |')
    expect(result.summary).toContain('| ↳ invalid | 2 |')
    expect(result.summary).toContain('| ↳ failed to upload | 2 |')
    expectAnnotationBudget(result)
    // The human reason first, the HTTP detail after it; no row repeats its own file name.
    // (The by-kind table above names the first file too: its row is the kind's, the file's row says why.)
    const rejectedRow = result.summary
      .split('\n')
      .find((line) => line.includes(`${rejected[0]}.json`) && !line.startsWith('| <code>'))!
    expect(result.summary).toContain(
      `| <code>upload-failed</code> | 2 | upload failed | preds/${rejected[0]}.json |`
    )
    expect(rejectedRow).toMatch(/Scene .* is archived \\\(400 Bad Request from POST/)
    // The comment points at the run, not at a file on the runner.
    const comment = github.comments.find((c) => c.issueNumber === prNumber)!.body
    expect(comment).toContain('https://github.com/acme/perception/actions/runs/4242')
    expect(comment).not.toContain('kognic-upload-results-')
  })

  it('a cancelled run', async () => {
    emulator.setFaults({ latencyMs: 400 })
    const result = await run({
      files: good(0, 20),
      inputs: { concurrency: '2' },
      kill: { signal: 'SIGTERM', whenStdoutMatches: /::group::Upload/ }
    })
    expect(result.code).toBe(1)
    const notUploaded = Number(result.outputs.failed)
    expect(notUploaded).toBeGreaterThan(0)
    expectOneNumber(result, notUploaded)
    expect(result.summary).toMatch(/Cancelled: /)
    expectAnnotationBudget(result)
  })

  it('a stopped run: the reason once, the group as given, files not attempted in one line', async () => {
    const result = await run({
      files: good(0, 9),
      inputs: { 'dataset-uuid': '99999999-9999-4999-8999-999999999999', 'predictions-group': 'as-given' }
    })
    expect(result.code).toBe(1)
    expectOneNumber(result, 9)
    expect(result.summary).toContain('as-given')
    expect(result.summary).not.toContain('unnamed')
    expect(result.summary).toContain('**9 files not attempted:** the run stopped before uploading')
    expect(result.summary).not.toContain('<summary>Files not uploaded')
    // The reason is said once in the summary.
    const reason = /Could not list the predictions groups/g
    expect(result.summary.match(reason)).toHaveLength(1)
    expectAnnotationBudget(result)
  })

  it('300 invalid files: ten error annotations at most, then a notice for the rest', async () => {
    const files: Record<string, string> = {}
    for (let i = 0; i < 300; i++) files[`preds/bad-${String(i).padStart(3, '0')}.json`] = '{'
    const result = await run({ files })
    expect(result.code).toBe(1)
    expectOneNumber(result, 300)
    expectAnnotationBudget(result)
    const errors = annotations(result.stdout)
    expect(errors).toHaveLength(10)
    // A syntax error says where: line and column are in the annotation.
    expect(result.stdout).toMatch(/::error title=Not uploaded,file=preds\/bad-000\.json,line=1,col=2::/)
    const notices = annotations(result.stdout, 'notice').map((a) => a.message)
    expect(notices).toContain(
      '291 more files with errors are listed in the job summary and the results file.'
    )
  })
})
