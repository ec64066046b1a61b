// One HTTP exchange over an undici dispatcher, reporting whether the request had fully left before a
// failure: that is what tells a lost answer (maybe stored) from a request that never arrived.
import { STATUS_CODES } from 'node:http'
import type { Dispatcher } from 'undici'
import { errorCode } from '../guards.js'
import { MAX_RESPONSE_BYTES } from './decisions.js'
import { KognicCancelledError } from './errors.js'

export interface HttpRequest {
  /** `https://host:port`, no path. */
  origin: string
  /** Path and query, starting with `/`. */
  path: string
  method: 'GET' | 'POST'
  headers: Record<string, string>
  body?: Buffer | string
  /** Whole exchange, from dispatch to the last body byte. */
  timeoutMs: number
  signal?: AbortSignal
  maxResponseBytes?: number
}

export interface HttpResponse {
  status: number
  statusText: string
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>
  text: string
}

/** No usable response: the connection failed, was dropped, or the exchange timed out. */
export class HttpTransportError extends Error {
  readonly code: string
  readonly timedOut: boolean
  /** The request line, headers and whole body had been written when it failed. */
  readonly requestSent: boolean

  constructor(
    message: string,
    details: { code: string; timedOut: boolean; requestSent: boolean },
    cause?: unknown
  ) {
    super(message, { cause })
    this.name = 'HttpTransportError'
    this.code = details.code
    this.timedOut = details.timedOut
    this.requestSent = details.requestSent
  }
}

/** undici's handler callbacks this module uses; `onRequestSent` is called by undici but absent from its types. */
type SendTrackingHandler = Dispatcher.DispatchHandler & { onRequestSent(): void }

function headersFromRaw(raw: Buffer[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = String(raw[i]).toLowerCase()
    const value = String(raw[i + 1])
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return headers
}

export function sendRequest(dispatcher: Dispatcher, request: HttpRequest): Promise<HttpResponse> {
  const { signal } = request
  if (signal?.aborted) return Promise.reject(new KognicCancelledError('Cancelled before the request started'))
  const maxBytes = request.maxResponseBytes ?? MAX_RESPONSE_BYTES

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false
    let requestSent = false
    let abortExchange: ((error: Error) => void) | undefined
    let pendingAbort: Error | undefined
    let status = 0
    let statusText = ''
    let headers: Record<string, string> = {}
    const chunks: Buffer[] = []
    let receivedBytes = 0

    const settle = (error: Error | undefined, response?: HttpResponse): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onCancel)
      if (error) reject(error)
      else resolve(response as HttpResponse)
    }
    // Rejects now and tears the exchange down, or, when undici has not handed it a socket yet, as soon as it does.
    const stop = (error: Error): void => {
      // Settle first: undici reports the abort through onError synchronously, which must not win.
      settle(error)
      pendingAbort = error
      abortExchange?.(error)
    }
    // Whether the request had left in full is for the caller to judge: a write may then have been stored.
    const onCancel = (): void => {
      const error = new KognicCancelledError(
        requestSent
          ? 'Cancelled after the request was sent, before its answer came'
          : 'Cancelled before the request was sent in full'
      )
      error.requestSent = requestSent
      stop(error)
    }

    const timer = setTimeout(() => {
      stop(
        new HttpTransportError(
          `timed out after ${request.timeoutMs} ms`,
          { code: 'KOGNIC_REQUEST_TIMEOUT', timedOut: true, requestSent },
          undefined
        )
      )
    }, request.timeoutMs)
    signal?.addEventListener('abort', onCancel, { once: true })

    const handler: SendTrackingHandler = {
      onConnect(abort) {
        abortExchange = abort
        if (pendingAbort) abort(pendingAbort)
      },
      onRequestSent() {
        requestSent = true
      },
      onHeaders(statusCode, rawHeaders, _resume, message) {
        // 1xx interim responses are followed by the real one.
        if (statusCode < 200) return true
        status = statusCode
        statusText = message || STATUS_CODES[statusCode] || ''
        headers = headersFromRaw(rawHeaders)
        return true
      },
      onData(chunk) {
        receivedBytes += chunk.length
        if (receivedBytes > maxBytes) {
          stop(
            new HttpTransportError(
              `the response is larger than ${maxBytes} bytes`,
              { code: 'KOGNIC_RESPONSE_TOO_LARGE', timedOut: false, requestSent },
              undefined
            )
          )
          return false
        }
        chunks.push(chunk)
        return true
      },
      onComplete() {
        settle(undefined, { status, statusText, headers, text: Buffer.concat(chunks).toString('utf8') })
      },
      onError(error) {
        const code = errorCode(error) ?? 'UNKNOWN'
        settle(
          new HttpTransportError(
            `${code === 'UNKNOWN' ? 'connection error' : code}: ${error.message}`,
            { code, timedOut: false, requestSent },
            error
          )
        )
      }
    }

    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers,
          body: request.body ?? null,
          // Our own timer bounds the whole exchange; undici's would only bound parts of it.
          headersTimeout: 0,
          bodyTimeout: 0
        },
        handler
      )
    } catch (error) {
      settle(error instanceof Error ? error : new Error(String(error)))
    }
  })
}
