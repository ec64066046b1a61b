// The built command (`node dist/cli.js`), run as a person or another CI system runs it: arguments, env,
// cwd, exit code; against the local Kognic emulator.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { ACTION_NODE, makeWorkspace, ROOT } from '../scripts/runner.js'

const CLI = path.join(ROOT, 'dist', 'cli.js')
const CLIENT_ID = 'cli-test-client'
const CLIENT_SECRET = 'cl1-Test-Secret-5f4dcc3b5aa765d61d83'
const OD = '44444444-4444-4444-8444-444444444444'
const scenes = Array.from({ length: 60 }, (_, i) => `cccccccc-0000-4000-8000-${String(i).padStart(12, '0')}`)
const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: OD, name: 'object detection', scenes }]
}

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})
afterEach(() => emulator.setFaults({}))

interface CliRun {
  code: number | null
  stdout: string
  stderr: string
  workspace: string
}

/** Runs the command in `workspace` with a bare env plus `env`; sends SIGINT once stdout matches `interruptWhen`. */
function cli(
  args: string[],
  opts: { workspace?: string; env?: Record<string, string>; interruptWhen?: RegExp } = {}
): Promise<CliRun> {
  const workspace = opts.workspace ?? makeWorkspace()
  const child = spawn(ACTION_NODE, [CLI, ...args], {
    cwd: workspace,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: workspace, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  let interrupted = false
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    if (!interrupted && opts.interruptWhen?.test(stdout)) {
      interrupted = true
      child.kill('SIGINT')
    }
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const timeout = setTimeout(() => child.kill('SIGKILL'), 40_000)
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timeout)
      resolve({ code, stdout, stderr, workspace })
    })
  )
}

function bboxFiles(n: number, from: number, dir = 'preds'): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < n; i++) files[`${dir}/${scenes[from + i]}.json`] = json(bboxDoc({ seed: i + 1 }))
  return files
}

const urls = (): string[] => ['--api-url', emulator.url, '--auth-url', emulator.url]
const envPair = { KOGNIC_CLIENT_ID: CLIENT_ID, KOGNIC_CLIENT_SECRET: CLIENT_SECRET }

function groupNamed(name: string) {
  return (emulator.state.groups[OD] ?? []).find((g) => g.name === name)
}

/** No secret (the client secret or any token issued) in anything the command printed or wrote. */
function expectNoSecrets(run: CliRun, ...files: string[]): void {
  const texts = [
    run.stdout,
    run.stderr,
    ...files.map((f) => readFileSync(path.join(run.workspace, f), 'utf8'))
  ]
  for (const secret of [CLIENT_SECRET, ...emulator.state.tokensIssued])
    for (const text of texts) expect(text).not.toContain(secret)
}

describe('an upload', () => {
  it('uploads every file with credentials from KOGNIC_CLIENT_ID + KOGNIC_CLIENT_SECRET, in headed sections', async () => {
    const name = `cli-${Date.now()}`
    const run = await cli(
      ['--dataset-uuid', OD, '--predictions-group', name, ...urls(), 'preds/*.json', '--junit', 'junit.xml'],
      { workspace: makeWorkspace(bboxFiles(5, 0)), env: envPair }
    )
    expect(run.code, run.stderr).toBe(0)
    const group = groupNamed(name)
    expect(group).toBeDefined()
    expect(emulator.state.predictions.filter((p) => p.groupUuid === group!.uuid)).toHaveLength(5)
    expect(run.stdout).toContain('── Find prediction files')
    expect(run.stdout).toContain('── Upload 5 prediction(s)')
    expect(run.stdout).toMatch(
      /✓ Uploaded: 5 matched · 5 uploaded · 0 not uploaded \(0 invalid, 0 failed to upload/
    )
    // Not a terminal: no colour, no redrawn line.
    expect(run.stdout + run.stderr).not.toContain('\u001b')
    const junit = readFileSync(path.join(run.workspace, 'junit.xml'), 'utf8')
    expect(junit.match(/<testcase /g)).toHaveLength(5)
    expect(junit).not.toContain('<failure')
    expectNoSecrets(run, 'junit.xml')
  })

  it('takes the credentials file named by KOGNIC_CREDENTIALS', async () => {
    const workspace = makeWorkspace({
      ...bboxFiles(2, 10),
      'creds/kognic.json': JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })
    })
    const run = await cli(['--dataset-uuid', OD, '--predictions-group', 'from-file', ...urls(), 'preds'], {
      workspace,
      env: { KOGNIC_CREDENTIALS: path.join(workspace, 'creds/kognic.json') }
    })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('KOGNIC_CREDENTIALS')
    expect(run.stdout).toMatch(/2 uploaded/)
    expectNoSecrets(run)
  })

  it('accepts --client-secret with a warning, and prints the secret nowhere', async () => {
    const run = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        'on-the-command-line',
        '--client-id',
        CLIENT_ID,
        '--client-secret',
        CLIENT_SECRET,
        ...urls(),
        '--path',
        'preds/*.json',
        '--summary-file',
        'summary.md'
      ],
      { workspace: makeWorkspace(bboxFiles(1, 12)) }
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/warning: --client-secret on the command line: it lands in shell history/)
    expect(readFileSync(path.join(run.workspace, 'summary.md'), 'utf8')).toContain('on-the-command-line')
    expectNoSecrets(run, 'summary.md')
  })
  it('accepts --credentials as inline JSON with a warning, and prints the secret nowhere', async () => {
    const inline = JSON.stringify({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET })
    const run = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        'inline',
        '--dry-run',
        '--credentials',
        inline,
        ...urls(),
        'preds'
      ],
      { workspace: makeWorkspace(bboxFiles(1, 13)) }
    )
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toMatch(/warning: --credentials with inline JSON on the command line/)
    expect(run.stdout).toContain('Signed in')
    expectNoSecrets(run)
  })
})

describe('a dry run on a folder with bad files', () => {
  const badFiles = {
    ...bboxFiles(2, 20, 'check'),
    [`check/${scenes[22]}.json`]:
      '{\n  "openlabel": {\n    "metadata": { "schema_version": "1.0.0" },,\n  }\n}\n',
    'check/not-a-scene.json': json(bboxDoc({ seed: 9 }))
  }

  it('fails with exit 1, naming each bad file, a syntax error as file:line:col', async () => {
    const run = await cli(['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run', 'check'], {
      workspace: makeWorkspace(badFiles)
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toContain(`error: check/${scenes[22]}.json:3:47: `)
    expect(run.stderr).toMatch(/error: check\/not-a-scene\.json/)
    expect(run.stdout).toMatch(/✗ Failed: 4 matched · 2 would be uploaded · 2 not uploaded \(2 invalid/)
  })

  it('sums up the files not uploaded by kind, most first, when a kind has several', async () => {
    const notScenes = Object.fromEntries(
      ['a', 'b', 'c'].map((name) => [`check/${name}-not-a-scene.json`, json(bboxDoc({ seed: 3 }))])
    )
    const run = await cli(['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run', 'check'], {
      workspace: makeWorkspace({ ...badFiles, ...notScenes })
    })
    expect(run.code, run.stderr).toBe(1)
    const digest = run.stdout.slice(run.stdout.indexOf('Would not be uploaded, by kind'))
    expect(digest).toMatch(
      /^Would not be uploaded, by kind \(5 file\(s\)\):\n {2}4 {2}scene-id {5}error, first: check\/a-not-a-scene\.json\n {2}1 {2}json-syntax {2}error, first: check\/cccccccc-/
    )
    // One file per kind: the per-file lines say it all, no digest.
    const single = await cli(['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run', 'check'], {
      workspace: makeWorkspace(badFiles)
    })
    expect(single.stdout).not.toContain('by kind')
  })

  it('--dry-run false is refused, not taken as a pattern; --dry-run=true is taken', async () => {
    const workspace = makeWorkspace(badFiles)
    const stray = await cli(
      ['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run', 'false', 'check'],
      {
        workspace
      }
    )
    expect(stray.code).toBe(2)
    expect(stray.stderr).toContain('--dry-run=false')
    expect(stray.stderr).not.toMatch(/No files matched/)
    const off = await cli(
      ['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run=true', '--json', 'check'],
      { workspace }
    )
    expect((JSON.parse(off.stdout) as { dryRun: boolean }).dryRun).toBe(true)
  })

  it('--json prints the results, with the counts, and nothing else on stdout', async () => {
    const run = await cli(
      ['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run', '--json', 'check'],
      { workspace: makeWorkspace(badFiles) }
    )
    expect(run.code, run.stderr).toBe(1)
    const results = JSON.parse(run.stdout) as {
      kind: string
      dryRun: boolean
      counts: Record<string, number>
      files: { path: string; status: string; problems: { kind: string }[] }[]
    }
    expect(results.kind).toBe('kognic-upload-predictions-results')
    expect(results.dryRun).toBe(true)
    expect(results.counts).toMatchObject({ matched: 4, wouldUpload: 2, invalid: 2 })
    const bad = results.files.find((f) => f.path === `check/${scenes[22]}.json`)
    expect(bad).toMatchObject({ status: 'invalid' })
    expect(bad!.problems[0]!.kind).toBe('json-syntax')
    expect(run.stderr).toContain('── Read and check 4 file(s)')
  })

  it('--junit writes one test case per file: invalid ones fail with their reason', async () => {
    const run = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        'dry',
        '--dry-run',
        '--junit',
        'reports/junit.xml',
        'check'
      ],
      { workspace: makeWorkspace(badFiles) }
    )
    expect(run.code, run.stderr).toBe(1)
    const xml = readFileSync(path.join(run.workspace, 'reports/junit.xml'), 'utf8')
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites /)
    expect(xml).toMatch(
      /<testsuite name="kognic-upload-predictions" tests="4" failures="2" errors="0" skipped="0"/
    )
    const cases = [
      ...xml.matchAll(
        /<testcase classname="[^"]*" name="([^"]*)"(\/>|>\s*<failure type="([^"]*)" message="([^"]*)")/g
      )
    ]
    expect(cases.map((c) => c[1]).sort()).toEqual(
      [
        `check/${scenes[20]}.json`,
        `check/${scenes[21]}.json`,
        `check/${scenes[22]}.json`,
        'check/not-a-scene.json'
      ].sort()
    )
    const syntax = cases.find((c) => c[1] === `check/${scenes[22]}.json`)!
    expect(syntax[3]).toBe('invalid')
    expect(syntax[4]).toMatch(/is not valid JSON.*line 3, column 47/)
    expect(cases.filter((c) => c[2] === '/>')).toHaveLength(2)
  })
})

describe('usage', () => {
  it('an unknown option is exit 2 with the usage line, and nothing runs', async () => {
    const requests = emulator.state.requests
    const run = await cli(['--dataset-uuid', OD, '--predictions-grup', 'typo', 'preds'])
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/Unknown option '--predictions-grup'/)
    expect(run.stderr).toMatch(/^Usage: kognic-upload-predictions /m)
    expect(emulator.state.requests).toBe(requests)
  })

  it('a bad value is exit 2 naming the option', async () => {
    const run = await cli([
      '--dataset-uuid',
      'not-a-uuid',
      '--predictions-group',
      'g',
      '--concurrency',
      'many',
      'p'
    ])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--dataset-uuid: must be a UUID')
    expect(run.stderr).toContain('--concurrency: must be a whole number')
  })

  it('--version prints the package version', async () => {
    const run = await cli(['--version'])
    expect(run.code).toBe(0)
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string
    }
    expect(run.stdout).toBe(`${version}\n`)
  })
})

describe('Ctrl-C', () => {
  it('mid-upload: nothing new starts, the report is written, exit 130', async () => {
    emulator.setFaults({ slowRate: 1, slowMs: 1500 })
    const run = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        `interrupted-${Date.now()}`,
        '--concurrency',
        '2',
        ...urls(),
        '--results-file',
        'results.json',
        '--junit',
        'junit.xml',
        'preds'
      ],
      { workspace: makeWorkspace(bboxFiles(20, 30)), env: envPair, interruptWhen: /── Upload 20 prediction/ }
    )
    expect(run.code, run.stderr).toBe(130)
    expect(run.stderr).toMatch(/warning: Received Ctrl-C \(SIGINT\): starting no new uploads/)
    const results = JSON.parse(readFileSync(path.join(run.workspace, 'results.json'), 'utf8')) as {
      cancelled: boolean
      counts: { uploaded: number; notAttempted: number }
    }
    expect(results.cancelled).toBe(true)
    expect(results.counts.notAttempted).toBeGreaterThan(0)
    expect(results.counts.uploaded).toBeLessThan(20)
    expect(readFileSync(path.join(run.workspace, 'junit.xml'), 'utf8')).toContain('type="not-attempted"')
    expect(run.stdout).toMatch(/✗ Cancelled/)
  })
})

describe('on a terminal', () => {
  it('redraws the progress line about every second while uploading; piped, it prints none in a short run', async () => {
    // Each upload held 400 ms, one at a time: five files are two seconds of upload phase.
    emulator.setFaults({ slowRate: 1, slowMs: 400 })
    const args = (group: string) => [
      CLI,
      '--dataset-uuid',
      OD,
      '--predictions-group',
      group,
      '--concurrency',
      '1',
      ...urls(),
      'preds'
    ]
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...envPair }
    // util-linux `script` gives the command a pseudo-terminal, as a person's shell would.
    const workspace = makeWorkspace(bboxFiles(5, 10))
    const command = [ACTION_NODE, ...args(`cli-tty-${Date.now()}`)].map((a) => `'${a}'`).join(' ')
    const tty = spawn('script', ['-qec', command, '/dev/null'], { cwd: workspace, env })
    let screen = ''
    tty.stdout.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk))
    const code = await new Promise<number | null>((resolve) => tty.on('close', resolve))
    expect(code, screen).toBe(0)
    expect(screen.match(/Uploaded [1-4]\/5 ·/g)?.length ?? 0).toBeGreaterThanOrEqual(1)

    const piped = await cli(args(`cli-pipe-${Date.now()}`).slice(1), {
      workspace: makeWorkspace(bboxFiles(5, 15)),
      env: envPair
    })
    expect(piped.code, piped.stderr).toBe(0)
    expect(piped.stdout + piped.stderr).not.toMatch(/Uploaded [1-4]\/5 ·/)
  })
})

describe('messages name options', () => {
  // The engine's messages name what to change: on the command line that is an option, never an input.
  it('says --max-file-size for a file over the limit, and --auth-url for a token host it cannot reach', async () => {
    const big = {
      ...bboxFiles(1, 0),
      [`preds/${scenes[1]}.json`]: json({ ...bboxDoc({ seed: 2 }), pad: 'x'.repeat(1.5 * 1024 * 1024) })
    }
    const tooLarge = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        `cli-size-${Date.now()}`,
        ...urls(),
        '--max-file-size',
        '1',
        'preds'
      ],
      { workspace: makeWorkspace(big), env: envPair }
    )
    const sizeText = tooLarge.stdout + tooLarge.stderr
    expect(tooLarge.code, sizeText).toBe(1)
    expect(sizeText).toContain('raise --max-file-size (in MiB)')
    expect(sizeText).not.toMatch(/\binputs?\b/i)

    const unreachable = await cli(
      [
        '--dataset-uuid',
        OD,
        '--predictions-group',
        `cli-auth-${Date.now()}`,
        '--api-url',
        emulator.url,
        '--auth-url',
        'http://127.0.0.1:1',
        '--max-retries',
        '0',
        'preds'
      ],
      { workspace: makeWorkspace(bboxFiles(1, 0)), env: envPair }
    )
    const authText = unreachable.stdout + unreachable.stderr
    expect(unreachable.code, authText).not.toBe(0)
    expect(authText).toMatch(/[Cc]heck --auth-url/)
    expect(authText).not.toMatch(/\binputs?\b/i)
  })

  it('says --path for a bad pattern, --predictions-group-uuid for a group not in the dataset, --resume-from for its bad pattern', async () => {
    const pattern = await cli([
      '--dataset-uuid',
      OD,
      '--predictions-group',
      'dry',
      '--dry-run',
      '../x/*.json'
    ])
    const patternText = pattern.stdout + pattern.stderr
    expect(pattern.code, patternText).toBe(1)
    expect(patternText).toContain('--path: the pattern "../x/*.json" has a "." or ".." segment')
    expect(patternText).not.toMatch(/\binputs?\b/i)

    const other = '99999999-9999-4999-8999-999999999999'
    const byUuid = await cli(['--dataset-uuid', OD, '--predictions-group-uuid', other, ...urls(), 'preds'], {
      workspace: makeWorkspace(bboxFiles(1, 20)),
      env: envPair
    })
    const uuidText = byUuid.stdout + byUuid.stderr
    expect(byUuid.code, uuidText).toBe(1)
    expect(uuidText).toContain(
      `--predictions-group-uuid ${other} is not a predictions group of dataset ${OD}`
    )
    expect(uuidText).toContain('or give --predictions-group to find or create a group by name')
    expect(uuidText).not.toMatch(/\binputs?\b/i)

    // The group exists after the first run: the second reads --resume-from, whose pattern leads out.
    const group = ['--dataset-uuid', OD, '--predictions-group', `cli-resume-${Date.now()}`, ...urls()]
    const workspace = makeWorkspace(bboxFiles(1, 21))
    expect((await cli([...group, 'preds'], { workspace, env: envPair })).code).toBe(0)
    const resumed = await cli([...group, '--resume-from', '../r/*.json', 'preds'], {
      workspace,
      env: envPair
    })
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(resumed.stderr).toMatch(/^warning: --resume-from: the pattern "..\/r\/\*\.json" has a/m)
    expect(resumed.stdout + resumed.stderr).not.toMatch(/\binputs?\b/i)
  })
})

describe('--compare-with (prediction statistics)', () => {
  const dry = ['--dataset-uuid', OD, '--predictions-group', 'dry', '--dry-run']

  it('prints the statistics, and with an earlier --json as baseline, the comparison, in text and in --json', async () => {
    const workspace = makeWorkspace({
      ...bboxFiles(3, 30, 'before'),
      ...Object.fromEntries(
        [0, 1, 2].map((i) => [
          `after/${scenes[40 + i]}.json`,
          json(bboxDoc({ count: 6, seed: i + 1, classes: ['car', 'truck'] }))
        ])
      )
    })
    const first = await cli([...dry, '--json', 'before'], { workspace })
    expect(first.code, first.stderr).toBe(0)
    const baseline = JSON.parse(first.stdout) as { statistics: { files: number } }
    expect(baseline.statistics).toMatchObject({ version: 1, files: 3 })
    // Without --json the terminal shows this run's table.
    expect(first.stderr).toMatch(/Predictions: 3 file\(s\), 3 frame\(s\), 9 bbox/)
    writeFileSync(path.join(workspace, 'baseline.json'), first.stdout)

    const text = await cli([...dry, '--compare-with', 'baseline.json', 'after'], { workspace })
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/Predictions against the baseline \(3 file\(s\) in baseline\.json\)/)
    expect(text.stdout).toMatch(/car\s+9\s+3\s+\+200%/)
    expect(text.stdout).toMatch(/truck\s+9\s+0\s+new/)
    expect(text.stdout).toMatch(/pedestrian\s+0\s+3\s+vanished/)

    const machine = await cli([...dry, '--compare-with', 'baseline.json', '--json', 'after'], { workspace })
    const results = JSON.parse(machine.stdout) as {
      comparison: { baselines: string[]; classes: { name: string; state: string }[] }
    }
    expect(results.comparison.baselines).toEqual(['baseline.json'])
    expect(results.comparison.classes.map((c) => [c.name, c.state])).toContainEqual(['truck', 'appeared'])
  })

  it('a foreign baseline is one warning and exit 0', async () => {
    const workspace = makeWorkspace({ ...bboxFiles(1, 50, 'p'), 'other.json': '{"kind": "not-ours"}' })
    const run = await cli([...dry, '--compare-with', 'other.json', 'p'], { workspace })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr.match(/^warning: --compare-with/gm)).toHaveLength(1)
    expect(run.stderr).toMatch(/other\.json: not a results file of this action/)
  })
})
