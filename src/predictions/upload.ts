// The upload pipeline: `concurrency` workers pull the next file, read it only then, send it, and record its
// fate. Bodies live only while their request is in flight, so memory does not grow with the file count.
import { runPool } from '../pool.js'
import { resultOf } from '../run-files.js'
import type { FileResult, InspectedFile } from '../types.js'
import { errorCode } from '../guards.js'

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

/** Uploads every file; returns one result per file, in the order given. Never throws for one file's failure. */
export async function uploadAll(files: readonly InspectedFile[], opts: UploadOptions): Promise<FileResult[]> {
  const results = new Array<FileResult | undefined>(files.length)
  await runPool(
    files.length,
    opts.concurrency,
    async (index) => {
      const result = await uploadOne(files[index]!, opts)
      results[index] = result
      opts.onResult?.(result)
    },
    opts.stop
  )
  const notStarted = notStartedReason(opts.stop)
  return files.map(
    (file, index) => results[index] ?? resultOf(file, file, { status: 'not-attempted', error: notStarted })
  )
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
    return resultOf(file, file, { status: 'failed', error: describe(error), reasonKind: 'read-failed' })
  }
  try {
    const outcome = await opts.upload(body)
    return resultOf(file, file, { status: 'uploaded', ...outcome })
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
      return resultOf(file, file, { status: 'not-attempted', attempts, possibleDuplicate, error: why })
    }
    return resultOf(file, file, {
      status: 'failed',
      attempts,
      possibleDuplicate,
      error: describe(error),
      reasonKind: 'upload-failed'
    })
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
    const code = errorCode(error)
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return String(error)
}
