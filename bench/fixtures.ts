// Prediction sets for the benchmark, written once into the system temp directory and reused by later runs
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

export const BENCH_GROUP_NAME = 'bench'
/** The emulator's annotations listing, paged as on the bench: 2,000 scenes are 40 pages. */
export const ANNOTATIONS_PAGE_SIZE = 50
export const SEGMENTATION_CLASSES = ['_background', 'road', 'tree']

/** bbox: files in one folder; nested: files in folders two deep; segmentation: ~1 MiB bitmaps. */
export type FixtureKind = 'bbox' | 'nested' | 'segmentation'

/** Per kind: its dataset (each holds only its own scenes) and the most files any row uploads. */
export const DATASETS: Record<FixtureKind, { uuid: string; maxFiles: number; tag: string }> = {
  bbox: { uuid: 'be5c0000-0000-4000-8000-0000000000d1', maxFiles: 2_000, tag: '00d1' },
  segmentation: { uuid: 'be5c0000-0000-4000-8000-0000000000d2', maxFiles: 600, tag: '00d2' },
  nested: { uuid: 'be5c0000-0000-4000-8000-0000000000d3', maxFiles: 100_000, tag: '00d3' }
}

export interface FixtureSet {
  kind: FixtureKind
  count: number
  /** The workspace: the files are under `predictions/` in it. */
  workspace: string
  /** The `path` input that matches every file of the set. */
  pattern: string
  /** Bytes of one file (all files of a set are about the same size). */
  bytesPerFile: number
}

/** The scene UUID of the `index`-th file of a kind: stable, so the seed and the files agree. */
export function sceneUuid(kind: FixtureKind, index: number): string {
  return `5ce7e000-${DATASETS[kind].tag}-4000-8000-${index.toString(16).padStart(12, '0')}`
}

export function benchSeed(): EmulatorSeed {
  const dataset = (kind: FixtureKind, name: string) => ({
    uuid: DATASETS[kind].uuid,
    name,
    scenes: Array.from({ length: DATASETS[kind].maxFiles }, (_, i) => sceneUuid(kind, i))
  })
  return {
    clients: [{ clientId: SAMPLE_CLIENT_ID, clientSecret: SAMPLE_CLIENT_SECRET }],
    datasets: [
      { ...dataset('bbox', 'bench boxes'), groups: [{ name: BENCH_GROUP_NAME }] },
      { ...dataset('nested', 'bench many boxes'), groups: [{ name: BENCH_GROUP_NAME }] },
      {
        ...dataset('segmentation', 'bench segmentation'),
        segmentation: true,
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

/** `count` bbox documents of 1 box each, 100 to a folder, 10 folders to a parent: `predictions/d<n>/s<n>/`. */
export function nestedSet(count: number): FixtureSet {
  return writeSet('nested', count, (i) => json(bboxDoc({ count: 1, seed: i + 1 })))
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
  const marker = path.join(workspace, COMPLETE_MARKER)
  const first = content(0)
  const pattern = kind === 'nested' ? 'predictions/**/*.json' : 'predictions/*.json'
  const set = { kind, count, workspace, pattern, bytesPerFile: Buffer.byteLength(first) }
  if (existsSync(marker)) return set
  rmSync(workspace, { recursive: true, force: true })
  for (let i = 0; i < count; i++) {
    const dir =
      kind === 'nested'
        ? path.join(workspace, 'predictions', `d${Math.floor(i / 1000)}`, `s${Math.floor(i / 100) % 10}`)
        : path.join(workspace, 'predictions')
    if (i % 100 === 0) mkdirSync(dir, { recursive: true })
    writeFileSync(path.join(dir, `${sceneUuid(kind, i)}.json`), i === 0 ? first : content(i))
  }
  writeFileSync(marker, '')
  return set
}
