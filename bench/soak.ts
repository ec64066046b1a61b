// `npm run soak [-- --files N] [-- --mix retry-after]` (not in CI): 10,000 small bbox files through the
// built action (dist/index.js) against the emulator with mixed faults. Prints what happened and checks that
// every scene not rejected was stored, exactly once unless the action flagged it; records the result in
// bench/SOAK.md (mix `mixed`) or bench/SOAK-retry-after.md. The `retry-after` mix sends Retry-After with every
// 429 and rate-limits the token endpoint hard enough that renewals meet it.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startEmulator, type EmulatorFaults, type EmulatorSeed } from '../emulator/server.js'
import { ROOT, runAction } from '../scripts/runner.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'

const CLIENT_ID = 'soak-client'
const CLIENT_SECRET = 'soak-secret-not-for-production-5f4dcc3b5aa765d6'
const DATASET = '88888888-8888-4888-8888-888888888888'
const GROUP = '99999999-9999-4999-8999-999999999999'
const CONCURRENCY = 10
const REQUEST_TIMEOUT_SECONDS = 5
const MAX_RETRIES = 10

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}

const fileCount = Number(argValue('--files') ?? 10_000)
if (!Number.isInteger(fileCount) || fileCount < 100) {
  console.error(`--files must be a whole number of at least 100, got ${argValue('--files')}`)
  process.exit(2)
}

const scenes = Array.from(
  { length: fileCount },
  (_, i) => `50a50a50-0000-4000-8000-${String(i).padStart(12, '0')}`
)
// A few scenes Kognic refuses: they must fail alone, once each, with the server's message.
const rejected = [7, 1234, 5555, 9876].filter((i) => i < fileCount).map((i) => scenes[i]!)

const MIXES = ['mixed', 'retry-after'] as const
type Mix = (typeof MIXES)[number]
const mix = (argValue('--mix') ?? 'mixed') as Mix
if (!MIXES.includes(mix)) {
  console.error(`--mix must be one of ${MIXES.join(', ')}, got ${mix}`)
  process.exit(2)
}
const rejectScenes = Object.fromEntries(rejected.map((scene) => [scene, `Scene ${scene} is archived`]))
/** Retry-After of the `retry-after` mix, in seconds: every worker must pause this long after a 429. */
const RETRY_AFTER_SECONDS = 1

const FAULTS: Record<Mix, EmulatorFaults> = {
  mixed: {
    seed: 2026,
    rate429: 0.03,
    // Without Retry-After the client backs off on its own, and still pauses every worker.
    retryAfter: 'none',
    rate5xx: 0.03,
    dropRate: 0.01,
    storeThenHangRate: 0.005,
    slowRate: 0.02,
    slowMs: 1500,
    latencyMs: 5,
    tokenLifetimeSeconds: 20,
    tokenRateLimit: { max: 5, windowMs: 10_000 },
    rejectScenes,
    sunsetDate: '2027-06-30'
  },
  'retry-after': {
    seed: 2027,
    // Fewer 429s than `mixed`: each one pauses the whole pool for a second.
    rate429: 0.004,
    retryAfter: RETRY_AFTER_SECONDS,
    rate5xx: 0.02,
    dropRate: 0.005,
    storeThenHangRate: 0.002,
    latencyMs: 5,
    // Renewed every two seconds or so, against at most 2 tokens per 10 s: renewals meet the rate limit.
    tokenLifetimeSeconds: 3,
    tokenRateLimit: { max: 2, windowMs: 10_000 },
    rejectScenes,
    sunsetDate: '2027-06-30'
  }
}
const faults = FAULTS[mix]

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: DATASET, name: 'soak', scenes, groups: [{ uuid: GROUP, name: 'soak' }] }]
}

async function main(): Promise<void> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'kup-soak-'))
  mkdirSync(path.join(workspace, 'preds'))
  for (let i = 0; i < fileCount; i++) {
    writeFileSync(path.join(workspace, 'preds', `${scenes[i]}.json`), json(bboxDoc({ seed: i + 1 })))
  }
  console.log(`Wrote ${fileCount} files to ${workspace}; starting the emulator with faults:`)
  console.log(JSON.stringify({ ...faults, rejectScenes: `${rejected.length} scenes` }))

  const emulator = await startEmulator({ seed, quiet: true, faults })
  let run
  try {
    run = await runAction({
      inputs: {
        'dataset-uuid': DATASET,
        'predictions-group-uuid': GROUP,
        path: 'preds/*.json',
        'client-id': CLIENT_ID,
        'client-secret': CLIENT_SECRET,
        'api-url': emulator.url,
        'auth-url': emulator.url,
        concurrency: String(CONCURRENCY),
        'max-retries': String(MAX_RETRIES),
        'request-timeout': String(REQUEST_TIMEOUT_SECONDS)
      },
      workspace,
      timeoutMs: 60 * 60_000
    })
  } finally {
    await emulator.close()
  }
  rmSync(workspace, { recursive: true, force: true })

  const state = emulator.state
  const files = run.results?.files ?? []
  const stored = new Map<string, number>()
  for (const p of state.predictions) stored.set(p.sceneUuid, (stored.get(p.sceneUuid) ?? 0) + 1)
  const byScene = new Map(files.map((f) => [f.sceneUuid, f]))
  const rejectedSet = new Set(rejected)

  const uploaded = files.filter((f) => f.status === 'uploaded').length
  const failed = files.filter((f) => f.status !== 'uploaded').length
  const flagged = files.filter((f) => f.possibleDuplicate).length
  const extraCopies = [...stored.values()].reduce((sum, n) => sum + n - 1, 0)
  const attempts = files.reduce((sum, f) => sum + f.attempts, 0)
  const sunsetWarnings = (run.stdout.match(/^::warning .*deprecated/gm) ?? []).length

  const problems: string[] = []
  for (const scene of scenes) {
    const copies = stored.get(scene) ?? 0
    const result = byScene.get(scene)
    if (rejectedSet.has(scene)) {
      if (copies !== 0) problems.push(`rejected scene ${scene} stored ${copies} time(s)`)
      // Refused once, never retried: earlier attempts may have met a 429 or 5xx, but only one 400.
      const tries = state.log.filter((e) => e.key?.endsWith(`#${scene}`))
      const refusals = tries.filter((e) => e.status === 400).length
      if (
        result?.status !== 'failed' ||
        !result.error?.includes('is archived') ||
        refusals !== 1 ||
        tries[tries.length - 1]?.status !== 400 ||
        result.attempts !== tries.length
      )
        problems.push(`rejected scene ${scene}: ${refusals} refusal(s); ${JSON.stringify(result)}`)
      continue
    }
    if (copies < 1) problems.push(`scene ${scene} never stored (${result?.status}: ${result?.error})`)
    if (copies > 1 && !result?.possibleDuplicate)
      problems.push(`scene ${scene} stored ${copies} times, unflagged`)
    if (result?.status !== 'uploaded') problems.push(`scene ${scene}: ${result?.status}: ${result?.error}`)
  }
  // The client's bound is on open exchanges; the emulator may keep working on one the client timed out.
  if (state.maxOpenUploads > CONCURRENCY)
    problems.push(`max open uploads ${state.maxOpenUploads} > ${CONCURRENCY}`)
  if (attempts !== state.endpointCounts.uploadPrediction)
    problems.push(
      `attempts in results ${attempts} != upload requests seen ${state.endpointCounts.uploadPrediction}`
    )
  if (mix === 'retry-after') {
    // Every 429 carried Retry-After: no new upload may arrive until it has passed (a 100 ms allowance
    // covers requests that were already on their way when the 429 left).
    const uploads = state.log.filter((e) => e.key?.startsWith('POST '))
    for (const limited of uploads.filter((e) => e.fault === 'rate429')) {
      const early = uploads.find(
        (e) => e.at > limited.at + 100 && e.at < limited.at + RETRY_AFTER_SECONDS * 1000 - 100
      )
      if (early) {
        problems.push(
          `an upload arrived ${early.at - limited.at} ms after a 429 asking for ${RETRY_AFTER_SECONDS} s`
        )
        break
      }
    }
    if (state.faultsInjected.rate429 === 0) problems.push('no 429 was injected: the mix tested nothing')
    if (state.faultsInjected.tokenRateLimit === 0)
      problems.push('the token rate limit never triggered: the mix tested nothing')
  }
  if (run.code !== 1) problems.push(`exit code ${run.code}, expected 1 (rejected scenes)`)
  if (sunsetWarnings !== 1) problems.push(`${sunsetWarnings} sunset warnings, expected 1`)
  if (run.outputs.uploaded !== String(uploaded)) problems.push(`output uploaded=${run.outputs.uploaded}`)
  if (
    CLIENT_SECRET &&
    run.stdout.split('\n').some((l) => !l.startsWith('::add-mask::') && l.includes(CLIENT_SECRET))
  )
    problems.push('the client secret appears in the log')

  const facts: [string, string][] = [
    ['files', String(fileCount)],
    ['uploaded', String(uploaded)],
    ['failed (rejected scenes expected: ' + rejected.length + ')', String(failed)],
    ['retries', String(run.results?.counts.retries ?? 'n/a')],
    ['possible duplicates flagged', String(flagged)],
    ['extra copies stored (all flagged)', String(extraCopies)],
    ['token requests (emulator)', String(state.tokenRequests)],
    ['tokens issued', String(state.tokensIssued.length)],
    ['max uploads open at once', `${state.maxOpenUploads} (concurrency ${CONCURRENCY})`],
    ['max uploads the server worked on at once', String(state.maxInFlight)],
    ['upload requests', String(state.endpointCounts.uploadPrediction)],
    ['faults injected', JSON.stringify(state.faultsInjected)],
    ['exit code', String(run.code)],
    ['duration', `${(run.durationMs / 1000).toFixed(1)} s`],
    ['throughput', `${((uploaded / run.durationMs) * 1000).toFixed(1)} uploads/s`],
    ['checks', problems.length === 0 ? 'all passed' : `${problems.length} FAILED`]
  ]
  console.log()
  for (const [name, value] of facts) console.log(`${name.padEnd(40)} ${value}`)
  for (const p of problems.slice(0, 20)) console.log(`  ✗ ${p}`)

  const cpus = os.cpus()
  const machine = [
    `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}`,
    `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
    `Node ${process.version}`,
    `${os.type()} ${os.release()}`
  ].join(', ')
  const markdown = [
    `# Soak: ${fileCount.toLocaleString('en')} uploads, mix \`${mix}\``,
    '',
    `Written by \`npm run soak${mix === 'mixed' ? '' : ` -- --mix ${mix}`}\` (bench/soak.ts); not part of CI. The last run:`,
    '',
    `- **Date:** ${new Date().toISOString()}`,
    `- **Machine:** ${machine}`,
    `- **Action inputs:** concurrency ${CONCURRENCY}, max-retries ${MAX_RETRIES}, request-timeout ${REQUEST_TIMEOUT_SECONDS} s`,
    `- **Emulator faults:** \`${JSON.stringify({ ...faults, rejectScenes: `<${rejected.length} scenes>` })}\``,
    '',
    '| measure | value |',
    '| :-- | --: |',
    ...facts.map(([name, value]) => `| ${name} | ${value.replace(/\|/g, '\\|')} |`),
    '',
    'Checks: every scene not rejected was stored at least once and, when more than once, its file is flagged',
    '`possibleDuplicate`; rejected scenes failed after one attempt with the server message and were never',
    'stored; never more than `concurrency` uploads in flight; attempts in the results file equal the upload',
    'requests the emulator saw; one sunset warning; exit code 1 (the rejected scenes); the secret not in the log.',
    ...(mix === 'retry-after'
      ? [
          `Mix \`retry-after\` also: no upload arrived within ${RETRY_AFTER_SECONDS} s of a 429 (100 ms allowance for`,
          'requests already on their way), and both the 429s and the token rate limit were triggered.'
        ]
      : []),
    ...(problems.length > 0
      ? ['', '## Failed checks', '', ...problems.slice(0, 50).map((p) => `- ${p}`)]
      : []),
    ''
  ].join('\n')
  const record = mix === 'mixed' ? 'SOAK.md' : `SOAK-${mix}.md`
  writeFileSync(path.join(ROOT, 'bench', record), markdown)
  console.log(`\nRecorded in bench/${record}`)
  process.exitCode = problems.length === 0 ? 0 : 1
}

await main()
