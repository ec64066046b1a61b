import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { missingClasses, parseClassMapping } from '../src/predictions/class-mapping.js'
import { inspectFile } from '../src/predictions/inspect.js'
import {
  analyseOpenLabel,
  pathKey,
  pngHeaderProblem,
  RULES,
  validateOpenLabel,
  type RuleId
} from '../src/predictions/validate.js'
import type { ExpectedProblem } from './fixtures/predictions/build.js'
import {
  bbox,
  bboxDocument,
  CAR,
  cuboidDocument,
  makePng,
  MASK_PNG_BASE64,
  renderFixtures,
  segmentationDocument,
  sequenceDocument
} from './fixtures/predictions/build.js'

type Doc = { openlabel: Record<string, unknown> }
type Geometry = Record<string, unknown> & { attributes: Record<string, unknown> }

const FIXTURES = join(import.meta.dirname, 'fixtures', 'predictions')
const GUIDE = join(import.meta.dirname, 'fixtures', 'guide')
const README = join(import.meta.dirname, '..', 'README.md')
const EXAMPLES = join(import.meta.dirname, '..', 'examples')
const LIMIT = 10 * 1024 * 1024

function inspectFixture(folder: string, name: string, validation: 'strict' | 'warn' | 'off' = 'strict') {
  return inspectFile(
    { path: join(FIXTURES, folder, name), displayPath: `${folder}/${name}` },
    { maxFileSizeBytes: LIMIT, validation }
  )
}

describe('the fixture corpus', () => {
  it('is what build.ts makes (run generate.ts after changing it)', () => {
    const rendered = renderFixtures()
    const onDisk = [
      ...readdirSync(join(FIXTURES, 'good')).map((n) => `good/${n}`),
      ...readdirSync(join(FIXTURES, 'bad')).map((n) => `bad/${n}`)
    ].sort()
    expect(onDisk).toEqual([...rendered.keys()].sort())
    for (const [relative, text] of rendered) expect(readFileSync(join(FIXTURES, relative), 'utf8')).toBe(text)
  })

  const goodNames = readdirSync(join(FIXTURES, 'good')).sort()
  it('has a good file per geometry and one in the request form', () => {
    expect(goodNames).toHaveLength(5)
    expect(goodNames).toContain('request-body.json')
  })

  for (const name of goodNames) {
    it(`good/${name}: no problem at all`, async () => {
      const file = await inspectFixture('good', name)
      expect(file.fatal).toEqual([])
      expect(file.problems).toEqual([])
      expect(file.moreProblems).toBe(0)
      expect(file.sceneUuid).toMatch(/^[0-9a-f-]{36}$/)
      expect(file.form).toBe(name === 'request-body.json' ? 'request' : 'openlabel')
      if (file.form === 'openlabel') expect(`${file.sceneUuid}.json`).toBe(name)
    })
  }

  const index = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'index.json'), 'utf8')) as Record<
    string,
    ExpectedProblem
  >
  it('indexes every bad file', () => {
    const files = readdirSync(join(FIXTURES, 'bad')).filter((n) => n !== 'index.json')
    expect(Object.keys(index).sort()).toEqual(files.sort())
  })

  for (const [name, expected] of Object.entries(index)) {
    it(`bad/${name}: exactly one ${expected.fatal ? 'fatal ' : ''}${expected.kind} problem at '${expected.jsonPath}'`, async () => {
      const file = await inspectFixture('bad', name)
      const all = [...file.fatal, ...file.problems]
      expect(all).toHaveLength(1)
      expect(file.moreProblems).toBe(0)
      const [problem] = expected.fatal ? file.fatal : file.problems
      expect(problem).toBeDefined()
      expect(problem!.kind).toBe(expected.kind)
      expect(problem!.jsonPath).toBe(expected.jsonPath)
      expect(problem!.message).toContain(expected.message)
      if (expected.fatal) {
        // A fatal problem names the file, and leaves no scene to upload to.
        expect(problem!.message).toContain(`bad/${name}`)
        expect(file.sceneUuid).toBeNull()
        expect(file.form).toBeNull()
      }
    })
  }

  it('keeps fatal problems whatever validation says, and drops the others with validation off', async () => {
    for (const [name, expected] of Object.entries(index)) {
      const off = await inspectFixture('bad', name, 'off')
      expect(off.fatal.length, name).toBe(expected.fatal ? 1 : 0)
      expect(off.problems, name).toEqual([])
      const warn = await inspectFixture('bad', name, 'warn')
      expect(warn.problems.length + warn.fatal.length, name).toBe(1)
    }
  })
})

describe('segmentation facts', () => {
  it('are collected even with validation off', async () => {
    const file = await inspectFixture('good', '0b7e5a5c-3f1d-4c2a-9e4b-1a2b3c4d5e03.json', 'off')
    expect(file.hasSegmentation).toBe(true)
    expect(file.segmentationClasses).toEqual(['car', 'road'])
  })

  it('are absent for box predictions', () => {
    const facts = analyseOpenLabel(sequenceDocument())
    expect(facts.hasSegmentation).toBe(false)
    expect(facts.segmentationClasses).toEqual([])
  })

  it('gather classes from every ontology, sorted and unique', () => {
    const doc = segmentationDocument() as { openlabel: Record<string, unknown> }
    doc.openlabel.ontologies = {
      '0': { classifications: { '1': 'road', '2': 'car' }, uri: '' },
      '1': { classifications: { '1': 'car', '3': 'building' }, uri: '' }
    }
    const facts = analyseOpenLabel(doc)
    expect(facts.problems).toEqual([])
    expect(facts.segmentationClasses).toEqual(['building', 'car', 'road'])
  })
})

describe('validateOpenLabel', () => {
  it('finds nothing in the good documents', () => {
    for (const doc of [bboxDocument(), cuboidDocument(), segmentationDocument(), sequenceDocument()]) {
      expect(validateOpenLabel(doc)).toEqual([])
    }
  })

  it('reports a document without an openlabel object', () => {
    expect(validateOpenLabel(null)).toEqual([
      expect.objectContaining({ kind: 'openlabel-not-object', jsonPath: '' })
    ])
    expect(validateOpenLabel({ openlabel: 'x' })[0]!.message).toContain('found "openlabel" as "x"')
  })

  it('reports every problem, in document order', () => {
    const doc = sequenceDocument() as { openlabel: Record<string, Record<string, unknown>> }
    const frames = doc.openlabel.frames as Record<
      string,
      { objects: Record<string, { object_data: unknown }> }
    >
    frames['0']!.objects[CAR]!.object_data = { bbox: [bbox([1, 1, 0, 1]), bbox([1, 1, 1, Number.NaN])] }
    frames['2']!.objects[CAR]!.object_data = { bbox: [bbox([1, 1, 1, 1], -0.1)] }
    const problems = validateOpenLabel(JSON.parse(JSON.stringify(doc)))
    expect(problems.map((p) => [p.kind, p.jsonPath])).toEqual([
      ['bbox-size', `frames.0.objects.${CAR}.object_data.bbox[0].val`],
      // NaN is null in JSON: not a number
      ['bbox-val', `frames.0.objects.${CAR}.object_data.bbox[1].val`],
      ['confidence', `frames.2.objects.${CAR}.object_data.bbox[0].attributes.num[0].val`]
    ])
  })

  it('accepts a quaternion within 1e-3 of unit length and refuses one just outside', () => {
    const near = validateOpenLabel(cuboidDocument([0, 0, 0, 0, 0, 0, 1.0009, 1, 1, 1]))
    expect(near).toEqual([])
    const off = validateOpenLabel(cuboidDocument([0, 0, 0, 0, 0, 0, 1.0011, 1, 1, 1]))
    expect(off.map((p) => p.kind)).toEqual(['cuboid-quaternion'])
  })

  it('reports a bad quaternion and bad sizes of one cuboid separately', () => {
    const problems = validateOpenLabel(cuboidDocument([0, 0, 0, 0, 0, 0, 0, 1, -1, 1]))
    expect(problems.map((p) => p.kind)).toEqual(['cuboid-quaternion', 'cuboid-size'])
  })

  it('treats confidence 0 and 1 as valid, and a string confidence as invalid', () => {
    const at = (confidence: unknown) => {
      const doc = bboxDocument() as { openlabel: { frames: Record<string, unknown> } }
      doc.openlabel.frames = {
        '0': {
          frame_properties: { timestamp: 0 },
          objects: { [CAR]: { object_data: { bbox: [bbox([5, 5, 2, 2], confidence as number)] } } }
        }
      }
      return validateOpenLabel(doc).map((p) => p.kind)
    }
    expect(at(0)).toEqual([])
    expect(at(1)).toEqual([])
    expect(at(undefined)).toEqual([])
    expect(at('0.5')).toEqual(['confidence'])
  })

  it('without streams, warns once and checks no stream name against them', () => {
    const doc = bboxDocument() as { openlabel: Record<string, unknown> }
    delete doc.openlabel.streams
    expect(validateOpenLabel(doc).map((p) => [p.kind, p.severity, p.jsonPath])).toEqual([
      ['streams-missing', 'warning', 'streams']
    ])
  })

  it('still wants each geometry to name its stream when streams are missing', () => {
    const doc = bboxDocument() as { openlabel: Record<string, unknown> }
    delete doc.openlabel.streams
    setStream(doc, undefined)
    expect(validateOpenLabel(doc).map((p) => p.kind)).toEqual(['streams-missing', 'stream-missing'])
  })

  it('reports frame objects when there are no root objects', () => {
    const doc = bboxDocument() as { openlabel: Record<string, unknown> }
    delete doc.openlabel.objects
    expect(validateOpenLabel(doc).map((p) => p.kind)).toEqual(['unknown-object'])
  })

  it('refuses a geometry the predictions API does not take once, at its list, and ignores static attributes', () => {
    const doc = bboxDocument() as { openlabel: { frames: Record<string, unknown> } }
    doc.openlabel.frames = {
      '0': {
        frame_properties: { timestamp: 0 },
        objects: {
          [CAR]: {
            object_data: {
              poly2d: [{ name: 'outline', val: [0, 0, 1, 1], closed: true }],
              text: [{ name: 'colour', val: 'red' }]
            }
          }
        }
      }
    }
    expect(validateOpenLabel(doc).map((p) => [p.kind, p.severity, p.jsonPath])).toEqual([
      ['geometry-unsupported', 'error', `frames.0.objects.${CAR}.object_data.poly2d`]
    ])
  })

  it('quotes keys with dots or other odd characters in paths', () => {
    expect(pathKey('plain_key-1')).toBe('.plain_key-1')
    expect(pathKey('@lidar')).toBe('.@lidar')
    expect(pathKey('a.b')).toBe('["a.b"]')
    expect(pathKey('with space')).toBe('["with space"]')
    expect(pathKey('quote"d')).toBe('["quote\\"d"]')
  })
})

describe('the PNG header check', () => {
  it('accepts 8-bit greyscale', () => {
    expect(pngHeaderProblem(MASK_PNG_BASE64)).toBeNull()
  })

  it('refuses other bit depths and colour types, naming what it found', () => {
    expect(pngHeaderProblem(makePng(2, 2, () => 1, 0, 16).toString('base64'))).toContain(
      'bit depth 16, colour type 0 (greyscale)'
    )
    expect(pngHeaderProblem(makePng(2, 2, () => 1, 3).toString('base64'))).toContain(
      'colour type 3 (palette)'
    )
    expect(pngHeaderProblem(makePng(2, 2, () => 1, 6).toString('base64'))).toContain('colour type 6 (RGBA)')
  })

  it('refuses what is not a PNG, and explains a data URL', () => {
    expect(
      pngHeaderProblem(Buffer.from('GIF89a and more bytes to fill the header').toString('base64'))
    ).toContain('no PNG signature')
    expect(pngHeaderProblem('')).toContain('no PNG signature')
    expect(pngHeaderProblem(`data:image/png;base64,${MASK_PNG_BASE64}`)).toContain('data URL prefix')
  })

  it('decodes only the start: a header followed by garbage passes', () => {
    expect(pngHeaderProblem(MASK_PNG_BASE64.slice(0, 64) + '!!!! not base64 at all '.repeat(1000))).toBeNull()
  })
})

describe('performance', () => {
  it('validates 2,000 bbox documents in well under a second', () => {
    // Ten boxes per document: closer to real files than one.
    const docs = Array.from({ length: 2000 }, (_, i) => {
      const doc = bboxDocument() as {
        openlabel: { objects: Record<string, unknown>; frames: Record<string, unknown> }
      }
      const objects: Record<string, unknown> = {}
      const frameObjects: Record<string, unknown> = {}
      for (let k = 0; k < 10; k++) {
        const id = `obj-${i}-${k}`
        objects[id] = { name: id, type: 'car' }
        frameObjects[id] = { object_data: { bbox: [bbox([100 + k, 100, 20, 10], 0.5)] } }
      }
      doc.openlabel.objects = objects
      doc.openlabel.frames = { '0': { frame_properties: { timestamp: 0 }, objects: frameObjects } }
      return doc
    })
    const started = performance.now()
    let problems = 0
    for (const doc of docs) problems += validateOpenLabel(doc).length
    const elapsed = performance.now() - started
    expect(problems).toBe(0)
    // Shared machine: the bound is generous; typically this takes tens of milliseconds.
    expect(elapsed).toBeLessThan(3000)
  })
})

describe('pathological values', () => {
  it('describes a deeply nested list without walking it', () => {
    let nested: unknown = 1
    for (let i = 0; i < 200_000; i++) nested = [nested]
    const doc = { openlabel: { metadata: { schema_version: nested }, streams: {}, objects: {}, frames: {} } }
    // Its empty frames are a no-objects warning of their own; only the nested value is under test here.
    const problems = validateOpenLabel(doc).filter((p) => p.kind !== 'no-objects')
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'schema-version',
        message: expect.stringContaining('a list of 1 item')
      })
    ])
  })
})

/** The first geometry of object CAR (or MASK) in frame 0 of a build.ts document. */
function firstGeometry(doc: Doc): Geometry {
  const frames = doc.openlabel.frames as Record<
    string,
    { objects: Record<string, { object_data: Record<string, Geometry[]> }> }
  >
  const objectData = Object.values(frames['0']!.objects)[0]!.object_data
  return Object.values(objectData)[0]![0]!
}

/** Sets the geometry's stream entry; `undefined` removes it. */
function setStream(doc: Doc, stream: string | undefined): void {
  firstGeometry(doc).attributes.text = stream === undefined ? [] : [{ name: 'stream', val: stream }]
}

/** Kinds and severities of a document's problems. */
function graded(doc: unknown): [string, string | undefined][] {
  return validateOpenLabel(doc).map((p) => [p.kind, p.severity])
}

describe('the rules', () => {
  const index = JSON.parse(readFileSync(join(FIXTURES, 'bad', 'index.json'), 'utf8')) as Record<
    string,
    ExpectedProblem
  >

  it('each have a bad fixture breaking just that rule, graded as the rule says', async () => {
    for (const id of Object.keys(RULES) as RuleId[]) {
      const fixtures = Object.entries(index).filter(([, expected]) => expected.kind === id)
      expect(fixtures.length, `a bad fixture for ${id}`).toBeGreaterThan(0)
      for (const [name, expected] of fixtures) {
        if (expected.fatal) continue // found before the OpenLABEL checks run: it has no grade
        const file = await inspectFixture('bad', name)
        expect(
          file.problems.map((p) => p.severity),
          name
        ).toEqual([RULES[id].severity])
      }
    }
  })

  it('grade each problem of the walk by its rule', () => {
    const problems = validateOpenLabel({ openlabel: { metadata: {}, extra: 1 } })
    expect(problems.length).toBeGreaterThan(2)
    for (const problem of problems) expect(problem.severity).toBe(RULES[problem.kind as RuleId].severity)
  })

  it('rest errors on the guide or the data model, and only warnings on plausibility', () => {
    for (const [id, rule] of Object.entries(RULES)) {
      expect(rule.source, id).toMatch(/^(guide: |data model: |plausibility$)/)
      if (rule.source === 'plausibility') expect(rule.severity, id).toBe('warning')
    }
  })

  it('are listed in the README\'s "What is checked" table, each as in the code', () => {
    const text = readFileSync(README, 'utf8')
    const section = /^## What is checked\n([\s\S]*?)(?=^## )/m.exec(text)?.[1]
    expect(section, 'a "## What is checked" section in README.md').toBeDefined()
    const rows = section!
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) =>
        line
          .slice(1, -1)
          .split(' | ')
          .map((cell) => cell.trim())
      )
    const expected = Object.entries(RULES).map(([id, rule]) => [
      `\`${id}\``,
      rule.severity,
      rule.source,
      rule.checks
    ])
    // On a mismatch, paste these rows into the table (npm run format aligns it).
    expect(rows.map((r) => `| ${r.join(' | ')} |`)).toEqual(expected.map((r) => `| ${r.join(' | ')} |`))
  })
})

describe('what Kognic allows', () => {
  it('takes stream types radar, gps_imu, other, and a stream without a type', () => {
    for (const stream of [{ type: 'radar' }, { type: 'gps_imu' }, { type: 'other' }, {}]) {
      const doc = bboxDocument() as Doc
      doc.openlabel.streams = { CAM_FRONT: { type: 'camera' }, extra: stream }
      expect(graded(doc), JSON.stringify(stream)).toEqual([])
    }
  })

  it('only warns of a box without width or height, or a negative one', () => {
    expect(graded(bboxDocument(CAR, [5, 5, 0, 10]))).toEqual([['bbox-size', 'warning']])
    expect(graded(bboxDocument(CAR, [5, 5, 10, 0]))).toEqual([['bbox-size', 'warning']])
    expect(graded(bboxDocument(CAR, [5, 5, -1, 10]))).toEqual([['bbox-size', 'warning']])
  })

  it('only warns of a quaternion off unit length, or a cuboid size of 0', () => {
    expect(graded(cuboidDocument([0, 0, 0, 0, 0, 0, 1.01, 1, 1, 1]))).toEqual([
      ['cuboid-quaternion', 'warning']
    ])
    expect(graded(cuboidDocument([0, 0, 0, 0, 0, 0, 1, 0, 1, 1]))).toEqual([['cuboid-size', 'warning']])
  })

  it('takes a timestamp given as a numeric string', () => {
    for (const timestamp of ['0', '50', '1700000000123', '12.5']) {
      const doc = bboxDocument() as Doc
      ;(doc.openlabel.frames as Record<string, { frame_properties: Record<string, unknown> }>)[
        '0'
      ]!.frame_properties.timestamp = timestamp
      expect(graded(doc), timestamp).toEqual([])
    }
  })

  it('takes any string as an object key (the guide: "arbitrary")', () => {
    for (const id of ['car.1', 'obj-7', '42', 'Ünïcode key']) expect(graded(bboxDocument(id)), id).toEqual([])
  })

  it('takes the non-geometric object data of OpenLABEL (text, num, boolean, vec) in frames and root objects', () => {
    const doc = bboxDocument() as Doc
    const attributes = {
      text: [{ name: 'colour', val: 'red' }],
      num: [{ name: 'speed', val: 3 }],
      boolean: [{ name: 'parked', val: false }],
      vec: [{ name: 'velocity', val: [1, 0] }]
    }
    ;(doc.openlabel.objects as Record<string, Record<string, unknown>>)[CAR]!.object_data = attributes
    const frames = doc.openlabel.frames as Record<
      string,
      { objects: Record<string, { object_data: object }> }
    >
    Object.assign(frames['0']!.objects[CAR]!.object_data, attributes)
    Object.assign(firstGeometry(doc).attributes, { boolean: [{ name: 'occluded', val: true }] })
    expect(graded(doc)).toEqual([])
  })

  it('takes an ontology given as OpenLABEL\'s short form (its uri), and a uri of ""', () => {
    const doc = segmentationDocument() as Doc
    ;(doc.openlabel.ontologies as Record<string, unknown>)['1'] = 'https://example.com/ontology'
    expect(graded(doc)).toEqual([])
  })

  it('only warns of what the data model forbids and the guide does not mention', () => {
    const doc = bboxDocument() as Doc
    doc.openlabel.comment = 'made by model v3'
    const frames = doc.openlabel.frames as Record<string, unknown>
    frames.first = frames['0']
    delete frames['0']
    delete (frames.first as { frame_properties: Record<string, unknown> }).frame_properties.timestamp
    delete doc.openlabel.streams
    expect(graded(doc)).toEqual([
      ['unknown-key', 'warning'],
      ['streams-missing', 'warning'],
      ['frame-key', 'warning'],
      ['frame-timestamp-missing', 'warning']
    ])
  })
})

describe('what Kognic does not support', () => {
  it('refuses every geometry other than bbox, cuboid and image', () => {
    const keys = [
      'poly2d',
      'poly3d',
      'point2d',
      'point3d',
      'rbbox',
      'line',
      'mat',
      'binary',
      'area_reference',
      'line_reference',
      'mesh'
    ]
    for (const key of keys) {
      const doc = bboxDocument() as Doc
      const frames = doc.openlabel.frames as Record<
        string,
        { objects: Record<string, { object_data: Record<string, unknown> }> }
      >
      frames['0']!.objects[CAR]!.object_data[key] = [{ name: key, val: [0, 0] }]
      expect(
        validateOpenLabel(doc).map((p) => [p.kind, p.severity, p.jsonPath]),
        key
      ).toEqual([['geometry-unsupported', 'error', `frames.0.objects.${CAR}.object_data.${key}`]])
    }
  })

  it('refuses a confidence as text, or outside 0 to 1', () => {
    for (const confidence of ['0.5', -0.1, 1.01, null, true]) {
      const doc = bboxDocument() as Doc
      firstGeometry(doc).attributes.num = [{ name: 'confidence', val: confidence }]
      expect(graded(doc), String(confidence)).toEqual([['confidence', 'error']])
    }
    const quoted = bboxDocument() as Doc
    firstGeometry(quoted).attributes.num = [{ name: 'confidence', val: '0.5' }]
    expect(validateOpenLabel(quoted)[0]!.message).toContain('is the text "0.5"; Kognic requires a number')
  })

  it('wants the name the data model requires on root objects and on bbox, cuboid and image entries', () => {
    for (const doc of [bboxDocument(), cuboidDocument(), segmentationDocument()] as Doc[]) {
      delete firstGeometry(doc).name
      const root = Object.values(doc.openlabel.objects as Record<string, Record<string, unknown>>)[0]!
      root.name = 7
      expect(graded(doc)).toEqual([
        ['object-name', 'error'],
        ['geometry-name', 'error']
      ])
    }
  })

  it('wants a uri in each ontology given', () => {
    const doc = segmentationDocument() as Doc
    ;(doc.openlabel.ontologies as Record<string, Record<string, unknown>>)['0']!.uri = null
    expect(graded(doc)).toEqual([['ontology-uri', 'error']])
  })

  it('refuses another schema version, an unknown stream type, and a timestamp that is not a number', () => {
    const version = bboxDocument() as Doc
    version.openlabel.metadata = { schema_version: '1.0' }
    expect(graded(version)).toEqual([['schema-version', 'error']])
    const type = bboxDocument() as Doc
    type.openlabel.streams = { CAM_FRONT: { type: 'thermal' } }
    expect(graded(type)).toEqual([['stream-type', 'error']])
    for (const timestamp of ['abc', '', true, null, { ms: 0 }]) {
      const doc = bboxDocument() as Doc
      ;(doc.openlabel.frames as Record<string, { frame_properties: Record<string, unknown> }>)[
        '0'
      ]!.frame_properties.timestamp = timestamp
      expect(graded(doc), JSON.stringify(timestamp)).toEqual([['frame-timestamp', 'error']])
    }
  })

  it('refuses a stream that is not declared when streams are', () => {
    const doc = bboxDocument() as Doc
    setStream(doc, 'CAM_REAR')
    expect(graded(doc)).toEqual([['stream-undeclared', 'error']])
  })
})

describe('warnings and the problems kept per file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'validate-tiers-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps errors first, so an error after many warnings still shows (and blocks)', async () => {
    const doc = bboxDocument() as Doc
    const frames = doc.openlabel.frames as Record<string, { objects: Record<string, unknown> }>
    const objects = doc.openlabel.objects as Record<string, unknown>
    // Four zero-size boxes (warnings) come before an unsupported geometry (an error) in document order.
    for (let i = 0; i < 4; i++) {
      const id = `box-${i}`
      objects[id] = { name: id, type: 'car' }
      frames['0']!.objects[id] = { object_data: { bbox: [bbox([1, 1, 0, 0])] } }
    }
    frames['0']!.objects.zz = { object_data: { poly2d: [{ name: 'p', val: [0, 0] }] } }
    objects.zz = { name: 'zz', type: 'car' }
    expect(validateOpenLabel(doc).map((p) => p.severity)).toEqual([
      'warning',
      'warning',
      'warning',
      'warning',
      'error'
    ])
    const path = join(dir, '0b7e5a5c-3f1d-4c2a-9e4b-1a2b3c4d5e07.json')
    writeFileSync(path, JSON.stringify(doc))
    const file = await inspectFile(
      { path, displayPath: '0b7e5a5c-3f1d-4c2a-9e4b-1a2b3c4d5e07.json' },
      { maxFileSizeBytes: LIMIT, validation: 'strict', maxProblemsPerFile: 2 }
    )
    expect(file.problems.map((p) => [p.kind, p.severity])).toEqual([
      ['geometry-unsupported', 'error'],
      ['bbox-size', 'warning']
    ])
    expect(file.moreProblems).toBe(3)
  })
})

describe("Kognic's own examples (fixtures/guide)", () => {
  const guide = (name: string): unknown => JSON.parse(readFileSync(join(GUIDE, name), 'utf8'))

  for (const name of ['bbox-two-frames.json', 'cuboid-two-frames.json', 'segmentation-bitmap.json']) {
    it(`${name}: no problem at all`, () => {
      expect(validateOpenLabel(guide(name))).toEqual([])
    })
  }

  it('request-body.json: read as the request form, no problem at all', async () => {
    const file = await inspectFile(
      { path: join(GUIDE, 'request-body.json'), displayPath: 'guide/request-body.json' },
      { maxFileSizeBytes: LIMIT, validation: 'strict' }
    )
    expect(file.fatal).toEqual([])
    expect(file.problems).toEqual([])
    expect(file.form).toBe('request')
  })

  it("the segmentation bitmap's classes are all in its class mapping", async () => {
    const facts = analyseOpenLabel(guide('segmentation-bitmap.json'))
    expect(facts.hasSegmentation).toBe(true)
    expect(facts.segmentationClasses).toEqual(['_background', 'class_1', 'class_2'])
    const mapping = await parseClassMapping(
      readFileSync(join(GUIDE, 'segmentation-class-mapping.json'), 'utf8'),
      GUIDE
    )
    expect(missingClasses(mapping, facts.segmentationClasses)).toEqual([])
  })
})

describe('the examples the demo uploads (examples/)', () => {
  const files = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' })
    // examples/mistakes/ makes one mistake per file on purpose: tested below, never uploaded by the demo.
    .filter((name) => name.endsWith('.json') && name !== 'class-mapping.json' && !name.startsWith('mistakes'))
    .sort()

  it('are there', () => {
    expect(files.length).toBeGreaterThan(5)
  })

  for (const name of files) {
    it(`${name}: no problem at all`, async () => {
      const file = await inspectFile(
        { path: join(EXAMPLES, name), displayPath: name },
        { maxFileSizeBytes: LIMIT, validation: 'strict' }
      )
      expect(file.fatal).toEqual([])
      expect(file.problems).toEqual([])
    })
  }
})

describe('examples/mistakes/: one content mistake per file', () => {
  const listing = readFileSync(join(EXAMPLES, 'mistakes', 'README.md'), 'utf8')
  const rows = [...listing.matchAll(/^\| `([^`]+\.json)` +\| `([^`]+)` +\|$/gm)].map(
    (m) => [m[1]!, m[2]!] as const
  )
  const newRules = [
    'confidence-name',
    'confidence-place',
    'timestamps-zero',
    'timestamps-seconds',
    'timestamp-negative',
    'timestamp-duplicate',
    'stream-geometry',
    'segmentation-type',
    'ontology-pixel',
    'root-geometry',
    'no-objects'
  ]

  it('lists a file for every content rule, and every file there', () => {
    expect(rows.map(([, rule]) => rule).sort()).toEqual([...newRules].sort())
    const files = readdirSync(join(EXAMPLES, 'mistakes')).filter((name) => name.endsWith('.json'))
    expect(files.sort()).toEqual(rows.map(([name]) => name).sort())
  })

  for (const [name, rule] of rows) {
    it(`${name}: exactly one ${rule} warning`, async () => {
      const file = await inspectFile(
        { path: join(EXAMPLES, 'mistakes', name), displayPath: name },
        { maxFileSizeBytes: LIMIT, validation: 'strict' }
      )
      expect(file.fatal).toEqual([])
      expect(file.problems.map((p) => [p.kind, p.severity])).toEqual([[rule, 'warning']])
    })
  }
})
