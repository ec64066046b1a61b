// The first pass over one matched file: can it be read, which scene is it for, what is wrong with it.
// The parsed content is dropped before returning; the upload re-reads the file (body.ts). Past the first
// NATIVE_PARSES files, parsed with parseJson, not JSON.parse: see json-parse.ts for what JSON.parse leaves
// behind for every file.
import fs, { type Stats } from 'node:fs'
import * as path from 'node:path'
import type { InspectedFile, Problem } from '../types.js'
import { SYNC_READ_MAX_BYTES } from './body.js'
import { parseJson } from './json-parse.js'
import { locateJsonError } from './json-position.js'
import { analyseOpenLabel, describeValue } from './validate.js'
import { errorCode, isRecord, UUID_PATTERN } from '../guards.js'

export interface InspectOptions {
  maxFileSizeBytes: number
  validation: 'strict' | 'warn' | 'off'
  /** Problems kept in `problems`; the rest are counted in `moreProblems`. Default 5. */
  maxProblemsPerFile?: number
}

export const DEFAULT_MAX_PROBLEMS_PER_FILE = 5
/** The input that sets the size limit, named in the message when a file is over it. */
const MAX_FILE_SIZE_INPUT = 'max-file-size'

const REQUEST_KEYS = ['sceneUuid', 'openlabelContent']
const REQUEST_FORM_HINT = '{"sceneUuid": "<scene uuid>", "openlabelContent": {"openlabel": {...}}}'
const BOM = '\uFEFF'
const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK
/**
 * The empty list every clean file shares: thousands of files have no problems and no classes, and each
 * record is kept to the end of the run. Frozen, so a push throws instead of reaching every file.
 */
const NONE: never[] = Object.freeze([]) as unknown as never[]

export function isSceneUuid(value: string): boolean {
  return UUID_PATTERN.test(value)
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
        : 'check the file and the disk'
  const detail = error instanceof Error ? error.message : String(error)
  return {
    kind: 'unreadable',
    jsonPath: '',
    message: `cannot read ${displayPath} (${code ?? detail}): ${hint}`
  }
}

/** Checking runs synchronously file after file; this often it lets waiting I/O (the sign-in's answer) in. */
const YIELD_EVERY_MS = 2
let lastYieldAt = 0

/** Lets timers and I/O callbacks run when checking has held the event loop for YIELD_EVERY_MS. */
async function yieldToEventLoop(): Promise<void> {
  if (performance.now() - lastYieldAt < YIELD_EVERY_MS) return
  await new Promise<void>((resolve) => setImmediate(resolve))
  lastYieldAt = performance.now()
}

/** Reads, parses and checks one file; never throws: the file's faults, even unforeseen ones, are in `fatal`. */
export async function inspectFile(
  file: { path: string; displayPath: string },
  opts: InspectOptions
): Promise<InspectedFile> {
  try {
    return await inspectOne(file, opts)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const result = nothingKnown(file)
    result.fatal = [
      { kind: 'unreadable', jsonPath: '', message: `${file.displayPath} could not be checked: ${reason}` }
    ]
    return result
  }
}

function nothingKnown(file: { path: string; displayPath: string }): InspectedFile {
  return {
    path: file.path,
    displayPath: file.displayPath,
    sizeBytes: 0,
    sceneUuid: null,
    form: null,
    hasSegmentation: false,
    segmentationClasses: NONE,
    fatal: NONE,
    problems: NONE,
    moreProblems: 0
  }
}

async function inspectOne(
  file: { path: string; displayPath: string },
  opts: InspectOptions
): Promise<InspectedFile> {
  // Small files are read and parsed synchronously: without this, requests started beside the checks
  // (the sign-in, the group lookup) would get no answer until every file had been checked.
  await yieldToEventLoop()
  const result = nothingKnown(file)
  const fail = (kind: string, message: string, jsonPath = ''): InspectedFile => {
    result.fatal = [{ kind, jsonPath, message }]
    result.sceneUuid = null
    result.form = null
    return result
  }

  // Opened once, then size and type from the descriptor: a file over the limit is never read, and a small
  // one is read from the same descriptor (a separate stat and read cost a second path lookup per file).
  // Synchronous: thousands of files are checked before anything else happens, and a thread-pool
  // round-trip costs more than the call. Non-blocking, so a FIFO is refused instead of waited on.
  let fd: number
  try {
    fd = fs.openSync(file.path, OPEN_FLAGS)
  } catch (error) {
    // Windows refuses to open a directory at all.
    if (errorCode(error) === 'EISDIR') return fail('not-a-file', isDirectory(file.displayPath))
    result.fatal = [unreadable(file.displayPath, error)]
    return result
  }
  let text: string | null = null
  try {
    let stats: Stats
    try {
      stats = fs.fstatSync(fd)
    } catch (error) {
      result.fatal = [unreadable(file.displayPath, error)]
      return result
    }
    result.sizeBytes = stats.size
    if (stats.isDirectory()) {
      return fail('not-a-file', isDirectory(file.displayPath))
    }
    if (!stats.isFile()) {
      return fail(
        'not-a-file',
        `${file.displayPath} is not a regular file (a device, socket or pipe); match only JSON files`
      )
    }
    if (stats.size > opts.maxFileSizeBytes) {
      return fail(
        'too-large',
        `${file.displayPath} is ${mebibytes(stats.size)} (${stats.size} bytes), over the ${mebibytes(opts.maxFileSizeBytes)} limit; raise the ${MAX_FILE_SIZE_INPUT} input (in MiB) or split the predictions into smaller files`
      )
    }
    if (stats.size === 0)
      return fail('empty', `${file.displayPath} is empty; expected an OpenLABEL JSON document`)
    if (stats.size <= SYNC_READ_MAX_BYTES) {
      try {
        text = readOpenFile(fd, stats.size)
      } catch (error) {
        result.fatal = [unreadable(file.displayPath, error)]
        return result
      }
    }
  } finally {
    fs.closeSync(fd)
  }

  // A small file, read above, is parsed and walked without an await in between: however many files are
  // checked at once, one parsed document is alive at a time, and each one the collector finds alive is copied.
  const parsed = text !== null ? parseText(file, text) : await readJson(file)
  if ('kind' in parsed) return fail(parsed.kind, parsed.message)

  const scene = findScene(parsed.doc, file.path)
  if ('kind' in scene) return fail(scene.kind, `${file.displayPath}: ${scene.message}`, scene.jsonPath)
  result.sceneUuid = scene.sceneUuid
  result.form = scene.form

  const analysis = analyseOpenLabel(scene.openlabelDocument)
  result.hasSegmentation = analysis.hasSegmentation
  if (analysis.segmentationClasses.length > 0) result.segmentationClasses = analysis.segmentationClasses
  if (opts.validation !== 'off' && analysis.problems.length > 0) {
    const keep = opts.maxProblemsPerFile ?? DEFAULT_MAX_PROBLEMS_PER_FILE
    // Errors first (a stable sort): whether the file is blocked is read from those kept; warnings never block.
    const rank = (p: Problem): number => (p.severity === 'warning' ? 1 : 0)
    const ordered = analysis.problems.sort((a, b) => rank(a) - rank(b))
    result.problems = ordered.slice(0, keep)
    result.moreProblems = analysis.problems.length - result.problems.length
  }
  return result
}

/** Reads an already-open small file whole: `sizeBytes` as fstat gave it, or less if it shrank since. */
function readOpenFile(fd: number, sizeBytes: number): string {
  const buffer = Buffer.allocUnsafe(sizeBytes)
  let filled = 0
  while (filled < sizeBytes) {
    const read = fs.readSync(fd, buffer, filled, sizeBytes - filled, filled)
    if (read === 0) break
    filled += read
  }
  return buffer.toString('utf8', 0, filled)
}

/** Reads and parses a large file; the read does not hold up the requests in flight. */
async function readJson(file: { path: string; displayPath: string }): Promise<{ doc: unknown } | Problem> {
  let text: string
  try {
    text = await fs.promises.readFile(file.path, 'utf8')
  } catch (error) {
    return unreadable(file.displayPath, error)
  }
  return parseText(file, text)
}

/**
 * How many files are parsed with JSON.parse before parseJson takes over. Until V8 has optimised it,
 * parseJson takes about twice as long as JSON.parse on a small file (~50 ms more for the first 2,000
 * files), but JSON.parse leaves ~1.2 KB of hidden-class garbage per file that only a full collection frees
 * (json-parse.ts). The first files take the fast path, their garbage bounded at ~1.2 MB whatever the count;
 * the rest take the path whose memory does not grow with it.
 */
const NATIVE_PARSES = 1000
let nativeParsesLeft = NATIVE_PARSES

/** The parsed document, or why the text is not JSON. */
function parseText(file: { path: string; displayPath: string }, text: string): { doc: unknown } | Problem {
  if (text.startsWith(BOM)) text = text.slice(1)
  try {
    return { doc: nativeParsesLeft-- > 0 ? JSON.parse(text) : parseJson(text) }
  } catch (error) {
    // Checked only here: JSON.parse refuses whitespace alone, and most files are not.
    if (text.trim() === '') {
      return {
        kind: 'empty',
        jsonPath: '',
        message: `${file.displayPath} holds only whitespace; expected an OpenLABEL JSON document`
      }
    }
    const where = locateJsonError(text, error)
    return {
      kind: 'json-syntax',
      jsonPath: '',
      message: `${file.displayPath} is not valid JSON: ${where.reason} at line ${where.line}, column ${where.column} (character ${where.position}); fix the syntax there`
    }
  }
}

interface SceneFound {
  sceneUuid: string
  form: 'openlabel' | 'request'
  /** The `{"openlabel": {...}}` document to validate. */
  openlabelDocument: Record<string, unknown>
}

/** Which of the two accepted shapes the document has, and its scene; a fatal Problem when neither. */
export function findScene(doc: unknown, filePath: string): SceneFound | Problem {
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
    const name = path.basename(filePath)
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
