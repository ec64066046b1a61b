// The action's flow, phase by phase: inputs → files → checks (sign-in, group and scene lookups alongside)
// → group → what is left to upload → upload → report. Nothing is created or uploaded until every check that
// can fail the whole run has passed. Each phase returns what it found; the report is assembled once.
import { CredentialsError, maskAll, resolveCredentials, type Credentials } from './credentials.js'
import { defaultGroupDescription, findGroup, workflowRunUrl, type GroupSummary } from './group.js'
import { asInputName, INPUT, InputError, readInputs, type Inputs, type NameInput } from './inputs.js'
import { KognicAuthError, KognicClient, type AnnotatedScenes } from './kognic/client.js'
import { readUploadBody } from './predictions/body.js'
import {
  BACKGROUND_CLASS,
  hasBackground,
  missingClasses,
  parseClassMapping
} from './predictions/class-mapping.js'
import { discoverFiles, isUnusableMatch, type Discovery } from './predictions/discover.js'
import { inspectFile } from './predictions/inspect.js'
import { RunStatistics, type Comparison, type Statistics } from './predictions/statistics.js'
import { uploadAll } from './predictions/upload.js'
import { publish } from './publish.js'
import { formatCount, formatDuration, formatRate, withoutOwnName } from './report/format.js'
import { countResults, type GroupReport, type RunReport } from './report/model.js'
import { createProgress } from './report/progress.js'
import { isResultsFile, resultsFilePath } from './report/results.js'
import { readEarlierRuns } from './resume.js'
import { compareWithBaseline } from './baseline.js'
import { duplicateScenes, finalResults, resultOf, runFiles, type Outcome, type RunFile } from './run-files.js'
import type { ClassMappingEntry, FileResult, InspectedFile, Logger, SkippedPath } from './types.js'

/** What the flow needs from the runner; `@actions/core` in production, a terminal for the command line. */
export interface ActionIO {
  getInput(name: string): string
  setOutput(name: string, value: string): void
  setSecret(secret: string): void
  setFailed(message: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  writeSummary(markdown: string): Promise<void>
  logger: Logger
  /**
   * How often the upload's progress line is printed, in ms; default 5,000 (a log). A terminal that redraws
   * one line in place wants it about every second.
   */
  progressIntervalMs?: number
}

export interface RunDeps {
  io: ActionIO
  env: Record<string, string | undefined>
  /** Where relative paths and globs start: GITHUB_WORKSPACE, else the current directory. */
  workspace: string
  /** Subscribes to cancellation (SIGINT/SIGTERM); returns an unsubscribe. */
  onCancel?: (cancel: (why: string) => void) => () => void
  /** Shares the report where people discuss the change (the action's pull-request comment); never fails the run. */
  comment?: (report: RunReport, inputs: Inputs) => Promise<void>
  now?: () => number
  /** How messages name an input: `max-file-size` by default, `--max-file-size` on the command line. */
  nameInput?: NameInput
}

/** After a cancellation, in-flight requests get this long to finish before they are aborted. */
const CANCEL_GRACE_MS = 5000

class FatalError extends Error {}

/** The inputs as a whole: every problem of the action's inputs, credentials and class mapping at once. */
interface Setup {
  input: Inputs
  /** null only for a dry run given no credentials at all (a pull request from a fork). */
  credentials: Credentials | null
  classMapping: ClassMappingEntry[] | undefined
  /** Where the results file goes: checked to stay inside the workspace or RUNNER_TEMP. */
  resultsPath: string
}

/** What the phases found, kept by run() as they return it; the report is built from it once. */
interface Findings {
  input?: Inputs
  resultsPath: string
  files: RunFile[]
  /** Matched paths meant as files that cannot be used (broken links, files outside the workspace). */
  unusable: FileResult[]
  skipped: SkippedPath[]
  group: GroupReport
  /** The dataset's annotated scenes, when the listing told them. */
  annotatedScenes: Set<string> | null
  datasetName: string | null
  /** Files uploaded again although an earlier run uploaded other content for their scene. */
  changedSinceUpload: number
  uploadMs: number | null
  fatalError: string | null
  /** The `path` patterns were searched: until then the report has no file counts to give. */
  filesSearched: boolean
  statistics: Statistics | null
  comparison: Comparison | null
}

export async function run(deps: RunDeps): Promise<RunReport> {
  const { io, env, workspace } = deps
  const log = io.logger
  const now = deps.now ?? Date.now
  const name = deps.nameInput ?? asInputName
  const startedAt = now()
  const cancel = watchCancellation(deps.onCancel, log)
  const found: Findings = {
    resultsPath: '',
    files: [],
    unusable: [],
    skipped: [],
    group: { uuid: null, name: null, created: false, state: 'unresolved' },
    annotatedScenes: null,
    datasetName: null,
    changedSinceUpload: 0,
    uploadMs: null,
    fatalError: null,
    filesSearched: false,
    statistics: null,
    comparison: null
  }
  let client: KognicClient | undefined
  let report: RunReport | undefined

  // The phases, in order; a return ends the run early (nothing matched, nothing fit, a dry run).
  const flow = async (): Promise<void> => {
    const setup = await readSetup(io, env, workspace, name)
    const { input } = setup
    found.input = input
    found.resultsPath = setup.resultsPath
    found.group = groupAsGiven(input)
    for (const warning of input.warnings) log.warning(warning)
    if (setup.credentials) log.info(`Kognic credentials from ${setup.credentials.source}.`)
    else
      log.warning(
        'Dry run without Kognic credentials (as in a pull request from a fork, which gets no secrets): the files are checked, but the sign-in, the predictions group and the scenes are not.'
      )

    const matched = await io.group('Find prediction files', () =>
      findFiles(input, workspace, setup.resultsPath, log, name)
    )
    found.filesSearched = true
    if (matched.resultsFileClash) {
      found.resultsPath = '' // the results go to RUNNER_TEMP instead of over a prediction file
      throw new FatalError(matched.resultsFileClash)
    }
    found.files = matched.files
    found.unusable = matched.unusable
    found.skipped = matched.skipped
    if (found.files.length === 0) return reportNoFiles(input, found.unusable.length, workspace, log, name)

    // Sign-in, the group and the annotated scenes only read: they are looked up while the files are checked.
    client = setup.credentials ? openClient(setup, io, cancel, name) : undefined
    const lookups = client ? startLookups(client, input, name) : null

    const checked = await io.group(`Read and check ${formatCount(found.files.length)} file(s)`, () =>
      checkFiles(found.files, input, cancel.stopNew, log, name)
    )
    found.files = checked.files
    found.skipped.push(...checked.setAside)
    found.statistics = checked.statistics
    if (input.compareWith)
      found.comparison = await io.group('Compare with the baseline', () =>
        compareWith(input, workspace, checked.statistics, log, name)
      )
    let fit = checked.fit
    if (!client || !lookups) {
      checkClassMapping(found.files, fit, setup.classMapping, log, name)
      return await answerDryRun(io, found.files, fit)
    }
    const api = client

    const group = await settleLookups(io, lookups, input, setup.credentials!, log, name)
    found.datasetName = await lookups.datasetName.catch(() => null)
    if (group) found.group = { uuid: group.uuid, name: group.name, created: false, state: 'found' }
    if (group && setup.classMapping)
      log.info(
        `The group exists, so ${name(INPUT.classMapping)} is not sent; it only checks the predictions' classes.`
      )
    const scenes = await io.group('Check the scenes against the dataset', () =>
      settleScenes(lookups.scenes, found.files, fit, input, log, name)
    )
    found.annotatedScenes = scenes.annotated
    fit = scenes.fit
    if (fit.length === 0) {
      log.info('No file is fit to upload, so no group was created and nothing was uploaded.')
      return
    }
    checkClassMapping(found.files, fit, setup.classMapping, log, name)

    if (!group) {
      found.group = await io.group('Create the predictions group', () =>
        createGroup(api, input, firstSegmented(found.files, fit), setup.classMapping, env, log, name)
      )
    }
    if (found.group.state === 'found') {
      const left = await io.group('Leave out what earlier runs uploaded', () =>
        leaveOutEarlierUploads(found.files, fit, input, found.group.uuid!, workspace, env, log, name)
      )
      fit = left.fit
      found.changedSinceUpload = left.changed
    }
    if (input.dryRun) return await answerDryRun(io, found.files, fit)

    const upload = await io.group(`Upload ${formatCount(fit.length)} prediction(s)`, () =>
      uploadFiles(
        api,
        found.group.uuid!,
        found.files,
        fit,
        input,
        cancel.stopNew,
        now,
        log,
        io.progressIntervalMs
      )
    )
    found.uploadMs = upload.elapsedMs
    if (upload.refused)
      throw new FatalError(`Kognic refused the credentials during the upload: ${upload.refused.message}`)
  }

  try {
    await flow()
  } catch (error) {
    found.fatalError = error instanceof Error ? error.message : String(error)
  } finally {
    cancel.endGrace()
    const stats = client?.stats()
    await client?.close().catch(() => undefined)
    report = assembleReport(found, env, cancel.cancelled(), startedAt, now(), stats)
    await publish(report, found.input, found.resultsPath, deps)
    // Only now: a second signal while the summary is written must not kill the process half-way.
    cancel.unsubscribe()
  }
  return report
}

interface Cancellation {
  /** Aborted at once on a cancel: nothing new starts. */
  stopNew: AbortSignal
  /** Aborted after the grace period: requests still in flight are cut. */
  abortInFlight: AbortSignal
  cancelled(): boolean
  endGrace(): void
  unsubscribe(): void
}

/** On SIGINT/SIGTERM nothing new starts, and in-flight requests get a grace period before they are aborted. */
function watchCancellation(onCancel: RunDeps['onCancel'], log: Logger): Cancellation {
  const stopNew = new AbortController()
  const abortInFlight = new AbortController()
  let graceTimer: NodeJS.Timeout | undefined
  const unsubscribe = onCancel?.((why) => {
    if (stopNew.signal.aborted) return
    log.warning(
      `${why}: starting no new uploads; waiting up to ${CANCEL_GRACE_MS / 1000}s for those in flight.`
    )
    stopNew.abort()
    graceTimer = setTimeout(() => abortInFlight.abort(), CANCEL_GRACE_MS)
    graceTimer.unref()
  })
  return {
    stopNew: stopNew.signal,
    abortInFlight: abortInFlight.signal,
    cancelled: () => stopNew.signal.aborted,
    endGrace: () => clearTimeout(graceTimer),
    unsubscribe: () => unsubscribe?.()
  }
}

/** Reads the inputs, the credentials, the class mapping and the results path, every problem at once. */
async function readSetup(
  io: ActionIO,
  env: Record<string, string | undefined>,
  workspace: string,
  name: NameInput
): Promise<Setup> {
  const raw = {
    credentials: io.getInput(INPUT.credentials).trim(),
    clientId: io.getInput(INPUT.clientId).trim(),
    clientSecret: io.getInput(INPUT.clientSecret).trim()
  }
  // Masked before anything can fail and print: an input error must not carry them.
  maskAll((s) => io.setSecret(s), raw.clientSecret, raw.credentials, io.getInput(INPUT.githubToken))
  const problems: string[] = []
  const problem = (error: unknown): undefined => {
    problems.push(error instanceof Error ? error.message : String(error))
    return undefined
  }
  let input: Inputs | undefined
  try {
    input = readInputs((name) => io.getInput(name))
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    problems.push(...error.problems)
  }
  const credentials = await resolveCredentials(raw, env, (s) => io.setSecret(s), Date.now, name).catch(
    (error: unknown) => {
      // A pull request from a fork gets no secrets: its dry run can still check the files.
      if (error instanceof CredentialsError && error.missing && input?.dryRun) return null
      return problem(error) ?? null
    }
  )
  const mappingRaw = io.getInput(INPUT.classMapping).trim()
  const classMapping = mappingRaw ? await parseClassMapping(mappingRaw, workspace).catch(problem) : undefined
  const resultsPath = (await resultsFilePath(input?.resultsFile ?? '', workspace, env).catch(problem)) ?? ''
  if (problems.length > 0 || !input) throw new InputError(problems)
  return { input, credentials, classMapping, resultsPath }
}

/** The group as the inputs name it, before anything is looked up: a stopped run still shows it. */
function groupAsGiven(input: Inputs): GroupReport {
  return input.group.kind === 'name'
    ? { uuid: null, name: input.group.name, created: false, state: 'unresolved' }
    : { uuid: input.group.uuid, name: null, created: false, state: 'unresolved' }
}

interface MatchedFiles {
  files: RunFile[]
  unusable: FileResult[]
  /** Directories and second paths to a file: notes, not failures. */
  skipped: SkippedPath[]
  /** Why the run must stop rather than overwrite a prediction file with the results. */
  resultsFileClash: string | null
}

async function findFiles(
  input: Inputs,
  workspace: string,
  resultsPath: string,
  log: Logger,
  name: NameInput
): Promise<MatchedFiles> {
  const found = await discoverFiles(input.patterns, workspace, name(INPUT.path))
  const resultsFileClash = await clashWithResultsFile(found, resultsPath, name)
  const unusable = found.skipped.filter(isUnusableMatch)
  log.info(
    `${formatCount(found.files.length + unusable.length)} file(s) matched ${name(INPUT.path)}${unusable.length > 0 ? `; ${formatCount(unusable.length)} of them cannot be used` : ''}.`
  )
  for (const s of found.skipped) {
    // A folder that could not be read is the run's own warning: files in it may be missing.
    if (s.kind === 'unreadable-folder')
      log.warning(`${s.displayPath}: ${s.reason}`, { file: s.displayPath, title: 'Folder cannot be read' })
    else log.info(`${s.displayPath}: ${s.reason}`)
  }
  return {
    files: runFiles(found.files),
    unusable: unusable.map((s) => ({
      ...resultOf(s, null, { status: 'invalid', error: s.reason, reasonKind: s.kind }),
      problems: [{ kind: s.kind, jsonPath: '', message: s.reason }]
    })),
    skipped: found.skipped.filter((s) => !isUnusableMatch(s)),
    resultsFileClash
  }
}

/**
 * Why the run must stop rather than write its results over a prediction file that `path` matches. A results
 * file of this action there is fine: the checks set it aside by its kind.
 */
async function clashWithResultsFile(
  found: Discovery,
  resultsPath: string,
  name: NameInput
): Promise<string | null> {
  // Discovered paths are real paths, as resultsPath is.
  const file = found.files.find((f) => f.path === resultsPath)
  if (!file || (await isResultsFile(file.path))) return null
  return `${name(INPUT.resultsFile)} names ${file.displayPath}, which ${name(INPUT.path)} matches as a prediction file; the run would overwrite it. Choose another ${name(INPUT.resultsFile)}, outside the ${name(INPUT.path)} patterns.`
}

function reportNoFiles(
  input: Inputs,
  unusable: number,
  workspace: string,
  log: Logger,
  name: NameInput
): void {
  if (unusable > 0) return log.info('None of the matched paths is a file that can be uploaded.')
  const patterns = input.patterns.split('\n').join(', ')
  const message = `No files matched ${name(INPUT.path)} (${patterns.length > 200 ? `${patterns.slice(0, 200)}…` : patterns}) in ${workspace}. Check the patterns are relative to the workspace and that the step that writes predictions ran first.`
  if (input.ifNoFilesFound === 'error')
    throw new FatalError(`${message} (${name(INPUT.ifNoFilesFound)}: error)`)
  if (input.ifNoFilesFound === 'warn') log.warning(message)
  else log.info(message)
}

function openClient(setup: Setup, io: ActionIO, cancel: Cancellation, name: NameInput): KognicClient {
  const { input, credentials } = setup
  return new KognicClient({
    apiUrl: input.apiUrl,
    authUrl: input.authUrl,
    hostSettings: { apiUrl: name(INPUT.apiUrl), authUrl: name(INPUT.authUrl) },
    clientId: credentials!.clientId,
    clientSecret: credentials!.clientSecret,
    ...(credentials!.scope ? { scope: credentials!.scope } : {}),
    maxRetries: input.maxRetries,
    requestTimeoutMs: input.requestTimeoutMs,
    logger: io.logger,
    signal: cancel.abortInFlight,
    stopNewAttempts: cancel.stopNew,
    // A token a server echoes escaped (`\/`, `%2B`) must be masked too, as the client secret is.
    onToken: (token) => maskAll((form) => io.setSecret(form), token)
  })
}

interface Lookups {
  signedIn: Promise<void>
  group: Promise<GroupSummary | null>
  datasetName: Promise<string | null>
  /** null when the scene check is turned off. */
  scenes: Promise<AnnotatedScenes> | null
}

function startLookups(api: KognicClient, input: Inputs, name: NameInput): Lookups {
  const signedIn = api.authenticate()
  const group = signedIn.then(() => findGroup(api, input.datasetUuid, input.group, name))
  const scenes = input.checkScenes ? signedIn.then(() => api.listAnnotatedScenes(input.datasetUuid)) : null
  const datasetName = signedIn.then(() => api.datasetName(input.datasetUuid))
  // Awaited in their own phases; until then a failure must not count as unhandled.
  for (const pending of [group, scenes, datasetName]) pending?.catch(() => undefined)
  return { signedIn, group, scenes, datasetName }
}

async function settleLookups(
  io: ActionIO,
  lookups: Lookups,
  input: Inputs,
  credentials: Credentials,
  log: Logger,
  name: NameInput
): Promise<GroupSummary | null> {
  await io.group('Sign in to Kognic', async () => {
    await lookups.signedIn
    log.info(`Signed in to ${input.authUrl} as client ${credentials.clientId}.`)
  })
  return io.group('Resolve the predictions group', async () => {
    const group = await lookups.group
    if (group?.unconfirmed !== undefined) {
      log.warning(
        `Could not confirm that predictions group ${group.uuid} is one of dataset ${input.datasetUuid}'s (${group.unconfirmed}); uploading into it as ${name(INPUT.groupUuid)} says. Kognic refuses uploads into a group it does not have.`
      )
    } else if (group) {
      log.info(`Using predictions group ${group.name === null ? '' : `"${group.name}" `}(${group.uuid}).`)
    } else if (input.group.kind === 'name')
      log.info(`Dataset ${input.datasetUuid} has no group "${input.group.name}" yet.`)
    return group
  })
}

/**
 * Reads and checks every file (no content kept). Returns the files that are predictions, the positions of
 * those fit to upload, and the results files of earlier runs the patterns matched, set aside.
 */
async function checkFiles(
  matched: RunFile[],
  input: Inputs,
  stop: AbortSignal,
  log: Logger,
  name: NameInput
): Promise<{ files: RunFile[]; fit: number[]; setAside: SkippedPath[]; statistics: Statistics }> {
  const options = {
    maxFileSizeBytes: input.maxFileSizeBytes,
    maxFileSizeSetting: name(INPUT.maxFileSize),
    validation: input.validation
  }
  const statistics = new RunStatistics()
  for (const record of matched) {
    if (stop.aborted) throw new FatalError('Cancelled while reading the prediction files')
    // Counted at once, and not kept: a file counts when validation lets its content through, whatever
    // befalls it later (a duplicate scene, a refused upload), so two runs compare alike (README).
    const { statistics: counted, ...inspected } = await inspectFile(record.file, options)
    record.inspected = inspected
    if (counted && !errorsBlock(inspected, input)) statistics.add(counted)
  }
  const setAside: SkippedPath[] = []
  const files = matched.filter(({ file, inspected }) => {
    if (inspected!.form !== 'results') return true
    const reason = 'a results file of this action, not a prediction'
    setAside.push({ displayPath: file.displayPath, reason })
    log.info(`${file.displayPath}: ${reason}`)
    return false
  })
  // Each file of a duplicate group, with the others of its group.
  const duplicateOf = new Map<number, number[]>()
  for (const group of duplicateScenes(files))
    for (const index of group)
      duplicateOf.set(
        index,
        group.filter((other) => other !== index)
      )

  const fit: number[] = []
  files.forEach((record, index) => {
    const inspected = record.inspected!
    const refuse = (outcome: Outcome, why: string): void => {
      record.result = resultOf(record.file, inspected, outcome)
      log.info(
        `${record.file.displayPath}: ${why}: ${withoutOwnName(outcome.error ?? '', record.file.displayPath)}`
      )
    }
    if (inspected.fatal.length > 0) {
      const reason = inspected.fatal.map((p) => p.message).join('; ')
      const reasonKind = inspected.fatal[0]!.kind
      return refuse({ status: 'invalid', error: reason, fatalAsProblems: true, reasonKind }, 'not usable')
    }
    const others = duplicateOf.get(index)
    if (others) {
      const paths = others.map((other) => files[other]!.file.displayPath)
      const reason = `Scene ${inspected.sceneUuid} also has a prediction in ${paths.join(', ')}: keep one file per scene`
      return refuse({ status: 'invalid', error: reason, reasonKind: 'duplicate-scene' }, 'duplicate scene')
    }
    const problems = inspected.problems
    if (problems.length > 0 && input.validation !== 'off') {
      const more = inspected.moreProblems > 0 ? ` (and ${inspected.moreProblems} more)` : ''
      const reason = `${problems.map((p) => `${p.jsonPath ? `${p.jsonPath}: ` : ''}${p.message}`).join('; ')}${more}`
      // Warnings never block; errors come first among the problems kept (inspect.ts).
      if (errorsBlock(inspected, input))
        return refuse(
          {
            status: 'invalid',
            error: `OpenLABEL problems: ${reason}`,
            reasonKind: problems.find((p) => p.severity !== 'warning')!.kind
          },
          'errors'
        )
      log.info(
        `${record.file.displayPath}: uploaded anyway (${input.validation === 'strict' ? 'warnings only' : 'validation is warn'}): ${reason}`
      )
    }
    fit.push(index)
  })
  const invalid = files.length - fit.length
  log.info(
    `${formatCount(fit.length)} file(s) ready to upload${invalid > 0 ? `, ${formatCount(invalid)} not usable` : ''}.`
  )
  return { files, fit, setAside, statistics: statistics.result() }
}

/** This run's statistics against the baseline compare-with names; what goes wrong is one warning. */
async function compareWith(
  input: Inputs,
  workspace: string,
  statistics: Statistics,
  log: Logger,
  name: NameInput
): Promise<Comparison | null> {
  const setting = name(INPUT.compareWith)
  const answer = await compareWithBaseline(input.compareWith, workspace, statistics, setting)
  if (answer.warning) log.warning(answer.warning, { title: `Baseline (${setting})` })
  if (answer.comparison)
    log.info(
      `Compared ${formatCount(statistics.files)} file(s) with ${formatCount(answer.comparison.baselineFiles)} of the baseline (${answer.comparison.baselines.join(', ')}).`
    )
  return answer.comparison
}

/** `validation: strict` keeps back a file with an error; warnings never block. */
function errorsBlock(inspected: InspectedFile, input: Inputs): boolean {
  return input.validation === 'strict' && inspected.problems.some((p) => p.severity !== 'warning')
}

/**
 * Files whose scene has no annotation in the dataset cannot be compared with anything: refused before
 * anything is created. Returns the files still fit, and the annotated scenes when the listing told them.
 */
async function settleScenes(
  listing: Promise<AnnotatedScenes> | null,
  files: RunFile[],
  fit: number[],
  input: Inputs,
  log: Logger,
  name: NameInput
): Promise<{ fit: number[]; annotated: Set<string> | null }> {
  if (!listing) {
    log.info(`${name(INPUT.checkScenes)} is 'false': the files' scenes are not checked against the dataset.`)
    return { fit, annotated: null }
  }
  const answer = await listing
  if ('unavailable' in answer) {
    log.notice(`The files' scenes were not checked against the dataset: ${answer.unavailable}.`, {
      title: 'Scene check skipped'
    })
    return { fit, annotated: null }
  }
  // UUIDs are case-insensitive: a listing in upper case must still match the files' scenes.
  const annotated = new Set([...answer.scenes].map((scene) => scene.toLowerCase()))
  log.info(`Dataset ${input.datasetUuid} has annotations for ${formatCount(annotated.size)} scene(s).`)
  const kept = fit.filter((index) => {
    const record = files[index]!
    const scene = record.inspected!.sceneUuid!
    if (annotated.has(scene.toLowerCase())) return true
    const error = `Scene ${scene} is not in dataset ${input.datasetUuid}: it has no annotation there to compare a prediction with. Check ${name(INPUT.datasetUuid)}, and that the file's scene is right (the file name, or sceneUuid in a request body).`
    record.result = resultOf(record.file, record.inspected, {
      status: 'invalid',
      error,
      reasonKind: 'scene-not-in-dataset'
    })
    log.info(`${record.file.displayPath}: scene not in this dataset`)
    return false
  })
  if (kept.length === 0 && fit.length > 0)
    log.warning(
      `None of the ${formatCount(fit.length)} file(s) has a scene in dataset ${input.datasetUuid}: are they predictions for another dataset? Nothing was created or uploaded.`,
      { title: 'Scenes not in this dataset' }
    )
  return { fit: kept, annotated }
}

/** A mapping that leaves out a class the predictions use would make Kognic reject them, or show them wrong. */
function checkClassMapping(
  files: RunFile[],
  fit: number[],
  mapping: ClassMappingEntry[] | undefined,
  log: Logger,
  name: NameInput
): void {
  if (!mapping) return
  const classes = new Set<string>()
  for (const index of fit) for (const c of files[index]!.inspected!.segmentationClasses) classes.add(c)
  // The guide: the area no segment covers is "_background", so segmentation needs that entry.
  const segmented = fit.some((index) => files[index]!.inspected!.hasSegmentation)
  if (segmented && !hasBackground(mapping)) {
    const example = JSON.stringify({ annotated: BACKGROUND_CLASS, predicted: BACKGROUND_CLASS })
    throw new FatalError(
      `${name(INPUT.classMapping)} has no entry with "annotated": "${BACKGROUND_CLASS}", which segmentation predictions need (Kognic's guide: the area no segment covers is ${BACKGROUND_CLASS}); add ${example}.`
    )
  }
  const missing = missingClasses(mapping, classes)
  if (missing.length > 0) {
    const example = JSON.stringify({ annotated: missing[0], predicted: missing[0] })
    throw new FatalError(
      `${name(INPUT.classMapping)} leaves out ${missing.length} class(es) found in the predictions: ${missing.join(', ')}. Every predicted class must appear as "predicted" in an entry, even when it maps to itself, e.g. ${example}.`
    )
  }
  log.info(
    `${name(INPUT.classMapping)}: ${mapping.length} entr(ies) cover the ${classes.size} class(es) in the predictions.`
  )
}

/** The first file to upload that holds segmentation predictions: a group for it needs a class mapping. */
function firstSegmented(files: RunFile[], fit: number[]): string | undefined {
  const index = fit.find((i) => files[i]!.inspected!.hasSegmentation)
  return index === undefined ? undefined : files[index]!.file.displayPath
}

/** Creates the group the inputs name (a dry run only says it would). */
async function createGroup(
  api: KognicClient,
  input: Inputs,
  segmented: string | undefined,
  classMapping: ClassMappingEntry[] | undefined,
  env: Record<string, string | undefined>,
  log: Logger,
  name: NameInput
): Promise<GroupReport> {
  if (input.group.kind !== 'name') throw new FatalError('No predictions group to upload into')
  const groupName = input.group.name
  if (!input.createGroup) {
    throw new FatalError(
      `Dataset ${input.datasetUuid} has no predictions group named "${groupName}" and ${name(INPUT.createGroup)} is 'false'. Create the group in the Kognic app, fix the name, or set ${name(INPUT.createGroup)}: 'true'.`
    )
  }
  if (segmented !== undefined && !classMapping) {
    throw new FatalError(
      `${segmented} holds segmentation predictions, and a segmentation group must be created with a class mapping: set ${name(INPUT.classMapping)} to a JSON list of {"annotated", "predicted"} entries covering every class (inline, or the path of a .json file).`
    )
  }
  if (input.dryRun) {
    log.info(`Dry run: would create predictions group "${groupName}" in dataset ${input.datasetUuid}.`)
    return { uuid: null, name: groupName, created: false, state: 'would-create' }
  }
  const description = input.groupDescription || defaultGroupDescription(env)
  const uuid = await api.createPredictionsGroup(input.datasetUuid, {
    name: groupName,
    description,
    ...(classMapping ? { classMapping } : {})
  })
  log.info(`Created predictions group "${groupName}" (${uuid}).`)
  return { uuid, name: groupName, created: true, state: 'created' }
}

/**
 * With resume-from, files an earlier run uploaded into this group with the same content are done already;
 * a changed file is uploaded again, with a warning. Without it, a re-run of a job warns that it uploads again.
 */
async function leaveOutEarlierUploads(
  files: RunFile[],
  fit: number[],
  input: Inputs,
  groupUuid: string,
  workspace: string,
  env: Record<string, string | undefined>,
  log: Logger,
  name: NameInput
): Promise<{ fit: number[]; changed: number }> {
  const rerun = Number(env.GITHUB_RUN_ATTEMPT ?? '1') > 1
  if (!input.resumeFrom) {
    if (rerun)
      log.warning(
        `This is attempt ${env.GITHUB_RUN_ATTEMPT} of the workflow run, and the group already existed: files an earlier attempt uploaded are uploaded again, and the group may hold two predictions for their scenes. Keep the results file as an artifact and pass it as ${name(INPUT.resumeFrom)} (see the README's "Safe to re-run").`,
        { title: 'Re-run uploads again' }
      )
    else log.info(`${name(INPUT.resumeFrom)} is not set: every file is uploaded.`)
    return { fit, changed: 0 }
  }
  const earlier = await readEarlierRuns(
    input.resumeFrom,
    workspace,
    { datasetUuid: input.datasetUuid, groupUuid },
    name(INPUT.resumeFrom)
  )
  if (earlier.patternError)
    log.warning(`${earlier.patternError}. Nothing is resumed: every file is uploaded.`, {
      title: `${name(INPUT.resumeFrom)} ignored`
    })
  for (const { file, reason } of earlier.ignored)
    log.warning(`${file}: not used to resume: ${reason}.`, {
      file,
      title: `${name(INPUT.resumeFrom)} ignored`
    })
  if (earlier.used.length === 0) {
    // A re-run that finds nothing to resume from most likely lost the earlier attempt's results artifact.
    if (earlier.ignored.length === 0 && !earlier.patternError && rerun)
      log.warning(
        `This is attempt ${env.GITHUB_RUN_ATTEMPT} of the workflow run, but ${name(INPUT.resumeFrom)} matched no results file: files an earlier attempt uploaded are uploaded again. Check that the results file is uploaded as an artifact with if: always(), and downloaded to where ${name(INPUT.resumeFrom)} looks (see the README's "Safe to re-run").`,
        { title: 'Re-run uploads again' }
      )
    else if (earlier.ignored.length === 0 && !earlier.patternError)
      log.notice(
        `${name(INPUT.resumeFrom)} matched no results file: nothing to resume from (a first attempt has none).`
      )
    return { fit, changed: 0 }
  }
  log.info(
    `Resuming from ${earlier.used.join(', ')}: ${formatCount(earlier.byScene.size)} scene(s) uploaded before.`
  )
  let changed = 0
  const left = fit.filter((index) => {
    const record = files[index]!
    const inspected = record.inspected!
    const before = earlier.byScene.get(inspected.sceneUuid!.toLowerCase())
    if (!before) return true
    if (before.contentSha256 === inspected.contentSha256) {
      record.result = resultOf(record.file, inspected, {
        status: 'already-uploaded',
        predictionUuid: before.predictionUuid
      })
      return false
    }
    changed++
    log.warning(
      `${record.file.displayPath} changed since ${before.resultsFile} recorded its upload (prediction ${before.predictionUuid}): it is uploaded again, and the group may now hold two predictions for scene ${inspected.sceneUuid}.`,
      { file: record.file.displayPath, title: 'Uploaded again: content changed' }
    )
    return true
  })
  log.info(
    `${formatCount(fit.length - left.length)} file(s) already uploaded; ${formatCount(left.length)} left to upload.`
  )
  return { fit: left, changed }
}

/** A dry run's answer: which file would go to which scene. */
async function answerDryRun(io: ActionIO, files: RunFile[], fit: number[]): Promise<void> {
  await io.group(`Dry run: ${formatCount(fit.length)} file(s) would be uploaded`, async () => {
    for (const index of fit) {
      const { file, inspected } = files[index]!
      files[index]!.result = resultOf(file, inspected, { status: 'would-upload' })
      io.logger.info(`${file.displayPath} → scene ${inspected!.sceneUuid}`)
    }
  })
}

async function uploadFiles(
  api: KognicClient,
  groupUuid: string,
  files: RunFile[],
  fit: number[],
  input: Inputs,
  stop: AbortSignal,
  now: () => number,
  log: Logger,
  progressIntervalMs: number | undefined
): Promise<{ elapsedMs: number; refused: KognicAuthError | undefined }> {
  const started = now()
  const progress = createProgress({
    total: fit.length,
    intervalMs: progressIntervalMs,
    now,
    print: (line) => log.info(line)
  })
  let refused: KognicAuthError | undefined
  // Credentials refused mid-run fail every later file alike: stop starting uploads, and say it once.
  const refusal = new AbortController()
  progress.start()
  try {
    const results = await uploadAll(
      fit.map((i) => files[i]!.inspected!),
      {
        concurrency: input.concurrency,
        readBody: readUploadBody,
        upload: (body) =>
          api.uploadPrediction(groupUuid, body).catch((error: unknown) => {
            if (error instanceof KognicAuthError && !refused) {
              refused = error
              refusal.abort(error)
            }
            throw error
          }),
        stop: AbortSignal.any([stop, refusal.signal]),
        onResult: (result) => {
          if (result.status === 'uploaded' || result.status === 'failed') progress.tick(result.status)
          log.debug(
            `${result.path} → ${result.status}${result.predictionUuid ? ` ${result.predictionUuid}` : ''}${result.error ? `: ${result.error}` : ''} (${result.attempts} attempt(s))`
          )
        }
      }
    )
    results.forEach((result, k) => (files[fit[k]!]!.result = result))
  } finally {
    progress.stop()
  }
  const uploaded = fit.filter((i) => files[i]!.result?.status === 'uploaded').length
  const elapsedMs = now() - started
  // The run's retries so far, sign-in and lookups included: the same number the summary and results give.
  const retries = api.stats().retries
  log.info(
    `Uploaded ${formatCount(uploaded)} of ${formatCount(fit.length)} in ${formatDuration(elapsedMs)} · ${formatRate(uploaded, elapsedMs)}${retries > 0 ? ` · ${formatCount(retries)} ${retries === 1 ? 'retry' : 'retries'} in the run` : ''}.`
  )
  return { elapsedMs, refused }
}

/** The report, built once from what the phases found. */
function assembleReport(
  found: Findings,
  env: Record<string, string | undefined>,
  cancelled: boolean,
  startedAt: number,
  finishedAt: number,
  stats: { retries: number; waitedMs: number } | undefined
): RunReport {
  const notAttempted = cancelled
    ? 'Not uploaded: the run was cancelled'
    : 'Not uploaded: the run stopped before uploading'
  const results = [...finalResults(found.files, notAttempted), ...found.unusable]
  const counts = countResults(results, stats?.retries ?? 0)
  counts.changedSinceUpload = found.changedSinceUpload
  const input = found.input
  return {
    datasetUuid: input?.datasetUuid ?? '',
    datasetName: found.datasetName,
    group: found.group,
    groupUrl: groupLink(input, found.group.uuid),
    dryRun: input?.dryRun ?? false,
    validation: input?.validation ?? 'strict',
    counts,
    startedAt,
    finishedAt,
    uploadMs: found.uploadMs,
    waitedMs: stats?.waitedMs ?? 0,
    results,
    skipped: found.skipped,
    fatalError: found.fatalError,
    filesSearched: found.filesSearched,
    cancelled,
    annotatedScenes: found.annotatedScenes?.size ?? null,
    scenesWithoutPrediction: scenesWithoutPrediction(found.annotatedScenes, results),
    run: { url: workflowRunUrl(env), repository: env.GITHUB_REPOSITORY, sha: env.GITHUB_SHA },
    warnings: input?.warnings ?? [],
    statistics: found.statistics,
    comparison: found.comparison
  }
}

/** Annotated scenes that got no prediction from this run (nor from an earlier one it resumed). */
function scenesWithoutPrediction(annotated: Set<string> | null, results: FileResult[]): number | null {
  if (!annotated) return null
  const predicted = new Set<string>()
  for (const r of results)
    if (
      r.sceneUuid &&
      (r.status === 'uploaded' || r.status === 'already-uploaded' || r.status === 'would-upload')
    )
      predicted.add(r.sceneUuid.toLowerCase())
  let missing = 0
  for (const scene of annotated) if (!predicted.has(scene)) missing++
  return missing
}

/** The group's address in the Kognic app, when the inputs give its shape and the group is known. */
function groupLink(input: Inputs | undefined, uuid: string | null): string | null {
  if (!input?.groupLinkTemplate || !uuid) return null
  return input.groupLinkTemplate
    .replace(/\{dataset\}/g, encodeURIComponent(input.datasetUuid))
    .replace(/\{group\}/g, encodeURIComponent(uuid))
}
