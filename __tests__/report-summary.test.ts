import { buildPrComment } from '../src/github/pr-comment.js'
import { describe, expect, it } from 'vitest'
import { countResults, type RunReport } from '../src/report/model.js'
import { renderSummary } from '../src/report/summary.js'
import type { FileResult, Problem } from '../src/types.js'

const STARTED = Date.UTC(2026, 2, 1, 12, 0, 0)
const HOSTILE_FILE_NAME = '<img src=x onerror=alert(1)>|**x**.json'
const HOSTILE_FILE_NAME_ESCAPED = '&lt;img src=x onerror=alert\\(1\\)&gt;\\|\\*\\*x\\*\\*.json'

function scene(i: number): string {
  return `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`
}

function fileResult(i: number, over: Partial<FileResult> = {}): FileResult {
  return {
    path: `predictions/${scene(i)}.json`,
    sceneUuid: scene(i),
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

function many(count: number, over: Partial<FileResult> = {}, from = 0): FileResult[] {
  return Array.from({ length: count }, (_, i) => fileResult(from + i, over))
}

function makeReport(results: FileResult[], over: Partial<RunReport> = {}, retries = 0): RunReport {
  return {
    datasetUuid: 'd0d0d0d0-0000-4000-8000-000000000001',
    group: { uuid: 'g0g0-1', name: 'nightly-model', created: false, state: 'found' },
    groupUrl: 'https://app.kognic.com/view/datasets/d0/predictions/g0g0-1',
    dryRun: false,
    validation: 'strict',
    counts: countResults(results, retries),
    startedAt: STARTED,
    finishedAt: STARTED + 25_000,
    results,
    skipped: [],
    ...over
  }
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** The table rows of the `<details>` block whose summary starts with `title`. */
function tableRows(summary: string, title: string): string[] {
  const start = summary.indexOf(`<summary>${title}`)
  expect(start, `no section "${title}"`).toBeGreaterThanOrEqual(0)
  const end = summary.indexOf('</details>', start)
  return summary
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---') && !/^\| (File|Kind) \|/.test(line))
}

describe('renderSummary: all uploaded', () => {
  const report = makeReport(many(120), {
    run: {
      url: 'https://github.com/acme/models/actions/runs/42',
      repository: 'acme/models',
      sha: 'abcdef1234567'
    }
  })
  const summary = renderSummary(report)

  it('says everything was uploaded, where to, how long it took and how fast', () => {
    expect(summary.startsWith('## Kognic predictions upload\n\n✅ **All 120 files uploaded.**\n')).toBe(true)
    expect(summary).toContain('- **Dataset:** <code>d0d0d0d0-0000-4000-8000-000000000001</code>')
    expect(summary).toContain(
      '- **Predictions group:** [nightly-model](https://app.kognic.com/view/datasets/d0/predictions/g0g0-1) ' +
        '(<code>g0g0-1</code>) — existing group'
    )
    expect(summary).toContain('- **Duration:** 25s (upload 25s, 4.8 files/s)')
    expect(summary).toContain(
      '- **Workflow run:** [acme/models@abcdef1](https://github.com/acme/models/actions/runs/42)'
    )
    expect(summary).toContain('| Uploaded | 120 |')
    expect(summary).toContain('| Not uploaded | 0 |')
  })

  it('shows no failure table, retries or duplicates when there are none', () => {
    expect(summary).not.toContain('<details')
    expect(summary).not.toContain('retried')
    expect(summary).not.toContain('stored twice')
    expect(summary).not.toContain('Not attempted')
  })

  it('is deterministic', () => {
    expect(renderSummary(makeReport(many(120), { run: report.run }))).toBe(summary)
  })
})

describe('renderSummary: partial failure', () => {
  const results = [
    ...many(96),
    fileResult(200, {
      status: 'failed',
      predictionUuid: null,
      attempts: 5,
      error: 'HTTP 503 after 5 attempts'
    }),
    fileResult(201, {
      status: 'failed',
      predictionUuid: null,
      error: 'HTTP 400: <script>alert("x")</script>\n# Not a heading\n[click](javascript:alert(1))'
    }),
    fileResult(202, { path: HOSTILE_FILE_NAME, status: 'failed', predictionUuid: null, error: 'HTTP 422' }),
    fileResult(203, {
      status: 'invalid',
      predictionUuid: null,
      sceneUuid: null,
      attempts: 0,
      problems: [
        { kind: 'scene-id', jsonPath: '', message: 'The file name is not a scene UUID' },
        { kind: 'json-syntax', jsonPath: '', message: 'Unexpected token' }
      ]
    }),
    fileResult(204, { possibleDuplicate: true }),
    fileResult(205, { possibleDuplicate: true, path: 'predictions/@octocat.json' })
  ]
  const summary = renderSummary(
    makeReport(results, { group: { uuid: 'g-new', name: 'run_7', created: true, state: 'created' } }, 17)
  )

  it('counts what was not uploaded in the status line', () => {
    expect(summary).toContain(
      '❌ **4 of 102 files not uploaded \\(1 invalid, 3 failed to upload\\); 98 uploaded.**'
    )
    expect(summary).toContain('run\\_7](https://app.kognic.com/')
    expect(summary).toContain('— created by this run')
  })

  it('lists each failed file with its scene and reason, escaped, in an open <details>', () => {
    expect(summary).toContain('<details open>\n<summary>Files not uploaded (4)</summary>')
    const rows = tableRows(summary, 'Files not uploaded')
    expect(rows).toEqual([
      `| predictions/${scene(200)}.json | ${scene(200)} | Upload failed: HTTP 503 after 5 attempts |`,
      `| predictions/${scene(201)}.json | ${scene(201)} | Upload failed: HTTP 400: &lt;script&gt;alert\\(&quot;x&quot;\\)&lt;/script&gt; ` +
        '\\# Not a heading \\[click\\]\\(javascript:alert\\(1\\)\\) |',
      `| ${HOSTILE_FILE_NAME_ESCAPED} | ${scene(202)} | Upload failed: HTTP 422 |`,
      `| predictions/${scene(203)}.json | — | Invalid: The file name is not a scene UUID (and 1 more problem) |`
    ])
  })

  it('never lets outside text through raw', () => {
    expect(summary).not.toContain('<script')
    expect(summary).not.toContain('<img')
    expect(summary).not.toContain('](javascript')
    expect(summary).not.toContain('@octocat')
  })

  it('reports retries and possible duplicates, naming the files', () => {
    expect(summary).toContain('- 🔁 17 retries (a request sent again')
    expect(summary).toContain('- ⚠️ 2 uploads may be stored twice')
    expect(summary).toContain(`predictions/${scene(204)}.json (${scene(204)})`)
    expect(summary).toContain('predictions/@\u200Boctocat.json')
  })

  it('closes the failures table when there are many', () => {
    const long = renderSummary(makeReport([...many(5), ...many(11, { status: 'failed', error: 'x' }, 100)]))
    expect(long).toContain('<details>\n<summary>Files not uploaded (11)</summary>')
    expect(tableRows(long, 'Files not uploaded')).toHaveLength(11)
  })
})

describe('renderSummary: dry run', () => {
  it('says nothing was uploaded and lists file → scene', () => {
    const results = [
      ...many(8, { status: 'would-upload', predictionUuid: null, attempts: 0 }),
      ...many(2, { status: 'invalid', predictionUuid: null, attempts: 0, error: 'Not JSON' }, 50)
    ]
    const summary = renderSummary(
      makeReport(results, {
        dryRun: true,
        group: { uuid: null, name: 'candidate', created: false, state: 'would-create' },
        groupUrl: null
      })
    )
    expect(summary).toContain(
      '❌ **Dry run: 2 of 10 files would not be uploaded \\(2 invalid\\); 8 would. Nothing was uploaded.**'
    )
    expect(summary).toContain('- **Predictions group:** candidate — would be created (dry run)')
    expect(summary).toContain('| Would upload | 8 |')
    expect(summary).not.toContain('| Uploaded |')
    expect(summary).not.toContain('uploads/s')
    expect(tableRows(summary, 'Files that would be uploaded (8)')).toEqual(
      results.slice(0, 8).map((r) => `| ${r.path} | ${r.sceneUuid} |`)
    )
    expect(tableRows(summary, 'Files that would not be uploaded (2)')).toEqual([
      // The scene is the file's name: no Scene column repeats it.
      `| predictions/${scene(50)}.json | Invalid: Not JSON |`,
      `| predictions/${scene(51)}.json | Invalid: Not JSON |`
    ])
  })

  it('caps the file → scene table and says how many more there are', () => {
    const results = many(1500, { status: 'would-upload', predictionUuid: null, attempts: 0 })
    const summary = renderSummary(makeReport(results, { dryRun: true }), { resultsFile: 'out/results.json' })
    expect(tableRows(summary, 'Files that would be uploaded (1,500)')).toHaveLength(1000)
    expect(summary).toContain(
      '_…and 500 more files not shown. Every file is listed in <code>out/results.json</code>._'
    )
    const capped = renderSummary(makeReport(results, { dryRun: true }), { maxDryRunRows: 20 })
    expect(tableRows(capped, 'Files that would be uploaded')).toHaveLength(20)
    expect(capped).toContain('_…and 1,480 more files not shown. The results file lists every file._')
  })
})

describe('renderSummary: the run stopped', () => {
  it('shows a fatal error before upload first, escaped', () => {
    const summary = renderSummary(
      makeReport([], {
        group: { uuid: null, name: null, created: false, state: 'unresolved' },
        groupUrl: null,
        fatalError: 'Authentication failed: HTTP 401 <b>invalid_client</b>\nCheck KOGNIC_CLIENT_ID'
      })
    )
    expect(summary).toContain(
      '⛔ **Stopped: Authentication failed: HTTP 401 &lt;b&gt;invalid\\_client&lt;/b&gt;**\n\nCheck KOGNIC\\_CLIENT\\_ID.'
    )
    expect(summary.indexOf('⛔')).toBeLessThan(summary.indexOf('**Dataset:**'))
    // A group the run never learnt is not shown as an "_unnamed_" one.
    expect(summary).not.toContain('Predictions group')
    expect(summary).not.toContain('unnamed')
    expect(summary).not.toContain('✅')
  })

  it('a run stopped by its inputs shows only what it knows: no dataset, group, or file counts', () => {
    const summary = renderSummary(
      makeReport([], {
        datasetUuid: '',
        group: { uuid: null, name: null, created: false, state: 'unresolved' },
        groupUrl: null,
        filesSearched: false,
        fatalError: 'Invalid inputs (2):\n  - dataset-uuid: must be a UUID\n  - concurrency: must be 1 to 64'
      })
    )
    expect(summary).toContain(
      '⛔ **Stopped: Invalid inputs \\(2\\):**\n\n* dataset-uuid: must be a UUID\n* concurrency: must be 1 to 64.'
    )
    expect(summary).not.toContain('**Dataset:**')
    expect(summary).not.toContain('<code></code>')
    expect(summary).not.toContain('Predictions group')
    expect(summary).not.toContain('| Matched |')
    expect(summary).toContain('No files were looked for')
  })

  it('says how far a fatal error mid-upload got', () => {
    const results = [
      ...many(30),
      ...many(70, { status: 'not-attempted', predictionUuid: null, attempts: 0 }, 30)
    ]
    const summary = renderSummary(makeReport(results, { fatalError: 'Kognic answered 403 Forbidden' }))
    expect(summary).toContain(
      '⛔ **Stopped: Kognic answered 403 Forbidden.**\n\n30 of 100 files uploaded; 70 not uploaded \\(70 not attempted\\).'
    )
    expect(summary).toContain('| ↳ not attempted | 70 |')
  })

  it('says the run was cancelled and how far it got', () => {
    const results = [
      ...many(40),
      ...many(60, { status: 'not-attempted', predictionUuid: null, attempts: 0 }, 40)
    ]
    const summary = renderSummary(makeReport(results, { cancelled: true }))
    expect(summary).toContain(
      '⛔ **Cancelled: 40 of 100 files uploaded before the run stopped; 60 not uploaded \\(60 not attempted\\).**'
    )
    expect(summary).toContain('| ↳ not attempted | 60 |')
    expect(summary).not.toContain('❌')
    // The files the run never reached share one reason: one line, not sixty rows.
    expect(summary).toContain('**60 files not attempted:** the run stopped before uploading')
    expect(summary).not.toContain('<summary>Files not uploaded')
  })
})

describe('renderSummary: validation problems', () => {
  const bbox = (i: number): Problem => ({
    kind: 'bbox-size',
    jsonPath: `frames.0.objects.o${i}.object_data.bbox[0].val`,
    message: `width ${-i} is negative`
  })
  const results = [
    fileResult(1, { problems: [bbox(1), bbox(2)] }),
    fileResult(2, { problems: [bbox(3)] }),
    fileResult(3, { problems: [bbox(4), { kind: 'confidence-range', jsonPath: 'x', message: '1.5 > 1' }] }),
    fileResult(4, { problems: [bbox(5)] }),
    fileResult(5, { problems: [{ kind: 'confidence-range', jsonPath: 'y', message: '<b>2</b>' }] }),
    fileResult(6)
  ]

  it('groups problems by kind, most frequent first, with counts and a few examples', () => {
    const summary = renderSummary(makeReport(results, { validation: 'warn' }))
    expect(summary).toContain(
      '<summary>Problems that did not stop a file: 7 in 5 files (validation is warn: these files were still uploaded)</summary>'
    )
    const rows = tableRows(summary, 'Problems that did not stop a file')
    expect(rows).toHaveLength(2)
    // Five bbox problems in four files; three examples, one per file.
    expect(rows[0]).toBe(
      '| <code>bbox-size</code> | 5 | 4 | ' +
        [1, 2, 3]
          .map((file, index) => {
            const problem = bbox([1, 3, 4][index] ?? 0)
            const path = `predictions/${scene(file)}.json`
            return `${path} at <code>${problem.jsonPath.replace(/[_[\]]/g, '\\$&')}</code>: ${problem.message}`
          })
          .join('<br>') +
        ' |'
    )
    expect(rows[1]).toBe(
      `| <code>confidence-range</code> | 2 | 2 | predictions/${scene(3)}.json at <code>x</code>: 1.5 &gt; 1<br>` +
        `predictions/${scene(5)}.json at <code>y</code>: &lt;b&gt;2&lt;/b&gt; |`
    )
  })

  it('says in strict mode that these problems were warnings, and lists no invalid file among them', () => {
    const invalid = fileResult(9, {
      status: 'invalid',
      problems: [{ kind: 'poly2d', jsonPath: '', message: 'm' }]
    })
    const summary = renderSummary(makeReport([...results, invalid], { validation: 'strict' }))
    expect(summary).toContain('in 5 files (warnings: these files were still uploaded)</summary>')
    expect(tableRows(summary, 'Problems that did not stop a file').join('\n')).not.toContain('poly2d')
  })

  it('caps the number of kinds listed', () => {
    const kinds = Array.from({ length: 60 }, (_, i) =>
      fileResult(i, {
        problems: [{ kind: `kind-${String(i).padStart(2, '0')}`, jsonPath: '', message: 'm' }]
      })
    )
    const summary = renderSummary(makeReport(kinds))
    expect(tableRows(summary, 'Problems that did not stop a file')).toHaveLength(50)
    expect(summary).toContain('_…and 10 more kinds of problem not shown.')
  })
})

describe('renderSummary: size limit', () => {
  const failures = (count: number): FileResult[] =>
    Array.from({ length: count }, (_, i) =>
      fileResult(i, {
        // Multi-byte characters, so a limit counted in characters rather than bytes would overflow.
        path: `predictions/夜間モデル/${scene(i)}.json`,
        status: 'failed',
        predictionUuid: null,
        attempts: 5,
        error: `HTTP 503: service unavailable — überlastet ${i}`,
        // A kind of its own each: every file is a row of its own, so the size limit is what cuts.
        reasonKind: `unavailable-${i}`
      })
    )

  it('stays under 1 MB with 50,000 failures and says how many rows were left out', () => {
    const results = failures(50_000)
    const summary = renderSummary(makeReport(results), { resultsFile: 'kognic-results.json' })
    expect(bytes(summary)).toBeLessThanOrEqual(1_000_000)
    expect(bytes(summary)).toBeGreaterThan(900_000)
    const shown = tableRows(summary, 'Files not uploaded (50,000)')
    expect(shown.length).toBeGreaterThan(1000)
    const omitted = (50_000 - shown.length).toLocaleString('en-US')
    expect(summary).toContain(
      `_…and ${omitted} more files not shown (the summary has a size limit). ` +
        'Every file is listed in <code>kognic-results.json</code>._\n\n</details>'
    )
    // The rows shown are the first ones, whole.
    expect(shown[0]).toBe(
      `| predictions/夜間モデル/${scene(0)}.json | Upload failed: HTTP 503: service unavailable — überlastet 0 |`
    )
    expect(summary.trimEnd().endsWith('</sub>')).toBe(true)
  })

  it('fits a pull-request comment limit, keeping the validation table', () => {
    const results = failures(5000).map((result, i) =>
      i % 2 === 0
        ? {
            ...result,
            status: 'uploaded' as const,
            problems: [{ kind: 'bbox-size', jsonPath: 'a', message: 'b', severity: 'warning' as const }]
          }
        : result
    )
    const summary = renderSummary(makeReport(results), { maxBytes: 60_000 })
    expect(bytes(summary)).toBeLessThanOrEqual(60_000)
    expect(tableRows(summary, 'Problems that did not stop a file')).toHaveLength(1)
    expect(summary).toMatch(/_…and [\d,]+ more files not shown \(the summary has a size limit\)/)
  })

  it('stays within any limit, however small, keeping the status and saying what was left out', () => {
    const report = makeReport(failures(100))
    const seen = { table: 0, notListed: 0, cut: 0 }
    for (let maxBytes = 0; maxBytes <= 4000; maxBytes += 7) {
      const summary = renderSummary(report, { maxBytes })
      expect(bytes(summary), `maxBytes ${maxBytes}`).toBeLessThanOrEqual(maxBytes)
      if (maxBytes >= 300)
        expect(summary, `maxBytes ${maxBytes}`).toContain('❌ **100 of 100 files not uploaded')
      if (summary.includes('<details')) {
        seen.table++
        expect(summary).toMatch(/_…and \d+ more files not shown \(the summary has a size limit\)\./)
      } else if (summary.includes('not listed here')) {
        seen.notListed++
        expect(summary).toContain(
          '**Files not uploaded (100):** not listed here (the summary has a size limit). The results file lists every file.'
        )
      } else if (summary.includes('The summary was cut to fit')) {
        seen.cut++
      }
    }
    // Every degradation step was met on the way down.
    expect(seen.table).toBeGreaterThan(0)
    expect(seen.notListed).toBeGreaterThan(0)
    expect(seen.cut).toBeGreaterThan(0)
  })

  it('cuts long outside text in table cells', () => {
    const summary = renderSummary(
      makeReport([fileResult(1, { status: 'failed', error: 'e'.repeat(10_000), path: 'p'.repeat(5000) })])
    )
    const row = tableRows(summary, 'Files not uploaded')[0] ?? ''
    expect(row).toBe(`| ${'p'.repeat(199)}… | ${scene(1)} | Upload failed: ${'e'.repeat(299)}… |`)
  })
})

describe('renderSummary: other details', () => {
  it('escapes and caps warnings and skipped paths', () => {
    const warnings = Array.from({ length: 25 }, (_, i) => `warning ${i} <i>x</i>`)
    const skipped = Array.from({ length: 12 }, (_, i) => ({
      displayPath: `dir_${i}.json`,
      reason: 'directory'
    }))
    const summary = renderSummary(makeReport(many(2), { warnings, skipped }))
    expect(summary).toContain('- ⚠️ warning 0 &lt;i&gt;x&lt;/i&gt;')
    expect(summary).toContain('- ⚠️ warning 19 ')
    expect(summary).not.toContain('warning 20 ')
    expect(summary).toContain('- …and 5 more warnings.')
    expect(summary).toContain(
      '- 12 matched paths were skipped, not being prediction files: dir\\_0.json (directory), '
    )
    expect(summary).toContain('dir\\_9.json (directory) and 2 more.')
    expect(summary).toContain('| Skipped (not prediction files) | 12 |')
  })

  it('does not link a group URL that is not http(s)', () => {
    const summary = renderSummary(makeReport(many(1), { groupUrl: 'javascript:alert(1)' }))
    expect(summary).toContain('- **Predictions group:** nightly-model (<code>g0g0-1</code>) — existing group')
    expect(summary).not.toContain('javascript')
  })

  it('takes a heading, escaped, or none', () => {
    expect(
      renderSummary(makeReport(many(1)), { heading: 'Model *v2*' }).startsWith('## Model \\*v2\\*\n')
    ).toBe(true)
    expect(renderSummary(makeReport(many(1)), { heading: '' }).startsWith('✅')).toBe(true)
  })

  it('warns when nothing matched and nothing stopped the run', () => {
    expect(renderSummary(makeReport([]))).toContain(
      '⚠️ **No prediction files matched; nothing was uploaded.**'
    )
  })
})

describe('files not uploaded, by kind', () => {
  // 300 files refused for one reason: a duplicate-scene refusal carries only a warning in `problems`, so
  // the kind comes from the result's own reason kind, not from its problems.
  const warning: Problem = { kind: 'bbox-size', jsonPath: '$.x', message: 'tiny box', severity: 'warning' }
  const sameKind = (count: number, kind: string, from = 0, over: Partial<FileResult> = {}): FileResult[] =>
    many(
      count,
      {
        status: 'invalid',
        predictionUuid: null,
        error: 'Scene also has a prediction in another file: keep one file per scene',
        reasonKind: kind,
        problems: [warning],
        ...over
      },
      from
    )

  /** The rows of the "by kind" table. */
  function kindRows(summary: string): string[] {
    const start = summary.indexOf(', by kind:**')
    expect(start, 'no by-kind table').toBeGreaterThanOrEqual(0)
    const lines = summary.slice(start).split('\n').slice(1)
    const rows: string[] = []
    for (const line of lines.slice(1)) {
      if (!line.startsWith('|')) break
      rows.push(line)
    }
    return rows.slice(2)
  }

  it('gives 300 files of one kind one row with the count and the first file, in a small summary', () => {
    const results = sameKind(300, 'duplicate-scene')
    const summary = renderSummary(makeReport(results))
    const rows = kindRows(summary)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toBe(`| <code>duplicate-scene</code> | 300 | error | predictions/${scene(0)}.json |`)
    expect(rows[0]).not.toContain('bbox-size')
    expect(bytes(summary)).toBeLessThan(20_000)
    // The per-file rows below are collapsed, and say how many are left out.
    expect(summary).toMatch(/<details>\n<summary>Files not uploaded \(300, the first 20 of each kind\)/)
    expect(summary).toContain('…and 280 more files not shown')
  })

  it('orders mixed kinds by count, failed uploads apart from invalid files', () => {
    const results = [
      ...sameKind(3, 'scene-not-in-dataset', 0),
      ...sameKind(7, 'json-syntax', 3, { problems: [{ kind: 'json-syntax', jsonPath: '', message: 'bad' }] }),
      ...many(
        5,
        { status: 'failed', predictionUuid: null, error: 'HTTP 500', reasonKind: 'upload-failed' },
        10
      ),
      ...many(1, { status: 'uploaded' }, 15)
    ]
    const rows = kindRows(renderSummary(makeReport(results)))
    expect(rows.map((row) => row.split('|')[1]!.trim())).toEqual([
      '<code>json-syntax</code>',
      '<code>upload-failed</code>',
      '<code>scene-not-in-dataset</code>'
    ])
    expect(rows[0]).toBe(`| <code>json-syntax</code> | 7 | error | predictions/${scene(3)}.json |`)
    expect(rows[1]).toBe(`| <code>upload-failed</code> | 5 | upload failed | predictions/${scene(10)}.json |`)
  })

  it('counts problems apart from files when a file has several of its kind', () => {
    const twice: Problem = { kind: 'json-syntax', jsonPath: '', message: 'bad' }
    const results = [
      ...sameKind(2, 'json-syntax', 0, { problems: [twice, twice] }),
      ...sameKind(1, 'other', 2)
    ]
    const rows = kindRows(renderSummary(makeReport(results)))
    expect(rows[0]).toBe(`| <code>json-syntax</code> | 2 | 4 | error | predictions/${scene(0)}.json |`)
  })

  it('has no by-kind table when every file has a kind of its own', () => {
    const results = [...sameKind(1, 'a', 0), ...sameKind(1, 'b', 1)]
    expect(renderSummary(makeReport(results))).not.toContain('by kind')
  })
})

describe('the pull-request comment, when the summary lists only some files', () => {
  it('points at the results file of the run, not at a job summary that also lists only some', () => {
    const results = many(300, { status: 'invalid', error: 'duplicate scene', reasonKind: 'duplicate-scene' })
    const run = {
      url: 'https://github.com/acme/models/actions/runs/42',
      repository: 'acme/models',
      sha: 'abc'
    }
    const { body } = buildPrComment(makeReport(results, { run }))
    expect(body).toContain('…and 280 more')
    expect(body).toContain(
      'Every file is listed in [the results file, when kept as an artifact of the workflow run](https://github.com/acme/models/actions/runs/42).'
    )
    expect(body).not.toContain('job summary')
  })
})
