// Writes examples/: sample prediction files for the emulator's sample dataset (bbox, cuboid and
// segmentation, in both accepted file shapes) and a class mapping. Run it when the samples change:
//   npx tsx scripts/make-examples.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { SAMPLE_OD_SCENES, SAMPLE_SEG_CLASS_MAPPING, SAMPLE_SEG_SCENES } from '../emulator/seed.js'
import { ROOT } from './runner.js'
import { bboxDoc, cuboidDoc, json, requestBody, segmentationDoc } from './sample-predictions.js'

const dir = path.join(ROOT, 'examples')
rmSync(path.join(dir, 'object-detection'), { recursive: true, force: true })
rmSync(path.join(dir, 'segmentation'), { recursive: true, force: true })
mkdirSync(path.join(dir, 'object-detection', 'camera'), { recursive: true })
mkdirSync(path.join(dir, 'object-detection', 'lidar'), { recursive: true })
mkdirSync(path.join(dir, 'segmentation'), { recursive: true })

const od = SAMPLE_OD_SCENES
// 2D boxes: OpenLABEL documents named <scene-uuid>.json.
for (let i = 0; i < 6; i++) {
  writeFileSync(
    path.join(dir, 'object-detection', 'camera', `${od[i]}.json`),
    json(bboxDoc({ seed: i + 1, count: 4 }))
  )
}
// 3D cuboids over a short sequence: the request-body form, with any file name.
for (let i = 6; i < 9; i++) {
  writeFileSync(
    path.join(dir, 'object-detection', 'lidar', `sequence-${i - 5}.json`),
    json(requestBody(od[i]!, cuboidDoc({ seed: i, count: 3, frames: 3 })))
  )
}
// Segmentation: 8-bit greyscale PNG masks; classes must all be in the class mapping.
const classes = ['_background', 'car', 'tree', 'person']
SAMPLE_SEG_SCENES.slice(0, 3).forEach((scene, i) => {
  writeFileSync(
    path.join(dir, 'segmentation', `${scene}.json`),
    json(segmentationDoc({ classes, seed: i, size: 32 }))
  )
})
writeFileSync(path.join(dir, 'class-mapping.json'), json(SAMPLE_SEG_CLASS_MAPPING))
console.log(`Wrote examples to ${path.relative(process.cwd(), dir) || '.'}`)

// One file per content mistake the checks warn about, each making just that one: examples/mistakes/README.md
// lists them. Kognic accepts them all, so they upload with warnings; the demo never reads this folder.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits sample JSON in place, any shape
type Json = any
type Doc = { openlabel: Record<string, Json> }
const mistakesDir = path.join(dir, 'mistakes')
rmSync(mistakesDir, { recursive: true, force: true })
mkdirSync(mistakesDir, { recursive: true })
const firstObject = (doc: Doc): Json => Object.values(doc.openlabel.frames['0'].objects)[0]
const setTimes = (doc: Doc, times: unknown[]): Doc => {
  times.forEach((t, f) => (doc.openlabel.frames[String(f)].frame_properties.timestamp = t))
  return doc
}
const mistakes: [string, string, Doc][] = [
  [
    'confidence-name',
    od[9]!,
    ((d: Doc) => ((firstObject(d).object_data.bbox[0].attributes.num[0].name = 'score'), d))(
      bboxDoc({ seed: 10, count: 1 })
    )
  ],
  [
    'confidence-place',
    od[10]!,
    ((d: Doc) => {
      const object = firstObject(d)
      object.object_data.num = object.object_data.bbox[0].attributes.num
      delete object.object_data.bbox[0].attributes.num
      return d
    })(bboxDoc({ seed: 11, count: 1 }))
  ],
  ['timestamps-zero', od[11]!, setTimes(cuboidDoc({ seed: 12, frames: 3 }), [0, 0, 0])],
  ['timestamps-seconds', od[12]!, setTimes(cuboidDoc({ seed: 13, frames: 3 }), [0, 0.1, 0.2])],
  ['timestamp-negative', od[13]!, setTimes(cuboidDoc({ seed: 14, frames: 3 }), [-100, 0, 100])],
  ['timestamp-duplicate', od[14]!, setTimes(cuboidDoc({ seed: 15, frames: 3 }), [0, 100, 100])],
  [
    'stream-geometry',
    od[15]!,
    ((d: Doc) => {
      d.openlabel.streams['@lidar'] = { type: 'lidar' }
      firstObject(d).object_data.bbox[0].attributes.text[0].val = '@lidar'
      return d
    })(bboxDoc({ seed: 16, count: 1 }))
  ],
  [
    'segmentation-type',
    SAMPLE_SEG_SCENES[3]!,
    ((d: Doc) => {
      for (const object of Object.values(d.openlabel.objects) as Json[]) object.type = 'segmentation'
      return d
    })(segmentationDoc({ classes, seed: 3, size: 8 }))
  ],
  [
    'ontology-pixel',
    SAMPLE_SEG_SCENES[4]!,
    ((d: Doc) => {
      const classifications = d.openlabel.ontologies['0'].classifications
      classifications['300'] = classifications['3']
      delete classifications['3']
      return d
    })(segmentationDoc({ classes, seed: 4, size: 8 }))
  ],
  [
    'root-geometry',
    od[16]!,
    ((d: Doc) => {
      const [id, root] = Object.entries(d.openlabel.objects)[0] as [string, Json]
      root.object_data = { bbox: structuredClone(d.openlabel.frames['0'].objects[id].object_data.bbox) }
      return d
    })(bboxDoc({ seed: 17, count: 1 }))
  ],
  [
    'no-objects',
    od[17]!,
    ((d: Doc) => ((d.openlabel.frames['0'].objects = {}), d))(bboxDoc({ seed: 18, count: 1 }))
  ]
]
const listing = [
  '# Content mistakes',
  '',
  'One file per content check that warns: Kognic accepts each, but reads it wrongly. `npm run demo` does not read this folder; `__tests__/content-checks.process.test.ts` uploads it and expects each warning. Written by `scripts/make-examples.ts`.',
  '',
  '| file | mistake (rule) |',
  '| --- | --- |'
]
for (const [rule, scene, doc] of mistakes) {
  writeFileSync(path.join(mistakesDir, `${scene}.json`), json(doc))
  listing.push(`| \`${scene}.json\` | \`${rule}\` |`)
}
writeFileSync(path.join(mistakesDir, 'README.md'), listing.join('\n') + '\n')
