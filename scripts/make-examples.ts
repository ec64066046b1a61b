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
