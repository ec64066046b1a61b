import { describe, expect, it } from 'vitest'
import { fileAnnotations, FILE_ANNOTATIONS_PER_LEVEL } from '../src/report/annotations.js'
import { countResults, verdict, type RunReport } from '../src/report/model.js'
import type { FileResult } from '../src/types.js'

function result(i: number, over: Partial<FileResult>): FileResult {
  return {
    path: `p/${i}.json`,
    sceneUuid: null,
    status: 'uploaded',
    predictionUuid: null,
    attempts: 1,
    possibleDuplicate: false,
    error: null,
    contentSha256: null,
    problems: [],
    ...over
  }
}

function report(results: FileResult[], over: Partial<RunReport> = {}): RunReport {
  return {
    datasetUuid: 'd',
    group: { uuid: 'g', name: 'n', created: false, state: 'found' },
    dryRun: false,
    validation: 'strict',
    counts: countResults(results),
    startedAt: 0,
    finishedAt: 1,
    results,
    skipped: [],
    ...over
  }
}

describe('fileAnnotations', () => {
  it('names the file once when the reason already starts with it', () => {
    const notes = fileAnnotations(
      report([
        result(1, { status: 'invalid', error: 'p/1.json is not valid JSON at line 1, column 2' }),
        result(2, { status: 'invalid', error: 'p/2.json: no "openlabel" at the top level' })
      ])
    )
    expect(notes.map((note) => note.message)).toEqual([
      'p/1.json: the file is not valid JSON at line 1, column 2',
      'p/2.json: no "openlabel" at the top level'
    ])
  })

  it('gives at most nine files per level, then one notice with how many more', () => {
    const results = [
      ...Array.from({ length: 300 }, (_, i) =>
        result(i, {
          status: 'invalid',
          error: 'not JSON',
          problems: [{ kind: 'json-syntax', jsonPath: '', message: 'x', line: 3, column: 7 }]
        })
      ),
      ...Array.from({ length: 12 }, (_, i) =>
        result(1000 + i, {
          problems: [{ kind: 'bbox-size', jsonPath: 'a', message: 'w', severity: 'warning' }]
        })
      )
    ]
    const notes = fileAnnotations(report(results))
    expect(notes.filter((n) => n.level === 'error')).toHaveLength(FILE_ANNOTATIONS_PER_LEVEL)
    expect(notes.filter((n) => n.level === 'warning')).toHaveLength(FILE_ANNOTATIONS_PER_LEVEL)
    expect(notes.at(-1)).toMatchObject({
      level: 'notice',
      message:
        '291 more files with errors and 3 more files with warnings are listed in the job summary and the results file.'
    })
    expect(notes[0]).toEqual({
      level: 'error',
      message: 'p/0.json: not JSON',
      props: { title: 'Not uploaded', file: 'p/0.json', startLine: 3, startColumn: 7 }
    })
  })

  it('says nothing of files that were uploaded cleanly or never reached', () => {
    expect(fileAnnotations(report([result(1, {}), result(2, { status: 'not-attempted' })]))).toEqual([])
  })
})

describe('verdict', () => {
  it('gives one number for what was not uploaded, and what it is made of', () => {
    const results = [
      result(1, {}),
      result(2, { status: 'invalid' }),
      result(3, { status: 'failed' }),
      result(4, { status: 'not-attempted' })
    ]
    expect(verdict(report(results))).toEqual({
      ok: false,
      text: '3 of 4 files not uploaded (1 invalid, 1 failed to upload, 1 not attempted); 1 uploaded.'
    })
    expect(verdict(report(results, { cancelled: true })).text).toBe(
      'Cancelled: 1 of 4 files uploaded before the run stopped; 3 not uploaded (1 invalid, 1 failed to upload, 1 not attempted).'
    )
  })

  it('ends a stop reason as a sentence before the tally', () => {
    const stopped = verdict(
      report([result(1, { status: 'not-attempted' })], { fatalError: 'Check the credentials' })
    )
    expect(stopped.text).toBe(
      'Check the credentials.\n0 of 1 files uploaded; 1 not uploaded (1 not attempted).'
    )
  })

  it('keeps every line of a stop reason, then the tally', () => {
    const stopped = verdict(
      report([result(1, { status: 'not-attempted' })], { fatalError: 'Inputs:\n- a\n- b' })
    )
    expect(stopped).toEqual({
      ok: false,
      text: 'Inputs:\n- a\n- b.\n0 of 1 files uploaded; 1 not uploaded (1 not attempted).'
    })
  })
})
