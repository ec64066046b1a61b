// The action's flow: inputs → credentials → files → sign-in → checks → group → upload → report.
// Nothing is created or uploaded until every check that can fail the whole run has passed.
import { realpath } from 'node:fs/promises'
import path from 'node:path'
import { CredentialsError, maskAll, resolveCredentials, type Credentials } from './credentials.js'
import { defaultGroupDescription, findGroup, workflowRunUrl, type GroupSummary } from './group.js'
import { INPUT, InputError, readInputs, type Inputs } from './inputs.js'
import { KognicAuthError, KognicClient } from './kognic/client.js'
import { readUploadBody } from './predictions/body.js'
import { parseClassMapping, missingClasses } from './predictions/class-mapping.js'
import { discoverFiles, isUnusableMatch, type Discovery, type SkippedKind } from './predictions/discover.js'
import { inspectFile } from './predictions/inspect.js'
import { uploadEach } from './predictions/upload.js'
import { runPool } from './pool.js'
import { countResults, type ResultList, type RunReport } from './report/model.js'
import { createProgress } from './report/progress.js'
import { isResultsFile, resultsFilePath, writeResultsFile } from './report/results.js'
import { renderSummary } from './report/summary.js'
import { RunFiles } from './run-files.js'
import type { ClassMappingEntry, FileResult, Logger } from './types.js'

/** What the flow needs from the runner; `@actions/core` in production, a recorder in tests. */
export interface ActionIO {
  getInput(name: string): string
  setOutput(name: string, value: string): void
  setSecret(secret: string): void
  setFailed(message: string): void
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
  writeSummary(markdown: string): Promise<void>
  /** True when the runner shows debug lines (RUNNER_DEBUG=1). */
  isDebug(): boolean
  logger: Logger
}

export interface RunDeps {
  io: ActionIO
  env: Record<string, string | undefined>
  /** Where relative paths and globs start: GITHUB_WORKSPACE, else the current directory. */
  workspace: string
  /** Subscribes to cancellation (SIGINT/SIGTERM); returns an unsubscribe. */
  onCancel?: (cancel: (why: string) => void) => () => void
  now?: () => number
}

/** Files read at once in the checking pass: enough to overlap I/O, few enough to keep memory flat. */
const INSPECT_CONCURRENCY = 4
/** After a cancellation, in-flight requests get this long to finish before they are aborted. */
const CANCEL_GRACE_MS = 5000
/** GitHub shows a handful of annotations per step; past this many files, the summary lists the rest. */
const MAX_FILE_ANNOTATIONS = 50
const SKIPPED_TITLES: Record<SkippedKind, string> = {
  directory: 'Not a file',
  'same-file': 'Same file twice',
  'broken-link': 'Broken symbolic link',
  'outside-workspace': 'File outside the workspace',
  unresolvable: 'Path cannot be resolved'
}

class FatalError extends Error {}

/** Runs the whole flow; the report it returns is the one published (results file, summary, outputs). */
export async function run(deps: RunDeps): Promise<RunReport> {
  const { io, env } = deps
  const log = io.logger
  const now = deps.now ?? Date.now

  const report: RunReport = {
    datasetUuid: '',
    group: { uuid: null, name: null, created: false, state: 'unresolved' },
    groupUrl: null,
    dryRun: false,
    validation: 'strict',
    counts: countResults([]),
    startedAt: now(),
    finishedAt: now(),
    results: [],
    skipped: [],
    fatalError: null,
    cancelled: false,
    run: { url: workflowRunUrl(env), repository: env.GITHUB_REPOSITORY, sha: env.GITHUB_SHA },
    warnings: []
  }
  let inputs: Inputs | undefined
  let resultsPath = ''
  let client: KognicClient | undefined
  // Every matched file, by position: what the checks learned, and the file's fate once known.
  let matched = new RunFiles(deps.workspace, [])
  /** Matched paths meant as files that cannot be used (broken links, files outside the workspace). */
  let unusable: FileResult[] = []

  // Cancellation: stop starting work at once; give in-flight requests a grace period, then abort them.
  const stopNew = new AbortController()
  const abortInFlight = new AbortController()
  let graceTimer: NodeJS.Timeout | undefined
  const unsubscribe = deps.onCancel?.((why) => {
    if (stopNew.signal.aborted) return
    report.cancelled = true
    log.warning(
      `${why}: starting no new uploads; waiting up to ${CANCEL_GRACE_MS / 1000}s for those in flight.`
    )
    stopNew.abort()
    graceTimer = setTimeout(() => abortInFlight.abort(), CANCEL_GRACE_MS)
    graceTimer.unref()
  })

  try {
    // Mask secret inputs before anything can fail and print: an input error must not carry them.
    maskAll(
      (s) => io.setSecret(s),
      io.getInput(INPUT.clientSecret),
      io.getInput(INPUT.credentials),
      io.getInput(INPUT.githubToken)
    )
    const { input, credentials, classMapping, resultsFile } = await readEverything(io, env, deps.workspace)
    inputs = input
    resultsPath = resultsFile
    report.datasetUuid = input.datasetUuid
    report.dryRun = input.dryRun
    report.validation = input.validation
    for (const warning of input.warnings) {
      log.warning(warning)
      report.warnings!.push(warning)
    }
    if (credentials) log.info(`Kognic credentials from ${credentials.source}.`)
    else
      log.warning(
        'Dry run without Kognic credentials (as in a pull request from a fork, which gets no secrets): the files are checked, but the sign-in and the predictions group are not.'
      )

    const discovered = await io.group('Find prediction files', async () => {
      const found = await discoverFiles(input.patterns, deps.workspace)
      const clash = await setAsideResultsFile(found, resultsPath)
      if (clash) {
        resultsPath = '' // the results go to RUNNER_TEMP instead
        throw new FatalError(clash)
      }
      const unusableCount = found.skipped.filter(isUnusableMatch).length
      log.info(
        `${found.files.length + unusableCount} file(s) matched ${INPUT.path}${unusableCount > 0 ? `; ${unusableCount} of them cannot be used (see the warnings)` : ''}.`
      )
      found.skipped.forEach((s, i) => {
        const line = `${s.displayPath}: ${s.reason}`
        if (i < MAX_FILE_ANNOTATIONS)
          log.warning(line, { file: s.displayPath, title: SKIPPED_TITLES[s.kind] })
        else log.debug(line)
      })
      if (found.skipped.length > MAX_FILE_ANNOTATIONS)
        log.warning(
          `${found.skipped.length - MAX_FILE_ANNOTATIONS} more matched path(s) were skipped; the job summary and results file list them all.`
        )
      // Only the compact table leaves this group: the list of matched paths is garbage from here on.
      return { files: new RunFiles(path.resolve(deps.workspace), found.files), skipped: found.skipped }
    })
    matched = discovered.files
    // Directories and second paths to a file are notes; a path meant as a file that cannot be used fails.
    report.skipped = discovered.skipped.filter((s) => !isUnusableMatch(s))
    unusable = discovered.skipped.filter(isUnusableMatch).map((s) => ({
      path: s.displayPath,
      sceneUuid: null,
      status: 'invalid',
      predictionUuid: null,
      attempts: 0,
      possibleDuplicate: false,
      error: s.reason,
      problems: [{ kind: s.kind, jsonPath: '', message: s.reason }],
      moreProblems: 0
    }))

    if (matched.count === 0 && unusable.length > 0) {
      log.info('None of the matched paths is a file that can be uploaded; see the warnings.')
      return report
    }
    if (matched.count === 0) {
      const message = `No files matched ${INPUT.path} (${oneLine(input.patterns)}) in ${deps.workspace}. Check the patterns are relative to the workspace and that the step that writes predictions ran first.`
      if (input.ifNoFilesFound === 'error')
        throw new FatalError(`${message} (${INPUT.ifNoFilesFound}: error)`)
      if (input.ifNoFilesFound === 'warn') log.warning(message)
      else log.info(message)
      return report
    }

    /** Reads and checks every file (no content kept); returns the positions of those fit to upload. */
    const inspectAll = (): Promise<Uint32Array> =>
      io.group(`Read and check ${matched.count} file(s)`, async () => {
        const options = { maxFileSizeBytes: input.maxFileSizeBytes, validation: input.validation }
        await runPool(
          matched.count,
          INSPECT_CONCURRENCY,
          async (index) => {
            matched.recordCheck(index, await inspectFile(matched.file(index), options))
          },
          stopNew.signal
        )
        if (stopNew.signal.aborted) throw new FatalError('Cancelled while reading the prediction files')
        return checkFiles(matched, input, log)
      })

    /** A dry run's answer: which file would go to which scene (the checks' findings are already annotated). */
    const recordDryRun = (fit: Uint32Array): Promise<void> =>
      io.group(`Dry run: ${fit.length} file(s) would be uploaded`, async () => {
        for (const index of fit) {
          matched.setOutcome(index, { status: 'would-upload' })
          log.info(`${matched.displayPath(index)} → scene ${matched.sceneUuid(index)}`)
        }
      })

    if (!credentials) {
      // Nothing was looked up: the group stays as the inputs name it, unverified.
      report.group = {
        uuid: null,
        name: input.group.kind === 'name' ? input.group.name : null,
        created: false,
        state: 'unresolved'
      }
      const fit = await inspectAll()
      checkClassMapping(matched, fit, classMapping, log)
      await recordDryRun(fit)
      return report
    }

    client = new KognicClient({
      apiUrl: input.apiUrl,
      authUrl: input.authUrl,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      concurrency: input.concurrency,
      maxRetries: input.maxRetries,
      requestTimeoutMs: input.requestTimeoutMs,
      logger: log,
      signal: abortInFlight.signal,
      stopNewAttempts: stopNew.signal,
      onToken: (token) => io.setSecret(token)
    })
    const api = client

    // Sign-in and the group lookup only read; they run while the files are checked, and are awaited
    // before anything is created or uploaded. Their failures are reported in their own log groups.
    const signedIn = api.authenticate()
    const groupFound = signedIn.then(() => findGroup(api, input.datasetUuid, input.group))
    groupFound.catch(() => undefined)

    const fit = await inspectAll()

    await io.group('Sign in to Kognic', async () => {
      await signedIn
      log.info(`Signed in to ${input.authUrl} as client ${credentials.clientId}.`)
    })

    const found = await io.group('Resolve the predictions group', async () => {
      const group = await groupFound
      if (group) {
        log.info(`Using predictions group "${group.name}" (${group.uuid}).`)
        report.group = { uuid: group.uuid, name: group.name, created: false, state: 'found' }
        if (classMapping)
          log.info(
            `The group exists, so ${INPUT.classMapping} is not sent; it is only used to check the predictions' classes.`
          )
      }
      return group
    })

    if (fit.length === 0) {
      log.info('No file is fit to upload, so no group was created and nothing was uploaded.')
      return report
    }
    checkClassMapping(matched, fit, classMapping, log)

    const group =
      found ??
      (await io.group('Create the predictions group', () => {
        const segmented = fit.find((i) => matched.hasSegmentation(i))
        const firstSegmented = segmented === undefined ? undefined : matched.displayPath(segmented)
        return createGroupIfAllowed(api, input, firstSegmented, classMapping, env, report, log)
      }))

    if (input.dryRun) {
      await recordDryRun(fit)
      log.info(
        `Dry run: ${fit.length} file(s) would be uploaded into ${group ? `group ${group.uuid}` : 'a new group'}; nothing was created or uploaded.`
      )
      return report
    }
    if (!group) throw new FatalError('No predictions group to upload into')

    const debug = io.isDebug()
    let refused: KognicAuthError | undefined
    await io.group(`Upload ${fit.length} prediction(s)`, async () => {
      const progress = createProgress({ total: fit.length, now, print: (line) => log.info(line) })
      progress.start()
      try {
        await uploadEach(
          fit.length,
          // Built as each upload starts, and dropped when it ends: the run keeps only the columns.
          (k) => matched.inspected(fit[k]!)!,
          {
            concurrency: input.concurrency,
            readBody: readUploadBody,
            upload: (body) =>
              api.uploadPrediction(group.uuid, body).catch((error: unknown) => {
                // Credentials refused mid-run fail every later file alike: stop, and say it once.
                if (error instanceof KognicAuthError && !refused) {
                  refused = error
                  stopNew.abort(error)
                }
                throw error
              }),
            stop: stopNew.signal,
            onResult: (result) => {
              if (result.status === 'uploaded' || result.status === 'failed') progress.tick(result.status)
              // Built only when the runner shows debug lines: thousands of files make it a measurable cost.
              if (debug)
                log.debug(
                  `${result.path} → ${result.status}${result.predictionUuid ? ` ${result.predictionUuid}` : ''}${result.error ? `: ${result.error}` : ''} (${result.attempts} attempt(s))`
                )
            }
          },
          (result, k) => matched.setOutcome(fit[k]!, result)
        )
      } finally {
        progress.stop()
      }
      log.info(progress.line())
    })
    if (refused) throw new FatalError(`Kognic refused the credentials during the upload: ${refused.message}`)
  } catch (error) {
    report.fatalError = error instanceof Error ? error.message : String(error)
  } finally {
    report.groupUrl = groupLink(inputs, report)
    if (graceTimer) clearTimeout(graceTimer)
    const stats = client?.stats()
    await client?.close().catch(() => undefined)
    report.finishedAt = now()
    report.results = finishResults(matched, unusable, report)
    report.counts = countResults(report.results, stats?.retries ?? 0)
    await publish(report, inputs, resultsPath, deps)
    // Only now: a second signal while the summary is written must not kill the process half-way.
    unsubscribe?.()
  }
  return report
}

/**
 * The inputs as a whole: the action's inputs, the credentials and the class mapping, every problem of
 * the three reported at once. Credentials are null only for a dry run given none at all.
 */
async function readEverything(
  io: ActionIO,
  env: Record<string, string | undefined>,
  workspace: string
): Promise<{
  input: Inputs
  credentials: Credentials | null
  classMapping: ClassMappingEntry[] | undefined
  /** Where the results file goes: checked to stay inside the workspace or RUNNER_TEMP. */
  resultsFile: string
}> {
  const problems: string[] = []
  let input: Inputs | undefined
  try {
    input = readInputs((name) => io.getInput(name))
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    problems.push(...error.problems)
  }
  const raw = {
    credentials: io.getInput(INPUT.credentials).trim(),
    clientId: io.getInput(INPUT.clientId).trim(),
    clientSecret: io.getInput(INPUT.clientSecret).trim()
  }
  const dryRun = input?.dryRun ?? false
  const credentials = await resolveCredentials(raw, env, (s) => io.setSecret(s)).catch((error: unknown) => {
    // A pull request from a fork gets no secrets: its dry run can still check the files.
    if (error instanceof CredentialsError && error.missing && dryRun) return null
    problems.push(error instanceof Error ? error.message : String(error))
    return null
  })
  const mappingRaw = io.getInput(INPUT.classMapping).trim()
  const classMapping = mappingRaw
    ? await parseClassMapping(mappingRaw, workspace).catch((error: unknown) => {
        problems.push(error instanceof Error ? error.message : String(error))
        return undefined
      })
    : undefined
  const resultsFile = await resultsFilePath(input?.resultsFile ?? '', workspace, env).catch(
    (error: unknown) => {
      problems.push(error instanceof Error ? error.message : String(error))
      return ''
    }
  )
  if (problems.length > 0 || !input) throw new InputError(problems)
  return { input, credentials, classMapping, resultsFile }
}

/** Applies the per-file checks: fatal problems, validation mode, duplicate scenes. Returns the positions to upload. */
function checkFiles(matched: RunFiles, input: Inputs, log: Logger): Uint32Array {
  // Each file of a duplicate group, with the others of its group: only such files are in the map.
  const duplicateOf = new Map<number, number[]>()
  for (const group of matched.duplicateScenes()) {
    for (const index of group)
      duplicateOf.set(
        index,
        group.filter((other) => other !== index)
      )
  }

  const fit = new Uint32Array(matched.count)
  let fitCount = 0
  let annotated = 0
  const annotate = (
    displayPath: string,
    message: string,
    title: string,
    level: 'error' | 'warning'
  ): void => {
    // The raw log shows only the message: make sure it names the file, as the annotation does.
    const named = message.startsWith(displayPath) ? message : `${displayPath}: ${message}`
    if (annotated++ < MAX_FILE_ANNOTATIONS) log[level](named, { file: displayPath, title })
    else log.debug(named)
  }

  for (let index = 0; index < matched.count; index++) {
    const displayPath = matched.displayPath(index)
    const fatal = matched.fatal(index)
    if (fatal.length > 0) {
      const reason = fatal.map((p) => p.message).join('; ')
      matched.setOutcome(index, { status: 'invalid', error: reason, fatalAsProblems: true })
      annotate(displayPath, reason, 'Unusable prediction file', 'error')
      continue
    }
    const others = duplicateOf.get(index)
    if (others) {
      const paths = others.map((other) => matched.displayPath(other))
      const reason = `Scene ${matched.sceneUuid(index)} also has a prediction in ${paths.join(', ')}: keep one file per scene`
      matched.setOutcome(index, { status: 'invalid', error: reason })
      annotate(displayPath, reason, 'Duplicate scene', 'error')
      continue
    }
    const problems = matched.problems(index)
    if (problems.length > 0 && input.validation !== 'off') {
      const moreProblems = matched.moreProblems(index)
      const more = moreProblems > 0 ? ` (and ${moreProblems} more)` : ''
      const reason = `${problems.map((p) => `${p.jsonPath ? `${p.jsonPath}: ` : ''}${p.message}`).join('; ')}${more}`
      if (input.validation === 'strict') {
        matched.setOutcome(index, { status: 'invalid', error: `OpenLABEL problems: ${reason}` })
        annotate(displayPath, reason, 'Invalid OpenLABEL', 'error')
        continue
      }
      annotate(displayPath, reason, 'OpenLABEL problems (uploaded anyway: validation is warn)', 'warning')
    }
    fit[fitCount++] = index
  }
  const invalid = matched.count - fitCount
  if (annotated > MAX_FILE_ANNOTATIONS) {
    log.warning(
      `${annotated - MAX_FILE_ANNOTATIONS} more file(s) have problems; the job summary and results file list them all.`
    )
  }
  log.info(`${fitCount} file(s) ready to upload${invalid > 0 ? `, ${invalid} not usable` : ''}.`)
  return fit.subarray(0, fitCount)
}

/** A mapping that leaves out a class the predictions use would make Kognic reject them, or show them wrong. */
function checkClassMapping(
  matched: RunFiles,
  fit: Uint32Array,
  mapping: ClassMappingEntry[] | undefined,
  log: Logger
): void {
  if (!mapping) return
  const classes = new Set<string>()
  for (const index of fit) for (const c of matched.segmentationClasses(index)) classes.add(c)
  const missing = missingClasses(mapping, classes)
  if (missing.length > 0) {
    const example = JSON.stringify({ annotated: missing[0], predicted: missing[0] })
    throw new FatalError(
      `${INPUT.classMapping} leaves out ${missing.length} class(es) found in the predictions: ${missing.join(', ')}. Every predicted class must appear as "predicted" in an entry, even when it maps to itself, e.g. ${example}.`
    )
  }
  log.info(
    `${INPUT.classMapping}: ${mapping.length} entr(ies) cover the ${classes.size} class(es) in the predictions.`
  )
}

async function createGroupIfAllowed(
  api: KognicClient,
  input: Inputs,
  /** The first file to upload that holds segmentation predictions, if any. */
  segmented: string | undefined,
  classMapping: ClassMappingEntry[] | undefined,
  env: Record<string, string | undefined>,
  report: RunReport,
  log: Logger
): Promise<GroupSummary | null> {
  if (input.group.kind !== 'name') return null
  const name = input.group.name
  if (!input.createGroup) {
    throw new FatalError(
      `Dataset ${input.datasetUuid} has no predictions group named "${name}" and ${INPUT.createGroup} is 'false'. Create the group in the Kognic app, fix the name, or set ${INPUT.createGroup}: 'true'.`
    )
  }
  if (segmented !== undefined && !classMapping) {
    throw new FatalError(
      `${segmented} holds segmentation predictions, and a segmentation group must be created with a class mapping: set ${INPUT.classMapping} to a JSON list of {"annotated", "predicted"} entries covering every class (inline, or the path of a .json file).`
    )
  }
  if (input.dryRun) {
    log.info(`Dry run: would create predictions group "${name}" in dataset ${input.datasetUuid}.`)
    report.group = { uuid: null, name, created: false, state: 'would-create' }
    return null
  }
  const description = input.groupDescription || defaultGroupDescription(env)
  const uuid = await api.createPredictionsGroup(input.datasetUuid, {
    name,
    description,
    ...(classMapping ? { classMapping } : {})
  })
  log.info(`Created predictions group "${name}" (${uuid}).`)
  report.group = { uuid, name, created: true, state: 'created' }
  return { uuid, name }
}

/**
 * One result per matched file, in the order matched: those the run never reached say why. Then the
 * matched paths that cannot be used. Each result is built as it is read.
 */
function finishResults(matched: RunFiles, unusable: FileResult[], report: RunReport): ResultList {
  const why = report.cancelled
    ? 'Not uploaded: the run was cancelled'
    : `Not uploaded: the run stopped before uploading${report.fatalError ? ` (${report.fatalError.split('\n')[0]})` : ''}`
  return matched.results(why, unusable)
}

/** Outputs, results file, job summary and the step's verdict: written once, also when the run failed. */
async function publish(
  report: RunReport,
  inputs: Inputs | undefined,
  /** '' when the inputs could not be read: the results go to this run's default place. */
  resultsPath: string,
  deps: RunDeps
): Promise<void> {
  const { io, env } = deps
  const log = io.logger
  const c = report.counts
  // The `failed` output counts every file not uploaded: invalid, refused, or never reached.
  const notUploaded = c.failed + c.invalid + c.notAttempted

  let resultsFile = ''
  // Later steps and artifacts rely on the results file: a run that cannot write it fails.
  let resultsProblem: string | undefined
  try {
    resultsFile = resultsPath || (await resultsFilePath('', deps.workspace, env))
    await writeResultsFile(resultsFile, report)
    log.info(`Results of ${report.results.length} file(s) written to ${resultsFile}.`)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    resultsProblem = reason.includes(resultsFile)
      ? reason
      : `Could not write the results file ${resultsFile}: ${reason}. Check ${INPUT.resultsFile}.`
    log.error(resultsProblem, { title: 'Results file' })
    resultsFile = ''
  }

  io.setOutput('predictions-group-uuid', report.group.uuid ?? '')
  io.setOutput('group-created', String(report.group.created))
  io.setOutput('matched', String(c.matched))
  io.setOutput('uploaded', String(c.uploaded))
  io.setOutput('failed', String(notUploaded))
  io.setOutput('results-file', resultsFile)

  let failedUploads = 0
  for (const r of report.results) {
    if (r.status !== 'failed') continue
    if (failedUploads++ >= MAX_FILE_ANNOTATIONS) continue
    log.error(`${r.path}: upload failed: ${r.error ?? 'unknown error'}`, {
      file: r.path,
      title: 'Upload failed'
    })
  }
  if (failedUploads > MAX_FILE_ANNOTATIONS) {
    log.error(
      `${failedUploads - MAX_FILE_ANNOTATIONS} more upload(s) failed; the job summary and results file list them all.`
    )
  }

  if (env.GITHUB_STEP_SUMMARY) {
    try {
      await io.writeSummary(renderSummary(report, { resultsFile: resultsFile || null }))
    } catch (error) {
      log.warning(
        `Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  }

  if (inputs?.prComment) {
    // Loaded only when asked for: octokit is most of the bundle, and a comment never changes the verdict.
    const { buildPrComment, prCommentContextFromEnv, upsertPrComment } =
      await import('./github/pr-comment.js')
    const { marker, body } = buildPrComment(report, inputs.group)
    await upsertPrComment({
      token: inputs.githubToken,
      ctx: prCommentContextFromEnv(env),
      body,
      marker,
      logger: log
    })
  }

  if (report.fatalError) {
    io.setFailed(report.fatalError)
  } else if (resultsProblem) {
    io.setFailed(resultsProblem)
  } else if (report.cancelled) {
    io.setFailed(
      `Cancelled: ${c.uploaded} of ${c.matched} file(s) were uploaded before the run stopped; ${notUploaded} were not (see ${resultsFile || 'the results file'}).`
    )
  } else if (notUploaded > 0) {
    io.setFailed(
      report.dryRun
        ? `Dry run: ${notUploaded} of ${c.matched} file(s) would not be uploaded; see the annotations and the job summary.`
        : `${notUploaded} of ${c.matched} file(s) were not uploaded (${c.uploaded} uploaded); see the annotations, the job summary and ${resultsFile || 'the results file'}.`
    )
  } else {
    log.info(
      report.dryRun
        ? `Dry run complete: ${c.wouldUpload} of ${c.matched} file(s) would be uploaded.`
        : `Uploaded ${c.uploaded} of ${c.matched} file(s).`
    )
  }
}

/**
 * The results file is never a prediction: when the patterns match the file at results-file, an earlier
 * run's results there are set aside. Anything else there must not be overwritten: returns why.
 */
async function setAsideResultsFile(found: Discovery, resultsPath: string): Promise<string | null> {
  if (!resultsPath) return null
  const name = path.basename(resultsPath)
  let index = -1
  for (const [i, f] of found.files.entries()) {
    // Only a file of the same name can be it; its real path settles it, as resultsPath is real.
    if (path.basename(f.path) === name && (await realpath(f.path).catch(() => '')) === resultsPath) index = i
  }
  if (index < 0) return null
  const file = found.files[index]!
  if (!(await isResultsFile(file.path))) {
    return `${INPUT.resultsFile} names ${file.displayPath}, which ${INPUT.path} matches as a prediction file; the run would overwrite it. Choose another ${INPUT.resultsFile}, outside the ${INPUT.path} patterns.`
  }
  found.files.splice(index, 1)
  found.skipped.push({
    kind: 'same-file',
    displayPath: file.displayPath,
    reason: `the results file of an earlier run (${INPUT.resultsFile}), not a prediction`
  })
  return null
}

/** The group's address in the Kognic app, when the inputs give its shape and the group is known. */
function groupLink(inputs: Inputs | undefined, report: RunReport): string | null {
  const uuid = report.group.uuid
  if (!inputs?.groupLinkTemplate || !uuid) return null
  return inputs.groupLinkTemplate
    .replace(/\{dataset\}/g, encodeURIComponent(report.datasetUuid))
    .replace(/\{group\}/g, encodeURIComponent(uuid))
}

function oneLine(text: string): string {
  const joined = text.split('\n').join(', ')
  return joined.length > 200 ? `${joined.slice(0, 200)}…` : joined
}
