// `npm run bench [-- --quick] [-- --only=speed,segmentation,many]`: runs the built action (dist/index.js)
// against the local emulator, beside a minimal client and the read-everything baseline, and checks the
// budget: speed against the minimal client, peak memory, every file uploaded, start-up. A whole run writes
// bench/RESULTS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as prettier from 'prettier'
import ts from 'typescript'
import { SAMPLE_CLIENT_ID, SAMPLE_CLIENT_SECRET } from '../emulator/seed.js'
import { ENTRY, ROOT, runnerEnv } from '../scripts/runner.js'
import {
  ANNOTATIONS_PAGE_SIZE,
  BENCH_GROUP_NAME,
  DATASETS,
  bboxSet,
  nestedSet,
  segmentationSet,
  type FixtureSet
} from './fixtures.js'
import { HAS_GNU_TIME, measureNode } from './measure.js'
import { startRemoteEmulator, type RemoteEmulator, type RunSummary } from './remote-emulator.js'

type RowName = 'speed' | 'segmentation' | 'many'
type Program = 'action' | 'minimal' | 'baseline'

interface Row {
  name: RowName
  /** Files in a whole run, and in a --quick one (which only shows that the bench works). */
  files: number
  quickFiles: number
  concurrency: number
  latencyMs: number
  programs: Program[]
  /** Rounds of every program, interleaved: the verdict takes each program's median run. */
  rounds: number
  fixture(count: number): FixtureSet
}

/** The speed row at each latency: a fast network leaves the action's own costs bare, a slow one its start. */
const SPEED_LATENCIES_MS = [5, 20, 100]
/**
 * Rounds of the speed row: one pair of runs on this shared machine moves by up to ±0.08 in the ratio at 5 ms,
 * so each program runs three times, interleaved with the others, and its median run counts.
 */
const SPEED_ROUNDS = 3

const ROWS: Row[] = [
  ...SPEED_LATENCIES_MS.map((latencyMs): Row => ({
    name: 'speed',
    files: 2_000,
    quickFiles: 200,
    concurrency: 10,
    latencyMs,
    programs: ['minimal', 'action', 'baseline'],
    rounds: SPEED_ROUNDS,
    fixture: bboxSet
  })),
  {
    name: 'segmentation',
    files: 600,
    quickFiles: 30,
    concurrency: 10,
    latencyMs: 20,
    programs: ['action'],
    rounds: 1,
    fixture: segmentationSet
  },
  {
    name: 'many',
    files: 100_000,
    quickFiles: 1_000,
    concurrency: 10,
    latencyMs: 5,
    programs: ['action'],
    rounds: 1,
    fixture: nestedSet
  }
]

const BUDGET = {
  /** Minimal client wall ÷ action wall, as the issue measures it: the action's share of the floor's speed. */
  speedRatio: 0.95,
  segmentationRssMiB: 200,
  manyRssMiB: 512,
  startupMs: 1000
}

const PROGRAM_SOURCES: Record<Exclude<Program, 'action'>, string> = {
  minimal: path.join(ROOT, 'bench', 'floor.ts'),
  baseline: path.join(ROOT, 'bench', 'baseline.ts')
}
const BUILT_DIR = path.join(ROOT, '.tmp', 'bench')
const RESULTS_FILE = path.join(ROOT, 'bench', 'RESULTS.md')

interface Run {
  row: RowName
  /** 1, 2, … : the round of its row this run was in. */
  round: number
  latencyMs: number
  program: Program
  files: number
  wallMs: number
  peakRssMiB: number
  /** Spawn → first upload at the emulator, minus the token and group-list round-trips. */
  startupMs: number | null
  /** Mean time the emulator held an upload beyond the latency. */
  overshootMs: number
}

interface Verdict {
  what: string
  budget: string
  measured: string
  pass: boolean
}

/** Compiles the minimal client and the baseline to plain JavaScript under .tmp/bench/. */
function build(program: Exclude<Program, 'action'>): string {
  const out = ts.transpileModule(readFileSync(PROGRAM_SOURCES[program], 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
  })
  const file = path.join(BUILT_DIR, `${program}.mjs`)
  mkdirSync(BUILT_DIR, { recursive: true })
  writeFileSync(file, out.outputText)
  return file
}

async function runOnce(
  row: Row,
  set: FixtureSet,
  program: Program,
  round: number,
  entry: string,
  emulator: RemoteEmulator
): Promise<Run> {
  await emulator.reset()
  await emulator.setFaults({ latencyMs: row.latencyMs })
  const env = runnerEnv(set.workspace, {
    'dataset-uuid': DATASETS[set.kind].uuid,
    'predictions-group': BENCH_GROUP_NAME,
    path: set.pattern,
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    concurrency: String(row.concurrency)
  })
  const idealMs = Math.ceil(set.count / row.concurrency) * row.latencyMs
  // A hung run fails the bench instead of stalling it.
  const m = await measureNode({ args: [entry], cwd: set.workspace, env, timeoutMs: 3 * idealMs + 300_000 })
  const server: RunSummary = await emulator.summary(row.latencyMs)
  if (m.code !== 0 || server.stored !== set.count || m.outputs.uploaded !== String(set.count)) {
    throw new Error(
      `${program} on ${row.name} (${set.count} files) did not upload every file: exit ${m.code}, ${server.stored} stored, output uploaded=${m.outputs.uploaded}\n${m.stdoutTail}\n${m.stderr}`
    )
  }
  const startupMs =
    server.firstUploadAt === null
      ? null
      : server.firstUploadAt - m.spawnedAt - (server.tokenMs ?? 0) - (server.listMs ?? 0)
  return {
    row: row.name,
    round,
    latencyMs: row.latencyMs,
    program,
    files: set.count,
    wallMs: m.wallMs,
    peakRssMiB: m.peakRssMiB,
    startupMs,
    overshootMs: server.overshootMs
  }
}

const fmt = {
  ms: (v: number | null) =>
    v === null ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`,
  mib: (v: number) => `${Math.round(v)} MiB`,
  n: (v: number) => v.toLocaleString('en-US')
}

function verdicts(runs: Run[]): Verdict[] {
  const runsOf = (row: RowName, program: Program, latencyMs?: number): Run[] =>
    runs.filter(
      (r) => r.row === row && r.program === program && (latencyMs === undefined || r.latencyMs === latencyMs)
    )
  // A program's median run by wall time (the one run of a row with a single round).
  const find = (row: RowName, program: Program, latencyMs?: number): Run | undefined => {
    const mine = runsOf(row, program, latencyMs).sort((a, b) => a.wallMs - b.wallMs)
    return mine[Math.floor((mine.length - 1) / 2)]
  }
  const rounds = (run: Run): string => {
    const n = runsOf(run.row, run.program, run.latencyMs).length
    return n > 1 ? `; medians of ${n} interleaved runs` : ''
  }
  const out: Verdict[] = []
  for (const latencyMs of SPEED_LATENCIES_MS) {
    const action = find('speed', 'action', latencyMs)
    const minimal = find('speed', 'minimal', latencyMs)
    const baseline = find('speed', 'baseline', latencyMs)
    if (!action || !minimal || !baseline) continue
    const ratio = minimal.wallMs / action.wallMs
    out.push({
      what: `${fmt.n(action.files)} small files, concurrency 10, ${latencyMs} ms latency, annotations ${ANNOTATIONS_PAGE_SIZE} a page`,
      budget: `minimal client's wall ÷ action's ≥ ${BUDGET.speedRatio}; action < baseline`,
      measured: `${ratio.toFixed(2)} (minimal ${fmt.ms(minimal.wallMs)}, action ${fmt.ms(action.wallMs)}); baseline ${fmt.ms(baseline.wallMs)}${rounds(action)}`,
      pass: ratio >= BUDGET.speedRatio && action.wallMs < baseline.wallMs
    })
  }
  const segmentation = find('segmentation', 'action')
  if (segmentation) {
    out.push({
      what: `${fmt.n(segmentation.files)} segmentation files of ~1 MiB`,
      budget: `peak RSS ≤ ${BUDGET.segmentationRssMiB} MiB`,
      measured: fmt.mib(segmentation.peakRssMiB),
      pass: segmentation.peakRssMiB <= BUDGET.segmentationRssMiB
    })
  }
  const many = find('many', 'action')
  if (many) {
    out.push({
      what: `${fmt.n(many.files)} small files in nested folders (\`**\`)`,
      budget: `peak RSS ≤ ${BUDGET.manyRssMiB} MiB, every file uploaded`,
      measured: `${fmt.mib(many.peakRssMiB)}, all ${fmt.n(many.files)} uploaded in ${fmt.ms(many.wallMs)}`,
      pass: many.peakRssMiB <= BUDGET.manyRssMiB
    })
  }
  // Start-up at the issue's latency, 20 ms: each round trip it pays is subtracted or small.
  const action = find('speed', 'action', 20)
  if (action?.startupMs != null) {
    out.push({
      what: 'start-up (spawn → first upload, minus sign-in and group lookup)',
      budget: `well under a second (< ${BUDGET.startupMs} ms)`,
      measured: `${fmt.ms(action.startupMs)}, checking ${fmt.n(action.files)} files included`,
      pass: action.startupMs < BUDGET.startupMs
    })
  }
  return out
}

function machine(): string[] {
  const cpus = os.cpus()
  return [
    `CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} logical core(s), shared by the program measured and the emulator (each in its own process)`,
    `Memory: ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB; OS: ${os.type()} ${os.release()} (${os.arch()}); Node: ${process.version}`,
    `Peak RSS from: ${HAS_GNU_TIME ? 'GNU time (rusage of the process)' : '/proc/<pid> polling every 10 ms'}`
  ]
}

function markdown(verdictList: Verdict[], runs: Run[], elapsedMs: number): string {
  return `# Benchmark results

Recorded by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)} (${fmt.ms(elapsedMs)} in all). The
speed budget is a ratio of two programs measured in the same run on the same emulator: the machine is shared.

${machine()
  .map((line) => `- ${line}`)
  .join('\n')}

## Budget

| what | budget | measured | pass |
|---|---|---|---|
${verdictList.map((v) => `| ${v.what} | ${v.budget} | ${v.measured} | ${v.pass ? 'yes' : '**no**'} |`).join('\n')}

## Runs

| row | latency | round | program | files | wall | peak RSS | start-up | emulator overshoot |
|---|---|---|---|---|---|---|---|---|
${runs.map((r) => `| ${r.row} | ${r.latencyMs} ms | ${r.round} | ${r.program} | ${fmt.n(r.files)} | ${fmt.ms(r.wallMs)} | ${fmt.mib(r.peakRssMiB)} | ${fmt.ms(r.startupMs)} | ${r.overshootMs.toFixed(1)} ms |`).join('\n')}

How each is measured: [README.md](README.md).
`
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',')
  const unknown = (only ?? []).filter((name) => !ROWS.some((row) => row.name === name))
  if (unknown.length > 0) {
    console.error(`--only: unknown row(s) ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.name).join(', ')}`)
    process.exitCode = 2
    return
  }
  if (!existsSync(ENTRY)) {
    console.error(`${path.relative(ROOT, ENTRY)} is missing: run 'npm run package' first.`)
    process.exitCode = 1
    return
  }
  const began = performance.now()
  const entries: Record<Program, string> = {
    action: ENTRY,
    minimal: build('minimal'),
    baseline: build('baseline')
  }
  console.log(machine().join('\n'))
  if (quick)
    console.log('--quick: few files a row, to see that the bench works; the budget needs a whole run.')

  const emulator = await startRemoteEmulator()
  const runs: Run[] = []
  try {
    for (const row of ROWS.filter((r) => !only || only.includes(r.name))) {
      const set = row.fixture(quick ? row.quickFiles : row.files)
      const rounds = quick ? 1 : row.rounds
      for (let round = 1; round <= rounds; round++) {
        for (const program of row.programs) {
          const which = rounds > 1 ? ` (round ${round} of ${rounds})` : ''
          process.stdout.write(
            `${row.name} (${row.latencyMs} ms): ${program}, ${fmt.n(set.count)} files${which}… `
          )
          const run = await runOnce(row, set, program, round, entries[program], emulator)
          runs.push(run)
          console.log(
            `wall ${fmt.ms(run.wallMs)}, peak RSS ${fmt.mib(run.peakRssMiB)}, start-up ${fmt.ms(run.startupMs)}`
          )
        }
      }
    }
  } finally {
    await emulator.close()
  }

  const verdictList = verdicts(runs)
  console.log('')
  for (const v of verdictList)
    console.log(`${v.pass ? 'pass' : 'FAIL'}  ${v.what}: ${v.measured} (budget: ${v.budget})`)
  if (!quick && verdictList.some((v) => !v.pass)) process.exitCode = 1
  if (quick || only) return
  // Formatted as the repository's `prettier --check` expects, so a fresh RESULTS.md passes the lint.
  const style = await prettier.resolveConfig(RESULTS_FILE)
  const text = markdown(verdictList, runs, performance.now() - began)
  writeFileSync(RESULTS_FILE, await prettier.format(text, { ...style, filepath: RESULTS_FILE }))
  console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)}`)
}

await main()
