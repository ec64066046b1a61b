// The run's record of every matched file, by position: what the checks learned of it and its fate. It is
// kept for every file to the end of the run, so it is held in columns (typed arrays) rather than as objects
// per file: tens of bytes a file besides its paths, and nothing per file for the garbage collector to copy
// from the young generation or to promote. What only some files have (problems, errors, classes) is kept
// apart, by position. Objects (InspectedFile, FileResult) are built only when asked for, and dropped again.
import { sep } from 'node:path'
import type { ResultList } from './report/model.js'
import type { FileResult, FileStatus, InspectedFile, Problem } from './types.js'

export interface MatchedFile {
  /** Absolute path. */
  path: string
  /** Relative to the workspace, with forward slashes. */
  displayPath: string
}

/** What the checks found beyond the columns; only files with any are in the map. */
interface Findings {
  fatal: Problem[]
  problems: Problem[]
  moreProblems: number
  segmentationClasses: string[]
}

const STATUSES: readonly FileStatus[] = ['uploaded', 'failed', 'invalid', 'would-upload', 'not-attempted']
const FORMS = [null, 'openlabel', 'request'] as const

// Bits of `#flags`.
const CHECKED = 1
const SEGMENTATION = 2
const POSSIBLE_DUPLICATE = 4
/** The outcome lists the file's fatal problems (it was refused for them), not its validation problems. */
const FATAL_AS_PROBLEMS = 8

/** Ids (UUIDs) are 36 characters: each is kept as 36 bytes, and longer, shorter or odd ones apart. */
const ID_CHARS = 36

/** Positions fit in 32 bits (the columns are indexed by them). */
const POSITIONS = 2 ** 32

/** Shared by every file without any: frozen, so a push throws instead of reaching every file. */
const NONE: never[] = Object.freeze([]) as unknown as never[]

/** Scene and prediction ids, 36 bytes each in one buffer: no string per file is kept. */
class IdColumn {
  readonly #chars: Buffer
  readonly #present: Uint8Array
  /** Ids that are not 36 characters of Latin-1 (a server may answer with another kind of id), as they are. */
  readonly #other = new Map<number, string>()

  constructor(count: number) {
    this.#chars = Buffer.alloc(count * ID_CHARS)
    this.#present = new Uint8Array(count)
  }

  set(index: number, value: string | null): void {
    this.#present[index] = 0
    if (this.#other.size > 0) this.#other.delete(index)
    if (value === null) return
    if (value.length === ID_CHARS) {
      const at = index * ID_CHARS
      let k = 0
      for (; k < ID_CHARS; k++) {
        const c = value.charCodeAt(k)
        if (c > 0xff) break
        this.#chars[at + k] = c
      }
      // Latin-1: each character is one byte, and comes back as it went in.
      if (k === ID_CHARS) {
        this.#present[index] = 1
        return
      }
    }
    this.#other.set(index, value)
  }

  has(index: number): boolean {
    return this.#present[index] === 1 || this.#other.has(index)
  }

  get(index: number): string | null {
    if (this.#present[index] === 0) return this.#other.get(index) ?? null
    return this.#chars.toString('latin1', index * ID_CHARS, (index + 1) * ID_CHARS)
  }

  /** A 32-bit hash of the file's id (FNV-1a); equal ids hash alike. */
  hash(index: number): number {
    let h = 0x811c9dc5
    if (this.#present[index] === 1) {
      for (let k = index * ID_CHARS, end = k + ID_CHARS; k < end; k++)
        h = Math.imul(h ^ this.#chars[k]!, 0x01000193)
    } else {
      const value = this.#other.get(index) ?? ''
      for (let k = 0; k < value.length; k++) h = Math.imul(h ^ value.charCodeAt(k), 0x01000193)
    }
    return h >>> 0
  }

  same(a: number, b: number): boolean {
    if (this.#present[a] === 1 && this.#present[b] === 1) {
      for (let k = 0; k < ID_CHARS; k++) {
        if (this.#chars[a * ID_CHARS + k] !== this.#chars[b * ID_CHARS + k]) return false
      }
      return true
    }
    const x = this.get(a)
    return x !== null && x === this.get(b)
  }
}

/**
 * The matched paths: the display paths end to end in one string, each file's absolute path rebuilt from
 * the workspace and its display path. The few paths that cannot be rebuilt so are kept as they are.
 */
class PathColumn {
  /** The workspace, with a separator at its end. */
  readonly #prefix: string
  readonly #displayPaths: string
  readonly #ends: Uint32Array
  readonly #other = new Map<number, string>()

  constructor(root: string, files: readonly MatchedFile[]) {
    this.#prefix = root.endsWith(sep) ? root : root + sep
    this.#ends = new Uint32Array(files.length)
    let end = 0
    files.forEach((file, index) => {
      end += file.displayPath.length
      this.#ends[index] = end
      if (this.#absolute(file.displayPath) !== file.path) this.#other.set(index, file.path)
    })
    this.#displayPaths = files.map((file) => file.displayPath).join('')
  }

  #absolute(displayPath: string): string {
    return this.#prefix + (sep === '/' ? displayPath : displayPath.split('/').join(sep))
  }

  displayPath(index: number): string {
    return this.#displayPaths.slice(index === 0 ? 0 : this.#ends[index - 1], this.#ends[index])
  }

  file(index: number): MatchedFile {
    const displayPath = this.displayPath(index)
    return { path: this.#other.get(index) ?? this.#absolute(displayPath), displayPath }
  }
}

export class RunFiles {
  readonly count: number
  readonly #paths: PathColumn
  readonly #flags: Uint8Array
  readonly #form: Uint8Array
  readonly #size: Float64Array
  readonly #scene: IdColumn
  readonly #findings = new Map<number, Findings>()
  /** STATUSES index + 1; 0 while the file's fate is not known. */
  readonly #status: Uint8Array
  readonly #attempts: Uint32Array
  readonly #prediction: IdColumn
  readonly #error = new Map<number, string>()

  /** `root`: the directory the display paths are relative to (the workspace). */
  constructor(root: string, files: readonly MatchedFile[]) {
    this.count = files.length
    this.#paths = new PathColumn(root, files)
    this.#flags = new Uint8Array(this.count)
    this.#form = new Uint8Array(this.count)
    this.#size = new Float64Array(this.count)
    this.#scene = new IdColumn(this.count)
    this.#status = new Uint8Array(this.count)
    this.#attempts = new Uint32Array(this.count)
    this.#prediction = new IdColumn(this.count)
  }

  /** The file's paths, built anew on each call. */
  file(index: number): MatchedFile {
    return this.#paths.file(index)
  }

  displayPath(index: number): string {
    return this.#paths.displayPath(index)
  }

  /** Keeps what the checks learned of the file (its content is not kept). */
  recordCheck(index: number, file: InspectedFile): void {
    this.#flags[index] = CHECKED | (file.hasSegmentation ? SEGMENTATION : 0)
    this.#form[index] = FORMS.indexOf(file.form)
    this.#size[index] = file.sizeBytes
    this.#scene.set(index, file.sceneUuid)
    const { fatal, problems, moreProblems, segmentationClasses } = file
    if (fatal.length > 0 || problems.length > 0 || moreProblems > 0 || segmentationClasses.length > 0) {
      this.#findings.set(index, { fatal, problems, moreProblems, segmentationClasses })
    } else this.#findings.delete(index)
  }

  checked(index: number): boolean {
    return (this.#flags[index]! & CHECKED) !== 0
  }

  /** The checks' record of the file, built anew on each call; undefined when it was not checked. */
  inspected(index: number): InspectedFile | undefined {
    if (!this.checked(index)) return undefined
    const { path, displayPath } = this.#paths.file(index)
    const found = this.#findings.get(index)
    return {
      path,
      displayPath,
      sizeBytes: this.#size[index]!,
      sceneUuid: this.#scene.get(index),
      form: FORMS[this.#form[index]!]!,
      hasSegmentation: (this.#flags[index]! & SEGMENTATION) !== 0,
      segmentationClasses: found?.segmentationClasses ?? NONE,
      fatal: found?.fatal ?? NONE,
      problems: found?.problems ?? NONE,
      moreProblems: found?.moreProblems ?? 0
    }
  }

  fatal(index: number): Problem[] {
    return this.#findings.get(index)?.fatal ?? NONE
  }

  problems(index: number): Problem[] {
    return this.#findings.get(index)?.problems ?? NONE
  }

  moreProblems(index: number): number {
    return this.#findings.get(index)?.moreProblems ?? 0
  }

  segmentationClasses(index: number): string[] {
    return this.#findings.get(index)?.segmentationClasses ?? NONE
  }

  hasSegmentation(index: number): boolean {
    return (this.#flags[index]! & SEGMENTATION) !== 0
  }

  sceneUuid(index: number): string | null {
    return this.#scene.get(index)
  }

  /**
   * Checked files without fatal problems that share a scene with another, grouped by scene in the order
   * of each scene's first file, each group in file order. Found by sorting numbers, each a scene's hash
   * and a file's position in one, so that no map of every scene is built.
   */
  duplicateScenes(): number[][] {
    const keys = new Float64Array(this.count)
    let candidates = 0
    for (let i = 0; i < this.count; i++) {
      if (this.checked(i) && this.fatal(i).length === 0 && this.#scene.has(i)) {
        // 21 bits of hash above 32 bits of position: exact in a double (53 bits).
        keys[candidates++] = (this.#scene.hash(i) >>> 11) * POSITIONS + i
      }
    }
    const sorted = keys.subarray(0, candidates).sort()
    const groups: number[][] = []
    for (let start = 0; start < sorted.length;) {
      const hash = Math.floor(sorted[start]! / POSITIONS)
      let end = start + 1
      while (end < sorted.length && Math.floor(sorted[end]! / POSITIONS) === hash) end++
      // The files whose scenes hash alike, in file order, split by scene.
      let rest = Array.from(sorted.subarray(start, end), (key) => key % POSITIONS)
      while (rest.length > 1) {
        const first = rest[0]!
        const same = rest.filter((i) => this.#scene.same(first, i))
        if (same.length > 1) groups.push(same)
        rest = rest.filter((i) => !this.#scene.same(first, i))
      }
      start = end
    }
    return groups.sort((a, b) => a[0]! - b[0]!)
  }

  /**
   * The file's fate. Its result lists the validation problems the checks found, or with `fatalAsProblems`
   * the fatal ones (the file was refused for them).
   */
  setOutcome(
    index: number,
    outcome: {
      status: FileStatus
      predictionUuid?: string | null
      attempts?: number
      possibleDuplicate?: boolean
      error?: string | null
      fatalAsProblems?: boolean
    }
  ): void {
    this.#status[index] = STATUSES.indexOf(outcome.status) + 1
    this.#prediction.set(index, outcome.predictionUuid ?? null)
    this.#attempts[index] = outcome.attempts ?? 0
    let flags = this.#flags[index]! & ~(POSSIBLE_DUPLICATE | FATAL_AS_PROBLEMS)
    if (outcome.possibleDuplicate) flags |= POSSIBLE_DUPLICATE
    if (outcome.fatalAsProblems) flags |= FATAL_AS_PROBLEMS
    this.#flags[index] = flags
    if (outcome.error != null) this.#error.set(index, outcome.error)
    else this.#error.delete(index)
  }

  /**
   * The file's result, built anew on each call. A file whose fate was never set was not attempted, for
   * `notAttempted`.
   */
  result(index: number, notAttempted: string): FileResult {
    const displayPath = this.#paths.displayPath(index)
    const status = this.#status[index]!
    const found = this.#findings.get(index)
    const flags = this.#flags[index]!
    const problems = (flags & FATAL_AS_PROBLEMS ? found?.fatal : found?.problems) ?? NONE
    return {
      path: displayPath,
      sceneUuid: this.#scene.get(index),
      status: status === 0 ? 'not-attempted' : STATUSES[status - 1]!,
      predictionUuid: status === 0 ? null : this.#prediction.get(index),
      attempts: status === 0 ? 0 : this.#attempts[index]!,
      possibleDuplicate: status !== 0 && (flags & POSSIBLE_DUPLICATE) !== 0,
      error: status === 0 ? notAttempted : (this.#error.get(index) ?? null),
      problems,
      moreProblems: found?.moreProblems ?? 0
    }
  }

  /** Every file's result in order, then `after`: each built only as it is read. */
  results(notAttempted: string, after: readonly FileResult[] = []): ResultList {
    const count = this.count
    const result = (i: number): FileResult => this.result(i, notAttempted)
    return {
      length: count + after.length,
      *[Symbol.iterator]() {
        for (let i = 0; i < count; i++) yield result(i)
        yield* after
      }
    }
  }
}
