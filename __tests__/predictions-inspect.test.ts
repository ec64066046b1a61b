import { execFileSync } from 'node:child_process'
import nodeFs from 'node:fs'
import { mkdtemp, rm, writeFile, chmod, mkdir, symlink, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { inspectFile, MAX_CHECKABLE_BYTES, type InspectOptions } from '../src/predictions/inspect.js'
import { findJsonErrorOffset, locateJsonError } from '../src/predictions/json-position.js'
import {
  bbox,
  bboxDocument,
  CAR,
  requestBody,
  SCENES,
  segmentationDocument
} from './fixtures/predictions/build.js'

const SCENE = SCENES.bbox
const OPTIONS: InspectOptions = { maxFileSizeBytes: 1024 * 1024, validation: 'strict' }

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inspect-'))
})
afterEach(async () => {
  vi.restoreAllMocks()
  await rm(dir, { recursive: true, force: true })
})

async function inspectText(name: string, text: string | Buffer, opts: Partial<InspectOptions> = {}) {
  const path = join(dir, name)
  await writeFile(path, text)
  return inspectFile({ path, displayPath: `preds/${name}` }, { ...OPTIONS, ...opts })
}

describe('which scene a file is for', () => {
  it('takes the scene from the name of an OpenLABEL document, lowercased', async () => {
    const file = await inspectText(`${SCENE.toUpperCase()}.JSON`, JSON.stringify(bboxDocument()))
    expect(file.fatal).toEqual([])
    expect(file.form).toBe('openlabel')
    expect(file.sceneUuid).toBe(SCENE)
  })

  it('takes the scene from a request body, whatever the file is called, lowercased', async () => {
    const file = await inspectText(
      'anything.json',
      JSON.stringify(requestBody(SCENE.toUpperCase(), bboxDocument()))
    )
    expect(file.fatal).toEqual([])
    expect(file.form).toBe('request')
    expect(file.sceneUuid).toBe(SCENE)
  })

  it('refuses an OpenLABEL document named like a UUID but not ending in .json', async () => {
    const file = await inspectText(SCENE, JSON.stringify(bboxDocument()))
    expect(file.fatal.map((p) => p.kind)).toEqual(['scene-id'])
  })

  it('refuses an almost-UUID name', async () => {
    const file = await inspectText(`${SCENE.slice(0, -1)}g.json`, JSON.stringify(bboxDocument()))
    expect(file.fatal[0]!.message).toContain('name it <scene-uuid>.json, or use the request-body form')
  })

  it('refuses extra keys beside "openlabel" and inside openlabelContent', async () => {
    const extraTop = await inspectText(`${SCENE}.json`, JSON.stringify({ ...bboxDocument(), note: 1 }))
    expect(extraTop.fatal[0]!.message).toContain('unexpected top-level key(s) "note" beside "openlabel"')
    const extraContent = await inspectText(
      'r.json',
      JSON.stringify({ sceneUuid: SCENE, openlabelContent: { ...bboxDocument(), x: 1 } })
    )
    expect(extraContent.fatal[0]!.message).toContain('unexpected key(s) "x" in openlabelContent')
  })

  it('names the top-level keys of an object of neither form', async () => {
    const file = await inspectText(`${SCENE}.json`, JSON.stringify({ predictions: [] }))
    expect(file.fatal).toEqual([
      expect.objectContaining({ kind: 'shape', message: expect.stringContaining('found "predictions"') })
    ])
  })

  it('reads a file that starts with a UTF-8 BOM', async () => {
    const file = await inspectText(
      `${SCENE}.json`,
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(bboxDocument()))])
    )
    expect(file.fatal).toEqual([])
    expect(file.problems).toEqual([])
  })
})

describe('fatal problems of the file itself', () => {
  it('is too large: decided from stat, the file is never read', async () => {
    const path = join(dir, `${SCENE}.json`)
    await writeFile(path, '')
    // Sparse: 3 GiB on paper, nothing on disk; reading it would take long or fail.
    await truncate(path, 3 * 1024 * 1024 * 1024)
    const file = await inspectFile(
      { path, displayPath: 'preds/big.json' },
      { ...OPTIONS, maxFileSizeBytes: 100 * 1024 * 1024 }
    )
    expect(file.sizeBytes).toBe(3 * 1024 * 1024 * 1024)
    expect(file.fatal).toEqual([
      {
        kind: 'too-large',
        jsonPath: '',
        message: expect.stringContaining(
          'preds/big.json is 3072 MiB (3221225472 bytes), over the 100 MiB limit; raise max-file-size (in MiB)'
        )
      }
    ])
    expect(file.sceneUuid).toBeNull()
  })

  it('accepts a file exactly at the limit', async () => {
    const text = JSON.stringify(bboxDocument())
    const file = await inspectText(`${SCENE}.json`, text, { maxFileSizeBytes: Buffer.byteLength(text) })
    expect(file.fatal).toEqual([])
    const over = await inspectText(`${SCENE}.json`, text, { maxFileSizeBytes: Buffer.byteLength(text) - 1 })
    expect(over.fatal.map((p) => p.kind)).toEqual(['too-large'])
  })

  it('is a directory', async () => {
    const path = join(dir, `${SCENE}.json`)
    await mkdir(path)
    const file = await inspectFile({ path, displayPath: 'preds/x.json' }, OPTIONS)
    expect(file.fatal).toEqual([
      expect.objectContaining({
        kind: 'not-a-file',
        message: expect.stringContaining('preds/x.json is a directory')
      })
    ])
  })

  it('is a directory where the system refuses to open one (Windows: EISDIR)', async () => {
    vi.spyOn(nodeFs, 'openSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('illegal operation on a directory'), { code: 'EISDIR' })
    })
    const file = await inspectFile({ path: join(dir, 'x.json'), displayPath: 'preds/x.json' }, OPTIONS)
    expect(file.fatal).toEqual([
      expect.objectContaining({ kind: 'not-a-file', message: expect.stringContaining('is a directory') })
    ])
  })

  it.skipIf(process.platform === 'win32')('is a FIFO: refused at once, never waited on', async () => {
    const path = join(dir, `${SCENE}.json`)
    execFileSync('mkfifo', [path])
    const file = await inspectFile({ path, displayPath: 'preds/pipe.json' }, OPTIONS)
    expect(file.fatal).toEqual([
      expect.objectContaining({ kind: 'not-a-file', message: expect.stringContaining('not a regular file') })
    ])
  })

  it('vanished after it was matched', async () => {
    const file = await inspectFile({ path: join(dir, 'gone.json'), displayPath: 'preds/gone.json' }, OPTIONS)
    expect(file.fatal).toEqual([
      expect.objectContaining({
        kind: 'unreadable',
        message: expect.stringContaining('cannot read preds/gone.json (ENOENT): it was moved or deleted')
      })
    ])
  })

  it.skipIf(process.getuid?.() === 0)('cannot be read (EACCES)', async () => {
    const path = join(dir, `${SCENE}.json`)
    await writeFile(path, JSON.stringify(bboxDocument()))
    await chmod(path, 0o000)
    const file = await inspectFile({ path, displayPath: 'preds/locked.json' }, OPTIONS)
    expect(file.fatal[0]!.message).toContain('cannot read preds/locked.json (EACCES): make it readable')
  })

  it('cannot be read: a read error after opening is reported, not thrown', async () => {
    const path = join(dir, `${SCENE}.json`)
    await writeFile(path, JSON.stringify(bboxDocument()))
    vi.spyOn(nodeFs, 'readSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('denied'), { code: 'EIO' })
    })
    const file = await inspectFile({ path, displayPath: 'preds/locked.json' }, OPTIONS)
    expect(file.fatal).toEqual([
      expect.objectContaining({
        kind: 'unreadable',
        message: expect.stringContaining('cannot read preds/locked.json (EIO): check the file and the disk')
      })
    ])
  })

  it('is too large to check: over what one string can hold, whatever max-file-size says', async () => {
    const path = join(dir, `${SCENE}.json`)
    await writeFile(path, '')
    // Sparse: nothing on disk.
    await truncate(path, MAX_CHECKABLE_BYTES + 1)
    const file = await inspectFile(
      { path, displayPath: 'preds/huge.json' },
      { ...OPTIONS, maxFileSizeBytes: 2048 * 1024 * 1024 }
    )
    expect(file.fatal).toEqual([
      expect.objectContaining({
        kind: 'too-large',
        message: expect.stringContaining('preds/huge.json is 512 MiB (536870889 bytes): too large to check')
      })
    ])
    expect(file.fatal[0]!.message).not.toContain('check the file and the disk')
  })

  it.skipIf(process.platform === 'win32')(
    'is a symbolic link where the real path was matched: refused, never followed',
    async () => {
      const path = join(dir, `${SCENE}.json`)
      await writeFile(join(dir, 'target.json'), JSON.stringify(bboxDocument()))
      await symlink(join(dir, 'target.json'), path)
      const file = await inspectFile({ path, displayPath: 'preds/link.json' }, OPTIONS)
      expect(file.fatal[0]!.message).toContain(
        'cannot read preds/link.json (ELOOP): it was replaced by a symbolic link'
      )
    }
  )

  it('is empty or only whitespace', async () => {
    expect((await inspectText('a.json', '')).fatal.map((p) => p.kind)).toEqual(['empty'])
    expect((await inspectText('b.json', ' \n\t\n')).fatal[0]!.message).toContain('holds only whitespace')
  })

  it('is not JSON: line and column of the fault, from V8 or from the scanner', async () => {
    // V8 gives a position for this one.
    const missingComma = await inspectText('a.json', '{\n  "openlabel": {\n    "a": 1\n    "b": 2\n  }\n}\n')
    expect(missingComma.fatal[0]!.message).toMatch(
      /is not valid JSON: .* at line 4, column 5 \(character 34\)/
    )
    // V8 gives none for an unexpected token; the scanner finds it.
    const trailingComma = await inspectText('b.json', '{\n  "openlabel": {\n    "a": [1, 2,]\n  }\n}')
    expect(trailingComma.fatal[0]!.message).toContain("Unexpected token ']' at line 3, column 16")
    const truncated = await inspectText('c.json', '{\n  "openlabel": {\n    "a": [1, 2')
    expect(truncated.fatal[0]!.message).toMatch(/at line 3, column 15 \(character 33\)/)
  })
})

describe('problems kept per file', () => {
  function manyBadBoxes(count: number): string {
    const doc = bboxDocument() as { openlabel: { frames: Record<string, unknown> } }
    doc.openlabel.frames = {
      '0': {
        frame_properties: { timestamp: 0 },
        objects: { [CAR]: { object_data: { bbox: Array.from({ length: count }, () => bbox([1, 1, 0, 0])) } } }
      }
    }
    return JSON.stringify(doc)
  }

  it('keeps the first five by default and counts the rest', async () => {
    const file = await inspectText(`${SCENE}.json`, manyBadBoxes(8))
    expect(file.problems).toHaveLength(5)
    expect(file.problems[4]!.jsonPath).toBe(`frames.0.objects.${CAR}.object_data.bbox[4].val`)
    expect(file.moreProblems).toBe(3)
  })

  it('keeps as many as asked', async () => {
    const file = await inspectText(`${SCENE}.json`, manyBadBoxes(8), { maxProblemsPerFile: 2 })
    expect(file.problems).toHaveLength(2)
    expect(file.moreProblems).toBe(6)
  })

  it('keeps none with validation off, but still learns the segmentation facts', async () => {
    const doc = segmentationDocument('not a png') as { openlabel: Record<string, unknown> }
    const file = await inspectText(`${SCENE}.json`, JSON.stringify(doc), { validation: 'off' })
    expect(file.problems).toEqual([])
    expect(file.moreProblems).toBe(0)
    expect(file.hasSegmentation).toBe(true)
    expect(file.segmentationClasses).toEqual(['car', 'road'])
    const strict = await inspectText(`${SCENE}.json`, JSON.stringify(doc))
    expect(strict.problems.map((p) => p.kind)).toEqual(['image-png'])
  })
})

describe('numbers too large for a double', () => {
  it('names 1e400 as written, with its line and column, first among the problems', async () => {
    const text = JSON.stringify(bboxDocument(CAR, [1, 2, 3, 4])).replace('[1,2,3,4]', '[1,2,\n  1e400,4]')
    const file = await inspectText(`${SCENE}.json`, text)
    expect(file.fatal).toEqual([])
    expect(file.problems[0]).toEqual({
      kind: 'number-too-large',
      jsonPath: '',
      message: `the number 1e400 at line 2, column 3 is too large (beyond ±1.8e308, it reads as infinity); write a number within range`,
      line: 2,
      column: 3
    })
    // The geometry's own check follows; its message cannot say 1e400, but no message claims it is null alone.
    expect(file.problems[1]!.kind).toBe('bbox-val')
  })

  it('names a number whose digits, not its exponent, take it beyond a double', async () => {
    const huge = `1${'0'.repeat(250)}e60`
    expect(Number(huge)).toBe(Infinity)
    const text = JSON.stringify(bboxDocument(CAR, [1, 2, 3, 4])).replace('[1,2,3,4]', `[1,2,${huge},4]`)
    const file = await inspectText(`${SCENE}.json`, text)
    expect(file.problems[0]!.kind).toBe('number-too-large')
    expect(file.problems[0]!.message).toContain(`the number 1${'0'.repeat(19)}…`)
  })

  it('names 1E+400, and reads a UUID with "3e456" in it as no number', async () => {
    const text = JSON.stringify(bboxDocument(CAR, [1, 2, 3, 4])).replace('[1,2,3,4]', '[1,2,1E+400,4]')
    expect((await inspectText(`${SCENE}.json`, text)).problems[0]!.kind).toBe('number-too-large')
    const doc = bboxDocument(CAR, [1, 2, 3, 4]) as { openlabel: { metadata: Record<string, unknown> } }
    doc.openlabel.metadata.note = '4a1c3e45-6e78-4e99-8e00-1e2345678900'
    const file = await inspectText(`${SCENE}.json`, JSON.stringify(doc))
    expect(file.problems.map((p) => p.kind)).not.toContain('number-too-large')
  })

  it('does not mistake a large number inside a string, or a large finite one, for one', async () => {
    const doc = bboxDocument(CAR, [1, 2, 3, 4]) as { openlabel: { metadata: Record<string, unknown> } }
    doc.openlabel.metadata.note = 'value 1e400 in text'
    const text = JSON.stringify(doc).replace('[1,2,3,4]', '[1,2,1.5e308,4]')
    const file = await inspectText(`${SCENE}.json`, text)
    expect(file.problems.map((p) => p.kind)).not.toContain('number-too-large')
  })
})

describe('what a kept value holds', () => {
  it('keeps no file in memory through the class names kept after the check', () => {
    // A child process with --expose-gc: 40 distinct files of ~2 MiB, each with its own class names; the
    // results are kept, and after a full collection the heap must not hold the files.
    const script = join(dir, 'kept.mts')
    nodeFs.writeFileSync(
      script,
      `
      import { mkdirSync, writeFileSync } from 'node:fs'
      import { join } from 'node:path'
      import { inspectFile } from ${JSON.stringify(join(import.meta.dirname, '../src/predictions/inspect.ts'))}
      import { segmentationDocument, SCENES } from ${JSON.stringify(join(import.meta.dirname, 'fixtures/predictions/build.ts'))}
      const dir = ${JSON.stringify(dir)}
      const FILES = 40
      const kept = []
      let total = 0
      let before = 0
      // File 0 warms up the code (compiled once, kept): the heap is measured from after it.
      for (let i = 0; i <= FILES; i++) {
        if (i === 1) {
          global.gc()
          before = process.memoryUsage().heapUsed
        }
        const doc = segmentationDocument()
        doc.openlabel.ontologies = { '0': { classifications: { '1': 'class-' + i + '-a', '2': 'class-' + i + '-b' } } }
        doc.openlabel.metadata.padding = String(i % 10).repeat(2 * 1024 * 1024)
        mkdirSync(join(dir, String(i)))
        const path = join(dir, String(i), SCENES.segmentation + '.json')
        const text = JSON.stringify(doc)
        if (i > 0) total += text.length
        writeFileSync(path, text)
        kept.push(await inspectFile({ path, displayPath: 'p/' + i + '/' + SCENES.segmentation + '.json' }, { maxFileSizeBytes: 2 ** 30, validation: 'strict' }))
      }
      global.gc()
      const grown = process.memoryUsage().heapUsed - before
      console.log(JSON.stringify({ grown, total, classes: kept.flatMap((f) => f.segmentationClasses).length }))
      `
    )
    const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
      encoding: 'utf8'
    })
    const { grown, total, classes } = JSON.parse(out.trim().split('\n').pop()!) as {
      grown: number
      total: number
      classes: number
    }
    expect(classes).toBe(82)
    expect(total).toBeGreaterThan(40 * 2 * 1024 * 1024)
    // The files total 80 MiB; what is kept is a few kilobytes per file (a slice of the text would keep it all).
    expect(grown).toBeLessThan(total / 10)
  }, 60_000)
})

describe('findJsonErrorOffset', () => {
  const cases = [
    '',
    ' ',
    '{',
    '{"a"',
    '{"a":',
    '{"a":1',
    '{"a":1,',
    '{"a":1,}',
    '{,}',
    '{"a" 1}',
    '{a:1}',
    '[1,]',
    '[,1]',
    '[1 2]',
    '[01]',
    '[1.]',
    '[1e]',
    '[-]',
    '[.5]',
    '[+1]',
    '["a\\x"]',
    '["\\u12G4"]',
    '["a\tb"]',
    '[tru]',
    '[nul]',
    '[True]',
    '{"a":1}}',
    '{"a":1} x',
    '[[[[]]]',
    '[{"a":[{"b":}]}]',
    "{'a':1}",
    '"unterminated'
  ]

  it('finds a fault in each invalid text, where V8 does when V8 says', () => {
    for (const text of cases) {
      let v8: string | null = null
      try {
        JSON.parse(text)
      } catch (error) {
        v8 = (error as Error).message
      }
      expect(v8, text).not.toBeNull()
      const offset = findJsonErrorOffset(text)
      expect(offset, text).toBeGreaterThanOrEqual(0)
      const reported = /at position (\d+)/.exec(v8!)
      if (reported) expect(offset, `${text}: ${v8}`).toBe(Number(reported[1]))
    }
  })

  it('finds no fault in valid JSON', () => {
    for (const text of [
      '{}',
      '[]',
      ' {"a": [1, -2.5e+3, 0, true, false, null, "x\\u00e9\\n", {}, []]} ',
      '"s"',
      '0',
      JSON.stringify(bboxDocument())
    ]) {
      expect(findJsonErrorOffset(text), text).toBe(-1)
    }
  })

  it('survives deep nesting', () => {
    expect(findJsonErrorOffset('['.repeat(100000))).toBe(100000)
  })

  it('gives line and column, 1-based', () => {
    const text = 'x\n\n  ]'
    let error: unknown
    try {
      JSON.parse(text)
    } catch (e) {
      error = e
    }
    expect(locateJsonError(text, error)).toMatchObject({ position: 0, line: 1, column: 1 })
    expect(locateJsonError('{\n\n  ]', new SyntaxError('Unexpected token'))).toMatchObject({
      position: 5,
      line: 3,
      column: 3,
      reason: 'Unexpected token'
    })
  })
})
