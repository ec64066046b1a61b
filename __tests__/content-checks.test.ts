// The content checks (files Kognic accepts but reads wrongly): each warns where it should, and stays
// silent on what is right, Kognic's own guide examples included.
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasBackground, parseClassMapping } from '../src/predictions/class-mapping.js'
import { validateOpenLabel } from '../src/predictions/validate.js'
import { filesWithoutObjects, noObjectsNote } from '../src/report/model.js'
import type { FileResult } from '../src/types.js'
import {
  bboxDocument,
  CAMERA,
  CAR,
  cuboidDocument,
  LIDAR,
  MASK,
  segmentationDocument,
  sequenceDocument
} from './fixtures/predictions/build.js'

type Json = Record<string, unknown>
type Doc = { openlabel: Json }
const GUIDE = join(import.meta.dirname, 'fixtures', 'guide')

/** Kind and path of each problem of `doc`. */
function found(doc: unknown): [string, string][] {
  return validateOpenLabel(doc).map((p) => [p.kind, p.jsonPath])
}

function geometry(doc: Doc, key = 'bbox', id = CAR, frame = '0'): Json & { attributes: Json } {
  const frames = doc.openlabel.frames as Record<string, { objects: Record<string, { object_data: Json }> }>
  return (frames[frame]!.objects[id]!.object_data[key] as (Json & { attributes: Json })[])[0]!
}

function frameObjectData(doc: Doc, id = CAR): Json {
  const frames = doc.openlabel.frames as Record<string, { objects: Record<string, { object_data: Json }> }>
  return frames['0']!.objects[id]!.object_data
}

function withTimes(times: unknown[]): Doc {
  const doc = sequenceDocument() as Doc
  const frames = doc.openlabel.frames as Record<string, { frame_properties: Json }>
  times.forEach((t, i) => (frames[String(i)]!.frame_properties.timestamp = t))
  return doc
}

const BBOX = `frames.0.objects.${CAR}.object_data.bbox[0]`

describe("Kognic's guide examples", () => {
  for (const name of readdirSync(GUIDE).filter((n) => n.endsWith('.json') && !n.includes('class-mapping'))) {
    it(`${name}: no content warning`, () => {
      const doc = JSON.parse(readFileSync(join(GUIDE, name), 'utf8')) as Json
      expect(found(doc.openlabelContent ?? doc)).toEqual([])
    })
  }
})

describe('confidence-name', () => {
  it.each(['Confidence', 'CONFIDENCE', 'score', 'Score', 'conf', 'probability', 'prob'])(
    '%s in attributes.num warns at its name',
    (name) => {
      const doc = bboxDocument() as Doc
      ;(geometry(doc).attributes.num as Json[])[0]!.name = name
      expect(found(doc)).toEqual([['confidence-name', `${BBOX}.attributes.num[0].name`]])
      expect(validateOpenLabel(doc)[0]!.message).toContain(`"${name}"`)
    }
  )

  it('a lookalike in attributes.text warns too; exact confidence and other names stay silent', () => {
    const doc = bboxDocument() as Doc
    ;(geometry(doc).attributes.text as Json[]).push({ name: 'Score', val: '0.8' })
    ;(geometry(doc).attributes.num as Json[]).push({ name: 'occlusion', val: 0.2 })
    expect(found(doc)).toEqual([['confidence-name', `${BBOX}.attributes.text[1].name`]])
    expect(found(bboxDocument())).toEqual([])
  })
})

describe('confidence-place', () => {
  it("warns for a confidence in a frame object's or a root object's object_data.num", () => {
    const doc = bboxDocument() as Doc
    frameObjectData(doc).num = [{ name: 'confidence', val: 0.8 }]
    ;(doc.openlabel.objects as Record<string, Json>)[CAR]!.object_data = {
      num: [{ name: 'confidence', val: 0.8 }]
    }
    expect(found(doc)).toEqual([
      ['confidence-place', `objects.${CAR}.object_data.num[0]`],
      ['confidence-place', `frames.0.objects.${CAR}.object_data.num[0]`]
    ])
  })

  it("warns for one in the geometry's attributes.vec or boolean", () => {
    const doc = bboxDocument() as Doc
    geometry(doc).attributes.vec = [{ name: 'confidence', val: [0.8] }]
    geometry(doc).attributes.boolean = [{ name: 'confidence', val: true }]
    expect(found(doc)).toEqual([
      ['confidence-place', `${BBOX}.attributes.vec[0]`],
      ['confidence-place', `${BBOX}.attributes.boolean[0]`]
    ])
  })

  it('other generic data in object_data stays silent', () => {
    const doc = bboxDocument() as Doc
    frameObjectData(doc).num = [{ name: 'occlusion', val: 0.3 }]
    expect(found(doc)).toEqual([])
  })
})

describe('sequence timestamps', () => {
  it('all 0 over several frames warns once; one frame at 0 is right', () => {
    expect(found(withTimes([0, 0, '0']))).toEqual([['timestamps-zero', 'frames']])
    expect(found(bboxDocument())).toEqual([])
  })

  it('frames less than 1 ms apart look like seconds, also as numeric strings and epoch seconds', () => {
    expect(found(withTimes([0, 0.1, 0.2]))).toEqual([['timestamps-seconds', 'frames']])
    expect(found(withTimes(['1700000000.1', '1700000000.2', '1700000000.3']))).toEqual([
      ['timestamps-seconds', 'frames']
    ])
  })

  it('milliseconds stay silent: 0/100/200, epoch milliseconds, the guide 0/50', () => {
    expect(found(withTimes([0, 100, 200]))).toEqual([])
    expect(found(withTimes([1700000000000, 1700000000100, '1700000000200']))).toEqual([])
    // Whole seconds at 1 fps cannot be told from 1 ms apart: the heuristic lets them through (documented).
    expect(found(withTimes([0, 1, 2]))).toEqual([])
  })

  it('a negative timestamp warns at that frame', () => {
    expect(found(withTimes([0, '-5', 200]))).toEqual([
      ['timestamp-negative', 'frames.1.frame_properties.timestamp']
    ])
  })

  it('a repeated timestamp names both frames', () => {
    const doc = withTimes([0, 100, '100'])
    expect(found(doc)).toEqual([['timestamp-duplicate', 'frames.2.frame_properties.timestamp']])
    expect(validateOpenLabel(doc)[0]!.message).toContain('frames "1" and "2" both have timestamp 100')
  })
})

describe('stream-geometry', () => {
  it('warns for a bbox on a lidar stream and a cuboid on a camera stream', () => {
    const box = bboxDocument() as Doc
    ;(geometry(box).attributes.text as Json[])[0]!.val = LIDAR
    expect(found(box)).toEqual([['stream-geometry', `${BBOX}.attributes.text[0].val`]])
    const cuboid = cuboidDocument() as Doc
    ;(geometry(cuboid, 'cuboid').attributes.text as Json[])[0]!.val = CAMERA
    expect(found(cuboid)[0]![0]).toBe('stream-geometry')
  })

  it('warns for an image on a lidar stream', () => {
    const doc = segmentationDocument() as Doc
    doc.openlabel.streams = { [LIDAR]: { type: 'lidar' } }
    ;(geometry(doc, 'image', MASK).attributes.text as Json[])[0]!.val = LIDAR
    expect(found(doc).map(([kind]) => kind)).toEqual(['stream-geometry'])
    expect(validateOpenLabel(doc)[0]!.message).toMatch(/^an image on stream .*; an image is 2D/)
  })

  it('is silent when the stream has no type, another type, or there are no streams', () => {
    const doc = bboxDocument() as Doc
    doc.openlabel.streams = { [CAMERA]: {}, [LIDAR]: { type: 'lidar' } }
    expect(found(doc)).toEqual([])
    const radar = cuboidDocument() as Doc
    radar.openlabel.streams = { RADAR: { type: 'radar' } }
    ;(geometry(radar, 'cuboid').attributes.text as Json[])[0]!.val = 'RADAR'
    expect(found(radar)).toEqual([])
  })
})

describe('segmentation', () => {
  it('an image object of another type warns; segmentation_bitmap, and a bbox object of any type, stay silent', () => {
    const doc = segmentationDocument() as Doc
    ;(doc.openlabel.objects as Record<string, Json>)[MASK]!.type = 'road'
    expect(found(doc)).toEqual([['segmentation-type', `objects.${MASK}.type`]])
    expect(found(segmentationDocument())).toEqual([])
  })

  it.each(['256', '-1', 'car', '1.5', '0x1'])('ontology key %s warns: no 8-bit pixel has it', (key) => {
    const doc = segmentationDocument() as Doc
    const ontology = (doc.openlabel.ontologies as Record<string, { classifications: Json }>)['0']!
    ontology.classifications[key] = 'sky'
    expect(found(doc)).toEqual([
      ['ontology-pixel', `ontologies.0.classifications${key === '1.5' ? '["1.5"]' : `.${key}`}`]
    ])
  })

  it('keys 0 and 255 stay silent', () => {
    const doc = segmentationDocument() as Doc
    const ontology = (doc.openlabel.ontologies as Record<string, { classifications: Json }>)['0']!
    ontology.classifications['0'] = '_background'
    ontology.classifications['255'] = 'void'
    expect(found(doc)).toEqual([])
  })

  it('a class mapping has _background only with an annotated "_background" entry', async () => {
    expect(hasBackground(await parseClassMapping('[{"annotated": "_background"}]', GUIDE))).toBe(true)
    expect(
      hasBackground(await parseClassMapping('[{"annotated": "car", "predicted": "_background"}]', GUIDE))
    ).toBe(false)
    const guide = await parseClassMapping(
      readFileSync(join(GUIDE, 'segmentation-class-mapping.json'), 'utf8'),
      GUIDE
    )
    expect(hasBackground(guide)).toBe(true)
  })
})

describe('root-geometry and no-objects', () => {
  it('a geometry in a root object warns, and that alone is a file with no objects', () => {
    const doc = bboxDocument() as Doc
    const box = structuredClone(geometry(doc))
    ;(doc.openlabel.objects as Record<string, Json>)[CAR]!.object_data = { bbox: [box] }
    ;(doc.openlabel.frames as Record<string, Json>)['0']!.objects = {}
    expect(found(doc)).toEqual([
      ['root-geometry', `objects.${CAR}.object_data.bbox`],
      ['no-objects', 'frames']
    ])
  })

  it('one geometry in any frame is enough', () => {
    const doc = sequenceDocument() as Doc
    const frames = doc.openlabel.frames as Record<string, Json>
    frames['0']!.objects = {}
    frames['1']!.objects = {}
    expect(found(doc)).toEqual([])
  })

  it('the report counts the files whose problems include no-objects', () => {
    const result = (path: string, kinds: string[]): FileResult => ({
      path,
      sceneUuid: null,
      status: 'uploaded',
      predictionUuid: null,
      attempts: 1,
      possibleDuplicate: false,
      error: null,
      contentSha256: null,
      problems: kinds.map((kind) => ({ kind, severity: 'warning', jsonPath: 'frames', message: '' }))
    })
    const results = [
      result('a.json', ['no-objects']),
      result('b.json', ['bbox-size']),
      result('c.json', ['no-objects'])
    ]
    expect(filesWithoutObjects(results)).toBe(2)
    expect(noObjectsNote(results)).toMatch(/^2 files have no objects/)
    expect(noObjectsNote([results[0]!])).toMatch(/^1 file has no objects/)
    expect(noObjectsNote([results[1]!])).toBe('')
  })
})
