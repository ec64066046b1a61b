// What the report is made from. Built by the flow in main.ts once the run ends (or stops); the summary,
// the results file and a pull-request comment are all rendered from this one value.
import type { FileResult } from '../types.js'

export type GroupState = 'found' | 'created' | 'would-create' | 'unresolved'

export interface GroupReport {
  uuid: string | null
  name: string | null
  /** True when this run created the group. */
  created: boolean
  state: GroupState
}

export interface RunCounts {
  /** Files matched by the patterns: one FileResult each. */
  matched: number
  uploaded: number
  /** Uploads the server refused or that ran out of retries. */
  failed: number
  /** Files refused before upload: unreadable, not JSON, no scene, or validation problems in strict mode. */
  invalid: number
  /** Files never tried because the run stopped (fatal error, cancelled). */
  notAttempted: number
  /** Dry run: files that would have been uploaded. */
  wouldUpload: number
  /** Uploads that timed out after their body was sent and were retried: Kognic may hold two copies. */
  possibleDuplicates: number
  /** Requests retried, over the whole run. */
  retries: number
}

export interface SkippedPath {
  displayPath: string
  reason: string
}

export interface RunLink {
  url?: string
  repository?: string
  sha?: string
}

/**
 * Results, one per file, in order: an array, or a list that builds each entry as it is read (a run keeps
 * its files' results in columns, not as an object each). Read it with `for … of`, as often as needed.
 */
export interface ResultList extends Iterable<FileResult> {
  readonly length: number
}

export interface RunReport {
  datasetUuid: string
  group: GroupReport
  /** Link into the Kognic app when known. */
  groupUrl?: string | null
  dryRun: boolean
  validation: 'strict' | 'warn' | 'off'
  counts: RunCounts
  /** ms since the epoch: the duration and throughput come from these, never from the clock at render time. */
  startedAt: number
  finishedAt: number
  /** One per matched file. `path` is shown as it is: make it the workspace-relative display path. */
  results: ResultList
  /** Matched by a pattern, and rightly not uploaded: a directory, or a second path to a file taken once. */
  skipped: SkippedPath[]
  /** The run stopped before or while uploading (bad input, auth, cancelled): shown first. */
  fatalError?: string | null
  cancelled?: boolean
  /** Link to the workflow run. */
  run?: RunLink
  warnings?: string[]
}

/**
 * The file counts that follow from the results, so the caller cannot get them out of step.
 * `retries` is not visible in the results: the upload pipeline counts it.
 */
export function countResults(results: ResultList, retries = 0): RunCounts {
  const counts: RunCounts = {
    matched: results.length,
    uploaded: 0,
    failed: 0,
    invalid: 0,
    notAttempted: 0,
    wouldUpload: 0,
    possibleDuplicates: 0,
    retries
  }
  for (const result of results) {
    if (result.possibleDuplicate) counts.possibleDuplicates++
    switch (result.status) {
      case 'uploaded':
        counts.uploaded++
        break
      case 'failed':
        counts.failed++
        break
      case 'invalid':
        counts.invalid++
        break
      case 'not-attempted':
        counts.notAttempted++
        break
      case 'would-upload':
        counts.wouldUpload++
        break
    }
  }
  return counts
}
