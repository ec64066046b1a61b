// A loopback stand-in for the few GitHub REST endpoints the pull-request comment uses: list an issue's
// comments (paginated, with Link headers), create one, update one. For unit tests of src/github and for
// process tests that run dist/index.js with GITHUB_API_URL pointed here.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface StubComment {
  id: number
  issueNumber: number
  /** `owner/name`. */
  repository: string
  body: string
  user: { login: string; type: 'Bot' | 'User' }
}

export interface StubRequest {
  method: string
  /** Path and query, as sent. */
  path: string
  /** The Authorization header as sent; undefined when there was none. */
  authorization: string | undefined
  body: string
}

export type StubOperation = 'list' | 'create' | 'update'

export interface StubFailure {
  status: number
  message?: string
}

export interface GitHubStubOptions {
  /** Page size cap, like GitHub's 100; set it low to test pagination with few comments. */
  maxPerPage?: number
  /** The token the stub accepts; other tokens get 401. Undefined: any token. */
  acceptToken?: string
  /** Login of the token's user, shown as the author of comments it creates. */
  login?: string
  /**
   * Whether GET /user answers with `login` (a personal token) or 403 as it does for an installation token
   * such as the default GITHUB_TOKEN. Default: 403.
   */
  userEndpoint?: 'login' | 403
  /** Leave `html_url` out of created and updated comments (GitHub Enterprise proxies have been seen to). */
  omitHtmlUrl?: boolean
}

export interface GitHubStub {
  url: string
  requests: StubRequest[]
  /** Every comment, in creation order. */
  comments: StubComment[]
  /** Puts a comment there as if someone had posted it; returns it. */
  seedComment(comment: Omit<StubComment, 'id' | 'user'> & { user?: StubComment['user'] }): StubComment
  /** Answers an operation with an error status from now on (undefined: answer normally again). */
  failOn(operation: StubOperation, failure: StubFailure | undefined): void
  /** Leaves requests of an operation unanswered, to test timeouts. */
  hangOn(operation: StubOperation, hang: boolean): void
  close(): Promise<void>
}

const LIST_OR_CREATE = /\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/
const UPDATE = /\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/

export async function startGitHubStub(options: GitHubStubOptions = {}): Promise<GitHubStub> {
  const maxPerPage = options.maxPerPage ?? 100
  const login = options.login ?? 'github-actions[bot]'
  const requests: StubRequest[] = []
  const comments: StubComment[] = []
  const failures = new Map<StubOperation, StubFailure>()
  const hanging = new Set<StubOperation>()
  let nextId = 1000
  let url = ''

  const commentJson = (c: StubComment): Record<string, unknown> => {
    const [owner, repo] = c.repository.split('/')
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${url}/repos/${owner}/${repo}/issues/comments/${c.id}`,
      ...(options.omitHtmlUrl
        ? {}
        : { html_url: `https://github.com/${owner}/${repo}/pull/${c.issueNumber}#issuecomment-${c.id}` }),
      issue_url: `${url}/repos/${owner}/${repo}/issues/${c.issueNumber}`,
      body: c.body,
      user: { login: c.user.login, type: c.user.type },
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z'
    }
  }

  const handle = (req: StubRequest, res: ServerResponse): void => {
    const target = new URL(req.path, 'http://stub')
    if (target.pathname.endsWith('/user') && req.method === 'GET') {
      if (options.acceptToken !== undefined && req.authorization !== `token ${options.acceptToken}`) {
        return send(res, 401, { message: 'Bad credentials' })
      }
      return options.userEndpoint === 'login'
        ? send(res, 200, { login, type: 'User' })
        : send(res, 403, { message: 'Resource not accessible by integration' })
    }
    const listOrCreate = LIST_OR_CREATE.exec(target.pathname)
    const update = UPDATE.exec(target.pathname)
    const operation: StubOperation | null =
      listOrCreate && req.method === 'GET'
        ? 'list'
        : listOrCreate && req.method === 'POST'
          ? 'create'
          : update && req.method === 'PATCH'
            ? 'update'
            : null
    if (!operation) return send(res, 404, { message: 'Not Found' })
    if (hanging.has(operation)) return
    if (options.acceptToken !== undefined && req.authorization !== `token ${options.acceptToken}`) {
      return send(res, 401, { message: 'Bad credentials' })
    }
    const failure = failures.get(operation)
    if (failure) return send(res, failure.status, { message: failure.message ?? `Stubbed ${failure.status}` })

    if (operation === 'update') {
      const id = Number(update![3])
      const repository = `${update![1]}/${update![2]}`
      const comment = comments.find((c) => c.id === id && c.repository === repository)
      if (!comment) return send(res, 404, { message: 'Not Found' })
      const body = parseBody(req.body)
      if (typeof body?.body !== 'string') return send(res, 422, { message: 'body is required' })
      comment.body = body.body
      return send(res, 200, commentJson(comment))
    }

    const repository = `${listOrCreate![1]}/${listOrCreate![2]}`
    const issueNumber = Number(listOrCreate![3])
    if (operation === 'create') {
      const body = parseBody(req.body)
      if (typeof body?.body !== 'string') return send(res, 422, { message: 'body is required' })
      if (body.body.length > 65_536) return send(res, 422, { message: 'Body is too long' })
      const comment: StubComment = {
        id: nextId++,
        issueNumber,
        repository,
        body: body.body,
        user: { login, type: 'Bot' }
      }
      comments.push(comment)
      return send(res, 201, commentJson(comment))
    }

    const perPage = Math.min(maxPerPage, Math.max(1, Number(target.searchParams.get('per_page') ?? 30)))
    const page = Math.max(1, Number(target.searchParams.get('page') ?? 1))
    const all = comments.filter((c) => c.repository === repository && c.issueNumber === issueNumber)
    const lastPage = Math.max(1, Math.ceil(all.length / perPage))
    const links: string[] = []
    const pageUrl = (n: number): string => {
      const next = new URL(`${url}${target.pathname}`)
      next.searchParams.set('per_page', String(perPage))
      next.searchParams.set('page', String(n))
      return next.toString()
    }
    if (page < lastPage)
      links.push(`<${pageUrl(page + 1)}>; rel="next"`, `<${pageUrl(lastPage)}>; rel="last"`)
    if (page > 1) links.push(`<${pageUrl(1)}>; rel="first"`, `<${pageUrl(page - 1)}>; rel="prev"`)
    const slice = all.slice((page - 1) * perPage, page * perPage)
    return send(res, 200, slice.map(commentJson), links.length > 0 ? { link: links.join(', ') } : {})
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const auth = req.headers.authorization
      const received: StubRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: Array.isArray(auth) ? auth.join(', ') : auth,
        body: Buffer.concat(chunks).toString('utf8')
      }
      requests.push(received)
      handle(received, res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  return {
    url,
    requests,
    comments,
    seedComment(comment) {
      const seeded: StubComment = {
        id: nextId++,
        user: comment.user ?? { login: 'someone', type: 'User' },
        issueNumber: comment.issueNumber,
        repository: comment.repository,
        body: comment.body
      }
      comments.push(seeded)
      return seeded
    },
    failOn(operation, failure) {
      if (failure) failures.set(operation, failure)
      else failures.delete(operation)
    },
    hangOn(operation, hang) {
      if (hang) hanging.add(operation)
      else hanging.delete(operation)
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

function send(
  res: ServerResponse,
  status: number,
  json: unknown,
  headers: Record<string, string> = {}
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
  res.end(JSON.stringify(json))
}

function parseBody(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** A pull_request event payload, as the runner writes it to GITHUB_EVENT_PATH (the fields this action reads). */
export function pullRequestEvent(
  number: number,
  repository: string,
  headRepository: string = repository
): Record<string, unknown> {
  return {
    action: 'synchronize',
    number,
    pull_request: {
      number,
      base: { repo: { full_name: repository } },
      head: { repo: { full_name: headRepository } }
    },
    repository: { full_name: repository }
  }
}
