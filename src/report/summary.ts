// The job summary: what someone opens after the run. Self-contained GitHub-flavoured markdown and HTML so
// the same text serves as a pull-request comment. Everything that came from a file or the server is
// escaped; the whole stays under a byte limit (GitHub refuses a step summary over 1 MiB).
import type { FileResult, Problem } from '../types.js'
import { escapeMarkdownCell, safeUrl } from './escape.js'
import { formatCount, formatDuration, formatRate, withoutOwnName } from './format.js'
import {
  failureKinds,
  noObjectsNote,
  reasonKindOf,
  verdict,
  type FailureKind,
  type RunReport
} from './model.js'
import { statisticsSection } from './statistics.js'

/** Below GitHub's 1 MiB so the caller has room for a line of its own. */
export const DEFAULT_SUMMARY_MAX_BYTES = 1_000_000
export const DEFAULT_SUMMARY_HEADING = 'Kognic predictions upload'

export interface SummaryOptions {
  /** UTF-8 bytes the output never exceeds. Default 1,000,000; a pull-request comment wants ~60,000. */
  maxBytes?: number
  /** Markdown heading; '' for none. Escaped. */
  heading?: string
  /** Where the results file was written: named where rows had to be left out. */
  resultsFile?: string | null
  /**
   * Where a reader finds every file instead of a local path (a pull-request comment links the workflow
   * run's summary: the results file stays on the runner).
   */
  everyFileAt?: { label: string; url: string } | null
  /** The results file is in RUNNER_TEMP, which the runner empties after the job: say how to keep it. */
  resultsFileTemporary?: boolean
  /** Dry run: most file → scene rows listed before "and N more". Default 1,000. */
  maxDryRunRows?: number
}

// Characters kept of each piece of outside text; long enough to tell things apart, short enough for a table.
const PATH_CHARS = 200
const SCENE_CHARS = 80
const REASON_CHARS = 300
const FATAL_CHARS = 1000
const WARNING_CHARS = 300
const MAX_WARNINGS = 20
const MAX_LISTED_SKIPPED = 10
const MAX_LISTED_DUPLICATES = 10
const MAX_PROBLEM_KINDS = 50
const EXAMPLES_PER_KIND = 3
/** Files listed per kind below the "by kind" table of the files not uploaded. */
const FILES_PER_KIND = 20
/** A `<details>` block starts open when it has at most this many rows. */
const OPEN_WHEN_AT_MOST = 10
const DEFAULT_DRY_RUN_ROWS = 1000

const md = escapeMarkdownCell
const n = formatCount

export function renderSummary(report: RunReport, opts: SummaryOptions = {}): string {
  const maxBytes = Math.max(0, Math.floor(opts.maxBytes ?? DEFAULT_SUMMARY_MAX_BYTES))
  const heading = opts.heading ?? DEFAULT_SUMMARY_HEADING
  const elsewhere = opts.everyFileAt ? safeUrl(opts.everyFileAt.url) : null
  const hint = elsewhere
    ? `Every file is listed in [${md(opts.everyFileAt!.label, 80)}](${elsewhere}).`
    : opts.resultsFile
      ? `Every file is listed in <code>${md(opts.resultsFile, PATH_CHARS)}</code>.`
      : 'The results file lists every file.'

  const head = [
    heading ? `## ${md(heading, 120)}` : '',
    statusLine(report),
    overview(report),
    countsTable(report),
    notes(report),
    // What the model predicted (and how it changed): a quarter of the space at most.
    statisticsSection(report.statistics, report.comparison, Math.floor(maxBytes / 4))
  ].filter((part) => part !== '')
  const footer = elsewhere
    ? `<sub>${hint}</sub>`
    : opts.resultsFile
      ? `<sub>Results for every file: <code>${md(opts.resultsFile, PATH_CHARS)}</code>${opts.resultsFileTemporary ? ' (in RUNNER_TEMP, which is emptied after the job: keep it with <code>actions/upload-artifact</code>)' : ''}</sub>`
      : ''

  const joined = (parts: string[]): string => `${parts.filter((part) => part !== '').join('\n\n')}\n`
  // Sections are given the space left in order of how much a reader needs them: the validation table is
  // short (one row per kind), the failures come next, the dry-run listing last.
  let remaining = maxBytes - bytes(joined([...head, footer])) - 3 * SEPARATOR_BYTES
  const validation = validationSection(report, remaining, hint)
  remaining -= bytes(validation)
  const failures = failuresSection(report, remaining, hint)
  remaining -= bytes(failures)
  const dryRunFiles = report.dryRun
    ? dryRunSection(report, remaining, hint, opts.maxDryRunRows ?? DEFAULT_DRY_RUN_ROWS)
    : ''

  const out = joined([...head, failures, validation, dryRunFiles, footer])
  if (bytes(out) <= maxBytes) return out
  // Only when the limit is too small for even the fixed part: keep the heading and status, cut the rest.
  const note = `\n\n_The summary was cut to fit ${n(maxBytes)} bytes. ${hint}_\n`
  const essentials = joined(head.slice(0, 2)).trimEnd()
  return bytes(essentials) + bytes(note) <= maxBytes ? essentials + note : fitBytes(essentials, maxBytes)
}

const SEPARATOR_BYTES = 2

function statusLine(report: RunReport): string {
  const { ok, text } = verdict(report)
  const c = report.counts
  const icon =
    report.cancelled || report.fatalError
      ? '⛔'
      : report.dryRun
        ? ok
          ? '🧪'
          : '❌'
        : c.matched === 0
          ? '⚠️'
          : ok
            ? '✅'
            : '❌'
  const stopped = report.fatalError && !report.cancelled ? 'Stopped: ' : ''
  // The verdict's first line in bold; the lines after it (an input error's problems, the tally) each their
  // own, so two sentences never run together.
  const [first = '', ...rest] = text.split('\n')
  const parts = [`${icon} **${stopped}${md(first, FATAL_CHARS)}**`]
  let inList = false
  for (const line of rest) {
    const item = /^\s*- (.*)$/.exec(line)
    // `*`, not `-`: a list of its own, not merged with the overview's `-` list after it.
    const shown = item ? `* ${md(item[1]!, FATAL_CHARS)}` : md(line, FATAL_CHARS)
    if (item && inList) parts[parts.length - 1] += `\n${shown}`
    else parts.push(shown)
    inList = item !== null
  }
  return parts.join('\n\n')
}

function overview(report: RunReport): string {
  const durationMs = report.finishedAt - report.startedAt
  const speed = uploadSpeed(report)
  const dataset = `<code>${md(report.datasetUuid, 100)}</code>`
  // Only what the run knows: a run stopped by its inputs has no dataset, group or validation to show.
  const group = groupText(report)
  const lines = [
    report.datasetUuid
      ? `- **Dataset:** ${report.datasetName ? `${md(report.datasetName, 120)} (${dataset})` : dataset}`
      : '',
    group ? `- **Predictions group:** ${group}` : '',
    report.filesSearched === false ? '' : `- **Validation:** ${md(report.validation, 20)}`,
    // The rate is the upload phase's, so it is said with that phase's own time, not the run's.
    `- **Duration:** ${formatDuration(durationMs)}${speed ? ` (upload ${formatDuration(report.uploadMs ?? durationMs)}, ${speed})` : ''}`
  ]
  // Coverage, when the annotations listing told which scenes have annotations.
  const missing = report.scenesWithoutPrediction
  if (typeof missing === 'number') {
    const of = typeof report.annotatedScenes === 'number' ? ` of ${n(report.annotatedScenes)}` : ''
    lines.push(`- **Annotated scenes without a prediction:** ${n(missing)}${of}`)
  }
  const run = runText(report)
  if (run) lines.push(`- **Workflow run:** ${run}`)
  return lines.filter((line) => line !== '').join('\n')
}

/** Files per second over the upload phase: the one speed the log's last progress line shows too. */
export function uploadSpeed(report: RunReport): string | null {
  if (report.dryRun || report.counts.uploaded === 0) return null
  return formatRate(report.counts.uploaded, report.uploadMs ?? report.finishedAt - report.startedAt)
}

const GROUP_STATE_TEXT: Record<RunReport['group']['state'], string> = {
  found: 'existing group',
  created: 'created by this run',
  'would-create': 'would be created (dry run)',
  unresolved: 'not resolved'
}

/** null when the run never learnt which group (the inputs could not be read). */
function groupText(report: RunReport): string | null {
  const { uuid, name, state } = report.group
  const uuidCode = uuid ? `<code>${md(uuid, 100)}</code>` : null
  if (!name && !uuidCode) return null
  const label = name ? md(name, 120) : uuidCode!
  const url = safeUrl(report.groupUrl)
  const linked = url ? `[${label}](${url})` : label
  const withUuid = name && uuidCode ? `${linked} (${uuidCode})` : linked
  return `${withUuid} — ${GROUP_STATE_TEXT[state] ?? md(String(state), 30)}`
}

function runText(report: RunReport): string | null {
  const run = report.run
  if (!run) return null
  const sha = run.sha ? md(run.sha.slice(0, 7), 7) : null
  const repo = run.repository ? md(run.repository, 140) : null
  const label = repo && sha ? `${repo}@${sha}` : (repo ?? sha ?? 'workflow run')
  const url = safeUrl(run.url)
  if (!url && !repo && !sha) return null
  return url ? `[${label}](${url})` : label
}

function countsTable(report: RunReport): string {
  // Files never looked for have no counts: the status line says what stopped the run first.
  if (report.filesSearched === false) return '_No files were looked for: the run stopped before that._'
  const c = report.counts
  const rows: [string, number][] = [['Matched', c.matched]]
  rows.push(report.dryRun ? ['Would upload', c.wouldUpload] : ['Uploaded', c.uploaded])
  // resume-from: done by an earlier run, not failed; and the files uploaded twice because they changed.
  if (c.alreadyUploaded > 0) rows.push(['Already uploaded (an earlier run)', c.alreadyUploaded])
  if (c.changedSinceUpload > 0)
    rows.push(['Uploaded again (changed since an earlier run)', c.changedSinceUpload])
  rows.push([report.dryRun ? 'Would not upload' : 'Not uploaded', c.notUploaded])
  // The parts of "not uploaded", each only when there is some: they add up to it.
  if (c.invalid > 0) rows.push(['↳ invalid', c.invalid])
  if (c.uploadFailed > 0) rows.push(['↳ failed to upload', c.uploadFailed])
  if (c.notAttempted > 0) rows.push(['↳ not attempted', c.notAttempted])
  if (c.possibleDuplicates > 0) rows.push(['Possibly stored twice', c.possibleDuplicates])
  if (report.skipped.length > 0) rows.push(['Skipped (not prediction files)', report.skipped.length])
  return [
    '| Files | Count |',
    '| :-- | --: |',
    ...rows.map(([label, count]) => `| ${label} | ${n(count)} |`)
  ].join('\n')
}

function notes(report: RunReport): string {
  const c = report.counts
  const lines: string[] = []
  const waited = report.waitedMs ?? 0
  if (c.retries > 0 || waited > 0) {
    const retried =
      c.retries > 0
        ? `${n(c.retries)} ${c.retries === 1 ? 'retry' : 'retries'} (a request sent again after a rate limit, server error or dropped connection)`
        : 'No retries'
    const wait =
      waited > 0
        ? `; ${formatDuration(waited)} spent waiting before retries and after "too many requests"`
        : ''
    lines.push(`- 🔁 ${retried}${wait}.`)
  }
  if (c.possibleDuplicates > 0) {
    // Only the files listed are rendered: the rest are counted.
    const shown: string[] = []
    let files = 0
    for (const result of report.results) {
      if (!result.possibleDuplicate) continue
      if (files++ < MAX_LISTED_DUPLICATES)
        shown.push(`${md(result.path, PATH_CHARS)} (${md(result.sceneUuid ?? '?', SCENE_CHARS)})`)
    }
    lines.push(
      `- ⚠️ ${n(c.possibleDuplicates)} ${c.possibleDuplicates === 1 ? 'upload' : 'uploads'} may be stored twice: ` +
        `an attempt may have reached Kognic before it was retried. Check these scenes in Kognic: ` +
        listFirst(shown, files)
    )
  }
  if (report.skipped.length > 0) {
    const count = report.skipped.length
    lines.push(
      `- ${n(count)} matched ${count === 1 ? 'path was' : 'paths were'} skipped, not being prediction files: ` +
        listSome(
          report.skipped.map((skip) => `${md(skip.displayPath, PATH_CHARS)} (${md(skip.reason, 100)})`),
          MAX_LISTED_SKIPPED
        )
    )
  }
  const noObjects = noObjectsNote(report.results)
  if (noObjects) lines.push(`- ⚠️ ${noObjects}`)
  const warnings = report.warnings ?? []
  for (const warning of warnings.slice(0, MAX_WARNINGS)) lines.push(`- ⚠️ ${md(warning, WARNING_CHARS)}`)
  if (warnings.length > MAX_WARNINGS) lines.push(`- …and ${n(warnings.length - MAX_WARNINGS)} more warnings.`)
  return lines.join('\n')
}

function listSome(items: string[], max: number): string {
  return listFirst(items.slice(0, max), items.length)
}

/** `shown`, the first of `total` items, and how many more there are. */
function listFirst(shown: string[], total: number): string {
  const text = shown.join(', ')
  return total > shown.length ? `${text} and ${n(total - shown.length)} more.` : `${text}.`
}

function failuresSection(report: RunReport, budget: number, hint: string): string {
  // Files the run never reached share one reason: one line for them all, not a row each.
  const listed = (result: FileResult): boolean => result.status === 'failed' || result.status === 'invalid'
  let total = 0
  let sceneNeeded = false
  const notAttempted = new Map<string, number>()
  for (const result of report.results) {
    if (result.status === 'not-attempted') {
      const why = result.error ?? 'the run stopped before uploading'
      notAttempted.set(why, (notAttempted.get(why) ?? 0) + 1)
    }
    if (!listed(result)) continue
    total++
    if (result.sceneUuid && !isNamedAfterScene(result)) sceneNeeded = true
  }
  const unreached = [...notAttempted].map(
    ([why, count]) =>
      `**${n(count)} ${count === 1 ? 'file' : 'files'} not attempted:** ${md(lowerFirst(why), REASON_CHARS)}`
  )
  if (total === 0) return unreached.join('\n\n')
  const title = report.dryRun ? 'Files that would not be uploaded' : 'Files not uploaded'
  // Many files with one problem read as one row here, not hundreds below.
  const kinds = failureKinds(report.results)
  const byKind = kinds.length < total ? kindsTable(kinds, title, budget, hint) : ''
  // With the kinds table above, each kind lists its first few files: the summary grows with the kinds,
  // not the files.
  const perKind = byKind ? FILES_PER_KIND : Number.POSITIVE_INFINITY
  const ofKind = new Map<string, number>()
  const shown = report.results.filter((result) => {
    if (!listed(result)) return false
    const kind = reasonKindOf(result)
    const seen = ofKind.get(kind) ?? 0
    ofKind.set(kind, seen + 1)
    return seen < perKind
  })
  const listedRows = shown.length
  function* rows(): Generator<string> {
    for (const result of shown) {
      const scene = sceneNeeded ? ` ${sceneCell(result)} |` : ''
      yield `| ${md(result.path, PATH_CHARS)} |${scene} ${failureReason(result)} |`
    }
  }
  const perKindNote = listedRows < total ? `, the first ${n(FILES_PER_KIND)} of each kind` : ''
  const table = detailsTable(
    {
      summary: `${title} (${n(total)}${perKindNote})`,
      header: sceneNeeded
        ? '| File | Scene | Reason |\n| --- | --- | --- |'
        : '| File | Reason |\n| --- | --- |',
      rows: rows(),
      totalRows: listedRows,
      maxRows: Number.POSITIVE_INFINITY,
      noun: 'files',
      // Rows left out by the per-kind limit are said, not silently dropped.
      alsoOmitted: total - listedRows
    },
    budget - bytes(byKind) - bytes(unreached.join('\n\n')) - 2 * SEPARATOR_BYTES,
    hint
  )
  return [byKind, table, ...unreached].filter((part) => part !== '').join('\n\n')
}

/** The "by kind" table of the files not uploaded: kind, files (and problems when more), severity, first file. */
function kindsTable(kinds: FailureKind[], title: string, budget: number, hint: string): string {
  const showProblems = kinds.some((kind) => kind.problems !== kind.files)
  const rows = kinds.map(
    (kind) =>
      `| <code>${md(kind.kind, 60)}</code> | ${n(kind.files)} |${showProblems ? ` ${n(kind.problems)} |` : ''} ${kind.severity} | ${md(kind.firstFile, PATH_CHARS)} |`
  )
  const header = showProblems
    ? '| Kind | Files | Problems | Severity | First file |\n| --- | --: | --: | --- | --- |'
    : '| Kind | Files | Severity | First file |\n| --- | --: | --- | --- |'
  const table: string[] = [`**${title}, by kind:**`, '', header]
  let used = bytes(table.join('\n'))
  let shown = 0
  for (const row of rows.slice(0, MAX_PROBLEM_KINDS)) {
    if (used + bytes(row) + 1 > budget / 2) break
    table.push(row)
    used += bytes(row) + 1
    shown++
  }
  if (shown === 0) return ''
  if (shown < rows.length) table.push('', `_…and ${n(rows.length - shown)} more kinds not shown. ${hint}_`)
  return table.join('\n')
}

/** The scene is in the file's name (an OpenLABEL file named <scene>.json): a Scene column would repeat it. */
function isNamedAfterScene(result: FileResult): boolean {
  const name = result.path.slice(result.path.lastIndexOf('/') + 1)
  return result.sceneUuid !== null && name.toLowerCase() === `${result.sceneUuid.toLowerCase()}.json`
}

function lowerFirst(text: string): string {
  return text.replace(/^Not uploaded: /, '').replace(/^./, (ch) => ch.toLowerCase())
}

/** The reason a file was not uploaded, escaped; our own words are added after escaping. */
function failureReason(result: FileResult): string {
  const invalid =
    result.status === 'invalid' ? 'Invalid: ' : result.status === 'failed' ? 'Upload failed: ' : ''
  if (result.error) return `${invalid}${md(withoutOwnName(result.error, result.path), REASON_CHARS)}`
  const first = result.problems[0]
  if (first) {
    const others = result.problems.length - 1 + (result.moreProblems ?? 0)
    const more = others > 0 ? ` (and ${n(others)} more ${others === 1 ? 'problem' : 'problems'})` : ''
    const where = first.jsonPath ? ` at <code>${md(first.jsonPath, 120)}</code>` : ''
    return `Invalid: ${md(first.message, REASON_CHARS)}${where}${more}`
  }
  return result.status === 'invalid' ? 'Invalid (no reason recorded)' : 'Upload failed (no reason recorded)'
}

function sceneCell(result: FileResult): string {
  return result.sceneUuid ? md(result.sceneUuid, SCENE_CHARS) : '—'
}

interface ProblemKind {
  kind: string
  problems: number
  files: number
  examples: { path: string; problem: Problem }[]
}

function validationSection(report: RunReport, budget: number, hint: string): string {
  const kinds = new Map<string, ProblemKind>()
  let filesWithProblems = 0
  let unlisted = 0
  for (const result of report.results) {
    // An invalid file is listed with its problems among the files not uploaded: once is enough.
    if (result.status === 'invalid') continue
    unlisted += result.moreProblems ?? 0
    if (result.problems.length > 0) filesWithProblems++
    const seenInThisFile = new Set<string>()
    for (const problem of result.problems) {
      let entry = kinds.get(problem.kind)
      if (!entry) {
        entry = { kind: problem.kind, problems: 0, files: 0, examples: [] }
        kinds.set(problem.kind, entry)
      }
      entry.problems++
      if (!seenInThisFile.has(problem.kind)) {
        seenInThisFile.add(problem.kind)
        entry.files++
        // One example per file, so three examples show three files rather than one file three times.
        if (entry.examples.length < EXAMPLES_PER_KIND) entry.examples.push({ path: result.path, problem })
      }
    }
  }
  if (kinds.size === 0) return ''
  // Most frequent first; ties by name so the order never depends on which file finished first.
  const sorted = [...kinds.values()].sort((a, b) => b.problems - a.problems || (a.kind < b.kind ? -1 : 1))
  const totalProblems = sorted.reduce((sum, kind) => sum + kind.problems, 0)
  const consequence =
    report.validation === 'warn'
      ? `validation is warn: ${report.dryRun ? 'these files would still be uploaded' : 'these files were still uploaded'}`
      : `warnings: ${report.dryRun ? 'these files would still be uploaded' : 'these files were still uploaded'}`
  const rows = sorted.map((kind) => {
    const examples = kind.examples.map(({ path, problem }) => {
      const where = problem.jsonPath ? ` at <code>${md(problem.jsonPath, 120)}</code>` : ''
      return `${md(path, 120)}${where}: ${md(problem.message, 200)}`
    })
    return `| <code>${md(kind.kind, 60)}</code> | ${n(kind.problems)} | ${n(kind.files)} | ${examples.join('<br>')} |`
  })
  return detailsTable(
    {
      summary:
        `Problems that did not stop a file: ${n(totalProblems + unlisted)} in ${n(filesWithProblems)} ` +
        `${filesWithProblems === 1 ? 'file' : 'files'} (${consequence})` +
        (unlisted > 0 ? `; the first few per file are counted by kind, ${n(unlisted)} more are not` : ''),
      header: '| Kind | Problems | Files | Examples |\n| --- | --: | --: | --- |',
      rows,
      totalRows: rows.length,
      maxRows: MAX_PROBLEM_KINDS,
      noun: 'kinds of problem'
    },
    budget,
    hint
  )
}

function dryRunSection(report: RunReport, budget: number, hint: string, maxRows: number): string {
  let total = 0
  for (const result of report.results) if (result.status === 'would-upload') total++
  if (total === 0) return ''
  function* rows(): Generator<string> {
    for (const result of report.results) {
      if (result.status === 'would-upload') yield `| ${md(result.path, PATH_CHARS)} | ${sceneCell(result)} |`
    }
  }
  return detailsTable(
    {
      summary: `Files that would be uploaded (${n(total)})`,
      header: '| File | Scene |\n| --- | --- |',
      rows: rows(),
      totalRows: total,
      maxRows: Math.max(0, maxRows),
      noun: 'files'
    },
    budget,
    hint
  )
}

interface DetailsTable {
  /** Safe text for `<summary>`: only our words and numbers. */
  summary: string
  /** The header and delimiter rows. */
  header: string
  rows: Iterable<string>
  totalRows: number
  maxRows: number
  /** What a row is, for "and N more <noun>". */
  noun: string
  /** Rows the caller left out before rendering (not in `totalRows`): counted in the "and N more" note. */
  alsoOmitted?: number
}

/**
 * A table inside `<details>`, with as many rows as fit in `budget` bytes (and at most `maxRows`), then a
 * line saying how many were left out. '' when not even the frame fits.
 */
function detailsTable(table: DetailsTable, budget: number, hint: string): string {
  const open = table.totalRows + (table.alsoOmitted ?? 0) <= OPEN_WHEN_AT_MOST ? ' open' : ''
  const opening = `<details${open}>\n<summary>${table.summary}</summary>\n\n${table.header}\n`
  const closing = '\n\n</details>'
  const omittedNote = (omitted: number, forSize: boolean): string =>
    `\n\n_…and ${n(omitted)} more ${table.noun} not shown${forSize ? ' (the summary has a size limit)' : ''}. ${hint}_`
  let used =
    bytes(opening) + bytes(closing) + bytes(omittedNote(table.totalRows + (table.alsoOmitted ?? 0), true))
  const shown: string[] = []
  let cutForSize = false
  for (const row of table.rows) {
    if (shown.length >= table.maxRows) break
    const size = bytes(row) + 1
    if (used + size > budget) {
      cutForSize = true
      break
    }
    shown.push(row)
    used += size
  }
  const omitted = table.totalRows - shown.length + (table.alsoOmitted ?? 0)
  if (shown.length === 0) {
    const line = `**${table.summary}:** not listed here${cutForSize ? ' (the summary has a size limit)' : ''}. ${hint}`
    return bytes(line) <= budget ? line : ''
  }
  const note = omitted > 0 ? omittedNote(omitted, cutForSize) : ''
  return `${opening}${shown.join('\n')}${note}${closing}`
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** The longest prefix of `text` within `max` UTF-8 bytes, never splitting a character. */
function fitBytes(text: string, max: number): string {
  if (bytes(text) <= max) return text
  let used = 0
  let out = ''
  for (const ch of text) {
    const size = bytes(ch)
    if (used + size > max) break
    out += ch
    used += size
  }
  return out
}
