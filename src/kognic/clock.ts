// The real clock, for when no test clock is injected.
import type { Clock } from '../types.js'
import { KognicCancelledError } from './errors.js'

export const systemClock: Clock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new KognicCancelledError('Cancelled while waiting to retry'))
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer)
        reject(new KognicCancelledError('Cancelled while waiting to retry'))
      }
      const timer = setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        Math.max(0, ms)
      )
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
