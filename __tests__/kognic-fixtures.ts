// Test doubles for the Kognic client tests: loopback HTTP servers, a recording logger and test clocks.
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AnnotationProps, Clock, Logger } from '../src/types.js'

export interface ReceivedRequest {
  method: string
  path: string
  headers: IncomingMessage['headers']
  body: string
}

export type Route = (request: ReceivedRequest, res: ServerResponse) => void | Promise<void>

export interface TestServer {
  url: string
  port: number
  requests: ReceivedRequest[]
  /** Sockets ever opened to this server. */
  connections: number
  /** Requests being handled right now, and the most seen at once. */
  inFlight: number
  maxInFlight: number
  close(): Promise<void>
}

/** A loopback server; the route sees each request with its whole body read. */
export async function startServer(route: Route): Promise<TestServer> {
  const state: TestServer = {
    url: '',
    port: 0,
    requests: [],
    connections: 0,
    inFlight: 0,
    maxInFlight: 0,
    close: async () => {}
  }
  const server = createServer((req, res) => {
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    let done = false
    const finished = (): void => {
      if (done) return
      done = true
      state.inFlight--
    }
    res.on('finish', finished)
    res.on('close', finished)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8')
      }
      state.requests.push(received)
      Promise.resolve(route(received, res)).catch((error: unknown) => {
        res.statusCode = 599
        res.end(String(error))
      })
    })
  })
  server.on('connection', () => state.connections++)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  state.port = port
  state.url = `http://127.0.0.1:${port}`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

export interface TokenServerOptions {
  /** Lifetime in seconds; omitted from the response when undefined. */
  expiresIn?: number
  /** Delay before answering, in real ms, so concurrent callers overlap. */
  delayMs?: number
  /** Answers for the first requests, in order, before tokens are issued. */
  failures?: { status: number; body?: unknown; headers?: Record<string, string> }[]
}

/** A token endpoint issuing `token-1`, `token-2`, … */
export async function startTokenServer(
  options: TokenServerOptions = {}
): Promise<TestServer & { issued: string[] }> {
  const issued: string[] = []
  const failures = [...(options.failures ?? [])]
  const server = await startServer(async (request, res) => {
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
    if (request.path !== '/v1/auth/oauth/token' || request.method !== 'POST') {
      sendJson(res, 404, { message: `no route ${request.method} ${request.path}` })
      return
    }
    const failure = failures.shift()
    if (failure) {
      sendJson(res, failure.status, failure.body ?? { message: 'failure' }, failure.headers)
      return
    }
    const token = `token-${issued.length + 1}`
    issued.push(token)
    sendJson(res, 200, {
      access_token: token,
      token_type: 'bearer',
      ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn })
    })
  })
  return Object.assign(server, { issued })
}

export interface LogEntry {
  level: 'debug' | 'info' | 'notice' | 'warning' | 'error'
  message: string
  props?: AnnotationProps
}

export class RecordingLogger implements Logger {
  readonly entries: LogEntry[] = []
  debug(message: string): void {
    this.entries.push({ level: 'debug', message })
  }
  info(message: string): void {
    this.entries.push({ level: 'info', message })
  }
  notice(message: string, props?: AnnotationProps): void {
    this.entries.push({ level: 'notice', message, ...(props ? { props } : {}) })
  }
  warning(message: string, props?: AnnotationProps): void {
    this.entries.push({ level: 'warning', message, ...(props ? { props } : {}) })
  }
  error(message: string, props?: AnnotationProps): void {
    this.entries.push({ level: 'error', message, ...(props ? { props } : {}) })
  }
  at(level: LogEntry['level']): string[] {
    return this.entries.filter((entry) => entry.level === level).map((entry) => entry.message)
  }
  all(): string {
    return this.entries.map((entry) => entry.message).join('\n')
  }
}

/** Time stands still until moved; `sleep` moves it forward at once and records how long was asked. */
export class ManualClock implements Clock {
  nowMs = 1_000_000
  readonly sleeps: number[] = []
  constructor(private readonly randomValue = 0.5) {}
  now(): number {
    return this.nowMs
  }
  random(): number {
    return this.randomValue
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.nowMs += ms
    await Promise.resolve()
  }
  advance(ms: number): void {
    this.nowMs += ms
  }
}

/** Real time, sped up `factor` times: waits are real but short, and every reader agrees on `now`. */
export class FastClock implements Clock {
  readonly #startReal = performance.now()
  constructor(private readonly factor: number) {}
  now(): number {
    return (performance.now() - this.#startReal) * this.factor
  }
  random(): number {
    return 0.5
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms / this.factor)))
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
