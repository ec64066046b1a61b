import { describe, expect, it } from 'vitest'
import { RunFiles } from '../src/run-files.js'
import type { InspectedFile, Problem } from '../src/types.js'

const SCENE_A = '5ce7e000-00d1-4000-8000-00000000000a'
const SCENE_B = '5ce7e000-00d1-4000-8000-00000000000b'

function matched(count: number): { path: string; displayPath: string }[] {
  return Array.from({ length: count }, (_, i) => ({ path: `/ws/p/${i}.json`, displayPath: `p/${i}.json` }))
}

function checked(i: number, extra: Partial<InspectedFile> = {}): InspectedFile {
  return {
    path: `/ws/p/${i}.json`,
    displayPath: `p/${i}.json`,
    sizeBytes: 100 + i,
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

describe('RunFiles', () => {
  it('gives back each file’s paths, also those that are not the workspace joined with the display path', () => {
    const files = [
      { path: '/ws/p/0.json', displayPath: 'p/0.json' },
      { path: '/ws/a b/ü-ß.json', displayPath: 'a b/ü-ß.json' },
      { path: '/elsewhere/x.json', displayPath: 'x.json' },
      { path: '/ws/q.json', displayPath: 'q.json' }
    ]
    const table = new RunFiles('/ws', files)
    expect(files.map((_, i) => table.file(i))).toEqual(files)
    expect(files.map((_, i) => table.displayPath(i))).toEqual(files.map((f) => f.displayPath))
    expect(new RunFiles('/', [{ path: '/q.json', displayPath: 'q.json' }]).file(0)).toEqual({
      path: '/q.json',
      displayPath: 'q.json'
    })
    expect(new RunFiles('/ws', []).count).toBe(0)
  })

  it('gives back what the checks recorded', () => {
    const files = new RunFiles('/ws', matched(3))
    const problems: Problem[] = [{ kind: 'bbox-size', jsonPath: 'frames.0', message: 'too small' }]
    const one = checked(1, {
      sceneUuid: SCENE_B,
      form: 'request',
      hasSegmentation: true,
      segmentationClasses: ['road', 'tree'],
      problems,
      moreProblems: 2
    })
    files.recordCheck(1, one)
    expect(files.inspected(1)).toEqual(one)
    expect(files.checked(0)).toBe(false)
    expect(files.inspected(0)).toBeUndefined()
    files.recordCheck(2, checked(2, { sceneUuid: null, form: null, fatal: problems }))
    expect(files.inspected(2)).toMatchObject({ sceneUuid: null, form: null, fatal: problems, problems: [] })
    expect(files.hasSegmentation(1)).toBe(true)
    expect(files.segmentationClasses(1)).toEqual(['road', 'tree'])
  })

  it('keeps an id that is not a lower-case UUID as it is', () => {
    const files = new RunFiles('/ws', matched(2))
    files.recordCheck(0, checked(0))
    files.recordCheck(1, checked(1))
    files.setOutcome(0, { status: 'uploaded', predictionUuid: 'pred-7', attempts: 2 })
    files.setOutcome(1, { status: 'uploaded', predictionUuid: SCENE_B.toUpperCase(), attempts: 1 })
    expect(files.result(0, 'unused').predictionUuid).toBe('pred-7')
    expect(files.result(1, 'unused').predictionUuid).toBe(SCENE_B.toUpperCase())
  })

  it('builds each file’s result from its checks and fate; files never reached are not attempted', () => {
    const files = new RunFiles('/ws', matched(4))
    const problems: Problem[] = [{ kind: 'bbox-size', jsonPath: 'frames.0', message: 'too small' }]
    const fatal: Problem[] = [{ kind: 'json-syntax', jsonPath: '', message: 'p/2.json is not valid JSON' }]
    files.recordCheck(0, checked(0, { problems, moreProblems: 1 }))
    files.recordCheck(1, checked(1, { sceneUuid: SCENE_B }))
    files.recordCheck(2, checked(2, { sceneUuid: null, form: null, fatal }))
    files.setOutcome(0, {
      status: 'uploaded',
      predictionUuid: SCENE_B,
      attempts: 3,
      possibleDuplicate: true,
      error: null
    })
    files.setOutcome(2, { status: 'invalid', error: 'broken', fatalAsProblems: true })
    const unusable = {
      path: 'link.json',
      sceneUuid: null,
      status: 'invalid' as const,
      predictionUuid: null,
      attempts: 0,
      possibleDuplicate: false,
      error: 'broken link',
      problems: [],
      moreProblems: 0
    }
    const results = files.results('Not uploaded: stopped', [unusable])
    expect(results.length).toBe(5)
    expect([...results]).toEqual([
      {
        path: 'p/0.json',
        sceneUuid: SCENE_A,
        status: 'uploaded',
        predictionUuid: SCENE_B,
        attempts: 3,
        possibleDuplicate: true,
        error: null,
        problems,
        moreProblems: 1
      },
      {
        path: 'p/1.json',
        sceneUuid: SCENE_B,
        status: 'not-attempted',
        predictionUuid: null,
        attempts: 0,
        possibleDuplicate: false,
        error: 'Not uploaded: stopped',
        problems: [],
        moreProblems: 0
      },
      {
        path: 'p/2.json',
        sceneUuid: null,
        status: 'invalid',
        predictionUuid: null,
        attempts: 0,
        possibleDuplicate: false,
        error: 'broken',
        problems: fatal,
        moreProblems: 0
      },
      {
        path: 'p/3.json',
        sceneUuid: null,
        status: 'not-attempted',
        predictionUuid: null,
        attempts: 0,
        possibleDuplicate: false,
        error: 'Not uploaded: stopped',
        problems: [],
        moreProblems: 0
      },
      unusable
    ])
    // Read as often as needed: each pass builds the results anew.
    expect([...results]).toEqual([...results])
  })

  it('groups the files of a scene predicted more than once, by first file, each group in file order', () => {
    const scenes = [SCENE_B, SCENE_A, SCENE_B, null, SCENE_A, SCENE_B, '5ce7e000-00d1-4000-8000-0000000000ff']
    const files = new RunFiles('/ws', matched(scenes.length + 1))
    scenes.forEach((sceneUuid, i) => files.recordCheck(i, checked(i, { sceneUuid })))
    expect(files.duplicateScenes()).toEqual([
      [0, 2, 5],
      [1, 4]
    ])
  })

  it('finds the same duplicates as a map of every scene would, also where scenes hash alike', () => {
    // 6,000 files over 4,500 scenes (a few not UUIDs): among so many, some distinct scenes share a hash.
    const scenes = Array.from({ length: 6000 }, (_, i) => {
      const n = (i * 7919) % 4500
      return n % 997 === 0 ? `scene-${n}` : `5ce7e000-00d1-4000-8000-${n.toString(16).padStart(12, '0')}`
    })
    const files = new RunFiles('/ws', matched(scenes.length))
    scenes.forEach((sceneUuid, i) => files.recordCheck(i, checked(i, { sceneUuid })))
    const byScene = new Map<string, number[]>()
    scenes.forEach((scene, i) => byScene.set(scene, [...(byScene.get(scene) ?? []), i]))
    const expected = [...byScene.values()].filter((group) => group.length > 1)
    expect(files.duplicateScenes()).toEqual(expected)
    expect(expected.length).toBe(1500)
  })

  it('tells apart scenes whose hashes collide', () => {
    // Two scenes that share the hash bits duplicateScenes sorts by (found by search).
    const [a, b] = ['5ce7e000-00d1-4000-8000-0000000003ea', '5ce7e000-00d1-4000-8000-000000002388']
    const scenes = [a, b, a, b, b]
    const files = new RunFiles('/ws', matched(scenes.length))
    scenes.forEach((sceneUuid, i) => files.recordCheck(i, checked(i, { sceneUuid })))
    expect(files.duplicateScenes()).toEqual([
      [0, 2],
      [1, 3, 4]
    ])
  })

  it('leaves files with fatal problems out of the duplicates; none when each scene has one file', () => {
    const fatal: Problem[] = [{ kind: 'shape', jsonPath: '', message: 'bad' }]
    const files = new RunFiles('/ws', matched(3))
    files.recordCheck(0, checked(0, { sceneUuid: SCENE_A }))
    files.recordCheck(1, checked(1, { sceneUuid: SCENE_A, fatal }))
    files.recordCheck(2, checked(2, { sceneUuid: SCENE_B }))
    expect(files.duplicateScenes()).toEqual([])
  })
})
