// The command: parses the command line, wires the terminal to the flow in main.ts, and writes what the
// machine asked for (--json, --summary-file, --junit). The flow knows nothing of it.
import { mkdir, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { maskAll } from '../credentials.js'
import { INPUT, InputError, readInputs, type InputName } from '../inputs.js'
import { run, type RunDeps } from '../main.js'
import { terminalText } from '../report/escape.js'
import { formatCount, formatDuration } from '../report/format.js'
import { failureKinds, type RunReport } from '../report/model.js'
import { fileEntry, resultsHeader } from '../report/results.js'
import { statisticsText } from '../report/statistics.js'
import { renderSummary } from '../report/summary.js'
import { renderJUnit } from './junit.js'
import { COMMAND, helpText, OPTIONS, parseCommandLine, USAGE } from './options.js'
import { colourer, createTerminal, Secrets, type Stream } from './terminal.js'

export const EXIT = { ok: 0, notUploaded: 1, usage: 2, interrupted: 130 } as const

export interface CliDeps {
  argv: string[]
  env: Record<string, string | undefined>
  cwd: string
  stdout: Stream
  stderr: Stream
  version: string
  onCancel?: RunDeps['onCancel']
}

export async function runCli(deps: CliDeps): Promise<number> {
  const { env, stderr } = deps
  const command = parseCommandLine(deps.argv)
  if (command.kind === 'help') {
    deps.stdout.write(helpText(deps.version))
    return EXIT.ok
  }
  if (command.kind === 'version') {
    deps.stdout.write(`${deps.version}\n`)
    return EXIT.ok
  }
  const red = colourer(stderr, env)
  const usageError = (problems: string[]): number => {
    stderr.write(
      `${problems.map((p) => `${red('red', 'error:')} ${p}`).join('\n')}\n${USAGE}\nRun ${COMMAND} --help for every option.\n`
    )
    return EXIT.usage
  }
  if (command.kind === 'usage-error') return usageError([command.message])

  command.inputs[INPUT.path] = await folderPatterns(command.inputs[INPUT.path] ?? '', deps.cwd)
  const secrets = new Secrets()
  const given = (name: InputName): string => command.inputs[name] ?? ''
  // Secrets are known before anything can print: an error message must not carry them.
  maskAll((s) => secrets.add(s), given(INPUT.clientSecret), given(INPUT.credentials))
  // A bad value is a usage error: the same checks as the run's, before anything starts.
  try {
    readInputs(given)
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    return usageError(error.problems.map((p) => secrets.redact(asOptions(p))))
  }

  const { io, record, clearProgress } = createTerminal({
    out: command.json ? stderr : deps.stdout,
    err: stderr,
    env,
    secrets,
    getInput: (name) => command.inputs[name as InputName] ?? ''
  })
  const onCommandLine = [
    given(INPUT.clientSecret) && `--${INPUT.clientSecret}`,
    given(INPUT.credentials).trim().startsWith('{') && `--${INPUT.credentials} with inline JSON`
  ].filter(Boolean)
  if (onCommandLine.length > 0)
    io.logger.warning(
      `${onCommandLine.join(' and ')} on the command line: it lands in shell history and process lists. Set env KOGNIC_CLIENT_SECRET, or KOGNIC_CREDENTIALS to the credentials file, instead.`
    )

  const report = await run({
    io,
    env,
    workspace: deps.cwd,
    onCancel: deps.onCancel,
    // Messages name the option to change, not the action's input.
    nameInput: (name) => `--${name}`
  })
  // The verdict below is the last word: no progress line is left above or under it.
  clearProgress()
  const resultsFile = record.outputs['results-file'] || null
  const clean = (text: string): string => secrets.redact(text)

  let writeProblem = false
  const writeReport = async (option: string, file: string, text: string): Promise<void> => {
    const target = path.resolve(deps.cwd, file)
    try {
      await mkdir(path.dirname(target), { recursive: true })
      await writeFile(target, text)
      io.logger.info(`${option}: written to ${target}.`)
    } catch (error) {
      writeProblem = true
      io.logger.error(
        `${option}: could not write ${target}: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  }
  if (command.summaryFile)
    await writeReport('--summary-file', command.summaryFile, clean(renderSummary(report, { resultsFile })))
  if (command.junit) await writeReport('--junit', command.junit, renderJUnit(report, clean))

  const out = command.json ? stderr : deps.stdout
  const statistics = statisticsText(report.statistics, report.comparison)
  if (statistics) out.write(`\n${clean(statistics)}`)
  out.write(kindsText(report, clean))
  out.write(verdict(report, record.failures.length === 0 && !writeProblem, colourer(out, env), clean))
  if (command.json) {
    const results = { ...resultsHeader(report), files: Array.from(report.results, fileEntry) }
    deps.stdout.write(
      `${JSON.stringify(results, (_key, value: unknown) => (typeof value === 'string' ? clean(value) : value), 2)}\n`
    )
  }

  if (report.cancelled) return EXIT.interrupted
  return record.failures.length > 0 || writeProblem ? EXIT.notUploaded : EXIT.ok
}

/** A problem as the inputs name it (`dataset-uuid: …`), with the names it starts with as options. */
function asOptions(problem: string): string {
  const names = new Set(OPTIONS.map((o) => o.name))
  return problem.replace(/^[^:]*/, (head) =>
    head.replace(/[a-z][a-z-]*[a-z]/g, (w) => (names.has(w) ? `--${w}` : w))
  )
}

/**
 * A pattern that names a folder (no wildcard) means the .json files anywhere under it, as a person on a
 * command line means it; the action's path input takes every file under it, as @actions/glob does.
 */
export async function folderPatterns(patterns: string, cwd: string): Promise<string> {
  const lines = await Promise.all(
    patterns.split('\n').map(async (pattern) => {
      if (pattern === '' || /[*?[\]{}!]/.test(pattern)) return pattern
      const isFolder = await stat(path.resolve(cwd, pattern)).then(
        (s) => s.isDirectory(),
        () => false
      )
      return isFolder ? `${pattern.replace(/[/\\]+$/, '')}/**/*.json` : pattern
    })
  )
  return lines.join('\n')
}

/** Kinds shown in the digest of the files not uploaded; the rest are counted. */
const MAX_KINDS_SHOWN = 10

/**
 * The files not uploaded by kind, most first, when some kind has several: many files with one problem
 * read as one line here, as in the job summary's table, not as one line each scrolled past.
 */
function kindsText(report: RunReport, clean: (text: string) => string): string {
  const kinds = failureKinds(report.results)
  const files = kinds.reduce((sum, kind) => sum + kind.files, 0)
  if (kinds.length === files) return ''
  const width = formatCount(kinds[0]!.files).length
  const kindWidth = Math.max(...kinds.slice(0, MAX_KINDS_SHOWN).map((kind) => kind.kind.length))
  const lines = kinds
    .slice(0, MAX_KINDS_SHOWN)
    .map(
      (kind) =>
        `  ${formatCount(kind.files).padStart(width)}  ${kind.kind.padEnd(kindWidth)}  ${kind.severity}, first: ${kind.firstFile}`
    )
  const more = kinds.length - MAX_KINDS_SHOWN
  if (more > 0) lines.push(`  …and ${formatCount(more)} more kind(s)`)
  const title = report.dryRun ? 'Would not be uploaded' : 'Not uploaded'
  return `\n${title}, by kind (${formatCount(files)} file(s)):\n${terminalText(clean(lines.join('\n')))}\n`
}

/** The verdict and the counts, as the job summary gives them, as text. */
function verdict(
  report: RunReport,
  ok: boolean,
  colour: ReturnType<typeof colourer>,
  clean: (text: string) => string
): string {
  const c = report.counts
  const head = report.cancelled
    ? colour('red', '✗ Cancelled')
    : !ok
      ? colour('red', '✗ Failed')
      : report.dryRun
        ? colour('green', '✓ Dry run passed')
        : colour('green', '✓ Uploaded')
  const counts = [
    `${formatCount(c.matched)} matched`,
    report.dryRun ? `${formatCount(c.wouldUpload)} would be uploaded` : `${formatCount(c.uploaded)} uploaded`,
    ...(c.alreadyUploaded > 0 ? [`${formatCount(c.alreadyUploaded)} uploaded before`] : []),
    `${formatCount(c.notUploaded)} not uploaded (${formatCount(c.invalid)} invalid, ${formatCount(c.uploadFailed)} failed to upload, ${formatCount(c.notAttempted)} not attempted)`,
    ...(c.possibleDuplicates > 0 ? [`${formatCount(c.possibleDuplicates)} possible duplicate(s)`] : []),
    `${formatCount(c.retries)} retries`
  ].join(' · ')
  const { name, uuid } = report.group
  const group =
    name || uuid ? `\nPredictions group: ${[name && `"${name}"`, uuid].filter(Boolean).join(' ')}` : ''
  return `\n${colour('bold', head)}: ${counts} in ${formatDuration(report.finishedAt - report.startedAt)}${terminalText(clean(group))}\n`
}
