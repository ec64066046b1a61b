// The check of one matched file: can it be read, which scene is it for, what is wrong with it. Only what
// the run needs later is kept: the scene, the findings, and the identity and hash of the bytes checked.
import { createHash } from 'node:crypto'
import { constants as bufferConstants } from 'node:buffer'
import fs, { type BigIntStats } from 'node:fs'
import * as path from 'node:path'
import type { InspectedFile, Problem } from '../types.js'
import { lineAndColumn, locateJsonError } from './json-position.js'
import { analyseOpenLabel, describeValue } from './validate.js'
import type { FileStatistics } from './statistics.js'
import { errorCode, isRecord, UUID_PATTERN } from '../guards.js'
import { RESULTS_FILE_KIND } from '../report/results.js'

export interface InspectOptions {
  maxFileSizeBytes: number
  /** What a message tells the reader to raise; default `max-file-size`. */
  maxFileSizeSetting?: string
  validation: 'strict' | 'warn' | 'off'
  /** Problems kept in `problems`; the rest are counted in `moreProblems`. Default 5. */
  maxProblemsPerFile?: number
}

const DEFAULT_MAX_PROBLEMS_PER_FILE = 5
/** The input that sets the size limit, named in the message when a file is over it. */
const MAX_FILE_SIZE_INPUT = 'max-file-size'
/**
 * The largest file the checks can read: a file is parsed from one string, and V8 refuses strings longer
 * than this (2^29 - 24 characters on 64-bit); a UTF-8 file has at least as many bytes as characters.
 */
export const MAX_CHECKABLE_BYTES = bufferConstants.MAX_STRING_LENGTH

const REQUEST_KEYS = ['sceneUuid', 'openlabelContent']
const REQUEST_FORM_HINT = '{"sceneUuid": "<scene uuid>", "openlabelContent": {"openlabel": {...}}}'
const BOM = '\uFEFF'
/**
 * Non-blocking, so a FIFO is refused instead of waited on; not through a symbolic link, so a file swapped
 * for a link after it was matched (the path is its real path) is refused (Windows has no such flag).
 */
export const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (fs.constants.O_NOFOLLOW ?? 0)

function isSceneUuid(value: string): boolean {
  return UUID_PATTERN.test(value)
}

/** `<dev>:<ino>` of an open file: the same only for the same file. */
export function identityOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}`
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function mebibytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  return `${mib >= 10 ? mib.toFixed(0) : mib.toFixed(1)} MiB`
}

function isDirectory(displayPath: string): string {
  return `${displayPath} is a directory, not a prediction file; match files, e.g. with dir/**/*.json`
}

function unreadable(displayPath: string, error: unknown): Problem {
  const code = errorCode(error)
  const hint =
    code === 'EACCES' || code === 'EPERM'
      ? 'make it readable by the user the runner runs as'
      : code === 'ENOENT'
        ? 'it was moved or deleted after it was matched; check that no other step changes the files meanwhile'
        : code === 'ELOOP'
          ? 'it was replaced by a symbolic link after it was matched; check that no other step changes the files meanwhile'
          : 'check the file and the disk'
  const detail = error instanceof Error ? error.message : String(error)
  return {
    kind: 'unreadable',
    jsonPath: '',
    message: `cannot read ${displayPath} (${code ?? detail}): ${hint}`
  }
}

/**
 * What the checks learned, and what the file predicts, counted: the caller adds the counts to the run's
 * statistics and keeps only the rest. `statistics` is null for a file that is no prediction.
 */
export type CheckedFile = InspectedFile & { statistics: FileStatistics | null }

/** Reads, parses and checks one file; never throws: the file's faults, even unforeseen ones, are in `fatal`. */
export async function inspectFile(
  file: { path: string; displayPath: string },
  opts: InspectOptions
): Promise<CheckedFile> {
  const result: CheckedFile = {
    path: file.path,
    displayPath: file.displayPath,
    sizeBytes: 0,
    identity: null,
    contentSha256: null,
    sceneUuid: null,
    form: null,
    hasSegmentation: false,
    segmentationClasses: [],
    fatal: [],
    problems: [],
    moreProblems: 0,
    statistics: null
  }
  try {
    const fatal = await inspectInto(result, opts)
    if (fatal) {
      result.fatal = [fatal]
      result.sceneUuid = null
      result.form = null
      result.statistics = null
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    result.fatal = [
      { kind: 'unreadable', jsonPath: '', message: `${file.displayPath} could not be checked: ${reason}` }
    ]
    result.sceneUuid = null
    result.form = null
    result.statistics = null
  }
  return result
}

/** Fills in `result`; returns the problem that makes the file unusable, if any. */
async function inspectInto(result: CheckedFile, opts: InspectOptions): Promise<Problem | undefined> {
  const { displayPath } = result
  const fail = (kind: string, message: string, jsonPath = ''): Problem => ({ kind, jsonPath, message })

  // Synchronous, one file at a time: a read from the page cache costs less than its thread-pool round
  // trips (20,000 small files: ~0.5 s against ~2 s). The wait above lets answers to requests in flight in.
  await new Promise<void>((resolve) => setImmediate(resolve))
  // Opened once; size, type and identity from the descriptor, and the bytes read from it are hashed, so
  // the upload can make sure it sends the very bytes checked here.
  let fd: number
  try {
    fd = fs.openSync(result.path, OPEN_FLAGS)
  } catch (error) {
    // Windows refuses to open a directory at all.
    if (errorCode(error) === 'EISDIR') return fail('not-a-file', isDirectory(displayPath))
    return unreadable(displayPath, error)
  }
  let bytes: Buffer
  try {
    let stats: BigIntStats
    try {
      stats = fs.fstatSync(fd, { bigint: true })
    } catch (error) {
      return unreadable(displayPath, error)
    }
    const size = Number(stats.size)
    result.sizeBytes = size
    result.identity = identityOf(stats)
    if (stats.isDirectory()) return fail('not-a-file', isDirectory(displayPath))
    if (!stats.isFile()) {
      return fail(
        'not-a-file',
        `${displayPath} is not a regular file (a device, socket or pipe); match only JSON files`
      )
    }
    if (size > opts.maxFileSizeBytes) {
      return fail(
        'too-large',
        `${displayPath} is ${mebibytes(size)} (${size} bytes), over the ${mebibytes(opts.maxFileSizeBytes)} limit; raise ${opts.maxFileSizeSetting ?? MAX_FILE_SIZE_INPUT} (in MiB) or split the predictions into smaller files`
      )
    }
    if (size > MAX_CHECKABLE_BYTES) return tooLargeToCheck(displayPath, size)
    if (size === 0) return fail('empty', `${displayPath} is empty; expected an OpenLABEL JSON document`)
    try {
      bytes = readWhole(fd, size)
    } catch (error) {
      return unreadable(displayPath, error)
    }
  } finally {
    fs.closeSync(fd)
  }
  // It may have shrunk since the stat: what was read is what was checked (a change shows at the upload).
  result.sizeBytes = bytes.length
  result.contentSha256 = sha256(bytes)

  const parsed = parseText(displayPath, bytes.toString('utf8'))
  if ('kind' in parsed) return parsed
  // This action's own results file (of an earlier run, downloaded to resume from) is never a prediction.
  if (isRecord(parsed.doc) && parsed.doc.kind === RESULTS_FILE_KIND) {
    result.form = 'results'
    return undefined
  }

  const scene = findScene(parsed.doc, displayPath)
  if ('kind' in scene) return fail(scene.kind, `${displayPath}: ${scene.message}`, scene.jsonPath)
  result.sceneUuid = scene.sceneUuid
  result.form = scene.form

  const analysis = analyseOpenLabel(scene.openlabelDocument)
  result.hasSegmentation = analysis.hasSegmentation
  result.segmentationClasses = analysis.segmentationClasses
  result.statistics = analysis.statistics
  const problems = [...parsed.numbersTooLarge, ...analysis.problems]
  if (opts.validation !== 'off' && problems.length > 0) {
    const keep = opts.maxProblemsPerFile ?? DEFAULT_MAX_PROBLEMS_PER_FILE
    // Errors first (a stable sort): whether the file is blocked is read from those kept; warnings never block.
    const rank = (p: Problem): number => (p.severity === 'warning' ? 1 : 0)
    const ordered = problems.sort((a, b) => rank(a) - rank(b))
    result.problems = ordered.slice(0, keep)
    result.moreProblems = problems.length - result.problems.length
  }
  return undefined
}

/** The first `size` bytes of an open file, or fewer if it is shorter now. */
function readWhole(fd: number, size: number): Buffer {
  const buffer = Buffer.allocUnsafe(size)
  let filled = 0
  while (filled < size) {
    const read = fs.readSync(fd, buffer, filled, size - filled, filled)
    if (read === 0) break
    filled += read
  }
  return buffer.subarray(0, filled)
}

function tooLargeToCheck(displayPath: string, size: number): Problem {
  return {
    kind: 'too-large',
    jsonPath: '',
    message: `${displayPath} is ${mebibytes(size)} (${size} bytes): too large to check (the checks read a file as one string of at most ${MAX_CHECKABLE_BYTES} characters); split the predictions into smaller files`
  }
}

/** The parsed document and its numbers too large for a double, or why the text is not JSON. */
function parseText(
  displayPath: string,
  text: string
): { doc: unknown; numbersTooLarge: Problem[] } | Problem {
  if (text.startsWith(BOM)) text = text.slice(1)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    // Checked only here: JSON.parse refuses whitespace alone, and most files are not.
    if (text.trim() === '') {
      return {
        kind: 'empty',
        jsonPath: '',
        message: `${displayPath} holds only whitespace; expected an OpenLABEL JSON document`
      }
    }
    const where = locateJsonError(text, error)
    return {
      kind: 'json-syntax',
      jsonPath: '',
      message: `${displayPath} is not valid JSON: ${where.reason} at line ${where.line}, column ${where.column} (character ${where.position}); fix the syntax there`,
      line: where.line,
      column: where.column
    }
  }
  return { doc, numbersTooLarge: numbersTooLarge(text) }
}

/**
 * What a number beyond a double's ±1.8e308 must hold: an exponent of three digits or more, ending where a
 * number ends (so hex inside a UUID, as in "3e456-", is no such exponent), or a run of 210 digits (with a
 * two-digit exponent, 309 - 99). Only a text that has one is read number by number.
 */
const MAYBE_TOO_LARGE = /\d[eE]\+?\d{3,}(?=[\s,\]}]|$)|\d{210}/
/** In valid JSON: a string (skipped whole, escapes and all) or a number. */
const STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g

/**
 * Number literals JSON.parse read as ±Infinity, as written: the checks that follow see Infinity, which
 * they would otherwise show as null.
 */
function numbersTooLarge(text: string): Problem[] {
  if (!MAYBE_TOO_LARGE.test(text)) return []
  const found: Problem[] = []
  for (const match of text.matchAll(STRING_OR_NUMBER)) {
    const literal = match[0]
    if (literal.startsWith('"') || Number.isFinite(Number(literal))) continue
    const { line, column } = lineAndColumn(text, match.index)
    const shown = literal.length > 40 ? `${literal.slice(0, 20)}…${literal.slice(-10)}` : literal
    found.push({
      kind: 'number-too-large',
      jsonPath: '',
      message: `the number ${shown} at line ${line}, column ${column} is too large (beyond ±1.8e308, it reads as infinity); write a number within range`,
      line,
      column
    })
  }
  return found
}

interface SceneFound {
  sceneUuid: string
  form: 'openlabel' | 'request'
  /** The `{"openlabel": {...}}` document to validate. */
  openlabelDocument: Record<string, unknown>
}

/**
 * Which of the two accepted shapes the document has, and its scene; a fatal Problem when neither.
 * `shownPath`: the path as matched, whose name gives an OpenLABEL document's scene.
 */
function findScene(doc: unknown, shownPath: string): SceneFound | Problem {
  const shape = (message: string): Problem => ({ kind: 'shape', jsonPath: '', message })
  if (!isRecord(doc)) {
    return shape(
      `the top level is ${describeValue(doc)}; expected an OpenLABEL document {"openlabel": {...}} named <scene-uuid>.json, or a request body ${REQUEST_FORM_HINT}`
    )
  }

  if ('sceneUuid' in doc || 'openlabelContent' in doc) {
    // The request form is sent as it is, so it must be exactly what the API takes.
    const extra = Object.keys(doc).filter((key) => !REQUEST_KEYS.includes(key))
    if (extra.length > 0) {
      return shape(
        `unexpected top-level key(s) ${extra.map((k) => `"${k}"`).join(', ')} in a request body; the file is sent as it is, so it must be exactly ${REQUEST_FORM_HINT}`
      )
    }
    const sceneUuid = doc.sceneUuid
    if (typeof sceneUuid !== 'string' || !isSceneUuid(sceneUuid)) {
      return {
        kind: 'scene-id',
        jsonPath: 'sceneUuid',
        message: `sceneUuid is ${describeValue(sceneUuid)}; expected the UUID of a scene in the dataset (8-4-4-4-12 hexadecimal digits)`
      }
    }
    const content = doc.openlabelContent
    if (!isRecord(content)) {
      return shape(`openlabelContent is ${describeValue(content)}; expected {"openlabel": {...}}`)
    }
    const contentExtra = Object.keys(content).filter((key) => key !== 'openlabel')
    if (contentExtra.length > 0) {
      return shape(
        `unexpected key(s) ${contentExtra.map((k) => `"${k}"`).join(', ')} in openlabelContent; expected only {"openlabel": {...}}`
      )
    }
    if (!isRecord(content.openlabel))
      return openlabelNotObject(content.openlabel, 'openlabelContent.openlabel')
    return { sceneUuid: sceneUuid.toLowerCase(), form: 'request', openlabelDocument: content }
  }

  if ('openlabel' in doc) {
    const extra = Object.keys(doc).filter((key) => key !== 'openlabel')
    if (extra.length > 0) {
      return shape(
        `unexpected top-level key(s) ${extra.map((k) => `"${k}"`).join(', ')} beside "openlabel"; the document is sent as the prediction, so it must be only {"openlabel": {...}}`
      )
    }
    if (!isRecord(doc.openlabel)) return openlabelNotObject(doc.openlabel, 'openlabel')
    const name = path.basename(shownPath)
    const stem = name.toLowerCase().endsWith('.json') ? name.slice(0, -'.json'.length) : null
    if (stem === null || !isSceneUuid(stem)) {
      return {
        kind: 'scene-id',
        jsonPath: '',
        message: `the file name is not a scene UUID, so the scene is unknown; name it <scene-uuid>.json, or use the request-body form ${REQUEST_FORM_HINT}`
      }
    }
    return { sceneUuid: stem.toLowerCase(), form: 'openlabel', openlabelDocument: doc }
  }

  const keys = Object.keys(doc)
  return shape(
    `no "openlabel" or "sceneUuid" at the top level (found ${
      keys.length > 0
        ? keys
            .slice(0, 5)
            .map((k) => `"${k}"`)
            .join(', ')
        : 'an empty object'
    }); expected an OpenLABEL document {"openlabel": {...}} named <scene-uuid>.json, or a request body ${REQUEST_FORM_HINT}`
  )
}

function openlabelNotObject(value: unknown, jsonPath: string): Problem {
  return {
    kind: 'openlabel-not-object',
    jsonPath,
    message: `"openlabel" is ${describeValue(value)}; expected an object with metadata, streams, objects and frames`
  }
}
