import { promises as fsp } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { denyReading } from './fs-faults.js'
import { discoverFiles, isUnusableMatch } from '../src/predictions/discover.js'

let base: string
let ws: string
let outside: string

async function touch(relative: string, root = ws): Promise<void> {
  const path = join(root, relative)
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, '{}')
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'discover-')))
  ws = join(base, 'workspace')
  outside = join(base, 'elsewhere')
  for (const file of [
    'preds/a.json',
    'preds/b.json',
    'preds/notes.txt',
    'preds/sub/c.json',
    'preds/sub/deep/d.json',
    'preds/old/e.json',
    'preds/old/inner/f.json',
    'preds/.hidden/g.json',
    'preds/weird.json/inside.json',
    'other/h.json',
    'odd [dir]/i.json'
  ]) {
    await touch(file)
  }
  await touch('secret.json', outside)
  await symlink(join(ws, 'nowhere.json'), join(ws, 'preds', 'broken.json'))
  await symlink(join(outside, 'secret.json'), join(ws, 'preds', 'escape.json'))
  await symlink(join(ws, 'preds', 'sub'), join(ws, 'linked-sub'))
})

afterEach(() => {
  vi.restoreAllMocks()
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

async function displayPaths(patterns: string) {
  const found = await discoverFiles(patterns, ws)
  return { files: found.files.map((f) => f.displayPath), skipped: found.skipped }
}

describe('discoverFiles', () => {
  it('takes a file whose name starts with two dots as inside the workspace, listed or walked', async () => {
    const root = join(base, 'dots')
    await touch('..x.json', root)
    await touch('sub/..y.json', root)
    for (const pattern of ['*.json', '**/*.json']) {
      const found = await discoverFiles(pattern, root)
      expect(found.files.map((f) => f.displayPath)).toEqual(
        pattern === '*.json' ? ['..x.json'] : ['..x.json', 'sub/..y.json']
      )
      expect(found.skipped).toEqual([])
    }
  })

  it('matches the files directly in a folder with dir/*.json, and all files in a folder it matches', async () => {
    const found = await displayPaths('preds/*.json')
    // weird.json is a folder that *.json matches: as in @actions/glob, everything under it is matched.
    expect(found.files).toEqual(['preds/a.json', 'preds/b.json', 'preds/weird.json/inside.json'])
    expect(found.skipped).toEqual([
      {
        displayPath: 'preds/broken.json',
        kind: 'broken-link',
        reason: expect.stringContaining('broken symbolic link to')
      },
      {
        displayPath: 'preds/escape.json',
        kind: 'outside-workspace',
        reason: expect.stringContaining(
          `is a symbolic link to ${join(outside, 'secret.json')}, outside the workspace`
        )
      }
    ])
  })

  it('matches at any depth with dir/**/*.json, hidden folders included', async () => {
    const found = await displayPaths('preds/**/*.json')
    expect(found.files).toEqual([
      'preds/.hidden/g.json',
      'preds/a.json',
      'preds/b.json',
      'preds/old/e.json',
      'preds/old/inner/f.json',
      'preds/sub/c.json',
      'preds/sub/deep/d.json',
      'preds/weird.json/inside.json'
    ])
    expect(found.skipped.map((s) => s.displayPath)).toEqual(['preds/broken.json', 'preds/escape.json'])
  })

  it('matches every file under a folder with dir/**', async () => {
    const found = await displayPaths('preds/**')
    expect(found.files).toContain('preds/notes.txt')
    expect(found.files).toContain('preds/sub/deep/d.json')
    expect(found.skipped.map((s) => s.displayPath)).toEqual(['preds/broken.json', 'preds/escape.json'])
  })

  it('excludes a folder and everything in it with !dir, and single files with !file', async () => {
    const found = await displayPaths(
      '# predictions\n\npreds/**/*.json\n!preds/old\n  !preds/sub/deep/d.json  \n!preds/.hidden/**'
    )
    expect(found.files).toEqual([
      'preds/a.json',
      'preds/b.json',
      'preds/sub/c.json',
      'preds/weird.json/inside.json'
    ])
  })

  it('applies patterns in order, as @actions/glob does: an include after an exclude takes a file back', async () => {
    const found = await displayPaths('preds/*.json\n!preds/a.json\npreds/a.json')
    expect(found.files).toContain('preds/a.json')
    const excluded = await displayPaths('preds/*.json\npreds/a.json\n!preds/a.json')
    expect(excluded.files).not.toContain('preds/a.json')
    expect(excluded.files).toContain('preds/b.json')
  })

  it('excluding a broken link removes it from skipped, and excluding a folder takes all of it', async () => {
    const found = await displayPaths(
      'preds/*.json\n!preds/broken.json\n!preds/weird.json\n!preds/escape.json'
    )
    expect(found.files).toEqual(['preds/a.json', 'preds/b.json'])
    expect(found.skipped).toEqual([])
  })

  it('takes every file under a folder named alone, with or without a trailing slash (implicitDescendants)', async () => {
    const found = await displayPaths('preds/sub\nother/')
    expect(found.files).toEqual(['other/h.json', 'preds/sub/c.json', 'preds/sub/deep/d.json'])
    expect(found.skipped).toEqual([])
  })

  it('matches only folders with a trailing slash: a file named so is no match, and !file/ leaves the file', async () => {
    expect(await displayPaths('preds/a.json/')).toEqual({ files: [], skipped: [] })
    expect((await displayPaths('preds/a.json\n!preds/a.json/')).files).toEqual(['preds/a.json'])
    expect((await displayPaths('preds/sub/**\n!preds/sub/deep/')).files).toEqual(['preds/sub/c.json'])
  })

  it('reads ~ as the home directory, and ~name as a name', async () => {
    const home = process.env.HOME
    process.env.HOME = join(ws, 'preds', 'sub')
    try {
      expect((await displayPaths('~/*.json\n~name.json')).files).toEqual(['preds/sub/c.json'])
      expect((await displayPaths('~\n!~/deep')).files).toEqual(['preds/sub/c.json'])
    } finally {
      process.env.HOME = home
    }
  })

  it('gives absolute paths, sorted and without duplicates across overlapping patterns', async () => {
    const found = await discoverFiles('preds/sub/**/*.json\npreds/*.json\npreds/sub/c.json\nother/*.json', ws)
    expect(found.files).toEqual([
      { path: join(ws, 'other', 'h.json'), displayPath: 'other/h.json' },
      { path: join(ws, 'preds', 'a.json'), displayPath: 'preds/a.json' },
      { path: join(ws, 'preds', 'b.json'), displayPath: 'preds/b.json' },
      { path: join(ws, 'preds', 'sub', 'c.json'), displayPath: 'preds/sub/c.json' },
      { path: join(ws, 'preds', 'sub', 'deep', 'd.json'), displayPath: 'preds/sub/deep/d.json' },
      { path: join(ws, 'preds', 'weird.json', 'inside.json'), displayPath: 'preds/weird.json/inside.json' }
    ])
  })

  it('follows a linked folder, but takes a file reached twice once', async () => {
    const found = await displayPaths('linked-sub/**/*.json\npreds/sub/**/*.json')
    expect(found.files).toEqual(['linked-sub/c.json', 'linked-sub/deep/d.json'])
    expect(found.skipped).toEqual([
      {
        displayPath: 'preds/sub/c.json',
        kind: 'same-file',
        reason: expect.stringContaining('is the same file as linked-sub/c.json')
      },
      {
        displayPath: 'preds/sub/deep/d.json',
        kind: 'same-file',
        reason: expect.stringContaining('same file as linked-sub/deep/d.json')
      }
    ])
  })

  it('takes the workspace path literally, even with glob characters in it', async () => {
    const found = await discoverFiles('*.json', join(ws, 'odd [dir]'))
    expect(found.files.map((f) => f.displayPath)).toEqual(['i.json'])
  })

  it('accepts absolute patterns inside the workspace, a leading ./, and excludes that point anywhere', async () => {
    const found = await displayPaths(
      `${ws}/preds/*.json\n./other/*.json\n!${outside}/**\n!/**/b.json\n!preds/*.json/`
    )
    // `!preds/*.json/` excludes the folder weird.json and what is in it, not the files a.json and b.json.
    expect(found.files).toEqual(['other/h.json', 'preds/a.json'])
  })

  it('refuses patterns that leave the workspace, naming the path input', async () => {
    await expect(discoverFiles('../elsewhere/*.json', ws)).rejects.toThrow(
      /^path: the pattern "..\/elsewhere\/\*.json" has a "." or ".." segment, which @actions\/glob does not allow/
    )
    await expect(discoverFiles(`${ws}/other/../preds/*.json`, ws)).rejects.toThrow(
      /has a "." or ".." segment/
    )
    await expect(discoverFiles('preds/./a.json', ws)).rejects.toThrow(/has a "." or ".." segment/)
    await expect(discoverFiles(`${outside}/*.json`, ws)).rejects.toThrow(/points outside the workspace/)
    await expect(discoverFiles('/**/*.json', ws)).rejects.toThrow(/points outside the workspace/)
    await expect(discoverFiles('preds/**/../../*.json', ws, 'resume-from')).rejects.toThrow(
      /^resume-from: the pattern "preds\/\*\*\/..\/..\/\*.json" has a "." or ".." segment/
    )
    await expect(discoverFiles('!', ws)).rejects.toThrow(/^path: the line "!" has no pattern after "!"/)
  })

  it('finds nothing, without error, when nothing matches or only excludes are given', async () => {
    expect(await discoverFiles('nothing-here/**/*.json', ws)).toEqual({ files: [], skipped: [] })
    expect(await discoverFiles('!preds/**', ws)).toEqual({ files: [], skipped: [] })
    expect(await discoverFiles('# only a comment\n\n', ws)).toEqual({ files: [], skipped: [] })
  })

  it('never reads an excluded folder', async () => {
    const readdir = vi.spyOn(fsp, 'readdir')
    const found = await displayPaths('preds/**/*.json\n!preds/old\n!preds/sub/**')
    expect(found.files).toEqual([
      'preds/.hidden/g.json',
      'preds/a.json',
      'preds/b.json',
      'preds/weird.json/inside.json'
    ])
    const read = readdir.mock.calls.map(([dir]) => String(dir))
    expect(read).toContain(join(ws, 'preds'))
    expect(read.filter((dir) => dir.includes(`${join(ws, 'preds', 'old')}`) || dir.includes('sub'))).toEqual(
      []
    )
  })

  it('skips a folder it may not read with a warning naming it, and finds the other files', async () => {
    denyReading(join(ws, 'preds', 'old'))
    const found = await discoverFiles('preds/**/*.json', ws)
    expect(found.files.map((f) => f.displayPath)).toContain('preds/sub/deep/d.json')
    expect(found.files.map((f) => f.displayPath)).not.toContain('preds/old/e.json')
    const folder = found.skipped.find((s) => s.kind === 'unreadable-folder')
    expect(folder).toEqual({
      displayPath: 'preds/old',
      kind: 'unreadable-folder',
      reason: expect.stringContaining('is a folder that cannot be read (EACCES)')
    })
    expect(isUnusableMatch(folder!)).toBe(false)
  })

  it('names a folder on the way to a pattern that may not be searched, and finds the other files', async () => {
    const lstat = fsp.lstat.bind(fsp)
    vi.spyOn(fsp, 'lstat').mockImplementation(((p: string, options: never) =>
      p === join(ws, 'preds', 'old', 'inner')
        ? Promise.reject(
            Object.assign(new Error(`EACCES: permission denied, lstat '${p}'`), { code: 'EACCES' })
          )
        : lstat(p, options)) as typeof fsp.lstat)
    const found = await displayPaths('preds/old/inner/*.json\nother/*.json')
    expect(found).toEqual({
      files: ['other/h.json'],
      skipped: [
        {
          displayPath: 'preds/old',
          kind: 'unreadable-folder',
          reason: expect.stringContaining('is a folder that cannot be read (EACCES)')
        }
      ]
    })
  })

  it('gives each file’s real path, so a linked file is opened where it really is', async () => {
    const found = await discoverFiles('linked-sub/*.json', ws)
    expect(found.files).toEqual([
      { path: join(ws, 'preds', 'sub', 'c.json'), displayPath: 'linked-sub/c.json' }
    ])
  })
})
