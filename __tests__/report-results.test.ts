import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { countResults, type RunReport } from '../src/report/model.js'
import { writeResultsFile, type ResultsFile } from '../src/report/results.js'
import { readStatisticsSection, RunStatistics } from '../src/predictions/statistics.js'
import { analyseOpenLabel } from '../src/predictions/validate.js'
import type { FileResult } from '../src/types.js'
import { bboxDoc } from '../scripts/sample-predictions.js'
import { ACTION_VERSION } from '../src/version.js'

const STARTED = Date.UTC(2026, 2, 1, 12, 0, 0)

function fileResult(i: number, over: Partial<FileResult> = {}): FileResult {
  const scene = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
  return {
    path: `predictions/${scene}.json`,
    sceneUuid: scene,
    status: 'uploaded',
    predictionUuid: `prediction-${i}`,
    attempts: 1,
    possibleDuplicate: false,
    error: null,
    contentSha256: null,
    problems: [],
    ...over
  }
}

function makeReport(results: FileResult[], over: Partial<RunReport> = {}): RunReport {
  return {
    datasetUuid: 'dataset-1',
    group: { uuid: 'group-1', name: 'nightly "model" v2', created: true, state: 'created' },
    dryRun: false,
    validation: 'strict',
    counts: countResults(results, 4),
    startedAt: STARTED,
    finishedAt: STARTED + 61_500,
    results,
    skipped: [{ displayPath: 'predictions/dir.json', reason: 'directory' }],
    ...over
  }
}

describe('countResults', () => {
  it('counts each status and the possible duplicates, and passes retries through', () => {
    const results = [
      fileResult(1),
      fileResult(2, { possibleDuplicate: true }),
      fileResult(3, { status: 'failed', possibleDuplicate: true }),
      fileResult(4, { status: 'invalid' }),
      fileResult(5, { status: 'not-attempted' }),
      fileResult(6, { status: 'would-upload' }),
      fileResult(7, { status: 'would-upload' })
    ]
    expect(countResults(results, 9)).toEqual({
      matched: 7,
      uploaded: 2,
      alreadyUploaded: 0,
      changedSinceUpload: 0,
      notUploaded: 3,
      uploadFailed: 1,
      invalid: 1,
      notAttempted: 1,
      wouldUpload: 2,
      possibleDuplicates: 2,
      retries: 9
    })
    expect(countResults([])).toEqual({
      matched: 0,
      uploaded: 0,
      alreadyUploaded: 0,
      changedSinceUpload: 0,
      notUploaded: 0,
      uploadFailed: 0,
      invalid: 0,
      notAttempted: 0,
      wouldUpload: 0,
      possibleDuplicates: 0,
      retries: 0
    })
  })
})

describe('writeResultsFile', () => {
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'report-results-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes every field and every file, creating parent directories, and reads back equal', async () => {
    const results = [
      fileResult(1),
      fileResult(2, {
        status: 'failed',
        predictionUuid: null,
        attempts: 5,
        possibleDuplicate: true,
        error: 'HTTP 503 from Kognic: "overloaded"\nretry later'
      }),
      fileResult(3, {
        status: 'invalid',
        predictionUuid: null,
        attempts: 0,
        problems: [
          { kind: 'bbox-size', jsonPath: 'frames.0.objects.a.object_data.bbox[0].val', message: 'w<0' }
        ]
      })
    ]
    const path = join(dir, 'nested', 'deeper', 'results.json')
    await writeResultsFile(path, makeReport(results, { fatalError: null }))

    const parsed = JSON.parse(await readFile(path, 'utf8')) as ResultsFile
    expect(parsed).toEqual({
      kind: 'kognic-upload-predictions-results',
      version: 1,
      actionVersion: ACTION_VERSION,
      datasetUuid: 'dataset-1',
      predictionsGroupUuid: 'group-1',
      predictionsGroupName: 'nightly "model" v2',
      groupCreated: true,
      dryRun: false,
      validation: 'strict',
      counts: {
        matched: 3,
        uploaded: 1,
        alreadyUploaded: 0,
        changedSinceUpload: 0,
        notUploaded: 2,
        uploadFailed: 1,
        invalid: 1,
        notAttempted: 0,
        wouldUpload: 0,
        possibleDuplicates: 1,
        retries: 4
      },
      startedAt: '2026-03-01T12:00:00.000Z',
      finishedAt: '2026-03-01T12:01:01.500Z',
      fatalError: null,
      cancelled: false,
      skipped: [{ displayPath: 'predictions/dir.json', reason: 'directory' }],
      statistics: null,
      comparison: null,
      // moreProblems is always written, 0 when the file kept all its problems.
      files: results.map((r) => ({ ...r, moreProblems: r.moreProblems ?? 0 }))
    })
  })

  it('writes the statistics section before the files, and a later run reads it back as it was', async () => {
    const total = new RunStatistics()
    total.add(analyseOpenLabel(bboxDoc({ count: 4, seed: 3 })).statistics)
    const statistics = total.result()
    const path = join(dir, 'with-statistics.json')
    await writeResultsFile(path, makeReport([fileResult(1)], { statistics }))
    const text = await readFile(path, 'utf8')
    expect(text.indexOf('"statistics"')).toBeLessThan(text.indexOf('"files"'))
    const parsed = JSON.parse(text) as ResultsFile
    expect(parsed.statistics).toMatchObject({ version: 1, files: 1 })
    expect(readStatisticsSection(parsed.statistics)).toEqual(statistics)
  })

  it('writes only the contract fields of each file, one entry per line', async () => {
    const extra = { ...fileResult(1), content: 'megabytes of OpenLABEL' } as FileResult
    const path = join(dir, 'results.json')
    await writeResultsFile(path, makeReport([extra, fileResult(2)]))
    const text = await readFile(path, 'utf8')
    expect(text).not.toContain('megabytes of OpenLABEL')
    const entryLines = text.split('\n').filter((line) => line.startsWith('    {"path":'))
    expect(entryLines).toHaveLength(2)
  })

  it('writes a valid file when nothing matched', async () => {
    const path = join(dir, 'results.json')
    await writeResultsFile(path, makeReport([], { fatalError: 'No files matched predictions/**/*.json' }))
    const parsed = JSON.parse(await readFile(path, 'utf8')) as ResultsFile
    expect(parsed.files).toEqual([])
    expect(parsed.fatalError).toBe('No files matched predictions/**/*.json')
  })

  it('writes 20,000 entries that parse back in order', async () => {
    const results = Array.from({ length: 20_000 }, (_, i) => fileResult(i))
    const path = join(dir, 'results.json')
    await writeResultsFile(path, makeReport(results))
    const parsed = JSON.parse(await readFile(path, 'utf8')) as ResultsFile
    expect(parsed.files).toHaveLength(20_000)
    expect(parsed.files[19_999]?.sceneUuid).toBe(results[19_999]?.sceneUuid)
    expect(await readdir(dir)).toEqual(['results.json'])
  })

  it('leaves the previous file whole and no temporary file behind when writing fails part-way', async () => {
    const path = join(dir, 'results.json')
    await writeFile(path, '{"version":1,"previous":true}')
    // Enough entries that some were written before the last one cannot be serialised.
    const results = Array.from({ length: 20_000 }, (_, i) => fileResult(i))
    results.push(fileResult(20_000, { attempts: 1n as unknown as number }))

    await expect(writeResultsFile(path, makeReport(results))).rejects.toThrow(
      `Could not write the results file ${path}`
    )
    expect(await readFile(path, 'utf8')).toBe('{"version":1,"previous":true}')
    expect(await readdir(dir)).toEqual(['results.json'])
  })

  it('replaces an existing file', async () => {
    const path = join(dir, 'results.json')
    await writeFile(path, 'old')
    await writeResultsFile(path, makeReport([fileResult(1)]))
    expect((JSON.parse(await readFile(path, 'utf8')) as ResultsFile).files).toHaveLength(1)
  })

  it('names the path and says what to fix when the directory cannot be made', async () => {
    const blocker = join(dir, 'a-file')
    await writeFile(blocker, '')
    const path = join(blocker, 'results.json')
    await expect(writeResultsFile(path, makeReport([]))).rejects.toThrow(
      new RegExp(
        `Could not write the results file ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*writable`
      )
    )
  })
})

describe('ACTION_VERSION', () => {
  it('is the version package.json gives', async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string
    }
    expect(ACTION_VERSION).toBe(pkg.version)
  })
})
