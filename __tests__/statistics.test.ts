// Prediction statistics (issue 20): collected in the checks' walk, merged per file, compared with a baseline,
// rendered with bars, with hostile class names kept inert.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { compareWithBaseline } from '../src/baseline.js'
import { inspectFile } from '../src/predictions/inspect.js'
import {
  compareStatistics,
  readStatisticsSection,
  RunStatistics,
  type Statistics
} from '../src/predictions/statistics.js'
import { analyseOpenLabel } from '../src/predictions/validate.js'
import { RESULTS_FILE_KIND } from '../src/report/results.js'
import {
  bar,
  COLLAPSED_ROWS,
  SHOWN_ROWS,
  statisticsSection,
  statisticsText
} from '../src/report/statistics.js'
import { bboxDoc } from '../scripts/sample-predictions.js'

const GUIDE = path.join(import.meta.dirname, 'fixtures', 'guide')
const guide = (name: string): unknown => JSON.parse(readFileSync(path.join(GUIDE, name), 'utf8'))

function statisticsOf(...docs: unknown[]): Statistics {
  const total = new RunStatistics()
  for (const doc of docs) total.add(analyseOpenLabel(doc).statistics)
  return total.result()
}

/** A document with one frame: objects of `classes` (one each, a bbox each), confidences as given. */
function docOf(objects: { type: unknown; confidence?: unknown; stream?: string }[]): unknown {
  const root: Record<string, unknown> = {}
  const frame: Record<string, unknown> = {}
  objects.forEach((o, i) => {
    const id = `obj-${i}`
    root[id] = { name: id, type: o.type }
    frame[id] = {
      object_data: {
        bbox: [
          {
            name: 'b',
            val: [10, 10, 5, 5],
            attributes: {
              text: [{ name: 'stream', val: o.stream ?? 'CAM' }],
              ...(o.confidence === undefined ? {} : { num: [{ name: 'confidence', val: o.confidence }] })
            }
          }
        ]
      }
    }
  })
  return {
    openlabel: {
      metadata: { schema_version: '1.0.0' },
      streams: { CAM: { type: 'camera' } },
      objects: root,
      frames: { '0': { frame_properties: { timestamp: 0 }, objects: frame } }
    }
  }
}

function statsWith(classes: Record<string, number>, confidence = 0.8): Statistics {
  const objects = Object.entries(classes).flatMap(([type, count]) =>
    Array.from({ length: count }, () => ({ type, confidence }))
  )
  return statisticsOf(docOf(objects))
}

describe('collection in the checks walk (the guide examples)', () => {
  it('bounding boxes in two frames: one object, two geometries, its confidences, its stream', () => {
    const s = statisticsOf(guide('bbox-two-frames.json'))
    expect(s).toMatchObject({ version: 1, files: 1, frames: 2, geometries: { bbox: 2, cuboid: 0, image: 0 } })
    expect(s.classes).toHaveLength(1)
    const [car] = s.classes
    expect(car).toMatchObject({
      name: 'PassengerCar',
      objects: 1,
      geometries: 2,
      scenes: 1,
      withoutConfidence: 0
    })
    expect(car!.confidence!.count).toBe(2)
    expect(car!.confidence!.mean).toBeCloseTo(0.835, 10)
    expect(car!.confidence).toMatchObject({ min: 0.82, max: 0.85 })
    expect(s.streams).toEqual([{ name: 'camera_id', objects: 1, geometries: 2 }])
  })

  it('cuboids, a segmentation bitmap and a request body each count under their root type', () => {
    const s = statisticsOf(
      guide('cuboid-two-frames.json'),
      guide('segmentation-bitmap.json'),
      (guide('request-body.json') as { openlabelContent: unknown }).openlabelContent
    )
    expect(s.files).toBe(3)
    expect(s.geometries).toEqual({ bbox: 2, cuboid: 2, image: 1 })
    const car = s.classes.find((c) => c.name === 'PassengerCar')!
    // One object in each of two files (scenes): objects are counted per file.
    expect(car).toMatchObject({ objects: 2, geometries: 4, scenes: 2 })
    const segmentation = s.classes.find((c) => c.name === 'segmentation_bitmap')!
    // The bitmap carries no confidence: Kognic reads 1.0, counted as without one.
    expect(segmentation).toMatchObject({ objects: 1, geometries: 1, confidence: null, withoutConfidence: 1 })
    expect(s.streams.map((st) => st.name).sort()).toEqual(['@lidar', 'camera_id'])
  })

  it('a missing or invalid confidence counts as without one; a missing type as no class', () => {
    const s = statisticsOf(
      docOf([
        { type: 'car' },
        { type: 'car', confidence: '0.9' },
        { type: 'car', confidence: 0.4 },
        { type: 7 }
      ])
    )
    const car = s.classes.find((c) => c.name === 'car')!
    expect(car).toMatchObject({ objects: 3, withoutConfidence: 2, confidence: { count: 1, mean: 0.4 } })
    expect(s.classes.find((c) => c.name === '')).toMatchObject({ objects: 1 })
  })
})

describe('merge', () => {
  it('adds files: objects and scenes sum, min and max over all, the mean weighted by geometries', () => {
    const s = statisticsOf(
      docOf([{ type: 'car', confidence: 0.2 }]),
      docOf([
        { type: 'car', confidence: 0.9 },
        { type: 'car', confidence: 0.7 }
      ])
    )
    const car = s.classes[0]!
    expect(car).toMatchObject({ objects: 3, scenes: 2, confidence: { count: 3, min: 0.2, max: 0.9 } })
    expect(car.confidence!.mean).toBeCloseTo(0.6, 10)
  })

  it('merges baseline sections (shards) to what one run over all their files gives', () => {
    const a = docOf([
      { type: 'car', confidence: 0.2 },
      { type: 'bus', confidence: 0.5 }
    ])
    const b = docOf([{ type: 'car', confidence: 0.9 }])
    const merged = new RunStatistics()
    for (const shard of [statisticsOf(a), statisticsOf(b)]) {
      const read = readStatisticsSection(JSON.parse(JSON.stringify(shard)))
      if (typeof read === 'string') throw new Error(read)
      merged.addSection(read)
    }
    const whole = statisticsOf(a, b)
    const result = merged.result()
    expect(
      result.classes.map((c) => [c.name, c.objects, c.scenes, c.confidence?.min, c.confidence?.max])
    ).toEqual(whole.classes.map((c) => [c.name, c.objects, c.scenes, c.confidence?.min, c.confidence?.max]))
    expect(result.classes[0]!.confidence!.mean).toBeCloseTo(whole.classes[0]!.confidence!.mean, 10)
    expect(result.files).toBe(2)
  })

  it('classes beyond the cap are counted as untracked, not kept', () => {
    const total = new RunStatistics()
    // Each geometry also on a stream of its own: past both caps, it is still one untracked geometry.
    for (let i = 0; i < 1002; i++)
      total.add(analyseOpenLabel(docOf([{ type: `class-${i}`, stream: `stream-${i}` }])).statistics)
    const s = total.result()
    expect(s.classes).toHaveLength(1000)
    expect(s.streams).toHaveLength(100)
    expect(s.untracked.geometries).toBe(2)
  })

  it('a "__proto__" class is a class like any other', () => {
    const s = statisticsOf(docOf([{ type: '__proto__' }, { type: 'constructor' }]))
    expect(s.classes.map((c) => c.name).sort()).toEqual(['__proto__', 'constructor'])
  })
})

describe('readStatisticsSection', () => {
  it('gives a reason for a missing, foreign-version or malformed section', () => {
    expect(readStatisticsSection(undefined)).toMatch(/no "statistics"/)
    expect(readStatisticsSection({ version: 2 })).toMatch(/format 2/)
    expect(readStatisticsSection({ version: 1, files: 'x' })).toMatch(/malformed/)
    const good = statsWith({ car: 1 })
    expect(readStatisticsSection({ ...good, classes: [{ name: 3 }] })).toMatch(/malformed/)
    expect(readStatisticsSection(JSON.parse(JSON.stringify(good)))).toEqual(good)
  })
})

describe('compare', () => {
  it('finds classes that appeared and vanished, and orders by the largest change first', () => {
    const now = statsWith({ car: 120, truck: 5, bus: 10, tram: 3 }, 0.9)
    const before = statsWith({ car: 100, truck: 50, bus: 10, bike: 7 }, 0.7)
    const c = compareStatistics(now, before, ['base.json'])
    expect(c.classes.map((x) => x.name)).toEqual(['truck', 'car', 'bike', 'tram', 'bus'])
    expect(c.classes.find((x) => x.name === 'tram')).toMatchObject({ state: 'appeared', changePercent: null })
    expect(c.classes.find((x) => x.name === 'bike')).toMatchObject({
      state: 'vanished',
      objects: 0,
      changePercent: -100
    })
    expect(c.classes.find((x) => x.name === 'car')!.changePercent).toBeCloseTo(20, 10)
    expect(c.classes.find((x) => x.name === 'bus')!.meanConfidence! - 0.9).toBeCloseTo(0, 10)
  })

  it('shows at most 15 rows open, the rest collapsed in <details>', () => {
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`c${String(i).padStart(2, '0')}`, i + 1])
    )
    const c = compareStatistics(statsWith(many), statsWith({ c00: 1 }), ['b.json'])
    const md = statisticsSection(statsWith(many), c, 100_000)
    const [open, collapsed] = md.split('<details>')
    expect(open!.split('\n').filter((l) => l.startsWith('| c'))).toHaveLength(SHOWN_ROWS)
    expect(collapsed).toContain('<summary>25 more classes</summary>')
    expect(collapsed!.split('\n').filter((l) => l.startsWith('| c'))).toHaveLength(25)
    // Largest first: c39 (40 objects, new) leads.
    expect(open).toMatch(/\| c39 \| 40 \| 0 \| new \|/)
    expect(md).toContain('🆕 **Appeared:**')
  })

  it('caps the collapsed rows, and the whole section to its budget', () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 1]))
    const s = statisticsOf(docOf(Object.keys(many).map((type) => ({ type }))))
    const md = statisticsSection(s, null, 100_000)
    expect(md.split('\n').filter((l) => l.startsWith('| k'))).toHaveLength(SHOWN_ROWS + COLLAPSED_ROWS)
    expect(md).toContain('more classes: the results file has them all')
    expect(Buffer.byteLength(statisticsSection(s, null, 4000))).toBeLessThanOrEqual(4000)
  })
})

describe('rendering', () => {
  it('bars grow with the count, in eighths, and never vanish for a count above 0', () => {
    expect(bar(16, 16)).toBe('█'.repeat(16))
    expect(bar(8, 16)).toBe('█'.repeat(8))
    expect(bar(1, 1000)).toBe('▏')
    expect(bar(0, 10)).toBe('')
  })

  it('without a baseline: the per-class table with confidence and the totals', () => {
    const md = statisticsSection(statisticsOf(guide('bbox-two-frames.json')), null, 100_000)
    expect(md).toContain('### What the predictions hold')
    expect(md).toContain('1 file · 2 frames · 2 geometries (2 bbox) · objects per stream: camera\\_id 1')
    expect(md).toContain('| PassengerCar | 1 | 2 | 1 | 0.83 (0.82–0.85) | 0 | ████████████████ |')
  })

  it('hostile class names render inertly in markdown and in the terminal', () => {
    const hostile = [
      '<img src=x onerror=alert(1)>',
      'a|b',
      '::warning::pwned',
      '@octocat',
      '[x](https://evil)'
    ]
    const now = statisticsOf(docOf(hostile.map((type) => ({ type, stream: '<script>' }))))
    const before = statisticsOf(docOf([{ type: '::error::gone' }]))
    for (const md of [
      statisticsSection(now, null, 100_000),
      statisticsSection(now, compareStatistics(now, before, ['<b>.json']), 100_000)
    ]) {
      expect(md).not.toContain('<img')
      expect(md).not.toContain('<script>')
      expect(md).not.toContain('<b>')
      expect(md).toContain('&lt;img src=x onerror=alert\\(1\\)&gt;')
      expect(md).toContain('a\\|b')
      expect(md).not.toContain('@octocat')
      expect(md).not.toMatch(/\]\(https:\/\//)
      // Every table row still has its columns: no name split a row.
      for (const row of md
        .split('\n')
        .filter((l) => l.startsWith('| ') && !l.startsWith('| :--') && !l.startsWith('| Class')))
        expect(row.split(/(?<!\\)\|/).length, row).toBe(md.includes('Baseline |') ? 8 : 9)
    }
    const text = statisticsText(now, compareStatistics(now, before, ['b.json']))
    for (const line of text.split('\n')) expect(line).not.toMatch(/^\s*::/)
    expect(text).toContain(': :warning::pwned')
    expect(text).not.toContain(String.fromCharCode(27))
  })

  it('the terminal shows the comparison as a table with bars', () => {
    const now = statsWith({ car: 4, bus: 2 })
    const text = statisticsText(now, compareStatistics(now, statsWith({ car: 2 }), ['main.json']))
    expect(text).toMatch(/Predictions against the baseline \(1 file\(s\) in main\.json\)/)
    expect(text).toMatch(/car\s+4\s+2\s+\+100%/)
    expect(text).toMatch(/bus\s+2\s+0\s+new/)
  })
})

describe('compareWithBaseline', () => {
  const current = statsWith({ car: 3 })
  const results = (statistics: unknown): string =>
    JSON.stringify({
      kind: RESULTS_FILE_KIND,
      version: 1,
      files: [],
      ...(statistics === undefined ? {} : { statistics })
    })

  function workspace(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kup-baseline-'))
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
      writeFileSync(path.join(dir, rel), content)
    }
    return dir
  }

  it.each([
    ['missing', {}, /matched no results file/],
    ['foreign', { 'base/a.json': '{"kind": "something-else"}' }, /not a results file of this action/],
    ['malformed JSON', { 'base/a.json': '{"kind": ' }, /not valid JSON/],
    ['without statistics', { 'base/a.json': results(undefined) }, /no "statistics"/],
    ['malformed statistics', { 'base/a.json': results({ version: 1, files: -1 }) }, /malformed/]
  ])('a %s baseline: no comparison and one warning', async (_what, files, reason) => {
    const answer = await compareWithBaseline('base/*.json', workspace(files), current, 'compare-with')
    expect(answer.comparison).toBeNull()
    expect(answer.warning).toMatch(reason)
  })

  it('a pattern outside the workspace is a warning too', async () => {
    const answer = await compareWithBaseline('../elsewhere/*.json', workspace({}), current, 'compare-with')
    expect(answer.comparison).toBeNull()
    expect(answer.warning).toMatch(/compare-with/)
  })

  it('merges several baseline files and names the unusable ones in the one warning', async () => {
    const dir = workspace({
      'base/shard-1.json': results(statsWith({ car: 1 })),
      'base/shard-2.json': results(statsWith({ car: 2, bus: 1 })),
      'base/junk.json': '[]'
    })
    const answer = await compareWithBaseline('base/*.json', dir, current, 'compare-with')
    expect(answer.comparison!.baselines).toEqual(['base/shard-1.json', 'base/shard-2.json'])
    expect(answer.comparison!.baselineFiles).toBe(2)
    expect(answer.comparison!.classes.find((c) => c.name === 'car')).toMatchObject({
      objects: 3,
      baselineObjects: 3
    })
    expect(answer.warning).toMatch(/ignored base\/junk\.json: not a results file/)
  })

  it('uses the bbox builder the process tests use: sample documents count their objects', () => {
    const s = statisticsOf(bboxDoc({ count: 5, seed: 1 }))
    expect(s.classes.reduce((sum, c) => sum + c.objects, 0)).toBe(5)
  })
})

describe('inspectFile hands over the counts once', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kup-stats-inspect-'))
  const scene = '0b7e5a5c-3f1d-4c2a-9e4b-1a2b3c4d5e09'
  const check = async (name: string, content: string) => {
    writeFileSync(path.join(dir, name), content)
    return inspectFile(
      { path: path.join(dir, name), displayPath: name },
      { maxFileSizeBytes: 1 << 20, validation: 'strict' }
    )
  }

  it('a prediction carries its counts; a broken file and a results file carry none', async () => {
    const good = await check(`${scene}.json`, JSON.stringify(bboxDoc({ count: 2 })))
    expect(good.statistics!.geometries.bbox).toBe(2)
    expect((await check('broken.json', '{')).statistics).toBeNull()
    expect((await check('results.json', JSON.stringify({ kind: RESULTS_FILE_KIND }))).statistics).toBeNull()
  })
})
