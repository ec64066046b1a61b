// `npm run bench [-- --quick | --full]`: runs the built action (dist/index.js) against the local emulator
// with a fixed per-request latency, beside the obvious implementation (bench/baseline.ts), and prints and
// records (bench/RESULTS.md) wall time against the ideal, peak memory, CPU per file and start-up time.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as prettier from 'prettier'
import ts from 'typescript'
import { SAMPLE_CLIENT_ID, SAMPLE_CLIENT_SECRET } from '../emulator/seed.js'
import { ENTRY, ROOT, runnerEnv as actionEnv } from '../scripts/runner.js'
import {
  BENCH_GROUP_NAME,
  BENCH_OD_DATASET,
  BENCH_SEG_DATASET,
  bboxSet,
  segmentationSet,
  type FixtureSet
} from './fixtures.js'
import { HAS_GNU_TIME, measureNode, type Measured } from './measure.js'
import { measureFloor, type Floor } from './floor.js'
import { startRemoteEmulator, type RemoteEmulator, type RunSummary } from './remote-emulator.js'

type Profile = 'quick' | 'default' | 'full'

interface Scenario {
  /** What the row is for: the matrix, the headline target, the memory ceiling, or flat memory over N. */
  purpose: 'headline' | 'matrix' | 'memory' | 'flat'
  kind: 'bbox' | 'segmentation'
  n: number
  c: number
  latencyMs: number
  baseline: boolean
}

interface Row extends Scenario {
  action: RunFacts
  baselineRun: RunFacts | null
  idealMs: number
}

interface RunFacts {
  wallMs: number
  peakRssMiB: number
  cpuMs: number
  /** Spawn → first upload request at the emulator, minus the token and group-list round-trips. */
  startupMs: number | null
  tokenMs: number | null
  listMs: number | null
  inspectMs: number | null
  uploadMs: number | null
  maxInFlight: number
  /** Mean time the emulator held an upload beyond the latency (reading, parsing, storing the body). */
  serverExtraMs: number
}

const HEADLINE = { n: 2000, c: 10, latencyMs: 20 }
const TARGETS = {
  efficiency: 0.9,
  memoryMiB: 200,
  startupMs: 300,
  inspectShare: 0.1,
  /** Peak RSS for 20,000 small files may exceed that for 2,000 by at most this factor to count as flat. */
  flatFactor: 1.15
}
const BASELINE_SOURCE = path.join(ROOT, 'bench', 'baseline.ts')
const BASELINE_BUILT = path.join(ROOT, '.tmp', 'bench', 'baseline.mjs')
const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md')

function scenarios(profile: Profile): Scenario[] {
  const list: Scenario[] = []
  const add = (s: Omit<Scenario, 'kind'> & { kind?: Scenario['kind'] }): void => {
    list.push({ kind: 'bbox', ...s })
  }
  add({ purpose: 'headline', ...HEADLINE, baseline: true })
  if (profile === 'full') {
    for (const n of [100, 1000, 10_000])
      for (const c of [1, 4, 10])
        for (const latencyMs of [5, 20, 100]) add({ purpose: 'matrix', n, c, latencyMs, baseline: true })
  } else if (profile === 'default') {
    // Every N, C and latency appears at least once; the slow corners (C = 1 with many files) are --full only.
    const subset: [number, number, number][] = [
      [100, 1, 20],
      [100, 4, 20],
      [100, 10, 5],
      [100, 10, 20],
      [100, 10, 100],
      [1000, 4, 20],
      [1000, 10, 5],
      [1000, 10, 20],
      [1000, 10, 100],
      [10_000, 10, 5],
      [10_000, 10, 20]
    ]
    for (const [n, c, latencyMs] of subset) add({ purpose: 'matrix', n, c, latencyMs, baseline: true })
  } else {
    add({ purpose: 'matrix', n: 100, c: 10, latencyMs: 20, baseline: true })
  }
  list.push({
    purpose: 'memory',
    kind: 'segmentation',
    n: 600,
    c: 10,
    latencyMs: 20,
    baseline: profile !== 'quick'
  })
  add({ purpose: 'flat', n: 2000, c: 10, latencyMs: 5, baseline: false })
  add({ purpose: 'flat', n: 20_000, c: 10, latencyMs: 5, baseline: profile !== 'quick' })
  return list
}

function idealMs(s: Scenario): number {
  return Math.ceil(s.n / s.c) * s.latencyMs
}

function fixtureFor(s: Scenario): FixtureSet {
  return s.kind === 'bbox' ? bboxSet(s.n) : segmentationSet(s.n)
}

function buildBaseline(): void {
  const source = readFileSync(BASELINE_SOURCE, 'utf8')
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
  })
  mkdirSync(path.dirname(BASELINE_BUILT), { recursive: true })
  writeFileSync(BASELINE_BUILT, out.outputText)
}

function runnerEnv(s: Scenario, set: FixtureSet, emulator: RemoteEmulator): Record<string, string> {
  const inputs: Record<string, string> = {
    'dataset-uuid': s.kind === 'bbox' ? BENCH_OD_DATASET : BENCH_SEG_DATASET,
    'predictions-group': BENCH_GROUP_NAME,
    path: 'predictions/*.json',
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    concurrency: String(s.c)
  }
  return actionEnv(set.workspace, inputs)
}

async function runOnce(
  s: Scenario,
  set: FixtureSet,
  emulator: RemoteEmulator,
  program: 'action' | 'baseline'
): Promise<RunFacts> {
  await emulator.reset()
  await emulator.setFaults({ latencyMs: s.latencyMs })
  const measured = await measureNode({
    args: [program === 'action' ? ENTRY : BASELINE_BUILT],
    cwd: set.workspace,
    env: runnerEnv(s, set, emulator),
    // Twice the ideal plus a generous fixed allowance: a hung run fails the bench instead of stalling it.
    timeoutMs: 2 * idealMs(s) + 300_000
  })
  const server = await emulator.summary(s.latencyMs)
  if (measured.code !== 0 || server.stored !== s.n || measured.outputs.uploaded !== String(s.n)) {
    throw new Error(
      `${program} run ${describe(s)} did not upload every file: exit ${measured.code}, ${server.stored} stored, output uploaded=${measured.outputs.uploaded}\n${measured.stdoutTail}\n${measured.stderr}`
    )
  }
  return facts(measured, server)
}

function facts(m: Measured, server: RunSummary): RunFacts {
  const { tokenMs, listMs, firstUploadAt } = server
  const startupMs =
    firstUploadAt === null ? null : firstUploadAt - m.spawnedAt - (tokenMs ?? 0) - (listMs ?? 0)
  return {
    wallMs: m.wallMs,
    peakRssMiB: m.peakRssMiB,
    cpuMs: m.cpuMs,
    startupMs,
    tokenMs,
    listMs,
    inspectMs: groupDuration(m, /^Read and check/),
    uploadMs: groupDuration(m, /^Upload /),
    maxInFlight: server.maxInFlight,
    serverExtraMs: server.serverExtraMs
  }
}

/** From the `::group::` line matching `name` to the next `::endgroup::`. */
function groupDuration(m: Measured, name: RegExp): number | null {
  const start = m.marks.findIndex((mark) => name.test(mark.line))
  if (start < 0) return null
  const end = m.marks.slice(start + 1).find((mark) => mark.line === 'end')
  return end ? end.atMs - m.marks[start]!.atMs : null
}

function describe(s: Scenario): string {
  return `${s.kind} N=${s.n} C=${s.c} latency=${s.latencyMs}ms`
}

/** Process start to exit of the bundle when it stops at once (no inputs), beside a bare `node`. */
async function loadTime(): Promise<{ bundleMs: number; bareNodeMs: number }> {
  const emptyDir = path.join(ROOT, '.tmp', 'bench')
  const bare = path.join(emptyDir, 'bare.mjs')
  writeFileSync(bare, '')
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.homedir() }
  const median = async (file: string): Promise<number> => {
    const walls: number[] = []
    for (let i = 0; i < 7; i++) {
      const m = await measureNode({ args: [file], cwd: emptyDir, env, timeoutMs: 30_000 })
      walls.push(m.wallMs)
    }
    return walls.sort((a, b) => a - b)[3]!
  }
  return { bundleMs: await median(ENTRY), bareNodeMs: await median(bare) }
}

// ---- output

const fmt = {
  ms: (v: number | null) =>
    v === null ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`,
  ratio: (v: number | null) => (v === null ? '–' : v.toFixed(2)),
  mib: (v: number) => `${Math.round(v)} MiB`,
  cpu: (v: number) => (v >= 1 ? `${v.toFixed(2)} ms` : `${Math.round(v * 1000)} µs`)
}

const COLUMNS = [
  'purpose',
  'files',
  'N',
  'C',
  'latency',
  'wall',
  'ideal',
  'efficiency',
  'baseline wall',
  'baseline ratio',
  'RSS',
  'baseline RSS',
  'CPU/file',
  'start-up',
  'check phase',
  'check share',
  'emulator extra'
] as const

function cells(row: Row): string[] {
  const a = row.action
  const b = row.baselineRun
  return [
    row.purpose,
    row.kind,
    row.n.toLocaleString('en-US'),
    String(row.c),
    `${row.latencyMs} ms`,
    fmt.ms(a.wallMs),
    fmt.ms(row.idealMs),
    fmt.ratio(row.idealMs / a.wallMs),
    b ? fmt.ms(b.wallMs) : '–',
    b ? fmt.ratio(b.wallMs / a.wallMs) : '–',
    fmt.mib(a.peakRssMiB),
    b ? fmt.mib(b.peakRssMiB) : '–',
    fmt.cpu(a.cpuMs / row.n),
    fmt.ms(a.startupMs),
    fmt.ms(a.inspectMs),
    a.inspectMs !== null && a.uploadMs ? `${((a.inspectMs / a.uploadMs) * 100).toFixed(1)}%` : '–',
    `${a.serverExtraMs.toFixed(1)} ms`
  ]
}

function textTable(rows: Row[]): string {
  const all = [Array.from(COLUMNS), ...rows.map(cells)]
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)))
  return all.map((r) => r.map((c, i) => c.padStart(widths[i]!)).join('  ')).join('\n')
}

function markdownTable(rows: Row[]): string {
  const head = `| ${COLUMNS.join(' | ')} |\n|${COLUMNS.map(() => '---').join('|')}|`
  return [head, ...rows.map((r) => `| ${cells(r).join(' | ')} |`)].join('\n')
}

function machine(): string[] {
  const cpus = os.cpus()
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} logical core(s), shared by the program measured and the emulator (each in its own process; nothing pinned)`,
    `Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `OS: ${os.type()} ${os.release()} (${os.arch()})`,
    `Node: ${process.version}`,
    `Peak RSS and CPU from: ${HAS_GNU_TIME ? 'GNU time (rusage of the process)' : '/proc/<pid> polling every 10 ms'}`
  ]
}

interface Verdict {
  name: string
  target: string
  measured: string
  met: boolean
}

function verdicts(rows: Row[], floor: Floor | null): Verdict[] {
  const out: Verdict[] = []
  const headline = rows.find((r) => r.purpose === 'headline')
  if (headline) {
    const efficiency = headline.idealMs / headline.action.wallMs
    const uploadPhase = headline.action.uploadMs ? headline.idealMs / headline.action.uploadMs : null
    const detail = [
      uploadPhase === null ? null : `upload phase alone ${fmt.ratio(uploadPhase)}`,
      floor ? `this machine's floor allows ${fmt.ratio(floor.ceiling)} there` : null
    ].filter((x) => x !== null)
    out.push({
      name: 'Efficiency (2,000 bbox files, C = 10, 20 ms)',
      target: `≥ ${TARGETS.efficiency}`,
      measured: `${fmt.ratio(efficiency)}${detail.length > 0 ? ` (${detail.join('; ')})` : ''}`,
      met: efficiency >= TARGETS.efficiency
    })
    if (headline.baselineRun) {
      const ratio = headline.baselineRun.wallMs / headline.action.wallMs
      out.push({
        name: 'Baseline wall ÷ action wall (same run)',
        target: '> 1',
        measured: fmt.ratio(ratio),
        met: ratio > 1
      })
    }
    const startup = headline.action.startupMs
    out.push({
      name: 'Start-up: spawn → first upload, minus token and group-list round-trips',
      target: `≤ ${TARGETS.startupMs} ms`,
      measured: `${fmt.ms(startup)} (token ${fmt.ms(headline.action.tokenMs)}, list ${fmt.ms(headline.action.listMs)})`,
      met: startup !== null && startup <= TARGETS.startupMs
    })
    const { inspectMs, uploadMs } = headline.action
    if (inspectMs !== null && uploadMs) {
      out.push({
        name: 'Check phase ÷ upload phase',
        target: `< ${TARGETS.inspectShare * 100}%`,
        measured: `${((inspectMs / uploadMs) * 100).toFixed(1)}% (${fmt.ms(inspectMs)} ÷ ${fmt.ms(uploadMs)})`,
        met: inspectMs / uploadMs < TARGETS.inspectShare
      })
    }
  }
  const memory = rows.find((r) => r.purpose === 'memory')
  if (memory) {
    out.push({
      name: `Peak RSS, ${memory.n} segmentation files of ~1 MiB`,
      target: `≤ ${TARGETS.memoryMiB} MiB`,
      measured: fmt.mib(memory.action.peakRssMiB),
      met: memory.action.peakRssMiB <= TARGETS.memoryMiB
    })
  }
  const flat = rows.filter((r) => r.purpose === 'flat').sort((a, b) => a.n - b.n)
  if (flat.length === 2) {
    const factor = flat[1]!.action.peakRssMiB / flat[0]!.action.peakRssMiB
    out.push({
      name: `Peak RSS flat: ${flat[1]!.n.toLocaleString('en-US')} vs ${flat[0]!.n.toLocaleString('en-US')} small files`,
      target: `≤ ×${TARGETS.flatFactor}`,
      measured: `×${factor.toFixed(2)} (${fmt.mib(flat[1]!.action.peakRssMiB)} vs ${fmt.mib(flat[0]!.action.peakRssMiB)})`,
      met: factor <= TARGETS.flatFactor
    })
  }
  return out
}

function resultsMarkdown(
  profile: Profile,
  floor: Floor | null,
  rows: Row[],
  load: { bundleMs: number; bareNodeMs: number },
  elapsedMs: number
): string {
  const v = verdicts(rows, floor)
  return `# Benchmark results

Recorded by \`npm run bench${profile === 'default' ? '' : ` -- --${profile}`}\` on ${new Date().toISOString().slice(0, 10)} (${profile} profile, ${fmt.ms(elapsedMs)} in all). Ratios matter, not absolute times: the machine is shared.

${machine()
  .map((line) => `- ${line}`)
  .join('\n')}

## Targets

| target | goal | measured | met |
|---|---|---|---|
${v.map((x) => `| ${x.name} | ${x.target} | ${x.measured} | ${x.met ? 'yes' : '**no**'} |`).join('\n')}

## Runs

${markdownTable(rows)}

- **wall**: process start → exit of \`node dist/index.js\`, as the runner starts it. **ideal** = ceil(N ÷ C) × latency.
  **efficiency** = ideal ÷ wall. The emulator's latency applies to every request, the token and group-list
  round-trips included (both count in the wall time and are subtracted from start-up only).
- **baseline**: \`bench/baseline.ts\`, the obvious implementation (every file read and parsed up front,
  \`Promise.all\` behind a semaphore, global \`fetch\`), in its own node process, same N, C and latency.
  **baseline ratio** = baseline wall ÷ action wall (above 1: the action is faster).
- **RSS**: peak resident set of the process. **CPU/file**: its user + system CPU time ÷ N.
- **start-up**: spawn → first upload request arriving at the emulator, minus the token and group-list round-trips.
- **emulator extra**: how long the emulator held each upload beyond the latency (receiving, parsing and
  storing the body; its log's \`ms\` minus the latency), averaged. Every request pays it, so
  latency ÷ (latency + extra) bounds the efficiency any client could reach against this emulator here.
- **check phase**: the "Read and check" log group (read, parse and validate every file before any upload);
  **check share** = check phase ÷ upload phase.
- Profile ${profile}: ${profileNote(profile)}
${floor ? `- **Machine floor**: a minimal client (undici, a tiny fixed body, no files) against the same emulator needs ${floor.roundMs.toFixed(1)} ms per round of ${HEADLINE.c} uploads at ${HEADLINE.latencyMs} ms latency: process wake-ups, loopback and timer resolution cost ${(floor.roundMs - HEADLINE.latencyMs).toFixed(1)} ms a round that the ideal leaves out, so no client's upload phase exceeds ${fmt.ratio(floor.ceiling)} here.\n` : ''}- Bundle load: \`node dist/index.js\` stopping at once (no inputs) takes ${fmt.ms(load.bundleMs)}; a bare \`node\` takes ${fmt.ms(load.bareNodeMs)} (medians of 7).
`
}

function profileNote(profile: Profile): string {
  switch (profile) {
    case 'full':
      return 'the whole matrix N = 100 / 1,000 / 10,000 × C = 1 / 4 / 10 × latency 5 / 20 / 100 ms, each beside the baseline.'
    case 'default':
      return 'a subset of the matrix in which every N, C and latency appears (`--full` runs all 27 combinations; its C = 1 rows with 10,000 files take minutes each).'
    case 'quick':
      return 'the headline, one small matrix row, and the memory checks without baselines.'
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const profile: Profile = args.includes('--full') ? 'full' : args.includes('--quick') ? 'quick' : 'default'
  // --only=headline,memory: a subset while working on one target; RESULTS.md is then left alone.
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  if (!existsSync(ENTRY)) {
    console.error(`${path.relative(ROOT, ENTRY)} is missing: run 'npm run package' first.`)
    process.exitCode = 1
    return
  }
  const began = performance.now()
  buildBaseline()
  console.log(machine().join('\n'))
  console.log(`Profile: ${profile}\n`)

  const load = await loadTime()
  console.log(`Bundle load ${fmt.ms(load.bundleMs)}, bare node ${fmt.ms(load.bareNodeMs)}`)

  const emulator = await startRemoteEmulator()
  const floor = await measureFloor(emulator, HEADLINE.c, HEADLINE.latencyMs).catch(async (error: unknown) => {
    await emulator.close()
    throw error
  })
  console.log(
    `Machine floor: ${floor.roundMs.toFixed(2)} ms a round of ${HEADLINE.c} at ${HEADLINE.latencyMs} ms (upload-phase ceiling ${fmt.ratio(floor.ceiling)})`
  )
  const rows: Row[] = []
  try {
    for (const s of scenarios(profile).filter((x) => !only || only.includes(x.purpose))) {
      const set = fixtureFor(s)
      process.stdout.write(`${describe(s)} (${Math.round(set.bytesPerFile / 1024)} KiB a file)… `)
      const action = await runOnce(s, set, emulator, 'action')
      const baselineRun = s.baseline ? await runOnce(s, set, emulator, 'baseline') : null
      const row: Row = { ...s, action, baselineRun, idealMs: idealMs(s) }
      rows.push(row)
      console.log(
        `wall ${fmt.ms(action.wallMs)}, efficiency ${fmt.ratio(row.idealMs / action.wallMs)}${baselineRun ? `, baseline ×${fmt.ratio(baselineRun.wallMs / action.wallMs)}` : ''}, RSS ${fmt.mib(action.peakRssMiB)}, max in flight ${action.maxInFlight}`
      )
    }
  } finally {
    await emulator.close()
  }

  console.log(`\n${textTable(rows)}\n`)
  for (const v of verdicts(rows, floor))
    console.log(`${v.met ? 'met    ' : 'NOT MET'}  ${v.name}: ${v.measured} (target ${v.target})`)
  if (only) return
  // Formatted as the repository's `prettier --check` expects, so a fresh RESULTS.md passes the lint.
  const markdown = resultsMarkdown(profile, floor, rows, load, performance.now() - began)
  const style = await prettier.resolveConfig(RESULTS_FILE)
  writeFileSync(RESULTS_FILE, await prettier.format(markdown, { ...style, filepath: RESULTS_FILE }))
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)}`)
}

await main()
