// inspect.ts parses the first files with JSON.parse and the rest with parseJson (json-parse.ts): a file
// must get the same verdict, problems and messages whichever of the two reads it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { inspectFile, type InspectOptions } from '../src/predictions/inspect.js'
import { bboxDocument, SCENES } from './fixtures/predictions/build.js'

const OPTIONS: InspectOptions = { maxFileSizeBytes: 1024 * 1024, validation: 'strict' }
/** More than inspect.ts's NATIVE_PARSES, so the last files are read by the other parser. */
const PASSES = 1100
let dir: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kup-parsers-'))
  await writeFile(join(dir, `${SCENES.bbox}.json`), JSON.stringify(bboxDocument()))
  const wrong = bboxDocument() as { openlabel: { frames: Record<string, { frame_properties: object }> } }
  wrong.openlabel.frames['0']!.frame_properties = { timestamp: 'soon' }
  await writeFile(join(dir, 'bad.json'), JSON.stringify({ sceneUuid: SCENES.bbox, openlabelContent: wrong }))
  await writeFile(join(dir, 'broken.json'), '{\n  "openlabel": {\n    "a": 1\n    "b": 2\n  }\n}\n')
})
afterAll(() => rm(dir, { recursive: true, force: true }))

it('gives every file the same verdict before and after the switch of parser', async () => {
  const check = async (name: string) => {
    const file = await inspectFile({ path: join(dir, name), displayPath: name }, OPTIONS)
    return { ...file, path: undefined }
  }
  const first = {
    good: await check(`${SCENES.bbox}.json`),
    bad: await check('bad.json'),
    broken: await check('broken.json')
  }
  expect(first.good.sceneUuid).toBe(SCENES.bbox)
  expect(first.bad.problems.length).toBeGreaterThan(0)
  expect(first.broken.fatal[0]!.kind).toBe('json-syntax')
  for (let i = 0; i < PASSES; i++) await check(`${SCENES.bbox}.json`)
  expect(await check(`${SCENES.bbox}.json`)).toEqual(first.good)
  expect(await check('bad.json')).toEqual(first.bad)
  expect(await check('broken.json')).toEqual(first.broken)
})
