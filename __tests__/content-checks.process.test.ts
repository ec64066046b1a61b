// The content checks through the built action (`node dist/index.js`) against the emulator, on
// examples/mistakes/: each file makes one mistake Kognic accepts but reads wrongly, so with
// `validation: strict` each warns (kind, file, path) and is still uploaded. A class mapping without
// `_background` stops a segmentation run before anything is created.
import { readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_SEG_CLASS_MAPPING,
  SAMPLE_SEG_DATASET_UUID,
  sampleSeed
} from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { annotations, ROOT, runAction, visibleLog } from '../scripts/runner.js'

const MISTAKES = path.join(ROOT, 'examples', 'mistakes')
// The listing names each file's rule: | `<scene>.json` | `<rule>` |
const RULE_OF = new Map<string, string>(
  [
    ...readFileSync(path.join(MISTAKES, 'README.md'), 'utf8').matchAll(
      /^\| `([^`]+\.json)` +\| `([^`]+)` +\|$/gm
    )
  ].map((m) => [`examples/mistakes/${m[1]!}`, m[2]!] as const)
)
const files: Record<string, string> = {}
for (const name of readdirSync(MISTAKES))
  files[`examples/mistakes/${name}`] = readFileSync(path.join(MISTAKES, name), 'utf8')

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})
beforeEach(() => emulator.reset())

function inputs(
  dataset: string,
  pattern: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    'dataset-uuid': dataset,
    'predictions-group': 'content-checks',
    path: pattern,
    validation: 'strict',
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    ...extra
  }
}

describe('content mistakes warn and are uploaded (validation: strict)', () => {
  it.each([
    ['object detection', SAMPLE_OD_DATASET_UUID, 'examples/mistakes/5ce7e000-00d1-*.json', {}],
    [
      'segmentation',
      SAMPLE_SEG_DATASET_UUID,
      'examples/mistakes/5ce7e000-00d2-*.json',
      { 'class-mapping': 'class-mapping.json' }
    ]
  ])('%s: each file warns its own kind at its path, and is uploaded', async (_, dataset, pattern, extra) => {
    const run = await runAction({
      inputs: inputs(dataset, pattern, extra),
      files: { ...files, 'class-mapping.json': JSON.stringify(SAMPLE_SEG_CLASS_MAPPING) }
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const results = run.results!.files
    expect(results.length).toBeGreaterThan(1)
    expect(run.outputs).toMatchObject({ matched: String(results.length), uploaded: String(results.length) })
    expect(emulator.state.predictions).toHaveLength(results.length)
    const warned = annotations(run.stdout, 'warning')
    for (const result of results) {
      const rule = RULE_OF.get(result.path)
      expect(rule, result.path).toBeDefined()
      expect(result.status).toBe('uploaded')
      expect(result.problems.map((p) => p.kind)).toEqual([rule])
      expect(result.problems[0]!.jsonPath).not.toBe('')
      expect(warned.some((a) => a.file === result.path)).toBe(true)
      // The log names the file and the JSON path of each warning.
      expect(visibleLog(run.stdout)).toContain(result.problems[0]!.jsonPath)
    }
    if (dataset === SAMPLE_OD_DATASET_UUID) {
      expect(visibleLog(run.stdout)).toContain('1 file has no objects')
    }
  })
})

describe('a class mapping without _background', () => {
  it('stops a segmentation run naming class-mapping, before any group is created or anything uploaded', async () => {
    const groupsBefore = emulator.state.groups[SAMPLE_SEG_DATASET_UUID.toLowerCase()]?.length ?? 0
    const mapping = SAMPLE_SEG_CLASS_MAPPING.filter((entry) => entry.annotated !== '_background')
    const run = await runAction({
      inputs: inputs(SAMPLE_SEG_DATASET_UUID, 'examples/segmentation/*.json', {
        'predictions-group': 'no-background',
        'class-mapping': 'class-mapping.json'
      }),
      files: {
        ...Object.fromEntries(
          readdirSync(path.join(ROOT, 'examples', 'segmentation')).map((name) => [
            `examples/segmentation/${name}`,
            readFileSync(path.join(ROOT, 'examples', 'segmentation', name), 'utf8')
          ])
        ),
        'class-mapping.json': JSON.stringify(mapping)
      }
    })
    expect(run.code).toBe(1)
    const log = visibleLog(run.stdout)
    expect(log).toMatch(/class-mapping[^\n]*"annotated": "_background"/)
    expect(log).toContain('{"annotated":"_background","predicted":"_background"}')
    expect(emulator.state.groups[SAMPLE_SEG_DATASET_UUID.toLowerCase()]?.length ?? 0).toBe(groupsBefore)
    expect(emulator.state.predictions).toEqual([])
  })
})
