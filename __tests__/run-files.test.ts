import { describe, expect, it } from 'vitest'
import { duplicateScenes, finalResults, resultOf, runFiles, type RunFile } from '../src/run-files.js'
import type { InspectedFile, Problem } from '../src/types.js'

const SCENE_A = '5ce7e000-00d1-4000-8000-00000000000a'
const SCENE_B = '5ce7e000-00d1-4000-8000-00000000000b'

function matched(count: number): RunFile[] {
  return runFiles(
    Array.from({ length: count }, (_, i) => ({ path: `/ws/p/${i}.json`, displayPath: `p/${i}.json` }))
  )
}

function checked(i: number, extra: Partial<InspectedFile> = {}): InspectedFile {
  return {
    path: `/ws/p/${i}.json`,
    displayPath: `p/${i}.json`,
    sizeBytes: 100 + i,
    identity: `1:${i}`,
    contentSha256: 'ab'.repeat(32),
    sceneUuid: SCENE_A,
    form: 'openlabel',
    hasSegmentation: false,
    segmentationClasses: [],
    fatal: [],
    problems: [],
    moreProblems: 0,
    ...extra
  }
}

describe('the run’s per-file records', () => {
  it('builds each file’s result from its checks and fate; files never reached are not attempted', () => {
    const files = matched(4)
    const problems: Problem[] = [{ kind: 'bbox-size', jsonPath: 'frames.0', message: 'too small' }]
    const fatal: Problem[] = [{ kind: 'json-syntax', jsonPath: '', message: 'p/2.json is not valid JSON' }]
    files[0]!.inspected = checked(0, { problems, moreProblems: 1 })
    files[1]!.inspected = checked(1, { sceneUuid: SCENE_B })
    files[2]!.inspected = checked(2, { sceneUuid: null, form: null, fatal })
    files[0]!.result = resultOf(files[0]!.file, files[0]!.inspected, {
      status: 'uploaded',
      predictionUuid: SCENE_B,
      attempts: 3,
      possibleDuplicate: true
    })
    files[2]!.result = resultOf(files[2]!.file, files[2]!.inspected, {
      status: 'invalid',
      error: 'broken',
      fatalAsProblems: true
    })
    const notReached = {
      sceneUuid: null,
      status: 'not-attempted',
      predictionUuid: null,
      attempts: 0,
      possibleDuplicate: false,
      error: 'Not uploaded: stopped',
      contentSha256: 'ab'.repeat(32),
      problems: [],
      moreProblems: 0
    }
    expect(finalResults(files, 'Not uploaded: stopped')).toEqual([
      {
        path: 'p/0.json',
        sceneUuid: SCENE_A,
        status: 'uploaded',
        predictionUuid: SCENE_B,
        attempts: 3,
        possibleDuplicate: true,
        error: null,
        contentSha256: 'ab'.repeat(32),
        problems,
        moreProblems: 1
      },
      { ...notReached, path: 'p/1.json', sceneUuid: SCENE_B },
      {
        path: 'p/2.json',
        sceneUuid: null,
        status: 'invalid',
        predictionUuid: null,
        attempts: 0,
        possibleDuplicate: false,
        error: 'broken',
        contentSha256: 'ab'.repeat(32),
        problems: fatal,
        moreProblems: 0
      },
      { ...notReached, path: 'p/3.json', contentSha256: null }
    ])
  })

  it('groups the files of a scene predicted more than once, by first file, each group in file order', () => {
    const scenes = [SCENE_B, SCENE_A, SCENE_B, null, SCENE_A, SCENE_B, '5ce7e000-00d1-4000-8000-0000000000ff']
    const files = matched(scenes.length + 1)
    scenes.forEach((sceneUuid, i) => (files[i]!.inspected = checked(i, { sceneUuid })))
    expect(duplicateScenes(files)).toEqual([
      [0, 2, 5],
      [1, 4]
    ])
  })

  it('leaves files with fatal problems out of the duplicates; none when each scene has one file', () => {
    const fatal: Problem[] = [{ kind: 'shape', jsonPath: '', message: 'bad' }]
    const files = matched(3)
    files[0]!.inspected = checked(0, { sceneUuid: SCENE_A })
    files[1]!.inspected = checked(1, { sceneUuid: SCENE_A, fatal })
    files[2]!.inspected = checked(2, { sceneUuid: SCENE_B })
    expect(duplicateScenes(files)).toEqual([])
  })
})
