// Resuming: what earlier runs of this action uploaded, read back from their results files, so that a re-run
// uploads only what is left. Kognic's API cannot list a group's predictions: the results files are the memory.
import { readFile } from 'node:fs/promises'
import { isRecord, UUID_PATTERN } from './guards.js'
import { discoverFiles, type Discovery } from './predictions/discover.js'
import { RESULTS_FILE_KIND, RESULTS_FILE_VERSION } from './report/results.js'

export interface EarlierUpload {
  contentSha256: string
  predictionUuid: string
  /** The results file that says so, as people see it. */
  resultsFile: string
}

export interface EarlierRuns {
  /** What earlier runs stored per scene in this dataset and group; a later file read wins. */
  byScene: Map<string, EarlierUpload>
  /** Results files read and used. */
  used: string[]
  /** Matched files that were not used, and why: each is one warning, never a stop. */
  ignored: { file: string; reason: string }[]
  /** Why the patterns could not be used at all (one leads outside the workspace): a warning, never a stop. */
  patternError: string | null
}

/**
 * Reads the results files `patterns` match in the workspace and keeps the uploads they record into
 * `target`'s dataset and group. A file that is not one of ours, is malformed, or names another dataset or
 * group is ignored with its reason.
 */
export async function readEarlierRuns(
  patterns: string,
  workspace: string,
  target: { datasetUuid: string; groupUuid: string },
  setting = 'resume-from'
): Promise<EarlierRuns> {
  const read = await readResultsFiles(patterns, workspace, setting)
  const earlier: EarlierRuns = {
    byScene: new Map(),
    used: [],
    ignored: read.ignored,
    patternError: read.patternError
  }
  for (const { file, content } of read.files) {
    const reason = whyNotForTarget(content, target)
    if (reason) {
      earlier.ignored.push({ file, reason })
      continue
    }
    earlier.used.push(file)
    for (const entry of content.files as unknown[]) {
      if (!isRecord(entry)) continue
      const { status, sceneUuid, contentSha256, predictionUuid } = entry
      // A file skipped by a resumed run was uploaded by the run before it: it counts the same.
      if (status !== 'uploaded' && status !== 'already-uploaded') continue
      // Anyone may have edited the file: only well-formed UUIDs count (they end up in the log).
      if (typeof sceneUuid !== 'string' || !UUID_PATTERN.test(sceneUuid)) continue
      // A hash that is not one only fails to match: the file is uploaded again, with its warning.
      if (typeof contentSha256 !== 'string') continue
      if (typeof predictionUuid !== 'string' || !UUID_PATTERN.test(predictionUuid)) continue
      earlier.byScene.set(sceneUuid.toLowerCase(), {
        contentSha256: contentSha256.toLowerCase(),
        predictionUuid,
        resultsFile: file
      })
    }
  }
  return earlier
}

export interface ResultsFilesRead {
  /** Results files of this action, in a format this version reads, as people see their paths. */
  files: { file: string; content: Record<string, unknown> }[]
  /** Matched files that are not such results files, and why. */
  ignored: { file: string; reason: string }[]
  /** Why the patterns could not be used at all (one leads outside the workspace). */
  patternError: string | null
}

/**
 * The results files of earlier runs that `patterns` match in the workspace, parsed; a file that is not one
 * of ours, is not JSON or comes from a later format is ignored with its reason. `setting` names the
 * patterns in messages (`resume-from`, or `--resume-from` on the command line).
 */
export async function readResultsFiles(
  patterns: string,
  workspace: string,
  setting: string
): Promise<ResultsFilesRead> {
  const read: ResultsFilesRead = { files: [], ignored: [], patternError: null }
  let found: Discovery
  try {
    found = await discoverFiles(patterns, workspace, setting)
  } catch (error) {
    read.patternError = error instanceof Error ? error.message : String(error)
    return read
  }
  for (const file of found.files) {
    let content: unknown
    try {
      content = JSON.parse(await readFile(file.path, 'utf8'))
    } catch (error) {
      const why = error instanceof SyntaxError ? 'not valid JSON' : 'cannot be read'
      read.ignored.push({ file: file.displayPath, reason: `${why} (${(error as Error).message})` })
      continue
    }
    const reason = whyNotResults(content)
    if (reason) read.ignored.push({ file: file.displayPath, reason })
    else read.files.push({ file: file.displayPath, content: content as Record<string, unknown> })
  }
  return read
}

function whyNotResults(content: unknown): string | null {
  if (!isRecord(content) || content.kind !== RESULTS_FILE_KIND) {
    return 'not a results file of this action (no "kind": "kognic-upload-predictions-results")'
  }
  if (typeof content.version !== 'number' || content.version > RESULTS_FILE_VERSION) {
    return `written in results format ${String(content.version)}, which this version (format ${RESULTS_FILE_VERSION}) cannot read: use the same or a later version of the action`
  }
  return null
}

function whyNotForTarget(
  content: Record<string, unknown>,
  target: { datasetUuid: string; groupUuid: string }
): string | null {
  if (!Array.isArray(content.files)) return 'malformed: it has no "files" list'
  const dataset = typeof content.datasetUuid === 'string' ? content.datasetUuid.toLowerCase() : null
  if (dataset !== target.datasetUuid) return `for dataset ${String(dataset)}, not ${target.datasetUuid}`
  const group =
    typeof content.predictionsGroupUuid === 'string' ? content.predictionsGroupUuid.toLowerCase() : null
  if (group !== target.groupUuid.toLowerCase()) {
    return group === null
      ? 'from a run that resolved no predictions group'
      : `for predictions group ${group}, not ${target.groupUuid}`
  }
  return null
}
