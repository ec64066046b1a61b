// The upload pipeline: `concurrency` workers pull the next file, read it only then, send it, and record its
// fate. Bodies live only while their request is in flight, so memory does not grow with the file count.
import { runPool } from '../pool.js'
import type { FileResult, FileStatus, InspectedFile } from '../types.js'

export interface UploadOutcome {
  predictionUuid: string
  attempts: number
  possibleDuplicate: boolean
}

export interface UploadOptions {
  concurrency: number
  readBody: (file: InspectedFile) => Promise<Buffer>
  upload: (body: Buffer) => Promise<UploadOutcome>
  /**
   * When aborted, no new file is started; files not started are `not-attempted`. Abort it with an Error
   * to say why the run stopped (e.g. the credentials were refused); without one, the run was cancelled.
   */
  stop?: AbortSignal
  /** Called as each file finishes, for progress and per-file logging. */
  onResult?: (result: FileResult) => void
}

const NOT_STARTED = 'Not uploaded: the run was cancelled before this file was started'

/**
 * One file's result, always built by this one literal: every result then shares one hidden class. Built
 * with a spread (`{ ...base, status }`), V8 gave each its own, ~300 bytes more per file kept to the end.
 */
function resultOf(
  file: InspectedFile,
  status: FileStatus,
  predictionUuid: string | null,
  attempts: number,
  possibleDuplicate: boolean,
  error: string | null
): FileResult {
  return {
    path: file.displayPath,
    sceneUuid: file.sceneUuid,
    status,
    predictionUuid,
    attempts,
    possibleDuplicate,
    error,
    problems: file.problems,
    moreProblems: file.moreProblems
  }
}

/** Uploads every file; returns one result per file, in the order given. Never throws for one file's failure. */
export async function uploadAll(files: readonly InspectedFile[], opts: UploadOptions): Promise<FileResult[]> {
  const results = new Array<FileResult>(files.length)
  await uploadEach(
    files.length,
    (index) => files[index]!,
    opts,
    (result, index) => (results[index] = result)
  )
  return results
}

/**
 * Uploads files 0 … count-1, each asked of `fileAt` only as its turn comes, and hands every file's result
 * to `record` (the files not started included), so that no list of all files or all results is needed.
 * Never throws for one file's failure.
 */
export async function uploadEach(
  count: number,
  fileAt: (index: number) => InspectedFile,
  opts: UploadOptions,
  record: (result: FileResult, index: number) => void
): Promise<void> {
  const finished = new Uint8Array(count)
  await runPool(
    count,
    opts.concurrency,
    async (index) => {
      const result = await uploadOne(fileAt(index), opts)
      finished[index] = 1
      record(result, index)
      opts.onResult?.(result)
    },
    opts.stop
  )
  const notStarted = notStartedReason(opts.stop)
  for (let index = 0; index < count; index++) {
    if (finished[index] === 0)
      record(resultOf(fileAt(index), 'not-attempted', null, 0, false, notStarted), index)
  }
}

/** Why files were not started: the run was cancelled, unless the stop names another reason (an Error). */
function notStartedReason(stop: AbortSignal | undefined): string {
  const reason: unknown = stop?.reason
  if (!(reason instanceof Error) || reason.name === 'AbortError') return NOT_STARTED
  return `Not uploaded: the run stopped before this file was started: ${reason.message}`
}

async function uploadOne(file: InspectedFile, opts: UploadOptions): Promise<FileResult> {
  let body: Buffer
  try {
    body = await opts.readBody(file)
  } catch (error) {
    return resultOf(file, 'failed', null, 0, false, `Could not read the file for upload: ${describe(error)}`)
  }
  try {
    const outcome = await opts.upload(body)
    return resultOf(
      file,
      'uploaded',
      outcome.predictionUuid,
      outcome.attempts,
      outcome.possibleDuplicate,
      null
    )
  } catch (error) {
    const info = error as UploadFailure
    const attempts = typeof info.attempts === 'number' ? info.attempts : 1
    const possibleDuplicate = info.possibleDuplicate === true
    // Stopped before a single request left: Kognic has nothing of this file, so it was not attempted.
    const notSent = attempts === 0 && opts.stop?.aborted === true
    // The run failed (credentials refused) and nothing of the file can be at Kognic: not the file's fault.
    const runFailed = info.endsRun === true && !possibleDuplicate
    if (notSent || runFailed) {
      const why = runFailed ? `Not uploaded: ${describe(error)}` : describe(error)
      return resultOf(file, 'not-attempted', null, attempts, possibleDuplicate, why)
    }
    return resultOf(file, 'failed', null, attempts, possibleDuplicate, describe(error))
  }
}

/** What the error of a failed upload may say about itself (the Kognic client's errors do). */
interface UploadFailure {
  /** Upload requests sent for the file, the failed one included. */
  attempts?: unknown
  /** A request was sent in full and its answer lost: Kognic may hold the file. */
  possibleDuplicate?: unknown
  /** The failure is the whole run's (e.g. the credentials were refused), not this file's. */
  endsRun?: unknown
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return String(error)
}
