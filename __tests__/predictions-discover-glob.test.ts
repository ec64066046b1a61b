// `path` means what it means in @actions/glob: both run on one generated tree with the same pattern lists and
// must find the same files. The only differences allowed are the ones README "Which files `path` matches"
// lists, written out in `sameFiles` below and in the tests after it.
import * as glob from '@actions/glob'
import { promises as fsp } from 'node:fs'
import { mkdir, mkdtemp, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { denyReading } from './fs-faults.js'
import { discoverFiles } from '../src/predictions/discover.js'

const POSIX = process.platform !== 'win32'

let base: string
let ws: string
let outside: string
const saved = { cwd: process.cwd(), home: process.env.HOME }

const FILES = [
  'top.json',
  'top.txt',
  '.github/w.json',
  'other/h.json',
  'other/H.JSON',
  'home/me.json',
  'home/sub/deeper.json',
  'preds/a.json',
  'preds/b.json',
  'preds/ab.json',
  'preds/notes.txt',
  'preds/.dot.json',
  'preds/.hidden/g.json',
  'preds/sub/c.json',
  'preds/sub/keep.json',
  'preds/sub/deep/d.json',
  'preds/old/e.json',
  'preds/old/inner/f.json',
  'preds/weird.json/inside.json',
  'preds/weird.json/inside.txt',
  'preds/with space/s p.json',
  'preds/[x]/bracket.json',
  'preds/x/plain.json',
  'preds/#hash.json',
  'preds/!bang.json',
  'preds/~tilde.json',
  'preds/ünï.json',
  '~/t.json',
  // Characters only POSIX allows in a name.
  ...(POSIX ? ['preds/star*/t.json', 'preds/q?/u.json', 'preds/back\\slash.json'] : [])
]

async function touch(root: string, file: string): Promise<void> {
  await mkdir(dirname(join(root, file)), { recursive: true })
  await writeFile(join(root, file), '{}')
}

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'discover-glob-')))
  ws = join(base, 'workspace')
  outside = join(base, 'elsewhere')
  for (const file of FILES) await touch(ws, file)
  await touch(outside, 'secret.json')
  await touch(outside, 'dir/z.json')
  if (POSIX) {
    await symlink(join(ws, 'preds', 'a.json'), join(ws, 'preds', 'link-file.json'))
    await symlink(join(ws, 'preds', 'sub'), join(ws, 'preds', 'link-dir'))
    await symlink(join(ws, 'nowhere.json'), join(ws, 'preds', 'broken.json'))
    await symlink(join(outside, 'secret.json'), join(ws, 'preds', 'escape.json'))
    await symlink(join(outside, 'dir'), join(ws, 'preds', 'out-dir'))
    await symlink(join(ws, 'preds'), join(ws, 'preds', 'loop'))
  }
  // @actions/glob reads patterns from the current directory and `~` from HOME; ours from the workspace.
  process.chdir(ws)
  process.env.HOME = join(ws, 'home')
})

afterEach(() => {
  vi.restoreAllMocks()
})

afterAll(async () => {
  process.chdir(saved.cwd)
  if (saved.home === undefined) delete process.env.HOME
  else process.env.HOME = saved.home
  await rm(base, { recursive: true, force: true })
})

function display(p: string): string {
  const path = relative(ws, p)
  return POSIX ? path : path.split('\\').join('/')
}

function sorted(values: Iterable<string>): string[] {
  return [...values].sort()
}

/**
 * What @actions/glob and discoverFiles make of `patterns`, with the documented differences taken out:
 * - @actions/glob lists matched folders too; discoverFiles lists files (the files in a matched folder are
 *   matched either way, by implicitDescendants);
 * - a file reached through a link from outside the workspace is `outside-workspace` in `skipped`, not a file;
 * - a file reached by two paths (through a link) is a file once, by its first path in sorted order, and
 *   `same-file` by the other;
 * - a matched broken link is `broken-link` in `skipped` (@actions/glob leaves it out);
 * - discoverFiles sorts its files by path, @actions/glob gives them in the order it walks.
 */
async function sameFiles(
  patterns: string
): Promise<{ theirs: string[]; ours: string[]; problems: string[] }> {
  const globbed = await (await glob.create(patterns)).glob()
  const found = await discoverFiles(patterns, ws)
  const realWs = await realpath(ws)

  const theirs = new Set<string>()
  const theirReal = new Set<string>()
  const theirOutside = new Set<string>()
  for (const p of globbed) {
    if ((await stat(p)).isDirectory()) continue
    const real = await realpath(p)
    if (relative(realWs, real).startsWith('..')) theirOutside.add(display(p))
    else theirReal.add(real)
    theirs.add(display(p))
  }
  const kinds = (kind: string): string[] =>
    found.skipped.filter((s) => s.kind === kind).map((s) => s.displayPath)
  const ours = [
    ...found.files.map((f) => f.displayPath),
    ...kinds('same-file'),
    ...kinds('outside-workspace')
  ]

  const problems: string[] = []
  const expectEqual = (what: string, a: string[], b: string[]): void => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      problems.push(`${what}: @actions/glob ${a.join(', ')} | ours ${b.join(', ')}`)
  }
  expectEqual('paths', sorted(theirs), sorted(ours))
  expectEqual('real paths', sorted(theirReal), sorted(found.files.map((f) => f.path)))
  expectEqual('outside the workspace', sorted(theirOutside), sorted(kinds('outside-workspace')))
  const names = found.files.map((f) => f.displayPath)
  expectEqual('order', sorted(names), names)
  for (const s of found.skipped) {
    const broken = await stat(join(ws, s.displayPath)).then(
      () => false,
      () => true
    )
    if (s.kind === 'unreadable-folder' || (s.kind === 'broken-link' && !broken))
      problems.push(`unexpected ${s.kind}: ${s.displayPath}`)
  }
  return { theirs: sorted(theirs), ours: sorted(ours), problems }
}

// Patterns that start a walk, exclude from it, and take part of an excluded folder back.
const INCLUDES = [
  'preds',
  'preds/',
  './preds',
  'preds/**',
  'preds/**/',
  'preds/*',
  'preds/*/',
  'preds/*.json',
  'preds/**/*.json',
  '**/*.json',
  '**',
  '**/',
  '*',
  '.',
  '*.json',
  'preds/sub',
  'preds/s*',
  'preds/?.json',
  'preds/[ab].json',
  'preds/[!a]*.json',
  'preds/[x]',
  'preds/\\[x\\]',
  'preds/[[]x]',
  'preds/with space',
  'preds/with space/*.json',
  'preds/link-dir',
  'preds/link-dir/**/*.json',
  'preds/link-file.json',
  'preds/a.json/',
  'preds/a.json/**',
  'preds/weird.json',
  'preds/**/deep',
  'other/*.JSON',
  'OTHER/*.json',
  '~',
  '~/',
  '~/*.json',
  './~/*',
  'preds/~tilde.json',
  'preds/.hidden',
  '.github/**',
  'preds/\\#hash.json',
  'preds/!bang.json',
  'preds/out-dir',
  'preds/loop/*.json',
  'preds/ünï.json',
  ...(POSIX
    ? ['preds/star\\*', 'preds/star*/*', 'preds/q\\?', 'preds/back\\\\slash.json', 'preds/*\\\\*']
    : [])
]
const EXCLUDES = [
  '!preds/old',
  '!preds/old/',
  '!preds/old/**',
  '!preds/*.json',
  '!**/*.txt',
  '!**/.hidden',
  '!preds/sub/deep/d.json',
  '!preds/a.json/',
  '!preds/s*',
  '!preds/**/',
  '!preds/*/',
  '!!preds/b.json',
  '!~/me.json',
  '!preds/weird.json',
  '!**',
  '!preds/link-dir',
  '! preds/sub/**'
]
const REINCLUDES = [
  'preds/sub/keep.json',
  'preds/old/inner/**',
  'preds/sub/deep',
  'preds/old/e.json',
  '**/d.json',
  'preds/weird.json/inside.txt'
]
const WALKS = ['preds', 'preds/**', '**', '**/*.json', 'preds/**/*.json', '.']

/** Every include alone, each exclude after five includes, each exclude with each re-include: no randomness. */
function generatedLists(): string[] {
  const lists = INCLUDES.map((i) => i)
  EXCLUDES.forEach((e, k) => {
    for (let j = 0; j < 5; j++) lists.push(`${INCLUDES[(k * 5 + j * 7) % INCLUDES.length]}\n${e}`)
    REINCLUDES.forEach((r, m) => lists.push(`${WALKS[(k + m) % WALKS.length]}\n${e}\n${r}`))
  })
  return lists
}

/** Built once the workspace exists: two of them name it absolutely. */
const handPicked = (): string[] => [
  '# a comment\n\n  preds/*.json  \n   # another\n',
  'preds/#hash.json',
  'preds/*.json\n!#hash.json\n!preds/#hash.json',
  'preds/a.json\npreds/a.json\npreds/*.json\npreds/**',
  'preds//a.json',
  'preds/*.json\n!preds/a.json\npreds/a.json',
  'preds/*.json\npreds/a.json\n!preds/a.json',
  'preds/**\n!preds/sub/**\npreds/sub/keep.json',
  'preds/**\n!preds/sub\npreds/sub/deep/**',
  'preds/**\n!preds/sub/\n!preds/old\npreds/sub/deep/d.json\npreds/old/inner',
  '**\n!preds\npreds/sub/keep.json\n!preds/sub/keep.json',
  'preds/*.json\n!preds/weird.json/',
  'preds/a.json\n!preds/a.json/',
  '!preds/**\npreds/a.json',
  '!!!preds/a.json\npreds/**',
  'preds/[!b].json\npreds/[[]x]/*',
  'preds/**/*.json\n!preds/link-dir/**\n!preds/loop',
  'preds/loop/loop/**',
  '~\n!~/sub',
  '~/**\n!~/sub/**\n~/sub/deeper.json',
  `${ws}/preds/*.json`,
  `${ws.replace(/[[\]*?]/g, '\\$&')}/other`,
  'preds/*.json\n!preds/*.json\npreds/b*',
  'pre*/s*/d*/*.json',
  '**/deep/**',
  '**/.*',
  '**/.*/**',
  'preds/x\npreds/[x]/',
  'preds/*\n!preds/*\n',
  'no/such/folder/**\nnothing.json'
]

describe.runIf(POSIX)('discoverFiles against @actions/glob', () => {
  it('finds the same files on 100+ generated pattern lists', async () => {
    const lists = generatedLists()
    expect(lists.length).toBeGreaterThanOrEqual(100)
    const disagreements: { patterns: string; problems: string[] }[] = []
    let nonEmpty = 0
    for (const patterns of lists) {
      const result = await sameFiles(patterns)
      if (result.theirs.length > 0) nonEmpty++
      if (result.problems.length > 0) disagreements.push({ patterns, problems: result.problems })
    }
    expect(disagreements).toEqual([])
    // The lists are worth comparing: most match something.
    expect(nonEmpty).toBeGreaterThan(lists.length * 0.8)
  })

  it('finds the same files on hand-picked edge cases', async () => {
    const disagreements: { patterns: string; problems: string[] }[] = []
    for (const patterns of handPicked()) {
      const result = await sameFiles(patterns)
      if (result.problems.length > 0) disagreements.push({ patterns, problems: result.problems })
    }
    expect(disagreements).toEqual([])
  })

  it('pins the rules that differ from a plain glob, on both', async () => {
    // implicitDescendants: a folder named alone is every file under it; `X/**` also takes X's own files.
    expect((await sameFiles('preds/sub')).ours).toEqual([
      'preds/sub/c.json',
      'preds/sub/deep/d.json',
      'preds/sub/keep.json'
    ])
    expect((await sameFiles('preds/*.json')).ours).toContain('preds/weird.json/inside.txt')
    // A trailing separator matches folders only: a file named so is no match, a folder is all of it.
    expect((await sameFiles('preds/a.json/')).ours).toEqual([])
    // An explicit `file/**` matches the file itself (@actions/glob appends a separator before matching).
    expect((await sameFiles('preds/a.json/**')).ours).toEqual(['preds/a.json'])
    // `~` is HOME; `\~` and `./~` are the folder named `~`.
    expect((await sameFiles('~/*.json')).ours).toEqual(['home/me.json'])
    expect((await sameFiles('./~/*')).ours).toEqual(['~/t.json'])
    // A later include takes back part of an excluded folder.
    expect((await sameFiles('preds/**\n!preds/sub/**\npreds/sub/keep.json')).ours).toContain(
      'preds/sub/keep.json'
    )
  })

  it('refuses what @actions/glob refuses: "." after the first segment, "..", a bare "!"', async () => {
    for (const patterns of [
      'preds/../other/*.json',
      'preds/./a.json',
      '!',
      'preds/**/..',
      'other/[.][.]/x'
    ]) {
      await expect(glob.create(patterns)).rejects.toThrow()
      await expect(discoverFiles(patterns, ws)).rejects.toThrow(/^path: the (pattern|line)/)
    }
  })

  // The documented exceptions, each shown against @actions/glob.

  it('exception: an include outside the workspace is refused, where @actions/glob searches it', async () => {
    for (const patterns of [`${outside}/*.json`, `${outside}/**`]) {
      expect(await (await glob.create(patterns)).glob()).not.toEqual([])
      await expect(discoverFiles(patterns, ws)).rejects.toThrow(/points outside the workspace/)
    }
    process.env.HOME = outside
    try {
      expect(await (await glob.create('~/*.json')).glob()).toEqual([join(outside, 'secret.json')])
      await expect(discoverFiles('~/*.json', ws)).rejects.toThrow(/points outside the workspace/)
      // An exclude may point anywhere: it takes nothing away inside the workspace.
      expect(
        (await discoverFiles(`preds/a.json\n!${outside}/**\n!~/**`, ws)).files.map((f) => f.displayPath)
      ).toEqual(['preds/a.json'])
    } finally {
      process.env.HOME = join(ws, 'home')
    }
  })

  it('exception: an unreadable folder is a warning and the walk goes on, where @actions/glob stops', async () => {
    denyReading(join(ws, 'preds', 'old'))
    await expect((await glob.create('preds/**/*.json')).glob()).rejects.toThrow(/EACCES/)
    const found = await discoverFiles('preds/**/*.json', ws)
    expect(found.files.map((f) => f.displayPath)).toContain('preds/x/plain.json')
    expect(found.skipped.filter((s) => s.kind === 'unreadable-folder').map((s) => s.displayPath)).toEqual([
      'preds/old'
    ])
  })

  it('exception: a pattern whose literal part runs through a file finds nothing, where @actions/glob throws', async () => {
    await expect((await glob.create('preds/a.json/x/*.json')).glob()).rejects.toThrow(/ENOTDIR/)
    expect(await discoverFiles('preds/a.json/x/*.json', ws)).toEqual({ files: [], skipped: [] })
  })

  it('improvement: an excluded folder is never read, also when a later line takes part of it back', async () => {
    const readdir = vi.spyOn(fsp, 'readdir')
    const found = await discoverFiles(
      'preds/**\n!preds/sub/**\n!preds/old\n!preds/link-dir\n!preds/loop\npreds/sub/keep.json',
      ws
    )
    expect(found.files.map((f) => f.displayPath)).toContain('preds/sub/keep.json')
    expect(found.files.map((f) => f.displayPath)).not.toContain('preds/sub/c.json')
    const read = readdir.mock.calls.map(([dir]) => display(String(dir)))
    // preds/sub is read to find keep.json; nothing under it, and nothing of preds/old.
    expect(read).toContain('preds/sub')
    expect(read.filter((dir) => dir.startsWith('preds/sub/') || dir.startsWith('preds/old'))).toEqual([])
  })
})
