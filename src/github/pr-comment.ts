// The upload summary as one pull-request comment: found again by a hidden marker and updated, never posted
// twice. Posting it is a courtesy: whatever GitHub answers, this never throws and never fails the step.
import { readFileSync } from 'node:fs'
import { isLoopbackHost } from '../net.js'
import type { GroupReport, RunReport } from '../report/model.js'
import { renderSummary } from '../report/summary.js'
import type { Logger } from '../types.js'

/** Where the comment goes: the runner's variables, read by `prCommentContextFromEnv`. */
export interface PrCommentContext {
  /** GITHUB_EVENT_NAME. */
  eventName: string
  /** GITHUB_EVENT_PATH: the event's JSON payload. */
  eventPath?: string
  /** GITHUB_REPOSITORY, `owner/name`. */
  repository?: string
  /** GITHUB_API_URL; default https://api.github.com. */
  apiUrl?: string
}

export interface UpsertPrCommentOptions {
  token: string
  ctx: PrCommentContext
  /** The comment's markdown; the marker is put in front of it when it is not there already. */
  body: string
  marker: string
  logger: Logger
  /** Budget for all the GitHub requests together; a hung API must not hold the job. Default 30 s. */
  timeoutMs?: number
}

export interface UpsertPrCommentResult {
  action: 'created' | 'updated' | 'skipped'
  /** The comment's html_url, when GitHub gave one. */
  url?: string
  /** Why nothing was posted. */
  reason?: string
}

/** GitHub refuses a comment body over 65,536 characters. */
export const GITHUB_COMMENT_MAX_CHARS = 65_536
/** What the summary renderer may use: below the limit, leaving room for the marker and a cut note. */
export const PR_COMMENT_SUMMARY_MAX_BYTES = 60_000
export const PR_COMMENT_HEADING = 'Kognic predictions upload'
const DEFAULT_TIMEOUT_MS = 30_000
const DEFAULT_API_URL = 'https://api.github.com'
const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target'])
const MARKER_PREFIX = '<!-- kognic-upload-predictions '
const PERMISSION_HINT =
  'The token needs `permissions: pull-requests: write` in the workflow (or the job). A pull request from a fork gets a read-only GITHUB_TOKEN: use `dry-run` there, or leave `pr-comment` off.'

/** The runner's variables, as `@actions/github` reads them. */
export function prCommentContextFromEnv(env: Record<string, string | undefined>): PrCommentContext {
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    ...(env.GITHUB_EVENT_PATH ? { eventPath: env.GITHUB_EVENT_PATH } : {}),
    ...(env.GITHUB_REPOSITORY ? { repository: env.GITHUB_REPOSITORY } : {}),
    ...(env.GITHUB_API_URL ? { apiUrl: env.GITHUB_API_URL } : {})
  }
}

interface PullRequestEvent {
  number: number
  /** `owner/name` of the base repository, from the payload. */
  baseRepository?: string
  /** `owner/name` of the head repository when it differs from the base: the pull request comes from a fork. */
  forkRepository?: string
}

type EventRead = { ok: true; pr: PullRequestEvent } | { ok: false; reason: string; level: 'info' | 'warning' }

function readPullRequestEvent(ctx: PrCommentContext): EventRead {
  if (!PULL_REQUEST_EVENTS.has(ctx.eventName)) {
    return {
      ok: false,
      level: 'info',
      reason: `the workflow runs on ${ctx.eventName ? `a ${ctx.eventName} event` : 'an unknown event'}, not a pull request`
    }
  }
  if (!ctx.eventPath) return { ok: false, level: 'warning', reason: 'GITHUB_EVENT_PATH is not set' }
  let payload: unknown
  try {
    payload = JSON.parse(readFileSync(ctx.eventPath, 'utf8'))
  } catch (error) {
    return {
      ok: false,
      level: 'warning',
      reason: `the event file ${ctx.eventPath} could not be read as JSON (${error instanceof Error ? error.message : String(error)})`
    }
  }
  const event = asRecord(payload)
  const pr = asRecord(event?.pull_request)
  const number = pr?.number ?? event?.number
  if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0) {
    return {
      ok: false,
      level: 'warning',
      reason: `the ${ctx.eventName} event carries no pull request number`
    }
  }
  const baseRepository = fullName(asRecord(pr?.base)?.repo) ?? fullName(event?.repository)
  const headRepository = fullName(asRecord(pr?.head)?.repo)
  return {
    ok: true,
    pr: {
      number,
      ...(baseRepository ? { baseRepository } : {}),
      ...(headRepository && baseRepository && headRepository !== baseRepository
        ? { forkRepository: headRepository }
        : {})
    }
  }
}

/** The pull request's number on pull_request and pull_request_target events; null on any other event. */
export function pullRequestNumber(ctx: PrCommentContext): number | null {
  const read = readPullRequestEvent(ctx)
  return read.ok ? read.pr.number : null
}

/**
 * The hidden line that finds this action's comment again. Keyed by dataset and group so two uploads from one
 * pull request (two datasets, or two groups) keep a comment each. Parts are URI-encoded: a group name
 * cannot end the HTML comment early, or make one marker a prefix of another.
 */
export function commentMarker(datasetUuid: string, groupKey: string): string {
  const part = (s: string): string => encodeURIComponent(s.trim())
  return `${MARKER_PREFIX}dataset=${part(datasetUuid.toLowerCase())} group=${part(groupKey)} -->`
}

/**
 * The group part of the marker: the group as the inputs name it — `name:<name>` for `predictions-group`, the
 * UUID for `predictions-group-uuid` — so a dry run, the first real run that creates the group and every later
 * run of the same step share one comment. Without inputs (they were invalid), the group the run knew, else
 * `unresolved`.
 */
export function markerGroupKey(
  group: Pick<GroupReport, 'uuid' | 'name'>,
  inputGroup?: { kind: 'name'; name: string } | { kind: 'uuid'; uuid: string }
): string {
  if (inputGroup?.kind === 'uuid') return inputGroup.uuid.toLowerCase()
  if (inputGroup?.kind === 'name') return `name:${inputGroup.name}`
  if (group.uuid) return group.uuid.toLowerCase()
  return group.name ? `name:${group.name}` : 'unresolved'
}

/** The comment for a run: the job summary's renderer, cut to fit a comment, and its marker. */
export function buildPrComment(
  report: RunReport,
  inputGroup?: { kind: 'name'; name: string } | { kind: 'uuid'; uuid: string }
): { marker: string; body: string } {
  const marker = commentMarker(report.datasetUuid, markerGroupKey(report.group, inputGroup))
  // The comment points at the run: its artifacts hold the results file, which lists every file.
  const runUrl = report.run?.url
  const body = renderSummary(report, {
    maxBytes: PR_COMMENT_SUMMARY_MAX_BYTES,
    heading: PR_COMMENT_HEADING,
    // The job summary lists only the first files of each kind; the results file lists them all.
    everyFileAt: runUrl
      ? { label: 'the results file, when kept as an artifact of the workflow run', url: runUrl }
      : null
  })
  return { marker, body }
}

/** Creates the pull request's comment carrying `marker`, or updates it when it exists. Never throws. */
export async function upsertPrComment(opts: UpsertPrCommentOptions): Promise<UpsertPrCommentResult> {
  const { token, ctx, marker, logger } = opts
  const skip = (level: 'info' | 'warning', reason: string): UpsertPrCommentResult => {
    const text = scrub(`No pull-request comment: ${reason}.`, token)
    if (level === 'info') logger.info(text)
    else logger.warning(text, { title: 'Pull-request comment' })
    return { action: 'skipped', reason: scrub(reason, token) }
  }

  const event = readPullRequestEvent(ctx)
  if (!event.ok) return skip(event.level, event.reason)
  const pr = event.pr
  if (!token.trim()) {
    return skip('warning', `github-token is empty. ${PERMISSION_HINT}`)
  }
  const repository = ctx.repository || pr.baseRepository
  const [owner, repo, ...extra] = (repository ?? '').split('/')
  if (!owner || !repo || extra.length > 0) {
    return skip(
      'warning',
      `GITHUB_REPOSITORY is ${repository ? `"${repository}", not owner/name` : 'not set'}`
    )
  }
  const apiUrl = (ctx.apiUrl || DEFAULT_API_URL).replace(/\/+$/, '')
  const refusal = refuseApiUrl(apiUrl)
  if (refusal) return skip('warning', refusal)

  const body = fitComment(opts.body.startsWith(marker) ? opts.body : `${marker}\n${opts.body}`)
  const where = `pull request #${pr.number} of ${owner}/${repo}`
  let step = 'list the comments of'
  try {
    // Loaded here, not at the top: runs without a comment should not pay for loading octokit.
    const [{ getOctokit }, { defaults }] = await Promise.all([
      import('@actions/github'),
      import('@actions/github/lib/utils')
    ])
    const signal = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    // `defaults.request` holds the runner's proxy-aware fetch (chosen for GITHUB_API_URL at import): keep it.
    const octokit = getOctokit(token, {
      baseUrl: apiUrl,
      request: { ...defaults.request, signal },
      log: {
        debug: (m: string) => logger.debug(scrub(m, token)),
        info: (m: string) => logger.debug(scrub(m, token)),
        warn: (m: string) => logger.debug(scrub(m, token)),
        error: (m: string) => logger.debug(scrub(m, token))
      }
    })

    step = 'find out which user the token belongs to, before commenting on'
    const author = await tokenLogin(octokit)
    step = 'list the comments of'
    let existing: { id: number; html_url?: string } | undefined
    const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: pr.number,
      per_page: 100
    })
    for await (const page of pages) {
      // Ours start with the marker and were written by this token's user: anyone can copy the marker.
      existing = page.data.find(
        (c) => c.user?.login === author && typeof c.body === 'string' && c.body.trimStart().startsWith(marker)
      )
      if (existing) break
    }

    if (existing) {
      step = `update its earlier comment (${existing.id}) on`
      try {
        const updated = await octokit.rest.issues.updateComment({
          owner,
          repo,
          comment_id: existing.id,
          body
        })
        logger.info(`Updated the upload summary on ${where}${at(updated.data.html_url)}.`)
        return { action: 'updated', ...(updated.data.html_url ? { url: updated.data.html_url } : {}) }
      } catch (error) {
        // Deleted since it was listed (someone tidied the thread): post it afresh, below.
        if (asRecord(error)?.status !== 404) throw error
        logger.debug(`The comment ${existing.id} on ${where} is gone; posting a new one.`)
      }
    }
    step = 'comment on'
    const created = await octokit.rest.issues.createComment({ owner, repo, issue_number: pr.number, body })
    logger.info(`Posted the upload summary on ${where}${at(created.data.html_url)}.`)
    return { action: 'created', ...(created.data.html_url ? { url: created.data.html_url } : {}) }
  } catch (error) {
    return skip('warning', explainFailure(error, step, where, pr))
  }
}

/** The login of the default GITHUB_TOKEN, which may not read /user. */
export const DEFAULT_TOKEN_LOGIN = 'github-actions[bot]'

/**
 * Who the token writes comments as. A personal token may read /user; an installation token such as the
 * default GITHUB_TOKEN gets 403 there, and its comments are written by github-actions[bot].
 */
async function tokenLogin(octokit: {
  rest: { users: { getAuthenticated(): Promise<{ data: { login: string } }> } }
}): Promise<string> {
  try {
    return (await octokit.rest.users.getAuthenticated()).data.login
  } catch (error) {
    if (asRecord(error)?.status === 403) return DEFAULT_TOKEN_LOGIN
    throw error
  }
}

/** ` at <url>` when GitHub gave the comment's address; nothing when it did not. */
function at(url: string | undefined): string {
  return url ? ` at ${url}` : ''
}

/** Says what went wrong in words that tell the reader what to change. */
function explainFailure(error: unknown, step: string, where: string, pr: PullRequestEvent): string {
  const status = asRecord(error)?.status
  const detail = errorMessage(error)
  const fork = pr.forkRepository
    ? ` The pull request comes from the fork ${pr.forkRepository}: its workflows get a read-only token.`
    : ''
  if (status === 401) {
    return `GitHub refused the token (401 ${detail}) when trying to ${step} ${where}. Check github-token`
  }
  if (status === 403 || status === 404) {
    return `GitHub answered ${status} (${detail}) when trying to ${step} ${where}.${fork} ${PERMISSION_HINT}`
  }
  if (isTimeout(error)) {
    return `GitHub did not answer in time when trying to ${step} ${where}`
  }
  return `could not ${step} ${where}: ${typeof status === 'number' ? `${status} ` : ''}${detail}`
}

function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  const line = text.split('\n')[0] ?? ''
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = asRecord(e)?.cause, depth++) {
    const name = asRecord(e)?.name
    if (name === 'TimeoutError' || name === 'AbortError') return true
  }
  return false
}

/** The token goes only to GitHub over https (or this machine, for tests). */
function refuseApiUrl(apiUrl: string): string | null {
  let url: URL
  try {
    url = new URL(apiUrl)
  } catch {
    return `GITHUB_API_URL "${apiUrl}" is not a URL`
  }
  if (url.protocol === 'https:') return null
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null
  return `GITHUB_API_URL ${url.origin} is not https: the token is not sent over plain http`
}

/** Keeps the body within GitHub's limit, saying so when it had to cut. */
function fitComment(body: string): string {
  if (body.length <= GITHUB_COMMENT_MAX_CHARS) return body
  const note = '\n\n_The summary was cut to fit a pull-request comment; the job summary has all of it._\n'
  let cut = body.slice(0, GITHUB_COMMENT_MAX_CHARS - note.length)
  // A cut between the two halves of a surrogate pair would leave a broken character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1)
  return cut + note
}

/** Never print the token, even when GitHub or a library echoes it. */
function scrub(text: string, token: string): string {
  return token.trim().length >= 4 ? text.split(token.trim()).join('***') : text
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
}

function fullName(repo: unknown): string | undefined {
  const name = asRecord(repo)?.full_name
  return typeof name === 'string' && name.includes('/') ? name : undefined
}
