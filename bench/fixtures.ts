// Prediction sets for the benchmarks, written once into the system temp directory and reused by later runs
// (a marker file says a set is complete), plus the emulator seed whose datasets hold every scene they name.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { EmulatorSeed } from '../emulator/seed.js'
import { SAMPLE_CLIENT_ID, SAMPLE_CLIENT_SECRET } from '../emulator/seed.js'
import { bboxDoc, greyscalePng, json, segmentationDoc } from '../scripts/sample-predictions.js'

/** Bump when the content of a set changes, so stale sets on disk are not reused. */
const FIXTURE_VERSION = 1
const FIXTURE_ROOT = path.join(os.tmpdir(), `kognic-bench-fixtures-v${FIXTURE_VERSION}`)
const COMPLETE_MARKER = '.complete'

export const BENCH_OD_DATASET = 'be5c0000-0000-4000-8000-0000000000d1'
export const BENCH_SEG_DATASET = 'be5c0000-0000-4000-8000-0000000000d2'
export const BENCH_GROUP_NAME = 'bench'
export const SEGMENTATION_CLASSES = ['_background', 'road', 'tree']
/** The most files of one kind any scenario uploads; the seed declares this many scenes per dataset. */
export const MAX_BBOX_FILES = 20_000
export const MAX_SEGMENTATION_FILES = 600

export type FixtureKind = 'bbox' | 'segmentation'

export interface FixtureSet {
  kind: FixtureKind
  count: number
  /** The workspace: the files are in `predictions/` under it. */
  workspace: string
  /** Bytes of one file (all files of a set are about the same size). */
  bytesPerFile: number
}

/** The scene UUID of the `index`-th file of a kind: stable, so the seed and the files agree. */
export function sceneUuid(kind: FixtureKind, index: number): string {
  const tag = kind === 'bbox' ? '00d1' : '00d2'
  return `5ce7e000-${tag}-4000-8000-${index.toString(16).padStart(12, '0')}`
}

export function benchSeed(): EmulatorSeed {
  const scenes = (kind: FixtureKind, count: number) =>
    Array.from({ length: count }, (_, i) => sceneUuid(kind, i))
  return {
    clients: [{ clientId: SAMPLE_CLIENT_ID, clientSecret: SAMPLE_CLIENT_SECRET }],
    datasets: [
      {
        uuid: BENCH_OD_DATASET,
        name: 'bench boxes',
        scenes: scenes('bbox', MAX_BBOX_FILES),
        groups: [{ name: BENCH_GROUP_NAME }]
      },
      {
        uuid: BENCH_SEG_DATASET,
        name: 'bench segmentation',
        segmentation: true,
        scenes: scenes('segmentation', MAX_SEGMENTATION_FILES),
        groups: [
          {
            name: BENCH_GROUP_NAME,
            classMapping: SEGMENTATION_CLASSES.map((c) => ({ annotated: c, predicted: c }))
          }
        ]
      }
    ]
  }
}

/**
 * `count` bbox documents of 3 boxes each (about 2.5 KB, pretty-printed as people write them), named
 * `<scene>.json`.
 */
export function bboxSet(count: number): FixtureSet {
  return writeSet('bbox', count, (i) => json(bboxDoc({ count: 3, seed: i + 1 })))
}

/**
 * `count` segmentation documents of about `mebibytes` MiB each: one camera image whose pixels are
 * pseudo-random class indices, so the PNG does not compress away. A few distinct images are reused.
 */
export function segmentationSet(count: number, mebibytes = 1): FixtureSet {
  const variants = Array.from({ length: 4 }, (_, v) => segmentationText(mebibytes, v + 1))
  return writeSet('segmentation', count, (i) => variants[i % variants.length]!)
}

function segmentationText(mebibytes: number, seed: number): string {
  // Random indices of 3 classes deflate to about 2 bits a pixel, and base64 adds a third.
  const side = Math.round(Math.sqrt((mebibytes * 1024 * 1024 * 3) / 4 / 0.25))
  let state = seed * 2654435761
  const png = greyscalePng(side, side, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return (state >>> 16) % SEGMENTATION_CLASSES.length
  })
  const doc = segmentationDoc({ classes: SEGMENTATION_CLASSES, seed }) as {
    openlabel: {
      frames: Record<string, { objects: Record<string, { object_data: { image: { val: string }[] } }> }>
    }
  }
  for (const object of Object.values(doc.openlabel.frames['0']!.objects)) {
    object.object_data.image[0]!.val = png.toString('base64')
  }
  return JSON.stringify(doc)
}

function writeSet(kind: FixtureKind, count: number, content: (index: number) => string): FixtureSet {
  const workspace = path.join(FIXTURE_ROOT, `${kind}-${count}`)
  const dir = path.join(workspace, 'predictions')
  const marker = path.join(workspace, COMPLETE_MARKER)
  const first = content(0)
  const set = { kind, count, workspace, bytesPerFile: Buffer.byteLength(first) }
  if (existsSync(marker)) return set
  rmSync(workspace, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  for (let i = 0; i < count; i++) {
    writeFileSync(path.join(dir, `${sceneUuid(kind, i)}.json`), i === 0 ? first : content(i))
  }
  writeFileSync(marker, '')
  return set
}
