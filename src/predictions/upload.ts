// The upload pipeline: `concurrency` workers pull the next file, read it only then, send it, and record its
// fate. Bodies live only while their request is in flight, so memory does not grow with the file count.
import { runPool } from '../pool.js'
import type { FileResult, InspectedFile } from '../types.js'

export interface UploadOutcome {
  predictionUuid: string
  attempts: number
  possibleDuplicate: boolean
}

export interface UploadOptions {
  concurrency: number
  readBody: (file: InspectedFile) => Promise<Buffer>
  upload: (body: Buffer) => Promise<UploadOutcome>
  /** When aborted, no new file is started; files not started are `not-attempted`. */
  stop?: AbortSignal
  /** Called as each file finishes, for progress and per-file logging. */
  onResult?: (result: FileResult) => void
}

/** Uploads every file; returns one result per file, in the order given. Never throws for one file's failure. */
export async function uploadAll(files: readonly InspectedFile[], opts: UploadOptions): Promise<FileResult[]> {
  const results: (FileResult | undefined)[] = new Array(files.length)
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

  return files.map(
    (file, index) =>
      results[index] ?? {
        path: file.displayPath,
        sceneUuid: file.sceneUuid,
        status: 'not-attempted',
        predictionUuid: null,
        attempts: 0,
        possibleDuplicate: false,
        error: 'Not uploaded: the run was cancelled before this file was started',
        problems: file.problems
      }
  )
}

async function uploadOne(file: InspectedFile, opts: UploadOptions): Promise<FileResult> {
  const base = { path: file.displayPath, sceneUuid: file.sceneUuid, problems: file.problems }
  let body: Buffer
  try {
    body = await opts.readBody(file)
  } catch (error) {
    return {
      ...base,
      status: 'failed',
      predictionUuid: null,
      attempts: 0,
      possibleDuplicate: false,
      error: `Could not read the file for upload: ${describe(error)}`
    }
  }
  try {
    const outcome = await opts.upload(body)
    return {
      ...base,
      status: 'uploaded',
      predictionUuid: outcome.predictionUuid,
      attempts: outcome.attempts,
      possibleDuplicate: outcome.possibleDuplicate,
      error: null
    }
  } catch (error) {
    const info = error as { attempts?: unknown; possibleDuplicate?: unknown }
    const attempts = typeof info.attempts === 'number' ? info.attempts : 1
    // Stopped before a single request left: Kognic has nothing of this file, so it was not attempted.
    const notSent = attempts === 0 && opts.stop?.aborted === true
    return {
      ...base,
      status: notSent ? 'not-attempted' : 'failed',
      predictionUuid: null,
      attempts,
      possibleDuplicate: info.possibleDuplicate === true,
      error: describe(error)
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code && !error.message.includes(code) ? `${error.message} (${code})` : error.message
  }
  return String(error)
}
