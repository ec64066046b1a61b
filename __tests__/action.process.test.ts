// The built action, run as the runner runs it (`node dist/index.js`), against the local Kognic emulator.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, cuboidDoc, json, requestBody, segmentationDoc } from '../scripts/sample-predictions.js'
import {
  annotations,
  maskedValues,
  runAction,
  secretLeaks,
  visibleLog,
  type ActionRun
} from '../scripts/runner.js'

const CLIENT_ID = 'process-test-client'
const CLIENT_SECRET = 'pr0cess-Test-Secret-d41d8cd98f00b204'
const OD = '11111111-1111-4111-8111-111111111111'
const SEG = '22222222-2222-4222-8222-222222222222'
const EXISTING_GROUP = '33333333-3333-4333-8333-333333333301'
const TWIN_A = '33333333-3333-4333-8333-333333333302'
const TWIN_B = '33333333-3333-4333-8333-333333333303'
const odScenes = Array.from(
  { length: 40 },
  (_, i) => `aaaaaaaa-0000-4000-8000-${String(i).padStart(12, '0')}`
)
const segScenes = Array.from(
  { length: 6 },
  (_, i) => `bbbbbbbb-0000-4000-8000-${String(i).padStart(12, '0')}`
)
const MAPPING = [
  { annotated: '_background', predicted: '_background' },
  { annotated: 'asphalt', predicted: 'road' },
  { annotated: 'oak', predicted: 'tree' },
  { annotated: 'birch', predicted: 'tree' }
]

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [
    {
      uuid: OD,
      name: 'object detection',
      scenes: odScenes,
      groups: [
        { uuid: EXISTING_GROUP, name: 'existing', description: 'made in the app' },
        { uuid: TWIN_A, name: 'twice' },
        { uuid: TWIN_B, name: 'twice' }
      ]
    },
    { uuid: SEG, name: 'segmentation', segmentation: true, scenes: segScenes }
  ]
}

let emulator: Emulator

beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})

function creds(): Record<string, string> {
  return { 'client-id': CLIENT_ID, 'client-secret': CLIENT_SECRET }
}

function urls(): Record<string, string> {
  return { 'api-url': emulator.url, 'auth-url': emulator.url }
}

/** n good bbox files named after OD scenes starting at `from`. */
function bboxFiles(n: number, from = 0, dir = 'preds'): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < n; i++) files[`${dir}/${odScenes[from + i]}.json`] = json(bboxDoc({ seed: i + 1 }))
  return files
}

function groupsNamed(name: string, dataset = OD) {
  return (emulator.state.groups[dataset] ?? []).filter((g) => g.name === name)
}

function predictionsIn(groupUuid: string) {
  return emulator.state.predictions.filter((p) => p.groupUuid === groupUuid)
}

/** Every secret was handed to the runner to mask, and none appears anywhere people or later steps can read. */
function expectNoSecrets(run: ActionRun, secrets: string[] = [CLIENT_SECRET]): void {
  const issued = emulator.state.tokensIssued
  const masked = maskedValues(run.stdout)
  for (const secret of secrets) expect(masked).toContain(secret)
  expect(secretLeaks(run, [...secrets, ...issued])).toEqual([])
}

describe('a group by name', () => {
  it('creates the group when the dataset has none by that name, and uploads every file', async () => {
    const name = `created-${Date.now()}`
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': name,
        path: 'preds/*.json',
        'group-link-template': 'https://app.kognic.test/view/dataset/{dataset}/predictions/{group}',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(5)
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    const [group] = groupsNamed(name)
    expect(group).toBeDefined()
    expect(group!.description).toContain('acme/perception')
    expect(group!.description).toContain('https://github.com/acme/perception/actions/runs/4242')
    expect(run.outputs).toMatchObject({
      'predictions-group-uuid': group!.uuid,
      'group-created': 'true',
      matched: '5',
      uploaded: '5',
      failed: '0'
    })
    expect(
      predictionsIn(group!.uuid)
        .map((p) => p.sceneUuid)
        .sort()
    ).toEqual(odScenes.slice(0, 5))
    expect(run.results!.files).toHaveLength(5)
    for (const file of run.results!.files) {
      expect(file).toMatchObject({ status: 'uploaded', attempts: 1, error: null, possibleDuplicate: false })
      expect(file.predictionUuid).toMatch(/^[0-9a-f-]{36}$/)
    }
    expect(run.summary).toContain(name)
    expect(run.summary).toContain(`https://app.kognic.test/view/dataset/${OD}/predictions/${group!.uuid}`)
    expectNoSecrets(run)
  })

  it('reuses the existing group with that exact name; a re-run adds to the same group', async () => {
    const before = predictionsIn(EXISTING_GROUP).length
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/**/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(3, 10, 'preds/nested')
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({
      'predictions-group-uuid': EXISTING_GROUP,
      'group-created': 'false',
      uploaded: '3'
    })
    expect(predictionsIn(EXISTING_GROUP).length).toBe(before + 3)
    expect(groupsNamed('existing')).toHaveLength(1)
  })

  it('fails, listing both UUIDs, when two groups share the name, and uploads nothing', async () => {
    const requests = emulator.state.predictions.length
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'twice',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(2)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain(TWIN_A)
    expect(run.stdout).toContain(TWIN_B)
    expect(run.stdout).toMatch(/::error::.*predictions-group "twice" matches 2 groups/)
    expect(emulator.state.predictions.length).toBe(requests)
    expect(run.outputs).toMatchObject({ uploaded: '0', failed: '2', matched: '2' })
    expect(run.results!.files.every((f) => f.status === 'not-attempted')).toBe(true)
    expect(run.summary).toMatch(/matches 2 groups/)
  })

  it("fails naming the group when it does not exist and create-group is 'false'", async () => {
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'nowhere',
        'create-group': 'false',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/no predictions group named "nowhere" and create-group is 'false'/)
    expect(groupsNamed('nowhere')).toHaveLength(0)
  })
})

describe('a group by UUID', () => {
  it('uploads into the group the UUID names', async () => {
    const before = predictionsIn(TWIN_B).length
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group-uuid': TWIN_B,
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(2, 20)
    })
    expect(run.code, run.stdout).toBe(0)
    expect(run.outputs).toMatchObject({
      'predictions-group-uuid': TWIN_B,
      'group-created': 'false',
      uploaded: '2'
    })
    expect(predictionsIn(TWIN_B).length).toBe(before + 2)
  })

  it('fails when the UUID is not a group of the dataset', async () => {
    const run = await runAction({
      inputs: {
        'dataset-uuid': SEG,
        'predictions-group-uuid': TWIN_B,
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /predictions-group-uuid 33333333-3333-4333-8333-333333333303 is not a predictions group of dataset/
    )
  })
})

describe('segmentation', () => {
  function segFiles(classes = ['_background', 'road', 'tree']): Record<string, string> {
    const files: Record<string, string> = {}
    segScenes
      .slice(0, 3)
      .forEach((scene, i) => (files[`seg/${scene}.json`] = json(segmentationDoc({ classes, seed: i }))))
    return files
  }

  it('creates the group with the class mapping given inline', async () => {
    const name = `seg-inline-${Date.now()}`
    const run = await runAction({
      inputs: {
        'dataset-uuid': SEG,
        'predictions-group': name,
        'class-mapping': JSON.stringify(MAPPING),
        path: 'seg/*.json',
        ...creds(),
        ...urls()
      },
      files: segFiles()
    })
    expect(run.code, run.stdout).toBe(0)
    const [group] = groupsNamed(name, SEG)
    expect(group!.classMapping).toEqual(MAPPING)
    expect(run.outputs.uploaded).toBe('3')
  })

  it('creates the group with the class mapping read from a file in the workspace', async () => {
    const name = `seg-file-${Date.now()}`
    const run = await runAction({
      inputs: {
        'dataset-uuid': SEG,
        'predictions-group': name,
        'class-mapping': 'config/class-mapping.json',
        path: 'seg/*.json',
        ...creds(),
        ...urls()
      },
      files: { ...segFiles(), 'config/class-mapping.json': JSON.stringify(MAPPING, null, 2) }
    })
    expect(run.code, run.stdout).toBe(0)
    expect(groupsNamed(name, SEG)[0]!.classMapping).toEqual(MAPPING)
  })

  it('fails naming class-mapping when a segmentation group would be created without one', async () => {
    const name = `seg-missing-${Date.now()}`
    const run = await runAction({
      inputs: { 'dataset-uuid': SEG, 'predictions-group': name, path: 'seg/*.json', ...creds(), ...urls() },
      files: segFiles()
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::.*set class-mapping/)
    expect(groupsNamed(name, SEG)).toHaveLength(0)
    expect(run.outputs.uploaded).toBe('0')
  })

  it('fails naming the classes the mapping leaves out, before creating anything', async () => {
    const name = `seg-incomplete-${Date.now()}`
    const run = await runAction({
      inputs: {
        'dataset-uuid': SEG,
        'predictions-group': name,
        'class-mapping': JSON.stringify(MAPPING),
        path: 'seg/*.json',
        ...creds(),
        ...urls()
      },
      files: segFiles(['_background', 'road', 'tree', 'sidewalk', 'sky'])
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /class-mapping leaves out 2 class\(es\) found in the predictions: sidewalk, sky/
    )
    expect(groupsNamed(name, SEG)).toHaveLength(0)
  })

  it('names the class-mapping input when the mapping is not valid', async () => {
    const run = await runAction({
      inputs: {
        'dataset-uuid': SEG,
        'predictions-group': 'whatever',
        'class-mapping': '[{"predicted": "road"}',
        path: 'seg/*.json',
        ...creds(),
        ...urls()
      },
      files: segFiles()
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::.*class-mapping/)
  })
})

describe('when nothing matches', () => {
  const inputs = () => ({
    'dataset-uuid': OD,
    'predictions-group': 'existing',
    path: 'nothing/**/*.json',
    ...creds(),
    ...urls()
  })

  it('fails by default (if-no-files-found: error), naming the patterns', async () => {
    const run = await runAction({ inputs: inputs(), files: { 'other/readme.txt': 'x' } })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::No files matched path \(nothing\/\*\*\/\*\.json\)/)
    expect(run.outputs).toMatchObject({ matched: '0', uploaded: '0', failed: '0' })
  })

  it('warns and succeeds with if-no-files-found: warn', async () => {
    const run = await runAction({ inputs: { ...inputs(), 'if-no-files-found': 'warn' } })
    expect(run.code).toBe(0)
    expect(
      annotations(run.stdout, 'warning').some((a) => a.message.startsWith('No files matched path'))
    ).toBe(true)
    expect(run.outputs.matched).toBe('0')
  })

  it('says so quietly and succeeds with if-no-files-found: ignore', async () => {
    const run = await runAction({ inputs: { ...inputs(), 'if-no-files-found': 'ignore' } })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^No files matched path/m)
    expect(annotations(run.stdout, 'warning')).toEqual([])
    expect(run.outputs.uploaded).toBe('0')
  })
})

describe('dry run', () => {
  it('checks everything, creates nothing, uploads nothing, and reports what would happen', async () => {
    const name = `dry-${Date.now()}`
    const before = emulator.state.predictions.length
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': name,
        'dry-run': 'true',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(4)
    })
    expect(run.code, run.stdout).toBe(0)
    expect(groupsNamed(name)).toHaveLength(0)
    expect(emulator.state.predictions.length).toBe(before)
    expect(run.outputs).toMatchObject({
      'predictions-group-uuid': '',
      'group-created': 'false',
      matched: '4',
      uploaded: '0',
      failed: '0'
    })
    expect(run.results!.files.map((f) => f.status)).toEqual([
      'would-upload',
      'would-upload',
      'would-upload',
      'would-upload'
    ])
    expect(run.summary).toMatch(/dry run/i)
    expect(run.summary).toContain(odScenes[0])
    expect(run.stdout).toContain(`preds/${odScenes[3]}.json → scene ${odScenes[3]}`)
  })

  it('finds an existing group and still signs in, so bad credentials fail a dry run too', async () => {
    const ok = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        'dry-run': 'true',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1)
    })
    expect(ok.outputs['predictions-group-uuid']).toBe(EXISTING_GROUP)
    const bad = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        'dry-run': 'true',
        path: 'preds/*.json',
        'client-id': CLIENT_ID,
        'client-secret': 'wrong-secret-value',
        ...urls()
      },
      files: bboxFiles(1)
    })
    expect(bad.code).toBe(1)
  })
})

describe('bad files mixed with good ones', () => {
  it('uploads the good files, reports each bad one by name, and fails the step', async () => {
    const name = `mixed-${Date.now()}`
    const files: Record<string, string> = {
      ...bboxFiles(3, 30),
      [`preds/${odScenes[33]}.json`]: '{"openlabel": {',
      'preds/not-a-scene.json': json(bboxDoc()),
      [`preds/${odScenes[34]}.json`]: '',
      'preds/request-form.json': json(requestBody(odScenes[35]!, cuboidDoc({ frames: 3 }))),
      'preds/unknown-scene.json': json(requestBody('cccccccc-0000-4000-8000-000000000000', bboxDoc()))
    }
    const run = await runAction({
      inputs: { 'dataset-uuid': OD, 'predictions-group': name, path: 'preds/*.json', ...creds(), ...urls() },
      files
    })
    expect(run.code).toBe(1)
    expect(run.outputs).toMatchObject({ matched: '8', uploaded: '4', failed: '4' })
    const byPath = new Map(run.results!.files.map((f) => [f.path, f]))
    expect(byPath.get(`preds/${odScenes[30]}.json`)!.status).toBe('uploaded')
    expect(byPath.get('preds/request-form.json')).toMatchObject({
      status: 'uploaded',
      sceneUuid: odScenes[35]
    })
    expect(byPath.get(`preds/${odScenes[33]}.json`)).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/JSON/i)
    })
    expect(byPath.get('preds/not-a-scene.json')).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/UUID/)
    })
    expect(byPath.get(`preds/${odScenes[34]}.json`)).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/empty/i)
    })
    // Refused before upload: the dataset's annotations list no such scene.
    expect(byPath.get('preds/unknown-scene.json')).toMatchObject({
      status: 'invalid',
      error: expect.stringMatching(/is not in dataset .*: it has no annotation there/)
    })
    const errorFiles = annotations(run.stdout).map((a) => a.file)
    for (const bad of [`preds/${odScenes[33]}.json`, 'preds/not-a-scene.json', 'preds/unknown-scene.json']) {
      expect(errorFiles).toContain(bad)
    }
    expect(run.summary).toContain('not-a-scene.json')
    expect(run.summary).toMatch(/is not in dataset/)
    const group = groupsNamed(name)[0]!
    expect(predictionsIn(group.uuid)).toHaveLength(4)
  })

  it('creates no group when no file is fit to upload', async () => {
    const name = `all-bad-${Date.now()}`
    const run = await runAction({
      inputs: { 'dataset-uuid': OD, 'predictions-group': name, path: 'preds/*.json', ...creds(), ...urls() },
      files: { 'preds/a.json': '{}', [`preds/${odScenes[0]}.json`]: 'not json' }
    })
    expect(run.code).toBe(1)
    expect(run.outputs).toMatchObject({ matched: '2', uploaded: '0', failed: '2', 'group-created': 'false' })
    expect(groupsNamed(name)).toHaveLength(0)
    expect(run.results!.files.map((f) => f.status)).toEqual(['invalid', 'invalid'])
  })

  it('a pathologically nested file fails alone, named, and the good files land', async () => {
    let nested = '1'
    for (let i = 0; i < 100_000; i++) nested = `[${nested}]`
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: {
        ...bboxFiles(2, 12),
        [`preds/${odScenes[14]}.json`]: `{"openlabel": {"metadata": {"schema_version": ${nested}}}}`
      }
    })
    expect(run.code).toBe(1)
    expect(run.outputs).toMatchObject({ matched: '3', uploaded: '2', failed: '1' })
    const bad = run.results!.files.find((f) => f.path === `preds/${odScenes[14]}.json`)!
    expect(bad.status).toBe('invalid')
    expect(annotations(run.stdout).map((a) => a.file)).toContain(`preds/${odScenes[14]}.json`)
  })

  it('fails both files that claim the same scene, naming each other, and uploads the rest', async () => {
    const files = {
      ...bboxFiles(1, 36),
      [`a/${odScenes[37]}.json`]: json(bboxDoc()),
      'b/dup.json': json(requestBody(odScenes[37]!, bboxDoc({ seed: 9 })))
    }
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: '**/*.json',
        ...creds(),
        ...urls()
      },
      files
    })
    expect(run.code).toBe(1)
    expect(run.outputs).toMatchObject({ matched: '3', uploaded: '1', failed: '2' })
    const dupA = run.results!.files.find((f) => f.path === `a/${odScenes[37]}.json`)!
    expect(dupA).toMatchObject({ status: 'invalid', error: expect.stringContaining('b/dup.json') })
  })
})

describe('credentials', () => {
  it('fails clearly on wrong credentials, creating and uploading nothing', async () => {
    const name = `badcreds-${Date.now()}`
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': name,
        path: 'preds/*.json',
        'client-id': CLIENT_ID,
        'client-secret': 'definitely-wrong-secret',
        ...urls()
      },
      files: bboxFiles(2)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/::error::.*(credentials|401)/i)
    expectNoSecrets(run, ['definitely-wrong-secret'])
    expect(groupsNamed(name)).toHaveLength(0)
  })

  it('accepts the credentials input (the content of a credentials file)', async () => {
    const content = JSON.stringify({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      email: 'ml@acme.test',
      userId: 1,
      issuer: 'auth.kognic.test'
    })
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/*.json',
        credentials: content,
        ...urls()
      },
      files: bboxFiles(1, 38)
    })
    expect(run.code, run.stdout).toBe(0)
    expectNoSecrets(run, [CLIENT_SECRET, content])
  })

  it('falls back to env KOGNIC_CREDENTIALS and to env KOGNIC_CLIENT_ID/KOGNIC_CLIENT_SECRET', async () => {
    const dir = (await import('node:fs')).mkdtempSync(
      path.join((await import('node:os')).tmpdir(), 'kup-creds-')
    )
    const file = path.join(dir, 'credentials.json')
    writeFileSync(file, JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }))
    const fromFile = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        'dry-run': 'true',
        path: 'preds/*.json',
        ...urls()
      },
      env: { KOGNIC_CREDENTIALS: file },
      files: bboxFiles(1)
    })
    expect(fromFile.code, fromFile.stdout).toBe(0)
    expect(fromFile.stdout).toContain('KOGNIC_CREDENTIALS')
    const fromEnv = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        'dry-run': 'true',
        path: 'preds/*.json',
        ...urls()
      },
      env: { KOGNIC_CLIENT_ID: CLIENT_ID, KOGNIC_CLIENT_SECRET: CLIENT_SECRET },
      files: bboxFiles(1)
    })
    expect(fromEnv.code, fromEnv.stdout).toBe(0)
    expectNoSecrets(fromEnv)
  })

  it('refuses a plain http:// URL that is not loopback, before any credential is sent', async () => {
    const tokenRequests = emulator.state.tokenRequests
    const run = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/*.json',
        ...creds(),
        'api-url': 'http://dataset.example.com',
        'auth-url': emulator.url
      },
      files: bboxFiles(1)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/api-url: http:\/\/ is refused for dataset\.example\.com/)
    expect(emulator.state.tokenRequests).toBe(tokenRequests)
    expectNoSecrets(run)
  })
})

describe('a dataset the credentials cannot see', () => {
  it('names dataset-uuid and api-url when the dataset is unknown', async () => {
    const run = await runAction({
      inputs: {
        'dataset-uuid': 'dddddddd-0000-4000-8000-000000000000',
        'predictions-group': 'x',
        path: 'preds/*.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1)
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(
      /::error::Could not list the predictions groups of dataset dddddddd.*Check dataset-uuid/
    )
  })
})

describe('the results file', () => {
  it('is written where results-file says, and a path that cannot be written fails the step', async () => {
    const ok = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/*.json',
        'results-file': 'out/kognic/results.json',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1, 15)
    })
    expect(ok.code, ok.stdout).toBe(0)
    expect(ok.outputs['results-file']).toBe(path.join(ok.workspace, 'out/kognic/results.json'))
    expect(ok.results!.files).toHaveLength(1)

    const bad = await runAction({
      inputs: {
        'dataset-uuid': OD,
        'predictions-group': 'existing',
        path: 'preds/*.json',
        'results-file': 'preds',
        ...creds(),
        ...urls()
      },
      files: bboxFiles(1, 16)
    })
    expect(bad.code).toBe(1)
    expect(bad.outputs).toMatchObject({ uploaded: '1', 'results-file': '' })
    expect(bad.stdout).toMatch(/::error::.*results file .*preds/)
  })
})

describe('input problems', () => {
  it('lists every problem at once, credentials and class mapping included, and still writes outputs and a summary', async () => {
    const run = await runAction({
      inputs: {
        'dataset-uuid': 'nope',
        concurrency: 'ten',
        path: '',
        credentials: `{"clientSecret": "${CLIENT_SECRET}"`,
        'class-mapping': '[{"predicted": "road"}]',
        ...urls()
      }
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(/Invalid inputs \(6\)/)
    for (const text of [
      'dataset-uuid:',
      'predictions-group or predictions-group-uuid:',
      'path:',
      'concurrency:',
      'the value of credentials is not valid JSON',
      'class-mapping'
    ]) {
      expect(run.stdout).toContain(text)
    }
    expect(run.outputs).toMatchObject({ matched: '0', uploaded: '0', failed: '0' })
    expect(run.summary).toMatch(/Invalid inputs/)
    // Not JSON, so the secret inside cannot be found: the whole value is masked instead.
    expectNoSecrets(run, [`{"clientSecret": "${CLIENT_SECRET}"`])
    expect(visibleLog(run.stdout)).not.toContain(CLIENT_SECRET)
  })
})
