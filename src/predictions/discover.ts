// The `path` input's globs → the prediction files, relative to the workspace, sorted and deduplicated.
//
// Patterns mean what they mean in @actions/glob (minimatch with its options, applied in order, `!`
// excludes), made absolute inside the workspace; an include matches exactly what it says (`preds/**` and
// `preds/**/*.json` match files at any depth), and an exclude also excludes what is under it
// (`!preds/old` = `!preds/old/**`). The walk is our own so that an excluded folder is never read and an
// unreadable one is skipped with a warning instead of ending the run.
import type { SkippedPath } from '../types.js'
import { Minimatch } from 'minimatch'
import { promises as fs, type Dirent } from 'node:fs'
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
 * Why a matched path is not among the files: `directory`, `same-file` and `unreadable-folder` are only
 * worth a warning (nothing was meant to be uploaded from them, it is uploaded by its other path, or the
 * folder could not be searched); the rest are paths that were meant as prediction files and cannot be used.
 */
export type SkippedKind =
  'directory' | 'broken-link' | 'outside-workspace' | 'same-file' | 'unreadable-folder'

/** A matched path that is not among the files, and why. */
export interface SkippedMatch extends SkippedPath {
  kind: SkippedKind
}

/** A matched path meant as a prediction file that cannot be used: it fails the run like a bad file. */
export function isUnusableMatch(skipped: SkippedMatch): boolean {
  return skipped.kind !== 'directory' && skipped.kind !== 'same-file' && skipped.kind !== 'unreadable-folder'
}

export interface Discovery {
  files: DiscoveredFile[]
  skipped: SkippedMatch[]
}

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
  trailingSeparator: boolean
}

/** Escapes glob characters in a literal path, as @actions/glob does for the working directory. */
function globEscape(literal: string): string {
  return (IS_WINDOWS ? literal : literal.replace(/\\/g, '\\\\'))
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]')
}

function isInside(root: string, candidate: string): boolean {
  return !leavesRoot(path.relative(root, candidate))
}

function toDisplayPath(workspace: string, file: string): string {
  const relative = path.relative(workspace, file)
  return path.sep === '/' ? relative : relative.split(path.sep).join('/')
}

/** One pattern line → an absolute pattern inside the workspace, or an Error naming the input it came from. */
function normalizePattern(line: string, workspace: string, input: string): NormalizedPattern {
  let body = line
  let negate = false
  while (body.startsWith('!')) {
    negate = !negate
    body = body.slice(1).trim()
  }
  if (body === '') throw new Error(`Input ${input}: the line "${line}" has no pattern after "!"`)

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
      `Input ${input}: the pattern "${line}" has "." or ".." after a wildcard; write the pattern without them, relative to the workspace`
    )
  }
  if (!isInside(workspace, literal)) {
    throw new Error(
      `Input ${input}: the pattern "${line}" points outside the workspace ${workspace}; patterns are relative to the workspace and must stay inside it`
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
    trailingSeparator
  }
}

/** Plain code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

// What a pattern matches, as @actions/glob's bit mask: a pattern with a trailing separator only folders.
const DIRECTORY = 1
const FILE = 2

/** One pattern line, ready to match absolute paths; in the order given, a later one overrides. */
interface Rule {
  negate: boolean
  matcher: Minimatch
  kinds: number
  /** Ends in `**`: it matches every directory on the way, which is not a sign of a mistake. */
  endsWithGlobstar: boolean
  /** For an exclude ending in `**`: what it excludes all of, so that such a folder is never read. */
  wholeFolder: Minimatch | null
}

// @actions/glob's minimatch options.
const MATCH_OPTIONS = {
  dot: true,
  nobrace: true,
  nocase: IS_WINDOWS,
  nocomment: true,
  noext: true,
  nonegate: true
}

function slashes(p: string): string {
  return IS_WINDOWS ? p.replace(/\\/g, '/') : p
}

function rule(pattern: string, negate: boolean, trailingSeparator: boolean): Rule {
  const bare = trailingSeparator ? pattern.replace(/[\\/]+$/, '') : pattern
  const endsWithGlobstar = !trailingSeparator && /[\\/]\*\*$/.test(bare)
  return {
    negate,
    matcher: new Minimatch(slashes(bare), MATCH_OPTIONS),
    kinds: trailingSeparator ? DIRECTORY : DIRECTORY | FILE,
    endsWithGlobstar,
    wholeFolder: negate && endsWithGlobstar ? new Minimatch(slashes(bare.slice(0, -3)), MATCH_OPTIONS) : null
  }
}

/** What the rules, in order, make of `p`: DIRECTORY and FILE bits. */
function matchKinds(rules: readonly Rule[], p: string): number {
  const target = slashes(p)
  let kinds = 0
  for (const r of rules) {
    if (!r.matcher.match(target)) continue
    kinds = r.negate ? kinds & ~r.kinds : kinds | r.kinds
  }
  return kinds
}

/** Whether anything under `dir` can be matched: an include leads into it, and no exclude takes it all. */
function worthReading(rules: readonly Rule[], dir: string): boolean {
  const target = slashes(dir)
  let open = false
  for (const r of rules) {
    if (!r.negate) open ||= r.matcher.match(target, true)
    else if (r.wholeFolder?.match(target)) open = false
  }
  return open
}

/** A matched path, its real path (links resolved) and what it is. */
interface Found {
  path: string
  real: string
}

/**
 * The files `patterns` (newline-separated globs relative to `workspace`; `!` excludes; blank lines and
 * `#` comments ignored) match. Matched directories, broken symbolic links, files outside the workspace
 * (through a link), second paths to one file and folders that cannot be read are in `skipped`, with the
 * reason. Throws only for a bad pattern.
 */
/** `input` names the input the patterns came from, in the errors a bad pattern gets. */
export async function discoverFiles(patterns: string, workspace: string, input = 'path'): Promise<Discovery> {
  const root = path.resolve(workspace)
  const rules: Rule[] = []
  const literals: string[] = []
  for (const raw of patterns.split(/\r?\n|\r/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const p = normalizePattern(line, root, input)
    rules.push(rule(p.pattern, p.negate, p.trailingSeparator))
    if (p.negate && !p.endsWithGlobstar) {
      rules.push(rule(`${p.pattern.replace(/[\\/]$/, '')}${path.sep}**`, true, false))
    }
    if (!p.negate) literals.push(p.literal)
  }
  // A directory matched by a pattern that does not end in ** is almost always a mistake worth naming.
  const directoryRules = rules.filter((r) => r.negate || !r.endsWithGlobstar)

  const found: Found[] = []
  const skipped: SkippedMatch[] = []
  const skip = (p: string, kind: SkippedKind, reason: string): void => {
    skipped.push({ displayPath: toDisplayPath(root, p), kind, reason })
  }

  /** A path the walk reached: a file to match, or a folder to report and read. */
  const consider = async (p: string, isDirectory: boolean, real: string, chain: string[]): Promise<void> => {
    if (!isDirectory) {
      if (matchKinds(rules, p) & FILE) found.push({ path: p, real })
      return
    }
    if (matchKinds(directoryRules, p) & DIRECTORY) {
      skip(
        p,
        'directory',
        `is a directory, not a file; to take the files in it, match them, e.g. ${toDisplayPath(root, p) || '.'}/**/*.json`
      )
    }
    // A link back to a folder on the way would loop.
    if (!worthReading(rules, p) || chain.includes(real)) return
    let entries: Dirent[]
    try {
      entries = await fs.readdir(p, { withFileTypes: true })
    } catch (error) {
      const code = errorCode(error) ?? String(error)
      if (code === 'ENOENT' || code === 'ENOTDIR') return
      skip(
        p,
        'unreadable-folder',
        `is a folder that cannot be read (${code}), so the files in it were not searched; make it readable by the user the runner runs as, or exclude it with !${toDisplayPath(root, p)}/**`
      )
      return
    }
    const within = [...chain, real]
    for (const entry of entries) {
      const child = path.join(p, entry.name)
      if (!entry.isSymbolicLink()) {
        await consider(child, entry.isDirectory(), path.join(real, entry.name), within)
        continue
      }
      await considerLink(child, within)
    }
  }

  /** A symbolic link: followed; a broken one that would be matched as a file is named. */
  const considerLink = async (p: string, chain: string[]): Promise<void> => {
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
    await consider(p, isDirectory, real, chain)
  }

  // Each include's folder without wildcards is where its walk starts; one inside another is walked once.
  const starts = [...new Set(literals)].sort((a, b) => a.length - b.length)
  const walked: string[] = []
  for (const start of starts) {
    if (walked.some((w) => isInside(w, start))) continue
    walked.push(start)
    const link = await fs.lstat(start).catch(() => null)
    if (link === null) continue
    if (link.isSymbolicLink()) await considerLink(start, [])
    else await consider(start, link.isDirectory(), await fs.realpath(start), [])
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
