// The command line: the action's inputs as options, with the same names, meanings and defaults (INPUT and
// DEFAULTS are the one list), parsed by node:util's parseArgs. Knows nothing of how the run goes.
import { parseArgs } from 'node:util'
import { DEFAULTS, INPUT, type InputName } from '../inputs.js'

export const COMMAND = 'kognic-upload-predictions'

/** Inputs that only mean something inside a GitHub workflow: not options of the command. */
export const GITHUB_ONLY: readonly InputName[] = [INPUT.prComment, INPUT.githubToken]

type CliInput = Exclude<InputName, 'pr-comment' | 'github-token'>

/** What each option takes and means; typed over every input, so a new input cannot be left out. */
const DESCRIPTIONS: Record<CliInput, [value: string, text: string]> = {
  'dataset-uuid': ['UUID', 'the Kognic dataset to upload into (required)'],
  'predictions-group': ['NAME', 'predictions group to find by name, or create'],
  'predictions-group-uuid': ['UUID', 'an existing predictions group (instead of --predictions-group)'],
  'predictions-group-description': ['TEXT', 'description of a group this run creates'],
  'create-group': ['true|false', 'create the group when no group has that name'],
  'class-mapping': ['JSON|FILE', 'segmentation class mapping, inline JSON or a .json file'],
  path: ['PATTERN', 'glob of prediction files, or a folder (its .json files); repeatable; arguments too'],
  'client-id': ['ID', 'Kognic client id (else env KOGNIC_CLIENT_ID)'],
  'client-secret': [
    'SECRET',
    'Kognic client secret (else env KOGNIC_CLIENT_SECRET; avoid on a command line)'
  ],
  credentials: ['JSON|FILE', 'Kognic credentials file or its content (else env KOGNIC_CREDENTIALS)'],
  'api-url': ['URL', 'Kognic dataset API'],
  'auth-url': ['URL', 'Kognic sign-in service'],
  concurrency: ['N', 'uploads at once (1-64; Kognic advises at most 10)'],
  'max-retries': ['N', 'retries of a failed request (0-20)'],
  'request-timeout': ['SECONDS', 'timeout of one request'],
  'max-file-size': ['MiB', 'largest prediction file accepted'],
  validation: ['strict|warn|off', 'what OpenLABEL problems do to a file'],
  'if-no-files-found': ['error|warn|ignore', 'what no matching file does to the run'],
  'dry-run': ['', 'check everything, create and upload nothing'],
  'results-file': ['FILE', 'where the JSON results go (inside the current directory or the temp directory)'],
  'group-link-template': ['URL', 'address of a group in the Kognic app, with {dataset} and {group}'],
  'check-scenes': ['true|false', "check the files' scenes against the dataset's annotations first"],
  'resume-from': [
    'FILE',
    'results file(s) of an earlier run: what they record as uploaded is not sent again'
  ],
  'compare-with': [
    'FILE',
    'results file(s) of an earlier run to compare the prediction statistics with; repeatable'
  ],
  'parallel-jobs': ['N', 'jobs running this at the same time (warns above 10 connections in all)']
}

/** Options of the command's own, beside the inputs. */
const OWN: Record<string, { value: string; text: string }> = {
  json: { value: '', text: 'print the results as JSON on stdout (logs go to stderr)' },
  'summary-file': { value: 'FILE', text: 'write the markdown summary to FILE' },
  junit: { value: 'FILE', text: 'write a JUnit XML report to FILE, one test case per file' },
  help: { value: '', text: 'show this help' },
  version: { value: '', text: 'print the version' }
}

export interface CliOption {
  name: string
  /** '' for a flag. */
  value: string
  text: string
  default?: string
}

/** Every option the command takes, in --help order: the inputs first, as INPUT lists them. */
export const OPTIONS: readonly CliOption[] = [
  ...Object.values(INPUT)
    .filter((name): name is CliInput => !GITHUB_ONLY.includes(name))
    .map((name) => {
      const [value, text] = DESCRIPTIONS[name]
      // An input off by default is a flag: given means 'true'.
      return { name, value, text, default: DEFAULTS[name] === 'false' ? undefined : DEFAULTS[name] }
    }),
  ...Object.entries(OWN).map(([name, o]) => ({ name, ...o }))
]

export const USAGE = `Usage: ${COMMAND} --dataset-uuid UUID (--predictions-group NAME | --predictions-group-uuid UUID) [options] PATTERN...`

export type CommandLine =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string }
  | {
      kind: 'run'
      /** Input name → value as the action would read it ('' = unset). */
      inputs: Partial<Record<InputName, string>>
      json: boolean
      summaryFile: string
      junit: string
    }

export function parseCommandLine(argv: string[]): CommandLine {
  const flags = flagValues(argv)
  if ('message' in flags) return { kind: 'usage-error', message: flags.message }
  let parsed
  try {
    parsed = parseArgs({
      args: flags.rest,
      allowPositionals: true,
      strict: true,
      options: Object.fromEntries(
        OPTIONS.map((o) => [
          o.name,
          {
            type: o.value === '' ? ('boolean' as const) : ('string' as const),
            multiple: o.name === INPUT.path || o.name === INPUT.compareWith
          }
        ])
      )
    })
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return { kind: 'usage-error', message: `${message}${suggestion(message)}` }
  }
  const values = {
    ...(parsed.values as Record<string, string | string[] | boolean | undefined>),
    ...flags.values
  }
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }

  const inputs: Partial<Record<InputName, string>> = {}
  for (const option of OPTIONS) {
    if (!(option.name in DESCRIPTIONS)) continue
    const value = values[option.name]
    if (value === undefined) continue
    inputs[option.name as CliInput] =
      typeof value === 'boolean' ? String(value) : Array.isArray(value) ? value.join('\n') : value
  }
  const patterns = [...((values[INPUT.path] as string[] | undefined) ?? []), ...parsed.positionals]
  inputs[INPUT.path] = patterns.join('\n')
  return {
    kind: 'run',
    inputs,
    json: values.json === true,
    summaryFile: (values['summary-file'] as string | undefined) ?? '',
    junit: (values.junit as string | undefined) ?? ''
  }
}

/** The --help text: every option with its default, from OPTIONS. */
export function helpText(version: string): string {
  const rows = OPTIONS.map((o) => [`--${o.name}${o.value ? ` ${o.value}` : ''}`, o.text, o.default] as const)
  const width = Math.max(...rows.map(([left]) => left.length)) + 2
  const lines = rows.map(
    ([left, text, dflt]) => `  ${left.padEnd(width)}${text}${dflt !== undefined ? ` (default: ${dflt})` : ''}`
  )
  return [
    `${COMMAND} ${version}: upload model prediction files into a Kognic dataset as a predictions group.`,
    '',
    USAGE,
    '',
    "Options (the GitHub Action's inputs, same names and defaults):",
    ...lines,
    '',
    `Not here: ${GITHUB_ONLY.join(', ')} (they only mean something inside a GitHub workflow).`,
    'Patterns and relative paths start at the current directory; matched files must be inside it.',
    'Credentials: --credentials, --client-id/--client-secret, else env KOGNIC_CREDENTIALS (a file)',
    'or KOGNIC_CLIENT_ID + KOGNIC_CLIENT_SECRET.',
    '',
    'Exit codes: 0 every matched file uploaded (or would be, in a dry run); 1 some not uploaded, or the',
    'run stopped; 2 a usage error; 130 interrupted (Ctrl-C), after the report is written.',
    ''
  ].join('\n')
}

const FLAGS = new Set(OPTIONS.filter((o) => o.value === '').map((o) => o.name))

/**
 * A flag takes `--flag=true|false`; a bare `true`/`false` after it would be taken as a pattern, so it is
 * refused. Returns the flags given so and the arguments left for parseArgs.
 */
function flagValues(
  argv: string[]
): { rest: string[]; values: Record<string, boolean> } | { message: string } {
  const rest: string[] = []
  const values: Record<string, boolean> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      rest.push(...argv.slice(i))
      break
    }
    const flag = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg)
    if (!flag || !FLAGS.has(flag[1]!)) {
      rest.push(arg)
      continue
    }
    const [, name, value] = flag
    if (value !== undefined) {
      if (!/^(true|false)$/i.test(value))
        return { message: `--${name}=${value}: give --${name}=true or --${name}=false, or --${name} alone` }
      values[name!] = value.toLowerCase() === 'true'
      continue
    }
    const next = argv[i + 1]
    if (next !== undefined && /^(true|false)$/i.test(next))
      return {
        message: `--${name} takes no value: "${next}" would be read as a pattern. Write --${name}=${next.toLowerCase()}, or --${name} alone for true`
      }
    values[name!] = true
  }
  return { rest, values }
}

/** ` Did you mean --dry-run?` for an unknown option close to a known one; '' otherwise. */
function suggestion(parseError: string): string {
  const unknown = /Unknown option '--([^'=]+)/.exec(parseError)?.[1]
  if (!unknown) return ''
  let best = ''
  let bestDistance = Infinity
  for (const { name } of OPTIONS) {
    const distance = editDistance(unknown, name)
    if (distance < bestDistance) [best, bestDistance] = [name, distance]
  }
  return bestDistance <= Math.max(2, Math.floor(unknown.length / 4)) ? ` Did you mean --${best}?` : ''
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++)
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    previous = current
  }
  return previous[b.length]!
}
