import { describe, expect, it } from 'vitest'
import { KognicAuthError } from '../src/kognic/errors.js'
import { uploadAll, type UploadOutcome } from '../src/predictions/upload.js'
import type { InspectedFile } from '../src/types.js'

function file(i: number, extra: Partial<InspectedFile> = {}): InspectedFile {
  return {
    path: `/ws/p/${i}.json`,
    displayPath: `p/${i}.json`,
    sizeBytes: 10,
    identity: null,
    contentSha256: null,
    sceneUuid: `scene-${i}`,
    form: 'openlabel',
    hasSegmentation: false,
    segmentationClasses: [],
    fatal: [],
    problems: [],
    moreProblems: 0,
    ...extra
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1))

describe('uploadAll', () => {
  it('uploads every file, never more than `concurrency` at once, with results in the order given', async () => {
    const files = Array.from({ length: 25 }, (_, i) => file(i))
    let inFlight = 0
    let most = 0
    const seen: string[] = []
    const results = await uploadAll(files, {
      concurrency: 4,
      readBody: async (f) => Buffer.from(f.displayPath),
      upload: async (body): Promise<UploadOutcome> => {
        inFlight++
        most = Math.max(most, inFlight)
        await tick()
        inFlight--
        return { predictionUuid: `pred-${body.toString()}`, attempts: 1, possibleDuplicate: false }
      },
      onResult: (r) => seen.push(r.path)
    })
    expect(most).toBe(4)
    expect(seen.sort()).toEqual(files.map((f) => f.displayPath).sort())
    expect(results.map((r) => r.path)).toEqual(files.map((f) => f.displayPath))
    expect(results[7]).toEqual({
      path: 'p/7.json',
      sceneUuid: 'scene-7',
      status: 'uploaded',
      predictionUuid: 'pred-p/7.json',
      attempts: 1,
      possibleDuplicate: false,
      error: null,
      contentSha256: null,
      problems: [],
      moreProblems: 0
    })
  })

  it('carries the checks’ problems and their overflow count into each result', async () => {
    const problems = [{ kind: 'bbox-size', jsonPath: 'frames.0', message: 'too small' }]
    const [result] = await uploadAll([file(1, { problems, moreProblems: 3 })], {
      concurrency: 1,
      readBody: async () => Buffer.from('{}'),
      upload: async () => ({ predictionUuid: 'u', attempts: 2, possibleDuplicate: true })
    })
    expect(result).toMatchObject({ problems, moreProblems: 3, attempts: 2, possibleDuplicate: true })
  })

  it('fails a file that cannot be read, without an attempt, and goes on with the rest', async () => {
    const error = Object.assign(new Error('gone'), { code: 'ENOENT' })
    const results = await uploadAll([file(1), file(2)], {
      concurrency: 1,
      readBody: async (f) => {
        if (f.displayPath === 'p/1.json') throw error
        return Buffer.from('{}')
      },
      upload: async () => ({ predictionUuid: 'u2', attempts: 1, possibleDuplicate: false })
    })
    expect(results[0]).toMatchObject({
      status: 'failed',
      attempts: 0,
      predictionUuid: null,
      error: 'gone (ENOENT)'
    })
    expect(results[1]).toMatchObject({ status: 'uploaded', predictionUuid: 'u2' })
  })

  it('records a refused upload with the attempts and duplicate risk the error carries', async () => {
    const [result] = await uploadAll([file(1)], {
      concurrency: 2,
      readBody: async () => Buffer.from('{}'),
      upload: async () => {
        throw Object.assign(new Error('POST … failed after 3 attempts: 503'), {
          attempts: 3,
          possibleDuplicate: true
        })
      }
    })
    expect(result).toMatchObject({
      status: 'failed',
      attempts: 3,
      possibleDuplicate: true,
      error: 'POST … failed after 3 attempts: 503'
    })
  })

  it('starts nothing once stopped: files not started, and a file cancelled before sending, are not-attempted', async () => {
    const stop = new AbortController()
    const results = await uploadAll([file(1), file(2), file(3)], {
      concurrency: 1,
      stop: stop.signal,
      readBody: async () => Buffer.from('{}'),
      upload: async () => {
        stop.abort()
        throw Object.assign(new Error('Cancelled before POST'), { attempts: 0 })
      }
    })
    expect(results.map((r) => r.status)).toEqual(['not-attempted', 'not-attempted', 'not-attempted'])
    expect(results[0]!.error).toBe('Cancelled before POST')
    expect(results[1]!.error).toBe('Not uploaded: the run was cancelled before this file was started')
  })

  it('credentials refused mid-run: the file is not blamed, and counts its own requests, not the token endpoint’s', async () => {
    const stop = new AbortController()
    // Seven requests went to the token endpoint; the upload of file 1 had sent one request (answered 401).
    const refusal = new KognicAuthError('Kognic rejected the client credentials (401 Unauthorized)', {
      status: 401,
      tokenRequests: 7
    })
    const results = await uploadAll([file(1), file(2), file(3)], {
      concurrency: 1,
      stop: stop.signal,
      readBody: async () => Buffer.from('{}'),
      upload: async () => {
        const error = refusal.forCall(1, false)
        stop.abort(error)
        throw error
      }
    })
    expect(results[0]).toMatchObject({
      status: 'not-attempted',
      attempts: 1,
      possibleDuplicate: false,
      error: 'Not uploaded: Kognic rejected the client credentials (401 Unauthorized)'
    })
    expect(results.slice(1).map((r) => [r.status, r.attempts, r.error])).toEqual([
      [
        'not-attempted',
        0,
        'Not uploaded: the run stopped before this file was started: Kognic rejected the client credentials (401 Unauthorized)'
      ],
      [
        'not-attempted',
        0,
        'Not uploaded: the run stopped before this file was started: Kognic rejected the client credentials (401 Unauthorized)'
      ]
    ])
  })

  it('credentials refused after an earlier request of the file was lost: failed, flagged, Kognic may hold it', async () => {
    const refusal = new KognicAuthError('Kognic rejected the client credentials', { tokenRequests: 1 })
    const [result] = await uploadAll([file(1)], {
      concurrency: 1,
      readBody: async () => Buffer.from('{}'),
      upload: async () => {
        throw refusal.forCall(2, true)
      }
    })
    expect(result).toMatchObject({ status: 'failed', attempts: 2, possibleDuplicate: true })
  })
})
