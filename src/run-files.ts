// The run's record of every matched file: what the checks learned of it, then its fate, and the results
// file's entries built from the two.
import type { FileResult, FileStatus, InspectedFile } from './types.js'

/** One matched file through the run. */
export interface RunFile {
  /** As matched: `path` is what is opened, `displayPath` what people see. */
  file: { path: string; displayPath: string }
  /** What the checks learned; null until the file is checked. */
  inspected: InspectedFile | null
  /** Its fate; null while not known (at the end: the run never reached it). */
  result: FileResult | null
}

export interface Outcome {
  status: FileStatus
  predictionUuid?: string | null
  attempts?: number
  possibleDuplicate?: boolean
  error?: string | null
  /** The result lists the file's fatal problems (it was refused for them), not its validation problems. */
  fatalAsProblems?: boolean
  /** Why an invalid or failed file was not uploaded, as a kind: FileResult.reasonKind. */
  reasonKind?: string
}

/** A record for each matched file, in the order matched. */
export function runFiles(matched: readonly { path: string; displayPath: string }[]): RunFile[] {
  return matched.map((file) => ({ file, inspected: null, result: null }))
}

/** The result of a file whose fate is `outcome`, with the problems its checks found. */
export function resultOf(
  file: { displayPath: string },
  inspected: InspectedFile | null,
  outcome: Outcome
): FileResult {
  return {
    path: file.displayPath,
    sceneUuid: inspected?.sceneUuid ?? null,
    status: outcome.status,
    predictionUuid: outcome.predictionUuid ?? null,
    attempts: outcome.attempts ?? 0,
    possibleDuplicate: outcome.possibleDuplicate ?? false,
    error: outcome.error ?? null,
    contentSha256: inspected?.contentSha256 ?? null,
    problems: (outcome.fatalAsProblems ? inspected?.fatal : inspected?.problems) ?? [],
    moreProblems: inspected?.moreProblems ?? 0,
    ...(outcome.reasonKind ? { reasonKind: outcome.reasonKind } : {})
  }
}

/**
 * Positions of checked files without fatal problems that share a scene with another, grouped by scene in
 * the order of each scene's first file, each group in file order.
 */
export function duplicateScenes(files: readonly RunFile[]): number[][] {
  const byScene = new Map<string, number[]>()
  files.forEach(({ inspected }, index) => {
    if (!inspected || inspected.fatal.length > 0 || inspected.sceneUuid === null) return
    const group = byScene.get(inspected.sceneUuid)
    if (group) group.push(index)
    else byScene.set(inspected.sceneUuid, [index])
  })
  return [...byScene.values()].filter((group) => group.length > 1)
}

/** Every file's result in order; a file whose fate was never set was not attempted, for `notAttempted`. */
export function finalResults(files: readonly RunFile[], notAttempted: string): FileResult[] {
  return files.map(
    ({ file, inspected, result }) =>
      result ?? resultOf(file, inspected, { status: 'not-attempted', error: notAttempted })
  )
}
