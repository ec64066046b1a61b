// The two grades of OpenLABEL problems through the built action (`node dist/index.js`) against the emulator:
// with `validation: strict`, a file with only warnings is uploaded; a file with an error is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json, type OpenLabelDoc } from '../scripts/sample-predictions.js'
import { annotations, runAction } from '../scripts/runner.js'

const CLIENT_ID = 'tiers-client'
const CLIENT_SECRET = 'tiers-Secret-0f1e2d3c4b5a69788796a5b4'
const DATASET = '44444444-4444-4444-8444-444444444444'
const scenes = Array.from({ length: 4 }, (_, i) => `dddddddd-0000-4000-8000-${String(i).padStart(12, '0')}`)
const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: DATASET, name: 'tiers', scenes }]
}

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})

type FrameObject = { object_data: { bbox: { val: number[] }[] } & Record<string, unknown> }
type OpenLabel = Record<string, unknown> & {
  streams: Record<string, unknown>
  frames: Record<string, { frame_properties: Record<string, unknown>; objects: Record<string, FrameObject> }>
}

/** A bbox document changed by `change`, given its `openlabel` object and its first frame object. */
function doc(change: (openlabel: OpenLabel, first: FrameObject) => void): OpenLabelDoc {
  const d = bboxDoc({ count: 2 })
  const openlabel = d.openlabel as OpenLabel
  change(openlabel, Object.values(openlabel.frames['0']!.objects)[0]!)
  return d
}

describe('validation: strict with warnings and errors', () => {
  it('uploads files with warnings only or with what Kognic allows, and blocks only the file with an error', async () => {
    const [good, warned, broken, allowed] = scenes.map((s) => `preds/${s}.json`) as [
      string,
      string,
      string,
      string
    ]
    const files = {
      [good]: json(bboxDoc()),
      // A zero-width box clipped at the image edge, and a key the data model does not define: warnings.
      [warned]: json(
        doc((o, first) => {
          first.object_data.bbox[0]!.val[2] = 0
          o.producedBy = 'model v3'
        })
      ),
      // A polygon: the predictions API takes only bbox, cuboid and image.
      [broken]: json(
        doc((_, first) => {
          first.object_data.poly2d = [{ name: 'outline', val: [0, 0, 5, 0, 5, 5], closed: true }]
        })
      ),
      // A radar stream and a timestamp given as a numeric string: the data model allows both.
      [allowed]: json(
        doc((o) => {
          o.streams.RADAR_FRONT = { type: 'radar' }
          o.frames['0']!.frame_properties.timestamp = '0'
        })
      )
    }
    const run = await runAction({
      inputs: {
        'dataset-uuid': DATASET,
        'predictions-group': 'tiers',
        path: 'preds/*.json',
        'client-id': CLIENT_ID,
        'client-secret': CLIENT_SECRET,
        'api-url': emulator.url,
        'auth-url': emulator.url
      },
      files
    })
    expect(run.code, run.stdout + run.stderr).toBe(1)
    expect(run.outputs).toMatchObject({ matched: '4', uploaded: '3', failed: '1' })
    const byPath = new Map(run.results!.files.map((f) => [f.path, f]))
    expect(byPath.get(good)).toMatchObject({ status: 'uploaded', problems: [] })
    expect(byPath.get(allowed)).toMatchObject({ status: 'uploaded', problems: [] })
    expect(byPath.get(warned)!.status).toBe('uploaded')
    expect(
      byPath
        .get(warned)!
        .problems.map((p) => p.kind)
        .sort()
    ).toEqual(['bbox-size', 'unknown-key'])
    expect(byPath.get(broken)).toMatchObject({
      status: 'invalid',
      error: expect.stringContaining('"poly2d" geometries are not supported')
    })

    const errors = annotations(run.stdout, 'error').map((a) => a.file)
    expect(errors).toContain(broken)
    expect(errors).not.toContain(warned)
    const warnings = annotations(run.stdout, 'warning').filter((a) => a.file === warned)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.message).toContain('width 0')
    // The annotation's title says why it was uploaded anyway (':' is escaped in annotation properties).
    const line = run.stdout.split('\n').find((l) => l.startsWith('::warning') && l.includes(`file=${warned}`))
    expect(line).toContain('title=Warning (uploaded anyway)')
  })
})
