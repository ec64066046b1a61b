// compare-with: the statistics of earlier runs (a baseline, e.g. the main branch's last run), read back from
// their results files (resume.ts reads them), merged when there are several (the shards of one run), and set
// against this run's. A baseline that cannot be used is one warning, never a stop.
import { readResultsFiles } from './resume.js'
import {
  compareStatistics,
  readStatisticsSection,
  RunStatistics,
  type Comparison,
  type Statistics
} from './predictions/statistics.js'

export interface BaselineAnswer {
  comparison: Comparison | null
  /** Everything that went wrong with the baseline, in one message; null when nothing did. */
  warning: string | null
}

/** Files named in the warning before "and N more". */
const MAX_NAMED = 5

export async function compareWithBaseline(
  patterns: string,
  workspace: string,
  current: Statistics,
  input: string
): Promise<BaselineAnswer> {
  const read = await readResultsFiles(patterns, workspace, input)
  if (read.patternError)
    return { comparison: null, warning: `${read.patternError}. No comparison with a baseline is shown.` }
  const ignored = [...read.ignored]
  const merged = new RunStatistics()
  const used: string[] = []
  for (const { file, content } of read.files) {
    const section = readStatisticsSection(content.statistics)
    if (typeof section === 'string') ignored.push({ file, reason: section })
    else {
      merged.addSection(section)
      used.push(file)
    }
  }
  const listed = ignored.slice(0, MAX_NAMED).map(({ file, reason }) => `${file}: ${reason}`)
  if (ignored.length > MAX_NAMED) listed.push(`and ${ignored.length - MAX_NAMED} more`)
  if (used.length === 0) {
    const why =
      ignored.length === 0
        ? 'matched no results file (was the baseline artifact downloaded to where it looks?)'
        : `found no usable baseline: ${listed.join('; ')}`
    return { comparison: null, warning: `${input} ${why}. No comparison with a baseline is shown.` }
  }
  return {
    comparison: compareStatistics(current, merged.result(), used),
    warning:
      ignored.length > 0 ? `${input}: ignored ${listed.join('; ')}. Compared with ${used.join(', ')}.` : null
  }
}
