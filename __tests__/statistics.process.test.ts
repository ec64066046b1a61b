// Prediction statistics and compare-with (issue 20) through the built action (`node dist/index.js`) against
// the emulator: a run writes its statistics, a later run compares with its results file (laid out as
// actions/download-artifact leaves it), and a baseline that cannot be used is one warning, never a failure.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, runAction, type ActionRun } from '../scripts/runner.js'
import type { Comparison, Statistics } from '../src/predictions/statistics.js'

const CLIENT_ID = 'statistics-test-client'
const CLIENT_SECRET = 'stats-Test-Secret-7c4a8d09ca3762af61e5'
const OD = '55555555-5555-4555-8555-555555555555'
const scenes = Array.from({ length: 12 }, (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`)
const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: OD, name: 'object detection', scenes }]
}
const HOSTILE = '<img src=x onerror=alert(1)>|::warning::pwned'

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})
beforeEach(() => emulator.reset())

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'dataset-uuid': OD,
    'predictions-group': 'stats',
    path: 'preds/*.json',
    'results-file': 'kognic-results.json',
    'client-id': CLIENT_ID,
    'client-secret': CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    ...extra
  }
}

function files(classes: string[], count: number, from = 0, n = 3): Record<string, string> {
  const out: Record<string, string> = {}
  for (let i = 0; i < n; i++)
    out[`preds/${scenes[from + i]}.json`] = json(bboxDoc({ count, seed: i + 1, classes }))
  return out
}

type Results = { statistics: Statistics | null; comparison: Comparison | null }
const resultsOf = (run: ActionRun): Results => run.results as unknown as Results

function expectOk(run: ActionRun): void {
  expect(run.code, run.stdout + run.stderr).toBe(0)
}

describe('statistics in the results file and the summary', () => {
  it('counts the files that pass the checks, not one strict validation refuses', async () => {
    const invalid = bboxDoc({ count: 2, seed: 9, classes: ['ghost'] }) as {
      openlabel: {
        frames: Record<
          string,
          {
            objects: Record<string, { object_data: { bbox: { attributes: { num: { val: unknown }[] } }[] } }>
          }
        >
      }
    }
    for (const o of Object.values(invalid.openlabel.frames['0']!.objects))
      o.object_data.bbox[0]!.attributes.num[0]!.val = 'high'
    const run = await runAction({
      inputs: inputs(),
      files: { ...files(['car', 'pedestrian'], 4), [`preds/${scenes[5]}.json`]: json(invalid) }
    })
    expect(run.code).toBe(1)
    const { statistics, comparison } = resultsOf(run)
    expect(comparison).toBeNull()
    expect(statistics).toMatchObject({ version: 1, files: 3, frames: 3, geometries: { bbox: 12 } })
    expect(statistics!.classes.map((c) => [c.name, c.objects, c.scenes])).toEqual([
      ['car', 6, 3],
      ['pedestrian', 6, 3]
    ])
    expect(statistics!.streams).toEqual([{ name: 'CAM_FRONT', objects: 12, geometries: 12 }])
    expect(run.summary).toContain('### What the predictions hold')
    expect(run.summary).toMatch(/\| car \| 6 \| 6 \| 3 \| [\d.]+ \([\d.]+–[\d.]+\) \| 0 \| █+ \|/)
    expect(run.summary).not.toContain('ghost')
  })
})

describe('compare-with', () => {
  it('a second run shows the comparison with the first run in the summary and its results file', async () => {
    const first = await runAction({ inputs: inputs(), files: files(['car', 'pedestrian'], 4) })
    expectOk(first)
    const baseline = readFileSync(first.outputs['results-file']!, 'utf8')

    const second = await runAction({
      inputs: inputs({ 'predictions-group': 'stats-2', 'compare-with': 'baseline/**/*.json' }),
      files: {
        ...files(['car', 'car', 'cyclist', HOSTILE], 12, 6),
        // Where actions/download-artifact puts an artifact named kognic-results.
        'baseline/kognic-results/kognic-results.json': baseline
      }
    })
    expectOk(second)
    expect(annotations(second.stdout, 'warning')).toEqual([])
    const { comparison } = resultsOf(second)
    expect(comparison).toMatchObject({
      version: 1,
      baselines: ['baseline/kognic-results/kognic-results.json'],
      files: 3,
      baselineFiles: 3
    })
    expect(comparison!.classes.map((c) => [c.name, c.objects, c.baselineObjects, c.state])).toEqual([
      ['car', 18, 6, 'both'],
      // Equal changes: by name, and '<' sorts before letters.
      [HOSTILE, 9, 0, 'appeared'],
      ['cyclist', 9, 0, 'appeared'],
      ['pedestrian', 0, 6, 'vanished']
    ])
    const summary = second.summary
    expect(summary).toContain('### Predictions against the baseline')
    expect(summary).toMatch(/\| car \| 18 \| 6 \| \+200% \| [\d.]+ \([±+−][\d.]+\) \| █+<br>░+ \|/)
    expect(summary).toContain('| pedestrian | 0 | 6 | vanished |')
    expect(summary).toMatch(/Appeared:\*\* &lt;img.*, cyclist<br>/)
    expect(summary).toContain('Vanished:** pedestrian')
    // The hostile class name is text: no markup, no broken row, no workflow command.
    expect(summary).not.toContain('<img')
    expect(summary).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;\\|::warning::pwned')
    expect(second.stdout).not.toMatch(/^::warning::pwned/m)
  })

  it('a malformed baseline is exactly one warning, and the run succeeds', async () => {
    const run = await runAction({
      inputs: inputs({ 'compare-with': 'baseline/*.json' }),
      files: {
        ...files(['car'], 2),
        'baseline/results.json': JSON.stringify({
          kind: 'kognic-upload-predictions-results',
          version: 1,
          files: [],
          statistics: { version: 1, files: 'many' }
        })
      }
    })
    expectOk(run)
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(
      /compare-with found no usable baseline: baseline\/results\.json: malformed/
    )
    expect(resultsOf(run).comparison).toBeNull()
    expect(run.summary).toContain('### What the predictions hold')
  })

  it('a baseline that matches nothing is one warning too', async () => {
    const run = await runAction({
      inputs: inputs({ 'compare-with': 'baseline/*.json' }),
      files: files(['car'], 2)
    })
    expectOk(run)
    const warnings = annotations(run.stdout, 'warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toMatch(/compare-with matched no results file/)
  })
})
