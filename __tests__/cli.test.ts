// The command's pieces: options from the action's inputs, the terminal's output, the JUnit writer.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { escapeXml, renderJUnit } from '../src/cli/junit.js'
import { GITHUB_ONLY, helpText, OPTIONS, parseCommandLine } from '../src/cli/options.js'
import { createTerminal, locate, Secrets, type Stream } from '../src/cli/terminal.js'
import { DEFAULTS, INPUT } from '../src/inputs.js'
import { countResults, type RunReport } from '../src/report/model.js'
import type { FileResult } from '../src/types.js'

const ROOT = path.resolve(import.meta.dirname, '..')

describe('options', () => {
  it('a flag takes --flag=false, and a bare true/false after it is refused, not taken as a pattern', () => {
    for (const flag of OPTIONS.filter((o) => o.value === '' && o.name !== 'help' && o.name !== 'version')) {
      expect(parseCommandLine([`--${flag.name}`, 'false', 'a.json'])).toMatchObject({
        kind: 'usage-error',
        message: expect.stringContaining(`--${flag.name}=false`)
      })
    }
    const off = parseCommandLine(['--dry-run=false', '--json=TRUE', 'a.json'])
    expect(off).toMatchObject({ kind: 'run', json: true })
    if (off.kind === 'run') {
      expect(off.inputs['dry-run']).toBe('false')
      expect(off.inputs.path).toBe('a.json')
    }
    expect(parseCommandLine(['--dry-run', 'a.json'])).toMatchObject({ inputs: { 'dry-run': 'true' } })
    expect(parseCommandLine(['--dry-run=maybe'])).toMatchObject({ kind: 'usage-error' })
  })

  it('are the action inputs (but the GitHub-only ones), with their defaults, and the command’s own', () => {
    const names = OPTIONS.map((o) => o.name)
    for (const input of Object.values(INPUT)) {
      if (GITHUB_ONLY.includes(input)) expect(names).not.toContain(input)
      else expect(names).toContain(input)
    }
    expect(names).toEqual(expect.arrayContaining(['json', 'summary-file', 'junit', 'help', 'version']))
    const help = helpText('1.2.3')
    for (const o of OPTIONS) {
      const row = help
        .split('\n')
        .find((line) => line.startsWith(`  --${o.name} `) || line === `  --${o.name}`)
      expect(row, o.name).toBeDefined()
      const dflt = DEFAULTS[o.name as keyof typeof DEFAULTS]
      if (dflt !== undefined && dflt !== 'false') expect(row).toContain(`(default: ${dflt})`)
    }
    expect(help).toContain('Not here: pr-comment, github-token')
  })

  it('reads patterns from --path, repeated, and from the arguments; a default-off input is a flag', () => {
    const parsed = parseCommandLine([
      '--path',
      'a/*.json',
      'b',
      '--dry-run',
      '--path',
      'c',
      '--concurrency',
      '3'
    ])
    expect(parsed).toMatchObject({
      kind: 'run',
      inputs: { path: 'a/*.json\nc\nb', 'dry-run': 'true', concurrency: '3' },
      json: false
    })
  })

  it('refuses an unknown option, a GitHub-only input and a missing value as usage errors', () => {
    expect(parseCommandLine(['--bogus'])).toMatchObject({ kind: 'usage-error' })
    expect(parseCommandLine(['--bogus'])).not.toMatchObject({ message: expect.stringContaining('Did you') })
    expect(parseCommandLine(['--dryrun'])).toMatchObject({
      kind: 'usage-error',
      message: expect.stringContaining('Did you mean --dry-run?')
    })
    expect(parseCommandLine(['--auth_url', 'x'])).toMatchObject({
      message: expect.stringContaining('Did you mean --auth-url?')
    })
    expect(parseCommandLine(['--pr-comment', 'true'])).toMatchObject({ kind: 'usage-error' })
    expect(parseCommandLine(['--dataset-uuid'])).toMatchObject({ kind: 'usage-error' })
  })

  it('are listed in the README as --help lists them', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    const rows = helpText('x')
      .split('\n')
      .filter((line) => line.startsWith('  --'))
    expect(rows).toHaveLength(OPTIONS.length)
    for (const row of rows) expect(readme).toContain(row)
  })
})

function recorder(isTTY: boolean): Stream & { text: string } {
  return {
    text: '',
    isTTY,
    columns: 60,
    write(chunk: string) {
      this.text += chunk
    }
  }
}

describe('the terminal', () => {
  it('replaces every secret by *** and strips terminal escapes from what it prints', () => {
    const out = recorder(false)
    const err = recorder(false)
    const secrets = new Secrets()
    const { io, record } = createTerminal({ out, err, env: {}, secrets, getInput: () => '' })
    io.setSecret('s3cret')
    io.setSecret('s3cret-longer')
    io.logger.info('token s3cret-longer and s3cret\u001b]0;title\u0007 \u009b2J done\r\nnext')
    io.logger.warning('file \u001b[31mred', { file: 'a.json' })
    io.setFailed('failed with s3cret')
    expect(out.text).toBe('token *** and ***]0;title 2J done\nnext\n')
    expect(err.text).toBe('warning: a.json: file [31mred\nerror: failed with ***\n')
    expect(record.failures).toEqual(['failed with s3cret'])
  })

  it('colours only a TTY, and never with NO_COLOR', () => {
    for (const [isTTY, env, coloured] of [
      [true, {}, true],
      [true, { NO_COLOR: '1' }, false],
      [false, {}, false]
    ] as const) {
      const err = recorder(isTTY)
      createTerminal({
        out: recorder(false),
        err,
        env,
        secrets: new Secrets(),
        getInput: () => ''
      }).io.logger.error('x')
      expect(err.text.includes('\u001b['), JSON.stringify({ isTTY, env })).toBe(coloured)
    }
  })

  it('redraws the progress line in place on a TTY and erases it when the phase ends; prints each line otherwise', async () => {
    for (const isTTY of [true, false]) {
      const out = recorder(false)
      const err = recorder(isTTY)
      const { io } = createTerminal({
        out,
        err,
        env: { NO_COLOR: '1' },
        secrets: new Secrets(),
        getInput: () => ''
      })
      await io.group('Upload 2 prediction(s)', async () => {
        io.logger.info('Uploaded 1/2 · 1.0 files/s · about 1s left')
        io.logger.warning('retrying')
        io.logger.info('Uploaded 2/2 · 1.0 files/s')
      })
      io.logger.info('Uploaded 2 of 2 file(s).')
      if (isTTY) {
        // The last progress line is erased, not left above the lines that follow.
        expect(err.text).toBe(
          'Uploaded 1/2 · 1.0 files/s · about 1s left\r\u001b[2Kwarning: retrying\nUploaded 1/2 · 1.0 files/s · about 1s left' +
            '\r\u001b[2KUploaded 2/2 · 1.0 files/s\r\u001b[2K'
        )
        expect(out.text).toBe('── Upload 2 prediction(s)\nUploaded 2 of 2 file(s).\n')
      } else {
        expect(out.text).toBe(
          '── Upload 2 prediction(s)\nUploaded 1/2 · 1.0 files/s · about 1s left\nUploaded 2/2 · 1.0 files/s\nUploaded 2 of 2 file(s).\n'
        )
      }
    }
  })

  it('erases a progress line left on a TTY when told (the end of the command, an interrupt), and only then', () => {
    const err = recorder(true)
    const { io, clearProgress } = createTerminal({
      out: recorder(false),
      err,
      env: { NO_COLOR: '1' },
      secrets: new Secrets(),
      getInput: () => ''
    })
    clearProgress()
    expect(err.text).toBe('')
    io.logger.info('Uploaded 1/3 · 1.0 files/s · about 2s left')
    clearProgress()
    clearProgress()
    expect(err.text).toBe('Uploaded 1/3 · 1.0 files/s · about 2s left\r\u001b[2K')
    // A line printed after it is not followed by the erased progress line.
    io.logger.warning('cancelled')
    expect(err.text.endsWith('\r\u001b[2Kwarning: cancelled\n')).toBe(true)
  })

  it('asks for a progress line every second on a TTY, and the log default otherwise', () => {
    const make = (isTTY: boolean) =>
      createTerminal({
        out: recorder(false),
        err: recorder(isTTY),
        env: {},
        secrets: new Secrets(),
        getInput: () => ''
      }).io
    expect(make(true).progressIntervalMs).toBe(1000)
    expect(make(false).progressIntervalMs).toBeUndefined()
  })

  it('names a problem as file:line:col when the annotation or a JSON syntax message says where', () => {
    expect(locate('a.json: bad', { file: 'a.json', startLine: 3, startColumn: 7 })).toBe('a.json:3:7: bad')
    expect(locate('bad', { file: 'a.json', startLine: 3 })).toBe('a.json:3: bad')
    expect(locate('a.json is not valid JSON: x at line 2, column 9 (character 10)', { file: 'a.json' })).toBe(
      'a.json:2:9: a.json is not valid JSON: x at line 2, column 9 (character 10)'
    )
    expect(locate('a.json: no scene', { file: 'a.json' })).toBe('a.json: no scene')
    expect(locate('plain')).toBe('plain')
  })
})

function result(path: string, status: FileResult['status'], error: string | null = null): FileResult {
  return {
    path,
    sceneUuid: null,
    status,
    contentSha256: null,
    predictionUuid: null,
    attempts: 0,
    possibleDuplicate: false,
    error,
    problems: error ? [{ kind: 'shape', jsonPath: 'a.b', message: error }] : []
  }
}

describe('the JUnit writer', () => {
  it('escapes the XML specials, line breaks, and leaves out what XML 1.0 cannot carry', () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;')
    expect(escapeXml('a\u0000b\u001b[31mc\u0008\uFFFEd\r\ne\tf')).toBe('ab[31mcd&#10;e\tf')
    expect(escapeXml('lone \uD800 high, pair \uD83D\uDE00 kept, lone \uDC00 low')).toBe(
      'lone  high, pair \uD83D\uDE00 kept, lone  low'
    )
  })

  it('writes one test case per file: passes, failures with their reason, skipped paths, a stopped run', () => {
    const results = [
      result('ok.json', 'uploaded'),
      result('bad "<x>".json', 'invalid', 'no scene & <b>secret</b>'),
      result('later.json', 'not-attempted', 'Not uploaded: the run stopped')
    ]
    const report: RunReport = {
      datasetUuid: 'd',
      group: { uuid: null, name: null, created: false, state: 'unresolved' },
      dryRun: false,
      validation: 'strict',
      counts: countResults(results),
      startedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
      finishedAt: Date.UTC(2026, 0, 2, 3, 4, 6, 500),
      results,
      skipped: [{ displayPath: 'dir', reason: 'is a directory' }],
      fatalError: 'Kognic refused'
    }
    const xml = renderJUnit(report, (t) => t.replace('secret', '***'))
    expect(xml).toContain(
      '<testsuite name="kognic-upload-predictions" tests="5" failures="3" errors="0" skipped="1" time="1.500" timestamp="2026-01-02T03:04:05">'
    )
    expect(xml).toContain('<testcase classname="kognic-upload-predictions" name="ok.json"/>')
    expect(xml).toContain(
      '<testcase classname="kognic-upload-predictions" name="bad &quot;&lt;x&gt;&quot;.json">\n      <failure type="invalid" message="no scene &amp; &lt;b&gt;***&lt;/b&gt;">a.b: no scene &amp; &lt;b&gt;***&lt;/b&gt;</failure>'
    )
    expect(xml).toContain('<failure type="not-attempted" message="Not uploaded: the run stopped">')
    expect(xml).toContain('name="dir">\n      <skipped message="is a directory"/>')
    expect(xml).toContain('name="run">\n      <failure type="run-stopped" message="Kognic refused"/>')
    expect(xml).not.toContain('secret')
  })
})
