import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { describe, expect, it } from 'vitest'

import { SAMPLE_CLIENT_ID, SAMPLE_CLIENT_SECRET, SAMPLE_OD_DATASET_UUID } from '../emulator/server.js'

const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx')
const CLI = join(process.cwd(), 'emulator', 'cli.ts')

interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

function runToEnd(args: string[]): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Starts the CLI, waits for its URL, runs `use`, then stops it with SIGTERM. */
async function withRunningCli(args: string[], use: (url: string, stdout: () => string) => Promise<void>) {
  const child = spawn(TSX, [CLI, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(stdout)
      if (match?.[1]) resolve(match[1])
    })
    child.on('close', (code) => reject(new Error(`emulator exited with ${code} before listening: ${stderr}`)))
  })
  try {
    await use(url, () => stdout)
  } finally {
    child.kill('SIGTERM')
  }
  expect(await exited).toBe(0)
  expect(stdout).toMatch(/SIGTERM: stopping after \d+ requests/)
}

describe('emulator CLI', () => {
  it('prints URL, credentials and datasets, serves requests, and stops cleanly on SIGTERM', async () => {
    await withRunningCli(
      ['--faults', '{"sunsetDate": "2031-02-03"}', '--latency', '1'],
      async (url, stdout) => {
        expect(stdout()).toContain(`client id: ${SAMPLE_CLIENT_ID}`)
        expect(stdout()).toContain(`client secret: ${SAMPLE_CLIENT_SECRET}`)
        expect(stdout()).toContain(`dataset ${SAMPLE_OD_DATASET_UUID}`)
        const token = await fetch(`${url}/v1/auth/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: SAMPLE_CLIENT_ID,
            client_secret: SAMPLE_CLIENT_SECRET
          })
        })
        const { access_token: accessToken } = (await token.json()) as { access_token: string }
        const datasets = await fetch(`${url}/v2/datasets`, {
          headers: { authorization: `Bearer ${accessToken}` }
        })
        expect(datasets.status).toBe(200)
        expect(datasets.headers.get('sunset-date')).toBe('2031-02-03')
        // one line per request, without the token
        await expect.poll(stdout).toMatch(/GET \/v2\/datasets 200/)
        expect(stdout()).not.toContain(accessToken)
      }
    )
  })

  it('serves the datasets of --seed-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'))
    const seedFile = join(dir, 'seed.json')
    const datasetUuid = '11111111-2222-4333-8444-555555555555'
    writeFileSync(
      seedFile,
      JSON.stringify({
        clients: [{ clientId: 'me', clientSecret: 'shh' }],
        datasets: [{ uuid: datasetUuid, name: 'mine', scenes: ['11111111-2222-4333-8444-000000000001'] }]
      })
    )
    await withRunningCli(['--seed-file', seedFile, '--quiet'], async (url, stdout) => {
      expect(stdout()).toContain(`dataset ${datasetUuid} "mine" (object detection, 1 scenes)`)
      const token = await fetch(`${url}/v1/auth/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'me', client_secret: 'shh' })
      })
      expect(token.status).toBe(200)
    })
  })

  it('pages the listings as --annotations-page-size and --groups-page-size say', async () => {
    await withRunningCli(
      ['--quiet', '--annotations-page-size', '3', '--groups-page-size', '1'],
      async (url) => {
        const token = await fetch(`${url}/v1/auth/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: SAMPLE_CLIENT_ID,
            client_secret: SAMPLE_CLIENT_SECRET
          })
        })
        const { access_token: accessToken } = (await token.json()) as { access_token: string }
        const get = async (path: string): Promise<unknown[]> => {
          const response = await fetch(`${url}${path}`, {
            headers: { authorization: `Bearer ${accessToken}` }
          })
          return ((await response.json()) as { data: unknown[] }).data
        }
        expect(await get(`/v1/datasets/${SAMPLE_OD_DATASET_UUID}/annotations?offset=0`)).toHaveLength(3)
        expect(await get(`/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups?offset=0`)).toHaveLength(
          1
        )
        expect(await get(`/v1/datasets/${SAMPLE_OD_DATASET_UUID}/predictions-groups?offset=1`)).toHaveLength(
          0
        )
      }
    )
  })

  it('prints usage for --help', async () => {
    const result = await runToEnd(['--help'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('--seed-file <path>')
  })

  it.each([
    [['--faults', '{"rate429": 2}'], /--faults: "rate429" must be a number from 0 to 1/],
    [['--faults', '{rate429'], /--faults is not valid JSON/],
    [['--seed-file', '/nonexistent/seed.json'], /cannot read --seed-file \/nonexistent\/seed\.json/],
    [['--port', 'eighty'], /--port must be 0\.\.65535/],
    [['--groups-page-size', '0'], /--groups-page-size must be a positive whole number/],
    [['--annotations-listing', 'gone'], /--annotations-listing must be ok, missing or no-scene-ids/],
    [['--bogus'], /Unknown option '--bogus'/]
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const result = await runToEnd(args)
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
  })

  it('names the seed file and the field for an invalid seed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulator-cli-'))
    const seedFile = join(dir, 'seed.json')
    writeFileSync(
      seedFile,
      JSON.stringify({ clients: [{ clientId: 'me', clientSecret: 'x' }], datasets: [{}] })
    )
    const result = await runToEnd(['--seed-file', seedFile])
    expect(result.code).toBe(2)
    expect(result.stderr).toContain(`--seed-file ${seedFile}: datasets[0].uuid must be a UUID`)
  })
})
