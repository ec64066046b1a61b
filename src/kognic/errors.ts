// The errors the Kognic client throws: each says which endpoint, what status, and what to do about it.

export interface KognicApiErrorDetails {
  /** Method and path, e.g. `POST /v1/predictions-groups/<uuid>/predictions`; never the host or headers. */
  endpoint: string
  status?: number
  attempts: number
  possibleDuplicate: boolean
  /** The last failure was of a kind that is retried (the retries ran out), not the request's fault. */
  retryable: boolean
}

export class KognicApiError extends Error {
  readonly endpoint: string
  readonly status?: number
  readonly attempts: number
  readonly possibleDuplicate: boolean
  readonly retryable: boolean

  constructor(message: string, details: KognicApiErrorDetails, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KognicApiError'
    this.endpoint = details.endpoint
    if (details.status !== undefined) this.status = details.status
    this.attempts = details.attempts
    this.possibleDuplicate = details.possibleDuplicate
    this.retryable = details.retryable
  }
}

/** The token endpoint refused or could not be reached: nothing else can work, so the run should stop. */
export class KognicAuthError extends Error {
  readonly status?: number
  /** Requests sent to the token endpoint for the token that was not obtained, retries included. */
  readonly tokenRequests: number
  /**
   * Set when an API call ran into this: that call's requests sent, and whether an earlier one of them may
   * have reached Kognic (5xx, or lost after connecting).
   */
  readonly attempts?: number
  readonly possibleDuplicate?: boolean
  /** The run's failure, not one file's: whoever reports per file should not blame the file. */
  readonly endsRun = true

  constructor(
    message: string,
    details: { status?: number; tokenRequests: number; attempts?: number; possibleDuplicate?: boolean },
    options?: { cause?: unknown }
  ) {
    super(message, options)
    this.name = 'KognicAuthError'
    if (details.status !== undefined) this.status = details.status
    this.tokenRequests = details.tokenRequests
    if (details.attempts !== undefined) this.attempts = details.attempts
    if (details.possibleDuplicate !== undefined) this.possibleDuplicate = details.possibleDuplicate
  }

  /** This failure as one API call met it, after sending `attempts` requests: a copy, the original is shared. */
  forCall(attempts: number, possibleDuplicate: boolean): KognicAuthError {
    return new KognicAuthError(
      this.message,
      {
        ...(this.status !== undefined ? { status: this.status } : {}),
        tokenRequests: this.tokenRequests,
        attempts,
        possibleDuplicate
      },
      { cause: this }
    )
  }
}

/** The run was cancelled (the AbortSignal fired): not a failure of Kognic or of the file. */
export class KognicCancelledError extends Error {
  /** Requests sent for the call before it was cancelled, when the client knows. */
  attempts?: number
  /** A request of the call may have reached Kognic (cancelled in flight, or an earlier 5xx or lost answer). */
  possibleDuplicate?: boolean
  /** The request was in flight when cancelled: whether it had arrived is not known. */
  requestSent?: boolean

  constructor(message = 'Cancelled', options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KognicCancelledError'
  }
}
