// What the report is made from. Built by the flow in main.ts once the run ends (or stops); the summary,
// the results file and a pull-request comment are all rendered from this one value.
import type { Comparison, Statistics } from '../predictions/statistics.js'
import type { FileResult, SkippedPath } from '../types.js'
import { formatCount } from './format.js'

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
  /** Skipped because an earlier run's results file says this content is in the group: done, not failed. */
  alreadyUploaded: number
  /** Uploaded again because the content changed since an earlier run uploaded it: the group may hold two. */
  changedSinceUpload: number
  /**
   * Every matched file that did not reach Kognic: invalid + uploadFailed + notAttempted. The one number the
   * outputs (`failed`), the summary, the pull-request comment and the log all show.
   */
  notUploaded: number
  /** Refused before upload: unreadable, not JSON, no scene, or errors in strict mode. */
  invalid: number
  /** Uploads Kognic refused, or that ran out of retries. */
  uploadFailed: number
  /** Files never tried because the run stopped (fatal error, cancelled). */
  notAttempted: number
  /** Dry run: files that would have been uploaded. */
  wouldUpload: number
  /** Retried after an attempt that may have reached Kognic: it may hold two copies. */
  possibleDuplicates: number
  /**
   * Retries over the whole run: every attempt after a request's first (a request tried three times counts
   * two). The one retry number the log, the summary, the results file and the command's --json give.
   */
  retries: number
}

export interface RunLink {
  url?: string
  repository?: string
  sha?: string
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
  results: FileResult[]
  /** Matched by a pattern, and rightly not uploaded: a directory, or a second path to a file taken once. */
  skipped: SkippedPath[]
  /** False when the run stopped before it looked for files (bad inputs): no file counts are shown. */
  filesSearched?: boolean
  /** The run stopped before or while uploading (bad input, auth, cancelled): shown first. */
  fatalError?: string | null
  cancelled?: boolean
  /** Link to the workflow run. */
  run?: RunLink
  /** The dataset's name, when the datasets listing gave it. */
  datasetName?: string | null
  /** How long the upload phase took: the speed every report shows is uploads over this. */
  uploadMs?: number | null
  /** Time spent waiting before retries and after "too many requests", over the whole run. */
  waitedMs?: number
  /** Annotated scenes of the dataset that got no prediction; null when the annotations were not listed. */
  scenesWithoutPrediction?: number | null
  /** How many scenes of the dataset have annotations; null when the annotations were not listed. */
  annotatedScenes?: number | null
  warnings?: string[]
  /** What the files the checks let through predict, counted; null when the run checked no file. */
  statistics?: Statistics | null
  /** The statistics against an earlier run's (compare-with); null without a usable baseline. */
  comparison?: Comparison | null
}

/**
 * The file counts that follow from the results, so the caller cannot get them out of step.
 * `retries` is not visible in the results: the upload pipeline counts it.
 */
export function countResults(results: readonly FileResult[], retries = 0): RunCounts {
  const counts: RunCounts = {
    matched: results.length,
    uploaded: 0,
    alreadyUploaded: 0,
    changedSinceUpload: 0,
    notUploaded: 0,
    invalid: 0,
    uploadFailed: 0,
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
      case 'already-uploaded':
        counts.alreadyUploaded++
        break
      case 'failed':
        counts.uploadFailed++
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
  counts.notUploaded = counts.invalid + counts.uploadFailed + counts.notAttempted
  return counts
}

/** `4 invalid, 2 failed to upload, 3 not attempted`: what the not-uploaded number is made of. */
export function notUploadedParts(c: RunCounts): string {
  return [
    c.invalid > 0 ? `${formatCount(c.invalid)} invalid` : '',
    c.uploadFailed > 0 ? `${formatCount(c.uploadFailed)} failed to upload` : '',
    c.notAttempted > 0 ? `${formatCount(c.notAttempted)} not attempted` : ''
  ]
    .filter((part) => part !== '')
    .join(', ')
}

export interface Verdict {
  /** False when the step fails. */
  ok: boolean
  /** One sentence, plain text: the step's error or notice, the log's last line, the summary's first. */
  text: string
}

/** The run's outcome in one sentence, from the counts: every report says the same. */
export function verdict(report: RunReport): Verdict {
  const c = report.counts
  const n = formatCount
  const tally = `${n(c.uploaded)} of ${n(c.matched)} files uploaded`
  const missing = c.notUploaded > 0 ? `; ${n(c.notUploaded)} not uploaded (${notUploadedParts(c)})` : ''
  if (report.cancelled) return { ok: false, text: `Cancelled: ${tally} before the run stopped${missing}.` }
  if (report.fatalError) {
    // The reason as it was given (an input error lists every problem on a line of its own), ended as a
    // sentence, then the tally as a sentence of its own on the next line.
    const reason = endSentence(report.fatalError)
    const soFar =
      c.matched > 0 ? `\n${report.dryRun ? `${n(c.matched)} files matched` : tally}${missing}.` : ''
    return { ok: false, text: `${reason}${soFar}` }
  }
  if (report.dryRun) {
    return c.notUploaded > 0
      ? {
          ok: false,
          text: `Dry run: ${n(c.notUploaded)} of ${n(c.matched)} files would not be uploaded (${notUploadedParts(c)}); ${n(c.wouldUpload)} would. Nothing was uploaded.`
        }
      : { ok: true, text: `Dry run: all ${n(c.wouldUpload)} files would be uploaded. Nothing was uploaded.` }
  }
  if (c.matched === 0) return { ok: true, text: 'No prediction files matched; nothing was uploaded.' }
  // resume-from: files an earlier run uploaded are done, and said so, not left out of the tally.
  const already = c.alreadyUploaded > 0 ? `, ${n(c.alreadyUploaded)} already uploaded by an earlier run` : ''
  if (c.notUploaded > 0) {
    return {
      ok: false,
      text: `${n(c.notUploaded)} of ${n(c.matched)} files not uploaded (${notUploadedParts(c)}); ${n(c.uploaded)} uploaded${already}.`
    }
  }
  if (already)
    return {
      ok: true,
      text: `All ${n(c.matched)} files are in the group: ${n(c.uploaded)} uploaded${already}.`
    }
  return { ok: true, text: `All ${n(c.uploaded)} files uploaded.` }
}

/** A message as a sentence: a full stop added unless it already ends in punctuation. */
export function endSentence(text: string): string {
  const trimmed = text.trimEnd()
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`
}

/** Files whose problems include `no-objects`: they predict nothing, which the report counts once. */
export function filesWithoutObjects(results: readonly FileResult[]): number {
  let count = 0
  for (const result of results) if (result.problems.some((p) => p.kind === 'no-objects')) count++
  return count
}

/** The one sentence the log and the summary give for those files; empty when there are none. */
export function noObjectsNote(results: readonly FileResult[]): string {
  const count = filesWithoutObjects(results)
  if (count === 0) return ''
  return `${count} ${count === 1 ? 'file has' : 'files have'} no objects (no bbox, cuboid or image in any frame), so ${count === 1 ? 'it predicts' : 'they predict'} nothing for ${count === 1 ? 'its scene' : 'their scenes'}; see the no-objects warnings.`
}

/** A result's reason kind; one a caller did not set falls back to its status. */
export function reasonKindOf(result: FileResult): string {
  return result.reasonKind ?? (result.status === 'failed' ? 'upload-failed' : 'invalid')
}

export interface FailureKind {
  kind: string
  /** `error` (refused before upload) or `upload failed` (Kognic refused it, or it ran out of retries). */
  severity: string
  files: number
  /** Problems of this kind in those files (counted only where the file lists its problems). */
  problems: number
  firstFile: string
}

/** Invalid and failed files by reason kind, most files first; ties by kind so the order is stable. */
export function failureKinds(results: readonly FileResult[]): FailureKind[] {
  const kinds = new Map<string, FailureKind>()
  for (const result of results) {
    if (result.status !== 'failed' && result.status !== 'invalid') continue
    const kind = reasonKindOf(result)
    const severity = result.status === 'failed' ? 'upload failed' : 'error'
    const key = `${severity}\u0000${kind}`
    let entry = kinds.get(key)
    if (!entry) {
      entry = { kind, severity, files: 0, problems: 0, firstFile: result.path }
      kinds.set(key, entry)
    }
    entry.files++
    entry.problems += Math.max(1, result.problems.filter((p) => p.kind === kind).length)
  }
  return [...kinds.values()].sort(
    (a, b) => b.files - a.files || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)
  )
}
