// The action's inputs: read once, validated as a whole, returned as one typed object. Every problem is
// reported at once, each naming its input and saying how to fix it.
import { z } from 'zod'
import { MAX_CHECKABLE_BYTES } from './predictions/inspect.js'
import { UUID_PATTERN } from './guards.js'
import { isLoopbackHost } from './net.js'

export const INPUT = {
  datasetUuid: 'dataset-uuid',
  group: 'predictions-group',
  groupUuid: 'predictions-group-uuid',
  groupDescription: 'predictions-group-description',
  createGroup: 'create-group',
  classMapping: 'class-mapping',
  path: 'path',
  clientId: 'client-id',
  clientSecret: 'client-secret',
  credentials: 'credentials',
  apiUrl: 'api-url',
  authUrl: 'auth-url',
  concurrency: 'concurrency',
  maxRetries: 'max-retries',
  requestTimeout: 'request-timeout',
  maxFileSize: 'max-file-size',
  validation: 'validation',
  ifNoFilesFound: 'if-no-files-found',
  dryRun: 'dry-run',
  resultsFile: 'results-file',
  prComment: 'pr-comment',
  groupLinkTemplate: 'group-link-template',
  githubToken: 'github-token',
  checkScenes: 'check-scenes',
  resumeFrom: 'resume-from',
  compareWith: 'compare-with',
  parallelJobs: 'parallel-jobs'
} as const

export type InputName = (typeof INPUT)[keyof typeof INPUT]

/**
 * How messages name an input: the action says `max-file-size` (the default), the command line
 * `--max-file-size`. Every message that tells the user which setting to change names it through this.
 */
export type NameInput = (name: InputName) => string
export const asInputName: NameInput = (name) => name

/** Defaults as action.yml declares them; a test keeps the two equal. */
export const DEFAULTS: Partial<Record<InputName, string>> = {
  [INPUT.createGroup]: 'true',
  [INPUT.apiUrl]: 'https://dataset.app.kognic.com',
  [INPUT.authUrl]: 'https://auth.app.kognic.com',
  [INPUT.concurrency]: '10',
  [INPUT.maxRetries]: '5',
  [INPUT.requestTimeout]: '120',
  [INPUT.maxFileSize]: '100',
  [INPUT.validation]: 'strict',
  [INPUT.ifNoFilesFound]: 'error',
  [INPUT.dryRun]: 'false',
  [INPUT.prComment]: 'false',
  [INPUT.checkScenes]: 'true',
  [INPUT.parallelJobs]: '1'
}

/** Kognic advises at most this many concurrent connections. */
export const ADVISED_MAX_CONCURRENCY = 10
/** The checks read a file as one string: V8's longest string (512 MiB less a little) sets the ceiling. */
export const MAX_FILE_SIZE_MIB = Math.floor(MAX_CHECKABLE_BYTES / (1024 * 1024))

export type GroupRef = { kind: 'name'; name: string } | { kind: 'uuid'; uuid: string }

export interface Inputs {
  datasetUuid: string
  group: GroupRef
  groupDescription: string
  createGroup: boolean
  /** Raw class-mapping input: inline JSON or a workspace path; parsed with the files' help later. */
  classMapping: string
  patterns: string
  apiUrl: string
  authUrl: string
  concurrency: number
  maxRetries: number
  requestTimeoutMs: number
  maxFileSizeBytes: number
  validation: 'strict' | 'warn' | 'off'
  ifNoFilesFound: 'error' | 'warn' | 'ignore'
  dryRun: boolean
  resultsFile: string
  prComment: boolean
  /** Address of a group in the Kognic app, with {dataset} and {group} placeholders; '' for no link. */
  groupLinkTemplate: string
  /** Token for the pull-request comment; the runner fills in github.token by default. */
  githubToken: string
  /** List the dataset's annotated scenes first, and report files whose scene has none. */
  checkScenes: boolean
  /** Patterns of results files from earlier runs: files they say were uploaded are not uploaded again. */
  resumeFrom: string
  /** Patterns of results files from earlier runs whose statistics this run's are compared with. */
  compareWith: string
  /** Jobs running this step at the same time (a matrix): they share Kognic's advice on connections. */
  parallelJobs: number
  /** Advice that does not stop the run (e.g. concurrency above Kognic's advice). */
  warnings: string[]
}

export class InputError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid input: ${problems[0]}`
        : `Invalid inputs (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}`
    )
    this.name = 'InputError'
  }
}

const uuid = z.string().regex(UUID_PATTERN, 'must be a UUID like 0b9c3b4e-8f6a-4c1e-9a57-2f3d1c0e7a11')

const boolean = z.enum(['true', 'True', 'TRUE', 'false', 'False', 'FALSE'], {
  error: () => "must be 'true' or 'false'"
})

/** A whole number in [min, max]; a problem echoes the value given and, when there is one, the advised value. */
function integer(min: number, max: number, advised?: string) {
  const advice = advised ? ` (the default, ${advised}, suits most runs)` : ''
  return z.string().transform((raw, ctx) => {
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN
    if (!(value >= min && value <= max)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number from ${min} to ${max}, got "${raw}"${advice}`
      })
      return z.NEVER
    }
    return value
  })
}

function positiveSeconds(advised: string) {
  return z.string().transform((raw, ctx) => {
    const value = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN
    if (!(value >= 1 && value <= 3600)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a number of seconds from 1 to 3600, got "${raw}" (the default, ${advised}, suits most runs)`
      })
      return z.NEVER
    }
    return value
  })
}

function httpUrl() {
  return z.string().superRefine((raw, ctx) => {
    let url: URL
    try {
      url = new URL(raw)
    } catch {
      ctx.addIssue({ code: 'custom', message: 'is not a URL; give e.g. https://dataset.app.kognic.com' })
      return
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: `must be an https:// URL, not ${url.protocol}` })
    } else if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        message: `http:// is refused for ${url.hostname}: credentials and tokens would cross the network in clear text. Use https:// (plain http is allowed only for loopback hosts, e.g. a local emulator)`
      })
    }
    if (url.username || url.password) {
      ctx.addIssue({
        code: 'custom',
        message: `must not carry a user name or password; give credentials in client-id/client-secret or credentials`
      })
    }
    if (url.search || url.hash) {
      ctx.addIssue({ code: 'custom', message: 'must not carry a query or fragment' })
    }
  })
}

/** Reads one input; `''` means unset, as the runner passes it. */
export type InputReader = (name: InputName) => string

/**
 * Reads and validates every input. Throws InputError listing every problem at once.
 */
export function readInputs(read: InputReader): Inputs {
  const problems: string[] = []
  const warnings: string[] = []
  const raw = (name: InputName): string => {
    const value = read(name).trim()
    return value === '' ? (DEFAULTS[name] ?? '') : value
  }

  function parse<T>(name: InputName, schema: z.ZodType<T>, value: string): T | undefined {
    const result = schema.safeParse(value)
    if (result.success) return result.data
    const message = result.error.issues[0]?.message ?? 'is invalid'
    problems.push(`${name}: ${message}`)
    return undefined
  }

  const datasetRaw = raw(INPUT.datasetUuid)
  let datasetUuid: string | undefined
  if (datasetRaw === '') {
    problems.push(`${INPUT.datasetUuid}: required; give the UUID of the Kognic dataset to upload into`)
  } else {
    datasetUuid = parse(INPUT.datasetUuid, uuid, datasetRaw)?.toLowerCase()
  }

  const groupName = raw(INPUT.group)
  const groupUuidRaw = raw(INPUT.groupUuid)
  let group: GroupRef | undefined
  if (groupName !== '' && groupUuidRaw !== '') {
    problems.push(
      `${INPUT.group} and ${INPUT.groupUuid}: give one of them, not both (a name to find or create the group, or the UUID of an existing group)`
    )
  } else if (groupName === '' && groupUuidRaw === '') {
    problems.push(
      `${INPUT.group} or ${INPUT.groupUuid}: one is required; give the name of a predictions group (created if missing) or an existing group's UUID`
    )
  } else if (groupName !== '') {
    if (groupName.length > 255) problems.push(`${INPUT.group}: must be at most 255 characters`)
    else group = { kind: 'name', name: groupName }
  } else {
    const parsed = parse(INPUT.groupUuid, uuid, groupUuidRaw)
    if (parsed) group = { kind: 'uuid', uuid: parsed.toLowerCase() }
  }

  const createGroup = parse(INPUT.createGroup, boolean, raw(INPUT.createGroup))
  const dryRun = parse(INPUT.dryRun, boolean, raw(INPUT.dryRun))
  const prComment = parse(INPUT.prComment, boolean, raw(INPUT.prComment))

  // The path input is multi-line: keep its lines, drop blank ones.
  const patterns = read(INPUT.path)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
  if (patterns.length === 0) {
    problems.push(
      `${INPUT.path}: required; give one or more glob patterns of prediction files, e.g. predictions/**/*.json`
    )
  } else if (patterns.every((p) => p.startsWith('!'))) {
    problems.push(
      `${INPUT.path}: every pattern excludes (starts with !); add at least one pattern that matches files`
    )
  }

  const apiUrl = parse(INPUT.apiUrl, httpUrl(), raw(INPUT.apiUrl))
  const authUrl = parse(INPUT.authUrl, httpUrl(), raw(INPUT.authUrl))

  const concurrency = parse(
    INPUT.concurrency,
    integer(1, 64, `${ADVISED_MAX_CONCURRENCY}, Kognic's advised most`),
    raw(INPUT.concurrency)
  )
  const parallelJobs = parse(INPUT.parallelJobs, integer(1, 256), raw(INPUT.parallelJobs))
  if (concurrency !== undefined && parallelJobs !== undefined) {
    const total = concurrency * parallelJobs
    if (parallelJobs > 1 && total > ADVISED_MAX_CONCURRENCY) {
      warnings.push(
        `${parallelJobs} jobs (${INPUT.parallelJobs}) × ${INPUT.concurrency} ${concurrency} open up to ${total} connections to Kognic together; Kognic advises at most ${ADVISED_MAX_CONCURRENCY} in all, and more "might not work". Set ${INPUT.concurrency} to ${Math.max(1, Math.floor(ADVISED_MAX_CONCURRENCY / parallelJobs))} in each job, or limit the matrix with max-parallel.`
      )
    } else if (concurrency > ADVISED_MAX_CONCURRENCY) {
      warnings.push(
        `${INPUT.concurrency} is ${concurrency}: Kognic advises at most ${ADVISED_MAX_CONCURRENCY} concurrent connections; more "might not work". Lower it if uploads fail with 429 or connection errors.`
      )
    }
  }
  const maxRetries = parse(
    INPUT.maxRetries,
    integer(0, 20, DEFAULTS[INPUT.maxRetries]),
    raw(INPUT.maxRetries)
  )
  const requestTimeout = parse(
    INPUT.requestTimeout,
    positiveSeconds(DEFAULTS[INPUT.requestTimeout]!),
    raw(INPUT.requestTimeout)
  )
  const maxFileSize = parse(
    INPUT.maxFileSize,
    integer(1, MAX_FILE_SIZE_MIB, DEFAULTS[INPUT.maxFileSize]),
    raw(INPUT.maxFileSize)
  )
  const checkScenes = parse(INPUT.checkScenes, boolean, raw(INPUT.checkScenes))
  const validation = parse(
    INPUT.validation,
    z.enum(['strict', 'warn', 'off'], { error: () => "must be 'strict', 'warn' or 'off'" }),
    raw(INPUT.validation)
  )
  const ifNoFilesFound = parse(
    INPUT.ifNoFilesFound,
    z.enum(['error', 'warn', 'ignore'], { error: () => "must be 'error', 'warn' or 'ignore'" }),
    raw(INPUT.ifNoFilesFound)
  )

  const groupLinkTemplate = raw(INPUT.groupLinkTemplate)
  if (groupLinkTemplate !== '') {
    let url: URL | undefined
    try {
      url = new URL(groupLinkTemplate.replace(/\{(dataset|group)\}/g, 'x'))
    } catch {
      url = undefined
    }
    if (!url || url.protocol !== 'https:' || !groupLinkTemplate.includes('{group}')) {
      problems.push(
        `${INPUT.groupLinkTemplate}: must be an https:// address with a {group} placeholder (and optionally {dataset}), e.g. the address of a group in the Kognic app with its UUIDs replaced`
      )
    }
  }

  if (problems.length > 0) throw new InputError(problems)

  // Every value below was parsed without a problem, so none is undefined.
  return {
    datasetUuid: datasetUuid!,
    group: group!,
    groupDescription: raw(INPUT.groupDescription),
    createGroup: isTrue(createGroup!),
    classMapping: raw(INPUT.classMapping),
    patterns: patterns.join('\n'),
    apiUrl: apiUrl!,
    authUrl: authUrl!,
    concurrency: concurrency!,
    maxRetries: maxRetries!,
    requestTimeoutMs: Math.round(requestTimeout! * 1000),
    maxFileSizeBytes: maxFileSize! * 1024 * 1024,
    validation: validation!,
    ifNoFilesFound: ifNoFilesFound!,
    dryRun: isTrue(dryRun!),
    resultsFile: raw(INPUT.resultsFile),
    prComment: isTrue(prComment!),
    groupLinkTemplate,
    githubToken: read(INPUT.githubToken).trim(),
    checkScenes: isTrue(checkScenes!),
    resumeFrom: read(INPUT.resumeFrom).trim(),
    compareWith: read(INPUT.compareWith).trim(),
    parallelJobs: parallelJobs!,
    warnings
  }
}

function isTrue(value: string): boolean {
  return value.toLowerCase() === 'true'
}
