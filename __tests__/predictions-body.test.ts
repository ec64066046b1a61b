import { createHash } from 'node:crypto'
import {
  appendFile,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  truncate,
  unlink,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readUploadBody } from '../src/predictions/body.js'
import { inspectFile } from '../src/predictions/inspect.js'
import type { InspectedFile } from '../src/types.js'
import { bboxDocument, requestBody, SCENES, segmentationDocument } from './fixtures/predictions/build.js'

const FIXTURES = join(import.meta.dirname, 'fixtures', 'predictions', 'good')
const OPTIONS = { maxFileSizeBytes: 10 * 1024 * 1024, validation: 'strict' as const }

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'body-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function inspected(name: string, bytes: Buffer | string): Promise<InspectedFile> {
  const path = join(dir, name)
  await writeFile(path, bytes)
  const file = await inspectFile({ path, displayPath: name }, OPTIONS)
  expect(file.fatal).toEqual([])
  return file
}

describe('readUploadBody', () => {
  it('wraps an OpenLABEL document into the request body, keeping its bytes', async () => {
    const text = JSON.stringify(segmentationDocument(), null, 2) + '\n'
    const file = await inspected(`${SCENES.segmentation}.json`, text)
    const body = await readUploadBody(file)
    expect(JSON.parse(body.toString('utf8'))).toEqual({
      sceneUuid: SCENES.segmentation,
      openlabelContent: segmentationDocument()
    })
    // Not re-serialised: the file's formatting is inside, byte for byte.
    expect(body.toString('utf8')).toBe(`{"sceneUuid":"${SCENES.segmentation}","openlabelContent":${text}}`)
  })

  it('sends a request body file as it is', async () => {
    const file = await inspectFile(
      { path: join(FIXTURES, 'request-body.json'), displayPath: 'good/request-body.json' },
      OPTIONS
    )
    const body = await readUploadBody(file)
    expect(body.equals(await readFile(join(FIXTURES, 'request-body.json')))).toBe(true)
    expect(JSON.parse(body.toString('utf8'))).toEqual(requestBody(SCENES.request, bboxDocument()))
  })

  it('drops a UTF-8 BOM in both forms', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf])
    const doc = Buffer.from(JSON.stringify(bboxDocument()))
    const wrapped = await readUploadBody(await inspected(`${SCENES.bbox}.json`, Buffer.concat([bom, doc])))
    expect(wrapped[0]).toBe(0x7b)
    expect(JSON.parse(wrapped.toString('utf8')).openlabelContent).toEqual(bboxDocument())
    const request = Buffer.from(JSON.stringify(requestBody(SCENES.request, bboxDocument())))
    const asIs = await readUploadBody(await inspected('r.json', Buffer.concat([bom, request])))
    expect(asIs.equals(request)).toBe(true)
  })

  it('uses the lowercased scene of an upper-case file name', async () => {
    const file = await inspected(`${SCENES.bbox.toUpperCase()}.json`, JSON.stringify(bboxDocument()))
    expect(JSON.parse((await readUploadBody(file)).toString('utf8')).sceneUuid).toBe(SCENES.bbox)
  })

  it('refuses a file rewritten with the same size since it was checked, and says nothing was sent', async () => {
    const text = JSON.stringify(bboxDocument())
    const file = await inspected(`${SCENES.bbox}.json`, text)
    // Same length, same inode, other bytes.
    await writeFile(file.path, text.replace('"car"', '"cat"'))
    await expect(readUploadBody(file)).rejects.toThrow(
      `${SCENES.bbox}.json changed after it was checked: its content is not the content checked; nothing was uploaded for it — re-run`
    )
  })

  it('refuses a file swapped for a symbolic link, even to the same bytes', async () => {
    const text = JSON.stringify(bboxDocument())
    const file = await inspected(`${SCENES.bbox}.json`, text)
    const outside = await mkdtemp(join(tmpdir(), 'outside-'))
    try {
      await writeFile(join(outside, 'secret.json'), text)
      await unlink(file.path)
      await symlink(join(outside, 'secret.json'), file.path)
      await expect(readUploadBody(file)).rejects.toThrow(
        'changed after it was checked: it is now a symbolic link; nothing was uploaded for it'
      )
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('refuses another file moved into its place, even with the same bytes', async () => {
    const text = JSON.stringify(bboxDocument())
    const file = await inspected(`${SCENES.bbox}.json`, text)
    await writeFile(join(dir, 'other.json'), text)
    await rename(join(dir, 'other.json'), file.path)
    await expect(readUploadBody(file)).rejects.toThrow('changed after it was checked: it is now another file')
  })

  it('refuses a file that grew or shrank by a few bytes since it was checked', async () => {
    const text = JSON.stringify(bboxDocument())
    const grown = await inspected(`${SCENES.bbox}.json`, text)
    await appendFile(grown.path, '\n')
    await expect(readUploadBody(grown)).rejects.toThrow(
      `changed after it was checked: ${text.length} bytes then, ${text.length + 1} bytes now`
    )
    const shrunk = await inspected(`${SCENES.request}.json`, `${text}\n\n`)
    await truncate(shrunk.path, text.length)
    await expect(readUploadBody(shrunk)).rejects.toThrow(
      `changed after it was checked: ${text.length + 2} bytes then, ${text.length} bytes now`
    )
  })

  it('reports a file removed since it was checked', async () => {
    const file = await inspected(`${SCENES.bbox}.json`, JSON.stringify(bboxDocument()))
    await unlink(file.path)
    await expect(readUploadBody(file)).rejects.toThrow('changed after it was checked: it is gone')
  })

  it('keeps the hash of the bytes checked', async () => {
    const text = `\uFEFF${JSON.stringify(bboxDocument())}`
    const file = await inspected(`${SCENES.bbox}.json`, text)
    expect(file.contentSha256).toBe(createHash('sha256').update(text).digest('hex'))
    expect(file.sizeBytes).toBe(Buffer.byteLength(text))
  })

  it('refuses a file that failed inspection', async () => {
    const path = join(dir, 'x.json')
    await writeFile(path, '[]')
    const file = await inspectFile({ path, displayPath: 'x.json' }, OPTIONS)
    await expect(readUploadBody(file)).rejects.toThrow('x.json was not found usable when it was checked')
  })
})
