// The emulator's latency runs from a request's arrival, as a network's would: the time it spends receiving
// and parsing a body overlaps the wait instead of adding to it.
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed,
  startEmulator,
  type Emulator
} from '../emulator/server.js'

const running: Emulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
})

async function tokenFor(emulator: Emulator): Promise<string> {
  const response = await fetch(`${emulator.url}/v1/auth/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SAMPLE_CLIENT_ID,
      client_secret: SAMPLE_CLIENT_SECRET
    })
  })
  return ((await response.json()) as { access_token: string }).access_token
}

/** Sends the headers, waits `bodyAfterMs`, then the body; resolves with the status and ms from the start. */
function slowBodyUpload(
  emulator: Emulator,
  token: string,
  bodyAfterMs: number
): Promise<{ status: number; ms: number }> {
  const body = JSON.stringify({
    sceneUuid: SAMPLE_OD_SCENES[0],
    openlabelContent: { openlabel: { metadata: { schema_version: '1.0.0' } } }
  })
  const url = new URL(`/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, emulator.url)
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body)
      }
    })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }))
    })
    req.on('error', reject)
    req.flushHeaders()
    setTimeout(() => req.end(body), bodyAfterMs)
  })
}

describe('emulator latency', () => {
  it('counts the latency from arrival, so a body that takes time to arrive overlaps it', async () => {
    const emulator = await startEmulator({ seed: sampleSeed(), quiet: true, faults: { latencyMs: 300 } })
    running.push(emulator)
    const token = await tokenFor(emulator)
    const { status, ms } = await slowBodyUpload(emulator, token, 200)
    expect(status).toBe(201)
    // Counted after the body, it would be ≥ 500 ms.
    expect(ms).toBeGreaterThanOrEqual(290)
    expect(ms).toBeLessThan(450)
    const entry = emulator.state.log.find((e) => e.key?.includes('#'))
    expect(entry?.at).toBeGreaterThan(Date.now() - 10_000)
  })

  it('answers at once when the body took longer than the latency', async () => {
    const emulator = await startEmulator({ seed: sampleSeed(), quiet: true, faults: { latencyMs: 50 } })
    running.push(emulator)
    const token = await tokenFor(emulator)
    const { status, ms } = await slowBodyUpload(emulator, token, 250)
    expect(status).toBe(201)
    expect(ms).toBeGreaterThanOrEqual(245)
    expect(ms).toBeLessThan(290)
  })
})
