// `npm run emulator -- [options]`: runs the local Kognic API until SIGINT/SIGTERM.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

import { sampleSeed, startEmulator, validateFaults, validateSeed } from './server.js'
import type { EmulatorFaults, EmulatorOptions, EmulatorSeed } from './server.js'

const USAGE = `Usage: npm run emulator -- [options]

A local Kognic API (token endpoint and dataset API on one port) for tests, demos and benchmarks.

Options:
  --port <n>           port to listen on (default 8080; 0 = a random free port)
  --host <addr>        address to bind (default 127.0.0.1)
  --seed-file <path>   JSON seed {"clients": [...], "datasets": [...]} (default: the built-in sample)
  --faults <json>      faults as JSON, e.g. '{"rate429": 0.1, "retryAfter": "http-date"}'
  --latency <ms>       fixed delay before every response (same as faults.latencyMs)
  --list-shape <s>     "wrapped" ({"data": [...]}, default) or "bare" (a plain array)
  --annotations-page-size <n>   items per page of the annotations listing (default 100)
  --annotations-listing <s>     "ok" (default), "missing" (404) or "no-scene-ids"
  --groups-page-size <n>        groups per page of the groups listing (default 100)
  --groups-ignore-offset        the groups listing answers its first page whatever the offset
  --quiet              do not print one line per request
  -h, --help           show this help

See emulator/README.md for the seed format and the faults.`

function fail(message: string): never {
  console.error(`emulator: ${message}`)
  console.error('Run with --help for usage.')
  process.exit(2)
}

function pageSize(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) fail(`${flag} must be a positive whole number, got "${value}"`)
  return n
}

function parseCommandLine(): EmulatorOptions & {
  port: number
  host: string
  seed: EmulatorSeed
  faults: EmulatorFaults
} {
  let values
  try {
    ;({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        'seed-file': { type: 'string' },
        faults: { type: 'string' },
        latency: { type: 'string' },
        'list-shape': { type: 'string', default: 'wrapped' },
        'annotations-page-size': { type: 'string' },
        'annotations-listing': { type: 'string', default: 'ok' },
        'groups-page-size': { type: 'string' },
        'groups-ignore-offset': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false }
      },
      strict: true,
      allowPositionals: false
    }))
  } catch (error) {
    fail((error as Error).message)
  }
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    fail(`--port must be 0..65535, got "${values.port}"`)

  let seed: EmulatorSeed = sampleSeed()
  const seedFile = values['seed-file']
  if (seedFile !== undefined) {
    let text: string
    try {
      text = readFileSync(seedFile, 'utf8')
    } catch (error) {
      fail(`cannot read --seed-file ${seedFile}: ${(error as Error).message}`)
    }
    try {
      seed = validateSeed(JSON.parse(text), `--seed-file ${seedFile}`)
    } catch (error) {
      fail(
        error instanceof SyntaxError
          ? `--seed-file ${seedFile} is not valid JSON: ${error.message}`
          : (error as Error).message
      )
    }
  }

  let faults: EmulatorFaults = {}
  if (values.faults !== undefined) {
    try {
      faults = validateFaults(JSON.parse(values.faults), '--faults')
    } catch (error) {
      fail(
        error instanceof SyntaxError
          ? `--faults is not valid JSON: ${error.message}`
          : (error as Error).message
      )
    }
  }
  if (values.latency !== undefined) {
    const latencyMs = Number(values.latency)
    if (!Number.isFinite(latencyMs) || latencyMs < 0)
      fail(`--latency must be a number of ms, got "${values.latency}"`)
    faults = { ...faults, latencyMs }
  }
  const listShape = values['list-shape']
  if (listShape !== 'wrapped' && listShape !== 'bare')
    fail(`--list-shape must be wrapped or bare, got "${listShape}"`)
  const annotationsListing = values['annotations-listing']
  if (
    annotationsListing !== 'ok' &&
    annotationsListing !== 'missing' &&
    annotationsListing !== 'no-scene-ids'
  )
    fail(`--annotations-listing must be ok, missing or no-scene-ids, got "${annotationsListing}"`)
  return {
    port,
    host: values.host,
    seed,
    faults,
    listShape,
    quiet: values.quiet,
    annotationsPageSize: pageSize(values['annotations-page-size'], '--annotations-page-size'),
    annotationsListing,
    groupsPageSize: pageSize(values['groups-page-size'], '--groups-page-size'),
    groupsIgnoreOffset: values['groups-ignore-offset']
  }
}

async function main(): Promise<void> {
  const config = parseCommandLine()
  let emulator
  try {
    emulator = await startEmulator(config)
  } catch (error) {
    fail(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`)
  }
  const lines = [`Kognic API emulator listening on ${emulator.url}`]
  lines.push(`  dataset API and auth host: ${emulator.url}`)
  for (const client of config.seed.clients) {
    lines.push(`  client id: ${client.clientId}`, `  client secret: ${client.clientSecret}`)
  }
  for (const dataset of config.seed.datasets) {
    const kind = dataset.segmentation ? 'segmentation' : 'object detection'
    lines.push(`  dataset ${dataset.uuid} "${dataset.name}" (${kind}, ${dataset.scenes.length} scenes)`)
    for (const group of dataset.groups ?? []) {
      if (group.uuid) lines.push(`    predictions group ${group.uuid} "${group.name}"`)
    }
  }
  if (Object.keys(config.faults).length > 0) lines.push(`  faults: ${JSON.stringify(config.faults)}`)
  lines.push('Press Ctrl+C to stop.')
  console.log(lines.join('\n'))

  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    const { requests, predictions } = emulator.state
    console.log(`\n${signal}: stopping after ${requests} requests, ${predictions.length} predictions stored`)
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => fail(`error while closing: ${String(error)}`)
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

await main()
