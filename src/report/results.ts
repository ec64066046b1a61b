// The results file: one entry per matched file, for scripts and later steps. Written whole or not at all.
import { randomBytes } from 'node:crypto'
import { mkdir, open, realpath, rename, rm } from 'node:fs/promises'
import os from 'node:os'
import path, { dirname } from 'node:path'
import { errorCode, leavesRoot } from '../guards.js'
import { ACTION_VERSION } from '../version.js'
import type { Comparison, Statistics } from '../predictions/statistics.js'
import type { FileResult, SkippedPath } from '../types.js'
import type { RunCounts, RunReport } from './model.js'

export const RESULTS_FILE_VERSION = 1
/** The results file's first key and value: how a run tells its own results files from predictions. */
export const RESULTS_FILE_KIND = 'kognic-upload-predictions-results'

/** The shape of the results file, for readers. */
export interface ResultsFile {
  kind: typeof RESULTS_FILE_KIND
  version: typeof RESULTS_FILE_VERSION
  /** The action's version that wrote the file. */
  actionVersion: string
  datasetUuid: string
  predictionsGroupUuid: string | null
  predictionsGroupName: string | null
  groupCreated: boolean
  dryRun: boolean
  validation: RunReport['validation']
  counts: RunCounts
  /** ISO 8601. */
  startedAt: string
  finishedAt: string
  fatalError: string | null
  cancelled: boolean
  skipped: SkippedPath[]
  /** What the files the checks let through predict, counted; its own `version` (README "The results file"). */
  statistics: Statistics | null
  /** The statistics against compare-with's baseline; null without one. */
  comparison: Comparison | null
  files: FileResult[]
}

// Entries are written in batches of about this many characters: few writes, no giant string.
const WRITE_CHUNK_CHARS = 256 * 1024

/**
 * Writes the results as JSON to `path`, creating parent directories. The text goes to a temporary file
 * beside it that is then renamed over `path`, so a reader sees the old file or the new one, never half.
 * One entry per line, so the file can be grepped and diffed.
 */
export async function writeResultsFile(path: string, report: RunReport): Promise<void> {
  const head = resultsHeader(report)
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await mkdir(dirname(path), { recursive: true })
    const handle = await open(temporary, 'wx')
    try {
      // The header object ends with "\n}": reopen it to append the files array entry by entry.
      let chunk = `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "files": [`
      let first = true
      for (const result of report.results) {
        chunk += `${first ? '' : ','}\n    ${JSON.stringify(fileEntry(result))}`
        first = false
        if (chunk.length >= WRITE_CHUNK_CHARS) {
          await handle.write(chunk)
          chunk = ''
        }
      }
      chunk += first ? ']\n}\n' : '\n  ]\n}\n'
      await handle.write(chunk)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined)
    throw new Error(
      `Could not write the results file ${path}: ${error instanceof Error ? error.message : String(error)}. ` +
        'Check that the results-file path names a file in a writable directory.',
      { cause: error }
    )
  }
}

/** Everything in the results file but the files. */
export function resultsHeader(report: RunReport): Omit<ResultsFile, 'files'> {
  return {
    kind: RESULTS_FILE_KIND,
    version: RESULTS_FILE_VERSION,
    actionVersion: ACTION_VERSION,
    datasetUuid: report.datasetUuid,
    predictionsGroupUuid: report.group.uuid,
    predictionsGroupName: report.group.name,
    groupCreated: report.group.created,
    dryRun: report.dryRun,
    validation: report.validation,
    counts: { ...report.counts },
    startedAt: isoTime(report.startedAt),
    finishedAt: isoTime(report.finishedAt),
    fatalError: report.fatalError ?? null,
    cancelled: report.cancelled ?? false,
    skipped: report.skipped.map(({ displayPath, reason }) => ({ displayPath, reason })),
    statistics: report.statistics ?? null,
    comparison: report.comparison ?? null
  }
}

// Only the contract's fields, in a fixed order: an extra property on a result object must not leak in.
export function fileEntry(result: FileResult): FileResult {
  return {
    path: result.path,
    sceneUuid: result.sceneUuid,
    status: result.status,
    predictionUuid: result.predictionUuid,
    attempts: result.attempts,
    possibleDuplicate: result.possibleDuplicate,
    error: result.error,
    contentSha256: result.contentSha256,
    problems: result.problems.map(({ kind, jsonPath, message, severity, line, column }) => ({
      kind,
      jsonPath,
      message,
      ...(severity ? { severity } : {}),
      ...(line ? { line, column } : {})
    })),
    moreProblems: result.moreProblems ?? 0
  }
}

function isoTime(ms: number): string {
  // A bad timestamp must not cost the whole results file.
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date(0).toISOString()
}

/**
 * Where the results file goes. A configured path starts at the workspace and must stay, by its real
 * location (symbolic links followed), inside the workspace or RUNNER_TEMP; empty means a name of this run's
 * own in RUNNER_TEMP. Throws a message naming the input when the path leads elsewhere.
 */
export async function resultsFilePath(
  configured: string,
  workspace: string,
  env: Record<string, string | undefined>
): Promise<string> {
  const temp = env.RUNNER_TEMP || os.tmpdir()
  if (!configured) {
    const id =
      [env.GITHUB_RUN_ID, env.GITHUB_RUN_ATTEMPT, env.GITHUB_ACTION].filter(Boolean).join('-') ||
      String(process.pid)
    return path.join(temp, `kognic-upload-results-${id.replace(/[^\w.-]/g, '_')}.json`)
  }
  const wanted = path.resolve(workspace, configured)
  const real = await realLocation(wanted)
  const roots = await Promise.all([workspace, temp].map((root) => realLocation(path.resolve(root))))
  if (!roots.some((root) => !leavesRoot(path.relative(root, real)))) {
    throw new Error(
      `results-file "${configured}" leads outside the workspace${real === wanted ? '' : ` (to ${real})`}: name a file inside the workspace, such as kognic-results.json, or leave results-file empty to write it to RUNNER_TEMP.`
    )
  }
  return real
}

/** The real path of `target`, or of its nearest existing ancestor joined with the rest, when it does not exist yet. */
async function realLocation(target: string): Promise<string> {
  const rest: string[] = []
  let current = target
  for (;;) {
    try {
      return path.join(await realpath(current), ...rest)
    } catch (error) {
      const parent = path.dirname(current)
      if (errorCode(error) !== 'ENOENT' || parent === current) throw error
      rest.unshift(path.basename(current))
      current = parent
    }
  }
}

/** Whether the file at `file` starts as a results file this action wrote (only its first bytes are read). */
export async function isResultsFile(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => null)
  if (!handle) return false
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(128), 0, 128, 0)
    return new RegExp(`^\\{\\s*"kind":\\s*"${RESULTS_FILE_KIND}"`).test(buffer.toString('utf8', 0, bytesRead))
  } finally {
    await handle.close()
  }
}
