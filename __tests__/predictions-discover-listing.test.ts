// discoverFiles answers `dir/*.json`-like patterns from one directory listing instead of @actions/glob's
// walk. An exclude that matches nothing forces the walk, so each pattern is run both ways and compared.
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { discoverFiles } from '../src/predictions/discover.js'

let base: string
let ws: string

async function touch(relative: string, root = ws): Promise<void> {
  const path = join(root, relative)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, '{}')
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'discover-listing-')))
  ws = join(base, 'workspace')
  for (const file of [
    'preds/a.json',
    'preds/b.JSON',
    'preds/.dot.json',
    'preds/scene-1.json',
    'preds/scene-12.json',
    'preds/odd (1)+{x}.json',
    'preds/notes.txt',
    'preds/dir.json/inside.json',
    'preds/sub/c.json',
    'more/d.json',
    'plain/a.json',
    'plain/.hidden.json',
    'plain/..odd.json',
    'plain/ü.json',
    'plain/Z.json',
    'plain/b c.json',
    'plain/notes.txt',
    'top.json',
    '..top.json'
  ]) {
    await touch(file)
  }
  await touch('secret.json', join(base, 'elsewhere'))
  await symlink(join(base, 'elsewhere', 'secret.json'), join(ws, 'preds', 'escape.json'))
  await symlink(join(ws, 'preds', 'a.json'), join(ws, 'preds', 'twin.json'))
  await symlink(join(ws, 'preds', 'sub'), join(ws, 'preds', 'linked.json'))
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

/** The same patterns with an exclude that matches nothing, which takes @actions/glob's walk. */
async function bothWays(patterns: string) {
  const listed = await discoverFiles(patterns, ws)
  const walked = await discoverFiles(`${patterns}\n!no-such-directory-anywhere`, ws)
  return { listed, walked }
}

describe('discoverFiles from a directory listing', () => {
  it.each([
    'preds/*.json',
    'preds/*',
    'preds/scene-?.json',
    'preds/scene-*.json',
    'preds/odd (1)+{x}.json',
    'preds/*.json\nmore/*.json\npreds/a*.json',
    'missing/*.json',
    'preds/a.json/*.json',
    './preds/../preds/*.json',
    'plain/*.json',
    'plain/*',
    '*.json',
    'plain/?.json'
  ])('matches what the walk matches for %j', async (patterns) => {
    const { listed, walked } = await bothWays(patterns)
    expect(listed).toEqual(walked)
  })

  it('lists the directory without walking it', async () => {
    // @actions/glob logs each search path it walks (as ::debug:: lines on stdout).
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true)
    try {
      await discoverFiles('preds/*.json\nmore/*.json', ws)
      const walked = write.mock.calls.some(([chunk]) => String(chunk).includes('Search path'))
      expect(walked).toBe(false)
      await discoverFiles('preds/**/*.json', ws)
      expect(write.mock.calls.some(([chunk]) => String(chunk).includes('Search path'))).toBe(true)
    } finally {
      write.mockRestore()
    }
  })

  it('finds dot files, names directories and links, and keeps the walk order', async () => {
    const { listed } = await bothWays('preds/*.json')
    expect(listed.files.map((f) => f.displayPath)).toEqual([
      'preds/.dot.json',
      'preds/a.json',
      'preds/odd (1)+{x}.json',
      'preds/scene-1.json',
      'preds/scene-12.json'
    ])
    expect(listed.skipped.map((s) => [s.displayPath, s.kind])).toEqual([
      ['preds/dir.json', 'directory'],
      ['preds/escape.json', 'outside-workspace'],
      ['preds/linked.json', 'directory'],
      ['preds/twin.json', 'same-file']
    ])
  })

  it('lists a directory of regular files in order', async () => {
    const { listed } = await bothWays('plain/*.json')
    expect(listed.files).toEqual(
      ['..odd.json', '.hidden.json', 'Z.json', 'a.json', 'b c.json', 'ü.json'].map((name) => ({
        path: join(ws, 'plain', name),
        displayPath: `plain/${name}`
      }))
    )
    expect(listed.skipped).toEqual([])
  })

  it('leaves a broken link to the walk, which says what it points to', async () => {
    const dir = join(ws, 'with-broken')
    await touch('with-broken/ok.json')
    await symlink(join(dir, 'gone.json'), join(dir, 'broken.json'))
    const { listed, walked } = await bothWays('with-broken/*.json')
    expect(listed).toEqual(walked)
    expect(listed.skipped).toEqual([
      {
        displayPath: 'with-broken/broken.json',
        kind: 'broken-link',
        reason: expect.stringMatching(/broken symbolic link/)
      }
    ])
  })
})
