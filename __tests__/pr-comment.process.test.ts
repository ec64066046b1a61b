// The pull-request comment through the built action: dist/index.js against the Kognic emulator and a
// loopback stand-in for the GitHub REST API.
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed
} from '../emulator/seed.js'
import { startEmulator, type Emulator } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, runAction, visibleLog } from '../scripts/runner.js'
import { commentMarker } from '../src/github/pr-comment.js'
import { pullRequestEvent, startGitHubStub, type GitHubStub } from './github-stub.js'

const REPO = 'acme/perception'
const TOKEN = 'ghs_processTestToken0123456789abcdef'
let emulator: Emulator
let github: GitHubStub | undefined

beforeAll(async () => {
  emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
})
afterAll(async () => emulator?.close())
afterEach(async () => {
  await github?.close()
  github = undefined
})

function eventFile(event: unknown): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kup-event-')), 'event.json')
  writeFileSync(file, JSON.stringify(event))
  return file
}

function files(): Record<string, string> {
  return {
    [`preds/${SAMPLE_OD_SCENES[0]}.json`]: json(bboxDoc()),
    [`preds/${SAMPLE_OD_SCENES[1]}.json`]: json(bboxDoc())
  }
}

function run(
  env: Record<string, string>,
  extra: Record<string, string> = {},
  predictions: Record<string, string> = files()
) {
  return runAction({
    inputs: {
      'dataset-uuid': SAMPLE_OD_DATASET_UUID,
      'predictions-group-uuid': SAMPLE_OD_GROUP_UUID,
      path: 'preds/*.json',
      'client-id': SAMPLE_CLIENT_ID,
      'client-secret': SAMPLE_CLIENT_SECRET,
      'api-url': emulator.url,
      'auth-url': emulator.url,
      'pr-comment': 'true',
      'github-token': TOKEN,
      ...extra
    },
    files: predictions,
    env: { GITHUB_REPOSITORY: REPO, ...env }
  })
}

describe('pull-request comment', () => {
  it('creates one comment on the first run and updates that same comment on the next', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(7, REPO)),
      GITHUB_API_URL: github.url
    }
    const first = await run(env)
    expect(first.code, first.stdout).toBe(0)
    expect(github.comments).toHaveLength(1)
    const comment = github.comments[0]!
    expect(comment.issueNumber).toBe(7)
    expect(comment.body).toContain('<!-- kognic-upload-predictions')
    expect(comment.body).toContain(SAMPLE_OD_GROUP_UUID)
    expect(comment.body).toMatch(/2 files uploaded/i)

    const second = await run(env)
    expect(second.code, second.stdout).toBe(0)
    expect(github.comments).toHaveLength(1)
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
    expect(github.requests.every((r) => r.authorization?.includes(TOKEN))).toBe(true)
    for (const out of [first, second]) {
      expect(visibleLog(out.stdout)).not.toContain(TOKEN)
      expect(out.stderr).not.toContain(TOKEN)
    }
  })

  it('keeps the step green with a warning when the token may not comment (403)', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    github.failOn('list', { status: 403, message: 'Resource not accessible by integration' })
    const result = await run({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(8, REPO, 'someone/fork')),
      GITHUB_API_URL: github.url
    })
    expect(result.code, result.stdout).toBe(0)
    expect(result.outputs.uploaded).toBe('2')
    const warnings = annotations(result.stdout, 'warning').map((a) => a.message)
    expect(warnings.some((w) => /pull-requests: write/.test(w))).toBe(true)
    expect(github.comments).toHaveLength(0)
  })

  it("never edits someone else's comment that carries the marker: it posts its own", async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(11, REPO)),
      GITHUB_API_URL: github.url
    }
    const marker = commentMarker(SAMPLE_OD_DATASET_UUID, SAMPLE_OD_GROUP_UUID)
    const planted = github.seedComment({
      issueNumber: 11,
      repository: REPO,
      body: `${marker}\nLooks official, but mallory wrote it`,
      user: { login: 'mallory', type: 'User' }
    })
    const first = await run(env)
    expect(first.code, first.stdout).toBe(0)
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(0)
    expect(planted.body).toContain('mallory wrote it')
    const ours = github.comments.filter((c) => c.user.login === 'github-actions[bot]')
    expect(ours).toHaveLength(1)
    expect(annotations(first.stdout, 'warning')).toEqual([])

    // The next run finds its own comment, not mallory's, and updates it.
    const second = await run(env)
    expect(second.code, second.stdout).toBe(0)
    expect(github.comments).toHaveLength(2)
    const patches = github.requests.filter((r) => r.method === 'PATCH')
    expect(patches).toHaveLength(1)
    expect(patches[0]!.path).toContain(`/issues/comments/${ours[0]!.id}`)
  })

  it('updates the comment of a personal token by that token’s own login', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN, login: 'octocat', userEndpoint: 'login' })
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(12, REPO)),
      GITHUB_API_URL: github.url
    }
    expect((await run(env)).code).toBe(0)
    expect((await run(env)).code).toBe(0)
    expect(github.comments.map((c) => c.user.login)).toEqual(['octocat'])
    expect(github.requests.filter((r) => r.method === 'PATCH')).toHaveLength(1)
  })

  it('says which request GitHub refused when updating its comment fails with 403', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(13, REPO)),
      GITHUB_API_URL: github.url
    }
    expect((await run(env)).code).toBe(0)
    github.failOn('update', { status: 403, message: 'Resource not accessible by integration' })
    const second = await run(env)
    expect(second.code).toBe(0)
    const warnings = annotations(second.stdout, 'warning').map((a) => a.message)
    expect(warnings.some((w) => /update its earlier comment \(\d+\) on pull request #13/.test(w))).toBe(true)
  })

  it('does not print "undefined" when GitHub gives no address for the comment', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN, omitHtmlUrl: true })
    const result = await run({
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: eventFile(pullRequestEvent(14, REPO)),
      GITHUB_API_URL: github.url
    })
    expect(result.code).toBe(0)
    expect(github.comments).toHaveLength(1)
    expect(result.stdout).toContain('Posted the upload summary on pull request #14 of acme/perception.')
    expect(result.stdout).not.toContain('undefined')
  })

  it('posts nothing on a push event', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    const result = await run({
      GITHUB_EVENT_NAME: 'push',
      GITHUB_EVENT_PATH: eventFile({ ref: 'refs/heads/main' }),
      GITHUB_API_URL: github.url
    })
    expect(result.code).toBe(0)
    expect(github.requests).toHaveLength(0)
    expect(result.stdout).toMatch(/No pull-request comment/)
  })

  it('comments on a failed run too, and the comment does not change the verdict', async () => {
    github = await startGitHubStub({ acceptToken: TOKEN })
    const result = await run(
      {
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventFile(pullRequestEvent(9, REPO)),
        GITHUB_API_URL: github.url
      },
      {},
      { 'preds/<img src=x onerror=alert(1)>.json': '{' }
    )
    expect(result.code).toBe(1)
    expect(github.comments).toHaveLength(1)
    expect(github.comments[0]!.body).not.toContain('<img')
    expect(github.comments[0]!.body).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;.json')
  })
})

describe('a dry run without credentials (a pull request from a fork)', () => {
  it('checks the files, reports what would be uploaded, and warns that it did not sign in', async () => {
    const result = await runAction({
      inputs: {
        'dataset-uuid': SAMPLE_OD_DATASET_UUID,
        'predictions-group': 'fork-check',
        path: 'preds/*.json',
        'dry-run': 'true',
        'api-url': emulator.url,
        'auth-url': emulator.url
      },
      files: { ...files(), 'preds/not-a-scene.json': json(bboxDoc()) }
    })
    expect(result.code).toBe(1)
    expect(result.outputs).toMatchObject({ matched: '3', uploaded: '0', failed: '1' })
    expect(result.results!.files.map((f) => f.status).sort()).toEqual([
      'invalid',
      'would-upload',
      'would-upload'
    ])
    expect(
      annotations(result.stdout, 'warning').some((w) => /without Kognic credentials/.test(w.message))
    ).toBe(true)
  })

  it('still refuses a real run without credentials', async () => {
    const result = await runAction({
      inputs: {
        'dataset-uuid': SAMPLE_OD_DATASET_UUID,
        'predictions-group': 'fork-check',
        path: 'preds/*.json',
        'api-url': emulator.url,
        'auth-url': emulator.url
      },
      files: files()
    })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error::.*No Kognic credentials/)
  })
})
