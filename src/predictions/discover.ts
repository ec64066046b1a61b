// The `path` input's globs → the prediction files, relative to the workspace, sorted and deduplicated.
//
// A pattern means exactly what it means in @actions/glob 0.7 with its default options: its rules are ported
// here (`Pattern` and `patternHelper` there), minimatch with the same options does the matching. The walk is
// our own so that an excluded folder is never read and an unreadable one is a warning instead of the end of
// the run (actions/toolkit#775). README "Which files `path` matches" lists where the results differ.
import type { SkippedPath } from '../types.js'
import { Minimatch } from 'minimatch'
import { promises as fs, type Dirent } from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { errorCode, leavesRoot } from '../guards.js'

export interface DiscoveredFile {
  /**
   * Absolute real path (symbolic links resolved, inside the workspace): what is opened, so a file swapped
   * for a link after it was matched is refused rather than followed.
   */
  path: string
  /** Relative to the workspace, with forward slashes. */
  displayPath: string
}

/**
 * Why a matched path is not among the files: `same-file` and `unreadable-folder` are only worth a warning
 * (it is uploaded by its other path, or the folder could not be searched); the rest are paths that were
 * meant as prediction files and cannot be used.
 */
export type SkippedKind = 'broken-link' | 'outside-workspace' | 'same-file' | 'unreadable-folder'

/** A matched path that is not among the files, and why. */
export interface SkippedMatch extends SkippedPath {
  kind: SkippedKind
}

/** A matched path meant as a prediction file that cannot be used: it fails the run like a bad file. */
export function isUnusableMatch(skipped: SkippedMatch): boolean {
  return skipped.kind !== 'same-file' && skipped.kind !== 'unreadable-folder'
}

export interface Discovery {
  files: DiscoveredFile[]
  skipped: SkippedMatch[]
}

const IS_WINDOWS = process.platform === 'win32'
const SEP = path.sep

// @actions/glob's minimatch options.
const MATCH_OPTIONS = {
  dot: true,
  nobrace: true,
  nocase: IS_WINDOWS,
  nocomment: true,
  noext: true,
  nonegate: true
}

// What a pattern matches, as @actions/glob's MatchKind: a pattern with a trailing separator only folders.
const DIRECTORY = 1
const FILE = 2
const ALL = DIRECTORY | FILE

/** One pattern as @actions/glob applies it; in the order given, a later one overrides. */
interface Rule {
  negate: boolean
  matcher: Minimatch
  kinds: number
  /** Ends in `**`: written so, it also matches the folder before it (`p/**` matches `p`). */
  endsWithGlobstar: boolean
  /** Added for implicitDescendants (`p` → `p/**`): matches only what is under `p`. */
  implicit: boolean
}

/** Escapes glob characters in a literal path, as @actions/glob does for the working and home directories. */
function globEscape(literal: string): string {
  return (IS_WINDOWS ? literal : literal.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}

/** One separator between segments (`\` on Windows), as @actions/glob's normalizeSeparators. */
function normalizeSeparators(p: string): string {
  return IS_WINDOWS ? p.replace(/\//g, '\\').replace(/\\\\+/g, '\\') : p.replace(/\/\/+/g, '/')
}

/** A pattern segment as a literal name (escapes and one-character sets undone), or '' if it has a wildcard. */
function literalOf(segment: string): string {
  let literal = ''
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!
    if (c === '\\' && !IS_WINDOWS && i + 1 < segment.length) {
      literal += segment[++i]
      continue
    }
    if (c === '*' || c === '?') return ''
    if (c === '[' && i + 1 < segment.length) {
      let set = ''
      let closed = -1
      for (let j = i + 1; j < segment.length; j++) {
        const d = segment[j]!
        if (d === '\\' && !IS_WINDOWS && j + 1 < segment.length) set += segment[++j]
        else if (d === ']') {
          closed = j
          break
        } else set += d
      }
      if (closed >= 0) {
        if (set.length > 1) return ''
        if (set !== '') {
          literal += set
          i = closed
          continue
        }
      }
    }
    literal += c
  }
  return literal
}

function slashes(p: string): string {
  return IS_WINDOWS ? p.replace(/\\/g, '/') : p
}

// Both take absolute, normalised paths; the prefix test spares the walk a path.relative for each file.
function isInside(root: string, candidate: string): boolean {
  return candidate.startsWith(root + SEP) || !leavesRoot(path.relative(root, candidate))
}

function toDisplayPath(workspace: string, file: string): string {
  const relative = file.startsWith(workspace + SEP)
    ? file.slice(workspace.length + 1)
    : path.relative(workspace, file)
  return SEP === '/' ? relative : relative.split(SEP).join('/')
}

/**
 * One pattern line → its rules (the pattern, and `p/**` for implicitDescendants) and, for an include, the
 * folder its walk starts from; or an Error naming the input it came from.
 */
function parseLine(
  line: string,
  workspace: string,
  input: string
): { rules: Rule[]; searchPath: string | null } {
  let pattern = line
  let negate = false
  while (pattern.startsWith('!')) {
    negate = !negate
    pattern = pattern.slice(1).trim()
  }
  if (pattern === '') throw new Error(`${input}: the line "${line}" has no pattern after "!"`)
  pattern = normalizeSeparators(pattern)
  // @actions/glob refuses relative pathing: `.` only as the first segment, `..` nowhere.
  const written = pattern.length > 1 && pattern.endsWith(SEP) ? pattern.slice(0, -1) : pattern
  if (written.split(SEP).some((s, i) => (literalOf(s) === '.' && i > 0) || literalOf(s) === '..')) {
    throw new Error(
      `${input}: the pattern "${line}" has a "." or ".." segment, which @actions/glob does not allow; write it from the workspace without them`
    )
  }

  // Relative to the workspace (which `.` also names); `~` is the home directory.
  if (pattern === '.' || pattern.startsWith(`.${SEP}`)) pattern = globEscape(workspace) + pattern.slice(1)
  else if (pattern === '~' || pattern.startsWith(`~${SEP}`))
    pattern = globEscape(os.homedir()) + pattern.slice(1)
  else if (!path.isAbsolute(pattern)) pattern = `${globEscape(workspace)}${SEP}${pattern}`
  pattern = normalizeSeparators(pattern)

  const root = path.parse(pattern).root
  const trailingSeparator = pattern.endsWith(SEP)
  if (trailingSeparator && pattern !== root) pattern = pattern.slice(0, -1)
  const segments = pattern
    .slice(root.length)
    .split(SEP)
    .filter((s) => s !== '')
  const endsWithGlobstar = segments[segments.length - 1] === '**'
  const matcher = (p: string): Minimatch => new Minimatch(slashes(p), MATCH_OPTIONS)
  const rules: Rule[] = [
    {
      negate,
      matcher: matcher(pattern),
      kinds: trailingSeparator ? DIRECTORY : ALL,
      endsWithGlobstar,
      implicit: false
    }
  ]
  if (trailingSeparator || !endsWithGlobstar) {
    const under = pattern === root ? `${root}**` : `${pattern}${SEP}**`
    rules.push({ negate, matcher: matcher(under), kinds: ALL, endsWithGlobstar: true, implicit: true })
  }
  if (negate) return { rules, searchPath: null }

  const literal: string[] = []
  for (const segment of segments) {
    const name = literalOf(segment)
    if (name === '') break
    literal.push(name)
  }
  const searchPath = path.join(root, ...literal)
  if (!isInside(workspace, searchPath)) {
    throw new Error(
      `${input}: the pattern "${line}" points outside the workspace ${workspace}; patterns are relative to the workspace and must stay inside it`
    )
  }
  return { rules, searchPath }
}

/** What one rule makes of `p`: its kinds if it matches, else 0 (@actions/glob's Pattern.match). */
function ruleMatch(r: Rule, p: string): number {
  const target = r.endsWithGlobstar && !r.implicit ? p + SEP : p
  return r.matcher.match(slashes(target)) ? r.kinds : 0
}

/** What the rules, in order, make of `p`: DIRECTORY and FILE bits. */
function matchKinds(rules: readonly Rule[], p: string): number {
  let kinds = 0
  for (const r of rules) kinds = r.negate ? kinds & ~ruleMatch(r, p) : kinds | ruleMatch(r, p)
  return kinds
}

/**
 * Whether anything under `dir` can be matched: an include may match under it (@actions/glob's
 * partialMatch) and no later exclude ending in `**` takes all of it (`!dir`, `!dir/**`, `!d*`).
 */
function worthReading(rules: readonly Rule[], dir: string): boolean {
  const target = slashes(dir)
  let open = false
  for (const r of rules) {
    if (!r.negate) open ||= r.matcher.matchOne(target.split('/'), r.matcher.set[0]!, true)
    else if (r.endsWithGlobstar && r.kinds === ALL && r.matcher.match(`${target}/`)) open = false
  }
  return open
}

/** Plain code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A matched file: the path it was reached by, and its real path. */
interface Found {
  path: string
  real: string
}

/**
 * The files `patterns` (newline-separated globs relative to `workspace`, as @actions/glob reads them) match.
 * Broken symbolic links, files outside the workspace (through a link), second paths to one file and folders
 * that cannot be read are in `skipped`, with the reason. Throws only for a bad pattern, whose error starts
 * with `input`, the setting as people see it (`path`, or `--path` on the command line).
 */
export async function discoverFiles(patterns: string, workspace: string, input = 'path'): Promise<Discovery> {
  const root = path.resolve(workspace)
  const rules: Rule[] = []
  const searchPaths: string[] = []
  for (const raw of (IS_WINDOWS ? patterns.replace(/\r\n?/g, '\n') : patterns).split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const parsed = parseLine(line, root, input)
    rules.push(...parsed.rules)
    if (parsed.searchPath !== null) searchPaths.push(parsed.searchPath)
  }

  const found: Found[] = []
  const skipped: SkippedMatch[] = []
  const skip = (p: string, kind: SkippedKind, reason: string): void => {
    skipped.push({ displayPath: toDisplayPath(root, p), kind, reason })
  }
  const unreadable = (dir: string, code: string): void => {
    skip(
      dir,
      'unreadable-folder',
      `is a folder that cannot be read (${code}), so the files in it were not searched; make it readable by the user the runner runs as, or exclude it with !${toDisplayPath(root, dir)}/**`
    )
  }

  /** A path the walk reached: a file to match, or a folder to read. `chain`: the real folders above it. */
  const visit = async (p: string, isDirectory: boolean, real: string, chain: string[]): Promise<void> => {
    if (!isDirectory) {
      if (matchKinds(rules, p) & FILE) found.push({ path: p, real })
      return
    }
    // A link back to a folder on the way would loop.
    if (!worthReading(rules, p) || chain.includes(real)) return
    let entries: Dirent[]
    try {
      entries = await fs.readdir(p, { withFileTypes: true })
    } catch (error) {
      const code = errorCode(error) ?? String(error)
      if (code !== 'ENOENT' && code !== 'ENOTDIR') unreadable(p, code)
      return
    }
    const within = [...chain, real]
    for (const entry of entries) {
      const child = path.join(p, entry.name)
      if (entry.isSymbolicLink()) await visitLink(child, within)
      else if (entry.isDirectory()) await visit(child, true, path.join(real, entry.name), within)
      else if (matchKinds(rules, child) & FILE) found.push({ path: child, real: path.join(real, entry.name) })
    }
  }

  /** A symbolic link: followed; a broken one that would be matched as a file is named. */
  const visitLink = async (p: string, chain: string[]): Promise<void> => {
    let isDirectory: boolean
    let real: string
    try {
      isDirectory = (await fs.stat(p)).isDirectory()
      real = await fs.realpath(p)
    } catch (error) {
      if (matchKinds(rules, p) & FILE) {
        const pointsTo = await fs.readlink(p).catch(() => '?')
        skip(
          p,
          'broken-link',
          `broken symbolic link to "${pointsTo}" (${errorCode(error) ?? 'unreadable'}); fix or remove the link, or exclude it with !`
        )
      }
      return
    }
    await visit(p, isDirectory, real, chain)
  }

  // Each include's folder without wildcards is where its walk starts; one inside another is walked once.
  const starts = [...new Set(searchPaths)].sort((a, b) => a.length - b.length)
  const walked: string[] = []
  for (const start of starts) {
    if (walked.some((w) => isInside(w, start))) continue
    walked.push(start)
    let link
    try {
      link = await fs.lstat(start)
    } catch (error) {
      // Not there (or a file on the way) is no match; a folder on the way that may not be searched is named.
      const code = errorCode(error) ?? String(error)
      if (code !== 'ENOENT' && code !== 'ENOTDIR') unreadable(path.dirname(start), code)
      continue
    }
    if (link.isSymbolicLink()) await visitLink(start, [])
    else await visit(start, link.isDirectory(), await fs.realpath(start), [])
  }

  // A file outside the workspace (through a link) is not uploaded; one file reached twice is taken once.
  const realRoot = await fs.realpath(root).catch(() => root)
  const files: DiscoveredFile[] = []
  const byRealPath = new Map<string, string>()
  const ordered = found
    .map((f) => ({ real: f.real, displayPath: toDisplayPath(root, f.path) }))
    .sort((a, b) => compare(a.displayPath, b.displayPath))
  for (const file of ordered) {
    if (!isInside(realRoot, file.real)) {
      skipped.push({
        displayPath: file.displayPath,
        kind: 'outside-workspace',
        reason: `is a symbolic link to ${file.real}, outside the workspace; only files inside the workspace are uploaded`
      })
      continue
    }
    const first = byRealPath.get(file.real)
    if (first !== undefined) {
      skipped.push({
        displayPath: file.displayPath,
        kind: 'same-file',
        reason: `is the same file as ${first} (reached through a symbolic link); it is uploaded once, as ${first}`
      })
      continue
    }
    byRealPath.set(file.real, file.displayPath)
    files.push({ path: file.real, displayPath: file.displayPath })
  }

  skipped.sort((a, b) => compare(a.displayPath, b.displayPath))
  return { files, skipped }
}
