// The step's annotations, built from the report once the run ends. GitHub shows at most 10 error and 10
// warning annotations per step (50 per job): the overall result comes first, then a few files per level,
// then one notice saying how many more the job summary lists.
import type { AnnotationProps, FileResult } from '../types.js'
import { aboutFile, formatCount } from './format.js'
import type { RunReport } from './model.js'

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  props: AnnotationProps
}

/** With the overall error, ten: GitHub's limit per step and level. */
export const FILE_ANNOTATIONS_PER_LEVEL = 9

/** One annotation per file at fault, at most FILE_ANNOTATIONS_PER_LEVEL per level, then what was left out. */
export function fileAnnotations(report: RunReport): Annotation[] {
  const shown: Annotation[] = []
  const left = { error: 0, warning: 0 }
  const count = { error: 0, warning: 0 }
  for (const result of report.results) {
    const level = levelOf(result)
    if (!level) continue
    if (count[level]++ >= FILE_ANNOTATIONS_PER_LEVEL) {
      left[level]++
      continue
    }
    shown.push(annotationOf(result, level, report.dryRun))
  }
  const more = [
    left.error > 0
      ? `${formatCount(left.error)} more ${left.error === 1 ? 'file' : 'files'} with errors`
      : '',
    left.warning > 0
      ? `${formatCount(left.warning)} more ${left.warning === 1 ? 'file' : 'files'} with warnings`
      : ''
  ].filter((part) => part !== '')
  if (more.length > 0) {
    shown.push({
      level: 'notice',
      message: `${more.join(' and ')} are listed in the job summary and the results file.`,
      props: { title: 'More files' }
    })
  }
  return shown
}

function levelOf(result: FileResult): 'error' | 'warning' | null {
  if (result.status === 'invalid' || result.status === 'failed') return 'error'
  if (result.problems.length > 0) return 'warning'
  return null
}

function annotationOf(result: FileResult, level: 'error' | 'warning', dryRun: boolean): Annotation {
  const first = result.problems[0]
  const where = first?.line
    ? { startLine: first.line, ...(first.column ? { startColumn: first.column } : {}) }
    : {}
  const more = result.moreProblems ? ` (and ${formatCount(result.moreProblems)} more)` : ''
  const problem =
    result.problems.map((p) => `${p.jsonPath ? `${p.jsonPath}: ` : ''}${p.message}`).join('; ') + more
  const title =
    result.status === 'failed'
      ? 'Upload failed'
      : result.status === 'invalid'
        ? dryRun
          ? 'Would not be uploaded'
          : 'Not uploaded'
        : dryRun
          ? 'Warning (would still be uploaded)'
          : 'Warning (uploaded anyway)'
  const reason = level === 'warning' || !result.error ? problem : result.error
  // The raw log shows only the message: it names the file, as the annotation does.
  return { level, message: aboutFile(result.path, reason), props: { title, file: result.path, ...where } }
}
