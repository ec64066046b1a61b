import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { inspectFile } from '../src/predictions/inspect.js'
import {
  analyseOpenLabel,
  pathKey,
  pngHeaderProblem,
  validateOpenLabel
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

const FIXTURES = join(import.meta.dirname, 'fixtures', 'predictions')
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
      '0': { classifications: { '1': 'road', '2': 'car' } },
      '1': { classifications: { '1': 'car', '3': 'building' } }
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

  it('does not cascade stream problems when streams itself is missing', () => {
    const doc = bboxDocument() as { openlabel: Record<string, unknown> }
    delete doc.openlabel.streams
    expect(validateOpenLabel(doc).map((p) => [p.kind, p.jsonPath])).toEqual([['structure', 'streams']])
  })

  it('reports frame objects when there are no root objects', () => {
    const doc = bboxDocument() as { openlabel: Record<string, unknown> }
    delete doc.openlabel.objects
    expect(validateOpenLabel(doc).map((p) => p.kind)).toEqual(['unknown-object'])
  })

  it('checks the stream of geometries it does not otherwise check, and ignores static attributes', () => {
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
    expect(validateOpenLabel(doc).map((p) => [p.kind, p.jsonPath])).toEqual([
      ['stream-missing', `frames.0.objects.${CAR}.object_data.poly2d[0].attributes.text`]
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
    const problems = validateOpenLabel(doc)
    expect(problems).toEqual([
      expect.objectContaining({
        kind: 'schema-version',
        message: expect.stringContaining('a list of 1 item')
      })
    ])
  })
})
