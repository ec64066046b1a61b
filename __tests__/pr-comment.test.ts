import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  GITHUB_COMMENT_MAX_CHARS,
  PR_COMMENT_SUMMARY_MAX_BYTES,
  buildPrComment,
  commentMarker,
  markerGroupKey,
  prCommentContextFromEnv,
  pullRequestNumber,
  upsertPrComment,
  type PrCommentContext
} from '../src/github/pr-comment.js'
import { countResults, type RunReport } from '../src/report/model.js'
import type { FileResult } from '../src/types.js'
import { RecordingLogger } from './kognic-fixtures.js'
import { pullRequestEvent, startGitHubStub, type GitHubStub } from './github-stub.js'

const REPO = 'kognic-test/model'
const PR = 42
const TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a'
const DATASET = 'a1d2c3e4-0b0d-4e0f-8a11-0000000000d1'
const GROUP = 'b2e3f4a5-1c1e-4f10-9b22-0000000000a1'
const MARKER = commentMarker(DATASET, GROUP)

let dir: string
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pr-comment-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let eventFiles = 0
function eventFile(payload: unknown): string {
  const file = path.join(dir, `event-${eventFiles++}.json`)
  writeFileSync(file, JSON.stringify(payload))
  return file
}

function prContext(stub: GitHubStub, over: Partial<PrCommentContext> = {}): PrCommentContext {
  return {
    eventName: 'pull_request',
    eventPath: eventFile(pullRequestEvent(PR, REPO)),
    repository: REPO,
    apiUrl: stub.url,
    ...over
  }
}

describe('pullRequestNumber', () => {
  it('reads the number of pull_request and pull_request_target events', () => {
    const eventPath = eventFile(pullRequestEvent(7, REPO))
    expect(pullRequestNumber({ eventName: 'pull_request', eventPath })).toBe(7)
    expect(pullRequestNumber({ eventName: 'pull_request_target', eventPath })).toBe(7)
  })

  it('is null for other events, even when the payload names a pull request', () => {
    const eventPath = eventFile(pullRequestEvent(7, REPO))
    for (const eventName of ['push', 'schedule', 'workflow_dispatch', 'issue_comment', ''])
      expect(pullRequestNumber({ eventName, eventPath })).toBeNull()
  })

  it('is null when the event file is missing, not JSON or has no number', () => {
    expect(pullRequestNumber({ eventName: 'pull_request' })).toBeNull()
    expect(
      pullRequestNumber({ eventName: 'pull_request', eventPath: path.join(dir, 'absent.json') })
    ).toBeNull()
    const broken = path.join(dir, 'broken.json')
    writeFileSync(broken, '{"pull_request": ')
    expect(pullRequestNumber({ eventName: 'pull_request', eventPath: broken })).toBeNull()
    const eventPath = eventFile({ pull_request: { number: 'seven' } })
    expect(pullRequestNumber({ eventName: 'pull_request', eventPath })).toBeNull()
  })

  it('takes the context from the runner variables', () => {
    expect(
      prCommentContextFromEnv({
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: '/e.json',
        GITHUB_REPOSITORY: REPO,
        GITHUB_API_URL: 'https://ghe.example/api/v3'
      })
    ).toEqual({
      eventName: 'pull_request',
      eventPath: '/e.json',
      repository: REPO,
      apiUrl: 'https://ghe.example/api/v3'
    })
    expect(prCommentContextFromEnv({})).toEqual({ eventName: '' })
  })
})

describe('commentMarker and its group key', () => {
  it('is a hidden HTML comment naming dataset and group', () => {
    expect(commentMarker(DATASET.toUpperCase(), GROUP)).toBe(
      `<!-- kognic-upload-predictions dataset=${DATASET} group=${GROUP} -->`
    )
  })

  it('cannot be closed early by a group name, nor be a prefix of another marker', () => {
    const hostile = commentMarker(DATASET, 'name:x --> <script>')
    expect(hostile.indexOf('-->')).toBe(hostile.length - 3)
    expect(hostile).not.toContain('<script>')
    expect(commentMarker(DATASET, 'name:a').startsWith(commentMarker(DATASET, 'name:a b').slice(0, -4))).toBe(
      false
    )
    expect(commentMarker(DATASET, 'name:ab').startsWith(commentMarker(DATASET, 'name:a'))).toBe(false)
  })

  it('keys by the group as the inputs name it, so a dry run and later runs share one comment', () => {
    const named = { kind: 'name', name: 'pr-42' } as const
    expect(markerGroupKey({ uuid: null, name: 'pr-42' }, named)).toBe('name:pr-42')
    expect(markerGroupKey({ uuid: GROUP, name: 'pr-42' }, named)).toBe('name:pr-42')
    expect(markerGroupKey({ uuid: null, name: null }, { kind: 'uuid', uuid: GROUP.toUpperCase() })).toBe(
      GROUP
    )
    expect(markerGroupKey({ uuid: GROUP.toUpperCase(), name: 'nightly' })).toBe(GROUP)
    expect(markerGroupKey({ uuid: null, name: 'pr-42' })).toBe('name:pr-42')
    expect(markerGroupKey({ uuid: null, name: null })).toBe('unresolved')
  })
})

describe('upsertPrComment against a loopback GitHub', () => {
  let stub: GitHubStub
  afterEach(async () => stub?.close())

  it('creates the comment once, then updates that same comment', async () => {
    stub = await startGitHubStub({ acceptToken: TOKEN })
    const logger = new RecordingLogger()
    const ctx = prContext(stub)

    const first = await upsertPrComment({ token: TOKEN, ctx, body: 'first run', marker: MARKER, logger })
    expect(first.action).toBe('created')
    expect(stub.comments).toHaveLength(1)
    const id = stub.comments[0]!.id
    expect(stub.comments[0]).toMatchObject({
      issueNumber: PR,
      repository: REPO,
      body: `${MARKER}\nfirst run`
    })
    expect(first.url).toBe(`https://github.com/${REPO}/pull/${PR}#issuecomment-${id}`)

    const second = await upsertPrComment({ token: TOKEN, ctx, body: 'second run', marker: MARKER, logger })
    expect(second).toEqual({ action: 'updated', url: first.url })
    expect(stub.comments).toHaveLength(1)
    expect(stub.comments[0]).toMatchObject({ id, body: `${MARKER}\nsecond run` })

    expect(stub.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      // Who the token comments as (403 for an installation token: github-actions[bot]), then its comment.
      'GET /user',
      `GET /repos/${REPO}/issues/${PR}/comments`,
      `POST /repos/${REPO}/issues/${PR}/comments`,
      'GET /user',
      `GET /repos/${REPO}/issues/${PR}/comments`,
      `PATCH /repos/${REPO}/issues/comments/${id}`
    ])
    expect(stub.requests.every((r) => r.authorization === `token ${TOKEN}`)).toBe(true)
    expect(logger.at('warning')).toEqual([])
    expect(logger.at('info')).toEqual([
      `Posted the upload summary on pull request #${PR} of ${REPO} at ${first.url}.`,
      `Updated the upload summary on pull request #${PR} of ${REPO} at ${first.url}.`
    ])
  })

  it('does not put the marker in twice when the body already starts with it', async () => {
    stub = await startGitHubStub()
    const logger = new RecordingLogger()
    await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: `${MARKER}\nbody`,
      marker: MARKER,
      logger
    })
    expect(stub.comments[0]!.body).toBe(`${MARKER}\nbody`)
  })

  it('works on pull_request_target events too', async () => {
    stub = await startGitHubStub()
    const ctx = prContext(stub, { eventName: 'pull_request_target' })
    const result = await upsertPrComment({
      token: TOKEN,
      ctx,
      body: 'b',
      marker: MARKER,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('created')
  })

  it('finds its comment on a later page, and leaves everyone else’s comments alone', async () => {
    stub = await startGitHubStub({ maxPerPage: 2 })
    const others = [
      stub.seedComment({ issueNumber: PR, repository: REPO, body: 'LGTM' }),
      // A reply quoting ours carries the marker, but is not ours.
      stub.seedComment({
        issueNumber: PR,
        repository: REPO,
        body: `> ${MARKER}\n> old summary\n\nwhy 3 failed?`
      }),
      // Another dataset's summary in the same pull request.
      stub.seedComment({
        issueNumber: PR,
        repository: REPO,
        body: `${commentMarker('ffffffff-0000-4000-8000-000000000000', GROUP)}\nother dataset`,
        user: { login: 'github-actions[bot]', type: 'Bot' }
      }),
      // The same marker on another pull request.
      stub.seedComment({ issueNumber: PR + 1, repository: REPO, body: `${MARKER}\nother pull request` })
    ]
    const ours = stub.seedComment({
      issueNumber: PR,
      repository: REPO,
      body: `${MARKER}\nold summary`,
      user: { login: 'github-actions[bot]', type: 'Bot' }
    })
    stub.seedComment({ issueNumber: PR, repository: REPO, body: 'after ours' })
    const before = others.map((c) => ({ ...c }))

    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'new summary',
      marker: MARKER,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('updated')
    expect(ours.body).toBe(`${MARKER}\nnew summary`)
    expect(others).toEqual(before)
    expect(stub.comments).toHaveLength(6)
    // Page 1 holds "LGTM" and the quoting reply; page 2 holds the other dataset's and ours: stop there.
    const lists = stub.requests
      .filter((r) => r.method === 'GET' && r.path.includes('/comments'))
      .map((r) => new URL(r.path, stub.url))
    expect(lists.map((u) => u.searchParams.get('page') ?? '1')).toEqual(['1', '2'])
    expect(stub.requests.filter((r) => r.method === 'PATCH').map((r) => r.path)).toEqual([
      `/repos/${REPO}/issues/comments/${ours.id}`
    ])
  })

  it('reads every page before deciding to create', async () => {
    stub = await startGitHubStub({ maxPerPage: 2 })
    for (let i = 0; i < 5; i++) stub.seedComment({ issueNumber: PR, repository: REPO, body: `comment ${i}` })
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('created')
    expect(stub.requests.filter((r) => r.method === 'GET' && r.path.includes('/comments'))).toHaveLength(3)
    expect(stub.comments).toHaveLength(6)
  })

  it('keeps one comment per group: another group in the same pull request gets its own', async () => {
    stub = await startGitHubStub()
    const ctx = prContext(stub)
    const logger = new RecordingLogger()
    const other = commentMarker(DATASET, 'name:pr-42')
    await upsertPrComment({ token: TOKEN, ctx, body: 'a', marker: MARKER, logger })
    await upsertPrComment({ token: TOKEN, ctx, body: 'b', marker: other, logger })
    await upsertPrComment({ token: TOKEN, ctx, body: 'c', marker: other, logger })
    expect(stub.comments.map((c) => c.body)).toEqual([`${MARKER}\na`, `${other}\nc`])
  })

  it('posts anew when its comment was deleted between listing and updating', async () => {
    stub = await startGitHubStub()
    stub.seedComment({ issueNumber: PR, repository: REPO, body: `${MARKER}\nold` })
    stub.failOn('update', { status: 404, message: 'Not Found' })
    const logger = new RecordingLogger()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'new',
      marker: MARKER,
      logger
    })
    expect(result.action).toBe('created')
    expect(stub.comments.map((c) => c.body)).toEqual([`${MARKER}\nold`, `${MARKER}\nnew`])
    expect(logger.at('warning')).toEqual([])
  })

  it('a 403 is a warning naming the permission, and nothing is posted', async () => {
    stub = await startGitHubStub()
    stub.failOn('create', { status: 403, message: 'Resource not accessible by integration' })
    const logger = new RecordingLogger()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger
    })
    expect(result.action).toBe('skipped')
    expect(stub.comments).toHaveLength(0)
    const warnings = logger.at('warning')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('403')
    expect(warnings[0]).toContain('Resource not accessible by integration')
    expect(warnings[0]).toContain(`comment on pull request #${PR} of ${REPO}`)
    expect(warnings[0]).toContain('permissions: pull-requests: write')
    expect(result.reason).toContain('permissions: pull-requests: write')
  })

  it('a 404 from a fork’s read-only token says the pull request comes from a fork', async () => {
    stub = await startGitHubStub()
    stub.failOn('list', { status: 404, message: 'Not Found' })
    const logger = new RecordingLogger()
    const ctx = prContext(stub, { eventPath: eventFile(pullRequestEvent(PR, REPO, 'outsider/model')) })
    const result = await upsertPrComment({ token: TOKEN, ctx, body: 'b', marker: MARKER, logger })
    expect(result.action).toBe('skipped')
    expect(logger.at('warning')[0]).toMatch(/404 .*fork outsider\/model.*read-only.*pull-requests: write/)
    expect(stub.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'GET /user',
      `GET /repos/${REPO}/issues/${PR}/comments`
    ])
  })

  it('a refused token (401) says to check github-token', async () => {
    stub = await startGitHubStub({ acceptToken: 'another-token' })
    const logger = new RecordingLogger()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger
    })
    expect(result.action).toBe('skipped')
    expect(logger.at('warning')[0]).toMatch(/refused the token \(401 Bad credentials\).*Check github-token/)
  })

  it('a server error is a warning, not a throw', async () => {
    stub = await startGitHubStub()
    stub.failOn('list', { status: 500, message: 'Server Error' })
    const logger = new RecordingLogger()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger
    })
    expect(result.action).toBe('skipped')
    expect(logger.at('warning')).toEqual([
      `No pull-request comment: could not list the comments of pull request #${PR} of ${REPO}: 500 Server Error.`
    ])
  })

  it('gives up within its time budget when GitHub does not answer', async () => {
    stub = await startGitHubStub()
    stub.hangOn('list', true)
    const logger = new RecordingLogger()
    const started = Date.now()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger,
      timeoutMs: 300
    })
    expect(result.action).toBe('skipped')
    expect(Date.now() - started).toBeLessThan(5000)
    expect(logger.at('warning')[0]).toContain('did not answer in time')
  })

  it('posts nothing and says so on a push event', async () => {
    stub = await startGitHubStub()
    const logger = new RecordingLogger()
    const ctx = prContext(stub, { eventName: 'push', eventPath: eventFile({ ref: 'refs/heads/main' }) })
    const result = await upsertPrComment({ token: TOKEN, ctx, body: 'b', marker: MARKER, logger })
    expect(result).toEqual({
      action: 'skipped',
      reason: 'the workflow runs on a push event, not a pull request'
    })
    expect(stub.requests).toEqual([])
    expect(logger.at('warning')).toEqual([])
    expect(logger.at('info')).toEqual([
      'No pull-request comment: the workflow runs on a push event, not a pull request.'
    ])
  })

  it('an empty token, a bad repository or a broken event file: a warning, no request', async () => {
    stub = await startGitHubStub()
    const cases: [Partial<PrCommentContext>, string, RegExp][] = [
      [{}, '', /github-token is empty.*pull-requests: write/],
      [{ repository: 'just-a-name' }, TOKEN, /GITHUB_REPOSITORY is "just-a-name", not owner\/name/],
      [{ eventPath: path.join(dir, 'absent.json') }, TOKEN, /event file .*absent\.json could not be read/],
      [{ eventPath: eventFile({ action: 'opened' }) }, TOKEN, /carries no pull request number/]
    ]
    for (const [over, token, expected] of cases) {
      const logger = new RecordingLogger()
      const result = await upsertPrComment({
        token,
        ctx: prContext(stub, over),
        body: 'b',
        marker: MARKER,
        logger
      })
      expect(result.action).toBe('skipped')
      expect(logger.at('warning')).toHaveLength(1)
      expect(logger.at('warning')[0]).toMatch(expected)
    }
    expect(stub.requests).toEqual([])
  })

  it('takes the repository from the event when GITHUB_REPOSITORY is unset', async () => {
    stub = await startGitHubStub()
    const ctx = prContext(stub)
    delete ctx.repository
    const result = await upsertPrComment({
      token: TOKEN,
      ctx,
      body: 'b',
      marker: MARKER,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('created')
    expect(stub.comments[0]!.repository).toBe(REPO)
  })

  it('never sends the token over plain http to another machine', async () => {
    const logger = new RecordingLogger()
    const ctx: PrCommentContext = {
      eventName: 'pull_request',
      eventPath: eventFile(pullRequestEvent(PR, REPO)),
      repository: REPO,
      apiUrl: 'http://api.github.example'
    }
    const result = await upsertPrComment({ token: TOKEN, ctx, body: 'b', marker: MARKER, logger })
    expect(result.action).toBe('skipped')
    expect(logger.at('warning')[0]).toContain('is not https')
  })

  it('never prints the token, even when GitHub echoes it', async () => {
    stub = await startGitHubStub()
    const logger = new RecordingLogger()
    stub.failOn('create', { status: 403, message: `token ${TOKEN} may not write here` })
    const first = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger
    })
    stub.failOn('create', undefined)
    stub.failOn('list', { status: 500, message: `Server Error for ${TOKEN}` })
    const second = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: 'b',
      marker: MARKER,
      logger
    })
    stub.failOn('list', undefined)
    await upsertPrComment({ token: TOKEN, ctx: prContext(stub), body: 'b', marker: MARKER, logger })
    await upsertPrComment({ token: TOKEN, ctx: prContext(stub), body: 'b', marker: MARKER, logger })

    expect(logger.entries.length).toBeGreaterThanOrEqual(4)
    expect(logger.all()).toContain('***')
    expect(logger.all()).not.toContain(TOKEN)
    expect(JSON.stringify([first, second])).not.toContain(TOKEN)
    expect(stub.comments.map((c) => c.body).join()).not.toContain(TOKEN)
  })
})

describe('the comment body', () => {
  let stub: GitHubStub
  afterEach(async () => stub?.close())

  function report(results: FileResult[], over: Partial<RunReport> = {}): RunReport {
    return {
      datasetUuid: DATASET,
      group: { uuid: GROUP, name: 'pr-42', created: false, state: 'found' },
      groupUrl: null,
      dryRun: false,
      validation: 'strict',
      counts: countResults(results),
      startedAt: 0,
      finishedAt: 12_000,
      results,
      skipped: [],
      ...over
    }
  }

  function failed(i: number): FileResult {
    return {
      path: `predictions/${'x'.repeat(150)}-${i}.json`,
      sceneUuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      status: 'failed',
      predictionUuid: null,
      attempts: 6,
      possibleDuplicate: false,
      error: `400 Scene is not part of dataset: ${'é'.repeat(100)}`,
      contentSha256: null,
      problems: []
    }
  }

  it('is the job summary, keyed by dataset and group, within the comment limit even with 20,000 failures', async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => failed(i))
    const { marker, body } = buildPrComment(report(many))
    expect(marker).toBe(MARKER)
    expect(Buffer.byteLength(body, 'utf8')).toBeLessThanOrEqual(PR_COMMENT_SUMMARY_MAX_BYTES)
    expect(body).toContain('## Kognic predictions upload')
    expect(body).toContain('<details')

    stub = await startGitHubStub()
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body,
      marker,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('created')
    expect(stub.comments[0]!.body.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX_CHARS)
    expect(stub.comments[0]!.body.startsWith(`${MARKER}\n## Kognic predictions upload`)).toBe(true)
  })

  it('a dry run of a group not created yet is keyed by the group name', () => {
    const { marker } = buildPrComment(
      report([], {
        dryRun: true,
        group: { uuid: null, name: 'pr-42', created: false, state: 'would-create' }
      })
    )
    expect(marker).toBe(commentMarker(DATASET, 'name:pr-42'))
  })

  it('a body over GitHub’s limit is cut, with a note, and still posted', async () => {
    stub = await startGitHubStub()
    const huge = `${'🙂'.repeat(40_000)}`
    const result = await upsertPrComment({
      token: TOKEN,
      ctx: prContext(stub),
      body: huge,
      marker: MARKER,
      logger: new RecordingLogger()
    })
    expect(result.action).toBe('created')
    const posted = stub.comments[0]!.body
    expect(posted.length).toBeLessThanOrEqual(GITHUB_COMMENT_MAX_CHARS)
    expect(posted.startsWith(MARKER)).toBe(true)
    expect(posted).toContain('_The summary was cut to fit a pull-request comment')
    expect(posted).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/)
  })
})

describe('start-up cost', () => {
  // @actions/github prints "GITHUB_EVENT_PATH … does not exist" when it is loaded with such a path: a
  // visible sign of whether octokit was loaded at all.
  async function runInChild(eventName: string, apiUrl: string): Promise<string> {
    const { execFile } = await import('node:child_process')
    const { promisify } = await import('node:util')
    const script = `
      import { upsertPrComment } from ${JSON.stringify(path.resolve('src/github/pr-comment.ts'))}
      const result = await upsertPrComment({
        token: 't0ken-value',
        ctx: { eventName: ${JSON.stringify(eventName)}, eventPath: ${JSON.stringify(eventFile(pullRequestEvent(PR, REPO)))}, repository: ${JSON.stringify(REPO)}, apiUrl: ${JSON.stringify(apiUrl)} },
        body: 'b',
        marker: '<!-- m -->',
        logger: { debug() {}, info() {}, warning() {}, error() {} }
      })
      console.log('result', result.action)
    `
    const file = path.join(dir, `child-${eventName}.mts`)
    writeFileSync(file, script)
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      env: { PATH: process.env.PATH, GITHUB_EVENT_PATH: path.join(dir, 'no-such-event.json') },
      cwd: process.cwd()
    })
    return stdout
  }

  it('does not load octokit when no comment is posted, and does when one is', async () => {
    const push = await runInChild('push', 'http://127.0.0.1:9')
    expect(push).toContain('result skipped')
    expect(push).not.toContain('does not exist')

    const stub = await startGitHubStub()
    try {
      const pr = await runInChild('pull_request', stub.url)
      expect(pr).toContain('result created')
      expect(pr).toContain('does not exist')
    } finally {
      await stub.close()
    }
  })
})
