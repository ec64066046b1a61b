// The `path` input's globs → the prediction files, relative to the workspace, sorted and deduplicated.
//
// @actions/glob 0.7 resolves relative patterns against process.cwd(), rejects `..`, and with its default
// implicitDescendants turns `preds/*.json` into `preds/*.json/**` too. So patterns are made absolute here,
// includes match exactly what they say (implicitDescendants: false: `preds/**` and `preds/**/*.json` still
// match files at any depth), and an exclude also excludes what is under it (`!preds/old` = `!preds/old/**`).
import * as glob from '@actions/glob'
import { opendirSync, promises as fs, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs'
import * as path from 'node:path'
import { errorCode, leavesRoot } from '../guards.js'
import { runPool } from '../pool.js'

export interface DiscoveredFile {
  /** Absolute path, as matched (not resolved through symbolic links). */
  path: string
  /** Relative to the workspace, with forward slashes. */
  displayPath: string
}

/**
 * Why a matched path is not among the files: `directory` and `same-file` are only worth a note (nothing
 * was meant to be uploaded from them, or it is uploaded by its other path); the rest are paths that were
 * meant as prediction files and cannot be used.
 */
export type SkippedKind = 'directory' | 'broken-link' | 'outside-workspace' | 'same-file' | 'unresolvable'

export interface SkippedPath {
  displayPath: string
  kind: SkippedKind
  reason: string
}

/** A matched path meant as a prediction file that cannot be used: it fails the run like a bad file. */
export function isUnusableMatch(skipped: SkippedPath): boolean {
  return skipped.kind !== 'directory' && skipped.kind !== 'same-file'
}

export interface Discovery {
  files: DiscoveredFile[]
  skipped: SkippedPath[]
}

const INPUT = 'path'
const IS_WINDOWS = process.platform === 'win32'
// On Windows `\` separates; elsewhere it escapes a glob character.
const SEPARATORS = IS_WINDOWS ? /[\\/]+/ : /\/+/
const GLOB_CHARACTERS = IS_WINDOWS ? /[*?[]/ : /[*?[\\]/

interface NormalizedPattern {
  negate: boolean
  /** Absolute, with the literal part glob-escaped. */
  pattern: string
  /** Ends in `**`: it matches every directory on the way, which is not a sign of a mistake. */
  endsWithGlobstar: boolean
  /** The leading segments without wildcards, as a real (unescaped) absolute path. */
  literal: string
  /** The segments from the first wildcard on. */
  globbed: string[]
  trailingSeparator: boolean
}

/** Escapes glob characters in a literal path, as @actions/glob does for the working directory. */
function globEscape(literal: string): string {
  return (IS_WINDOWS ? literal : literal.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}

// The fast paths below skip path.relative (microseconds each, run per file) for the usual case: a
// normalised path that starts with the root.
function startsWithDirectory(root: string, candidate: string): boolean {
  return (
    candidate.startsWith(root) &&
    candidate[root.length] === path.sep &&
    // `.` and `..` segments (and dot files, which are rare) take the slow path.
    !candidate.includes(`${path.sep}.`, root.length)
  )
}

function isInside(root: string, candidate: string): boolean {
  if (startsWithDirectory(root, candidate)) return true
  const relative = path.relative(root, candidate)
  return !leavesRoot(relative)
}

function toDisplayPath(workspace: string, file: string): string {
  const relative = startsWithDirectory(workspace, file)
    ? file.slice(workspace.length + 1)
    : path.relative(workspace, file)
  return path.sep === '/' ? relative : relative.split(path.sep).join('/')
}

/** One pattern line → an absolute pattern inside the workspace, or an Error naming the `path` input. */
function normalizePattern(line: string, workspace: string): NormalizedPattern {
  let body = line
  let negate = false
  while (body.startsWith('!')) {
    negate = !negate
    body = body.slice(1).trim()
  }
  if (body === '') throw new Error(`Input ${INPUT}: the line "${line}" has no pattern after "!"`)

  const trailingSeparator = SEPARATORS.test(body[body.length - 1]!)
  let literal: string
  let rest: string
  if (path.isAbsolute(body)) {
    const root = path.parse(body).root
    literal = root
    rest = body.slice(root.length)
  } else {
    literal = workspace
    rest = body
  }
  // Fold the literal leading segments (with `.` and `..`) into a real path, so where the pattern points
  // can be checked; after the first wildcard, `..` cannot be checked and is refused.
  const segments = rest.split(SEPARATORS).filter((s) => s !== '')
  let firstGlob = 0
  for (; firstGlob < segments.length; firstGlob++) {
    const segment = segments[firstGlob]!
    if (segment === '.') continue
    if (segment === '..') literal = path.dirname(literal)
    else if (GLOB_CHARACTERS.test(segment)) break
    else literal = path.join(literal, segment)
  }
  const globbed = segments.slice(firstGlob)
  if (globbed.some((s) => s === '.' || s === '..')) {
    throw new Error(
      `Input ${INPUT}: the pattern "${line}" has "." or ".." after a wildcard; write the pattern without them, relative to the workspace`
    )
  }
  if (!isInside(workspace, literal)) {
    throw new Error(
      `Input ${INPUT}: the pattern "${line}" points outside the workspace ${workspace}; patterns are relative to the workspace and must stay inside it`
    )
  }
  const pattern =
    globEscape(literal) +
    (globbed.length > 0 ? path.sep + globbed.join(path.sep) : '') +
    (trailingSeparator ? path.sep : '')
  return {
    negate,
    pattern,
    endsWithGlobstar: !trailingSeparator && globbed[globbed.length - 1] === '**',
    literal,
    globbed,
    trailingSeparator
  }
}

async function globPaths(patterns: string[], options: glob.GlobOptions): Promise<string[]> {
  if (!patterns.some((p) => !p.startsWith('!'))) return []
  const globber = await glob.create(patterns.join('\n'), { excludeHiddenFiles: false, ...options })
  return globber.glob()
}

function withSeparator(directory: string): string {
  return directory.endsWith(path.sep) ? directory : directory + path.sep
}

/** A last segment with `*` and `?` only, as @actions/glob's minimatch reads it (dot: true, no braces). */
function segmentMatcher(segment: string): RegExp {
  const source = segment
    .replace(/[.+^${}()|\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]')
  return new RegExp(`^${source}$`, IS_WINDOWS ? 'i' : '')
}

/**
 * The usual `dir/*.json`: one directory listing and a name test per entry, instead of @actions/glob's walk
 * with an asynchronous stat per entry (2,000 files: ~200 ms → a few ms). A regular file needs no stat or
 * realpath of its own: its real path is the directory's plus its name. Null when a pattern needs the full
 * walk: a wildcard before the last segment, `**`, `[…]` or `\\` escapes, or a directory that cannot be
 * listed for another reason than not being there.
 */
function listSimplePatterns(includes: readonly NormalizedPattern[]): Resolved[] | null {
  const found: Resolved[] = []
  const seen = new Set<string>()
  for (const p of includes) {
    const segment = p.globbed.length === 1 ? p.globbed[0]! : null
    if (segment === null || p.trailingSeparator || /[[\\]|\*\*/.test(segment)) return null
    const matcher = segmentMatcher(segment)
    let entries: Dirent[]
    let realDirectory: string
    try {
      entries = readdirSync(p.literal, { withFileTypes: true })
      realDirectory = realpathSync.native(p.literal)
    } catch (error) {
      const code = errorCode(error)
      // As the walk: a search path that is not there, or is a file, matches nothing.
      if (code === 'ENOENT' || code === 'ENOTDIR') continue
      return null
    }
    const within = withSeparator(p.literal)
    const realWithin = withSeparator(realDirectory)
    for (const entry of entries) {
      if (!matcher.test(entry.name)) continue
      // Not path.join: its normalising builds each path from a dozen string pieces, all kept per file.
      const candidate = within + entry.name
      if (seen.has(candidate)) continue
      seen.add(candidate)
      found.push(
        entry.isFile() ? { path: candidate, kind: 'file', real: realWithin + entry.name } : resolve(candidate)
      )
    }
  }
  return found
}

/**
 * The commonest case, a single `dir/*.json` and no excludes, when every entry it matches is a regular file
 * inside the workspace: the files, sorted, as the general path below would find them, without its objects,
 * sets and maps per file (~800 bytes a file held at once: for 20,000 files enough to grow the heap for
 * the rest of the run). Null when anything is unusual (a link, a directory, a file outside the workspace, a
 * directory that cannot be listed): the general path then decides, and says why.
 */
function listRegularFiles(includes: readonly NormalizedPattern[], root: string): Discovery | null {
  const p = includes.length === 1 ? includes[0]! : null
  const segment = p?.globbed.length === 1 ? p.globbed[0]! : null
  if (p === null || segment === null || p.trailingSeparator || /[[\\]|\*\*/.test(segment)) return null
  const matcher = segmentMatcher(segment)
  const names: string[] = []
  try {
    // A regular file of one directory is inside the workspace exactly when the directory is.
    if (!isInside(realpathSync.native(root), realpathSync.native(p.literal))) return null
    // One entry at a time: no array of every entry.
    const directory = opendirSync(p.literal)
    try {
      for (let entry = directory.readSync(); entry !== null; entry = directory.readSync()) {
        if (!matcher.test(entry.name)) continue
        if (!entry.isFile()) return null
        names.push(entry.name)
      }
    } finally {
      directory.closeSync()
    }
  } catch {
    return null
  }
  // One directory: its files' display paths share a prefix, so they sort as their names do.
  names.sort(compare)
  const within = withSeparator(p.literal)
  const shown = toDisplayPath(root, p.literal)
  const prefix = shown === '' ? '' : `${shown}/`
  return { files: names.map((name) => ({ path: within + name, displayPath: prefix + name })), skipped: [] }
}

// Link checks in flight at once when a walk found broken links.
const RESOLVE_CONCURRENCY = 32

type Resolved =
  | { path: string; kind: 'file'; real: string }
  | { path: string; kind: 'directory' }
  | { path: string; kind: 'gone'; code: string }

/**
 * Synchronous: thousands of matches are resolved before anything else happens, and a stat or realpath
 * costs less than its round-trip through the thread pool (5,000 files: ~120 ms → ~25 ms).
 */
function resolve(candidate: string): Resolved {
  try {
    const stats = statSync(candidate)
    if (stats.isDirectory()) return { path: candidate, kind: 'directory' }
    return { path: candidate, kind: 'file', real: realpathSync.native(candidate) }
  } catch (error) {
    return { path: candidate, kind: 'gone', code: errorCode(error) ?? String(error) }
  }
}

/** Why `candidate` is a broken symbolic link, or null when it is not one. */
async function brokenLinkReason(candidate: string): Promise<string | null> {
  const link = await fs.lstat(candidate).catch(() => null)
  if (!link?.isSymbolicLink()) return null
  const failure = await fs.stat(candidate).then(
    () => null,
    (error: unknown) => errorCode(error) ?? 'unreadable'
  )
  // A link to a directory is fine: its files are matched through it.
  if (failure === null) return null
  const pointsTo = await fs.readlink(candidate).catch(() => '?')
  return `broken symbolic link to "${pointsTo}" (${failure}); fix or remove the link, or exclude it with !`
}

/** Plain code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * The files `patterns` (newline-separated globs relative to `workspace`; `!` excludes; blank lines and
 * `#` comments ignored) match. Matched directories, broken symbolic links, files outside the workspace
 * (through a link) and second paths to one file are in `skipped`, with the reason. Throws only for a bad
 * pattern.
 */
export async function discoverFiles(patterns: string, workspace: string): Promise<Discovery> {
  const root = path.resolve(workspace)
  const includes: NormalizedPattern[] = []
  // Patterns in the order given: as in @actions/glob, an include after an exclude takes files back.
  const sequence: { pattern: string; include?: NormalizedPattern }[] = []
  for (const raw of patterns.split(/\r?\n|\r/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const normalized = normalizePattern(line, root)
    if (normalized.negate) {
      sequence.push({ pattern: `!${normalized.pattern}` })
      if (!normalized.endsWithGlobstar) {
        sequence.push({ pattern: `!${normalized.pattern.replace(/[\\/]$/, '')}${path.sep}**` })
      }
    } else {
      includes.push(normalized)
      sequence.push({ pattern: normalized.pattern, include: normalized })
    }
  }
  const hasExcludes = sequence.length > includes.length
  const listed = hasExcludes ? null : listRegularFiles(includes, root)
  if (listed) return listed
  const inOrder = (keep: (include: NormalizedPattern) => boolean): string[] =>
    sequence.filter((o) => !o.include || keep(o.include)).map((o) => o.pattern)
  const skipped: SkippedPath[] = []

  // A pattern that does not end in ** and matches a directory is almost always a mistake worth naming.
  // When every include is such a pattern, one walk finds files and directories alike.
  const exact = includes.filter((p) => !p.endsWithGlobstar).map((p) => p.pattern)
  const oneWalk = exact.length === includes.length
  const walk = (omitBrokenSymbolicLinks: boolean): Promise<string[]> =>
    globPaths(
      inOrder(() => true),
      {
        followSymbolicLinks: true,
        implicitDescendants: false,
        matchDirectories: oneWalk,
        omitBrokenSymbolicLinks
      }
    )
  let brokenLinksPossible = false
  // The listing's answer stands unless something in it cannot be resolved: the walk then says why.
  let resolved = hasExcludes ? null : listSimplePatterns(includes)
  if (resolved?.some((item) => item.kind === 'gone')) resolved = null
  if (!resolved) {
    // First a walk that throws at a broken link: almost always there is none, and then the second walk
    // that only looks for them (as long again) is not needed. Any error: the careful way, which says why.
    const found = await walk(false).catch(() => {
      brokenLinksPossible = true
      return walk(true)
    })
    const directoryCandidates =
      oneWalk || exact.length === 0
        ? []
        : await globPaths(
            inOrder((p) => !p.endsWithGlobstar),
            {
              followSymbolicLinks: true,
              implicitDescendants: false,
              matchDirectories: true,
              omitBrokenSymbolicLinks: true
            }
          )
    resolved = [...new Set([...found, ...directoryCandidates])].map(resolve)
  }
  const matched = new Set<string>()
  for (const item of resolved) {
    const displayPath = toDisplayPath(root, item.path)
    if (item.kind === 'directory') {
      skipped.push({
        displayPath,
        kind: 'directory',
        reason: `is a directory, not a file; to take the files in it, match them, e.g. ${displayPath || '.'}/**/*.json`
      })
    } else if (item.kind === 'gone') {
      skipped.push({
        displayPath,
        kind: 'unresolvable',
        reason: `cannot be resolved (${item.code}); it may have been removed while the patterns were matched`
      })
    } else matched.add(item.path)
  }

  // Broken links are dropped silently when following links; without following, they show up as entries.
  const unfollowed = brokenLinksPossible
    ? await globPaths(
        inOrder(() => true),
        {
          followSymbolicLinks: false,
          implicitDescendants: false,
          matchDirectories: false
        }
      )
    : []
  const unmatched = unfollowed.filter((p) => !matched.has(p))
  const brokenLinks = new Array<string | null>(unmatched.length)
  await runPool(unmatched.length, RESOLVE_CONCURRENCY, async (i) => {
    brokenLinks[i] = await brokenLinkReason(unmatched[i]!)
  })
  unmatched.forEach((candidate, i) => {
    const reason = brokenLinks[i]
    if (reason) skipped.push({ displayPath: toDisplayPath(root, candidate), kind: 'broken-link', reason })
  })

  // Resolve links: a file outside the workspace is not uploaded, and one file reached twice is taken once.
  const realRoot = await fs.realpath(root).catch(() => root)
  const realPaths = new Map(resolved.map((item) => [item.path, item.kind === 'file' ? item.real : '']))
  const files: DiscoveredFile[] = []
  const byRealPath = new Map<string, string>()
  const ordered = [...matched]
    .map((p) => ({ path: p, displayPath: toDisplayPath(root, p) }))
    .sort((a, b) => compare(a.displayPath, b.displayPath))
  for (const file of ordered) {
    const real = realPaths.get(file.path)!
    if (!isInside(realRoot, real)) {
      skipped.push({
        displayPath: file.displayPath,
        kind: 'outside-workspace',
        reason: `is a symbolic link to ${real}, outside the workspace; only files inside the workspace are uploaded`
      })
      continue
    }
    const first = byRealPath.get(real)
    if (first !== undefined) {
      skipped.push({
        displayPath: file.displayPath,
        kind: 'same-file',
        reason: `is the same file as ${first} (reached through a symbolic link); it is uploaded once, as ${first}`
      })
      continue
    }
    byRealPath.set(real, file.displayPath)
    files.push(file)
  }

  skipped.sort((a, b) => compare(a.displayPath, b.displayPath))
  return { files, skipped }
}
