// The emulator's latency runs from a request's arrival, as a network's would: the time it spends receiving
// and parsing a body overlaps the wait instead of adding to it. A clock stepped by hand decides when the
// answer is due, so nothing here depends on how fast the machine is.
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed,
  startEmulator,
  SteppedClock,
  type Emulator
} from '../emulator/server.js'

const running: Emulator[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((emulator) => emulator.close()))
})

async function start(clock: SteppedClock, latencyMs: number): Promise<{ emulator: Emulator; token: string }> {
  const emulator = await startEmulator({ seed: sampleSeed(), quiet: true, clock, faults: { latencyMs } })
  running.push(emulator)
  const pending = fetch(`${emulator.url}/v1/auth/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: SAMPLE_CLIENT_ID,
      client_secret: SAMPLE_CLIENT_SECRET
    })
  })
  // The token request waits out the latency too.
  await waitFor(() => clock.deadlines.length === 1)
  expect(clock.deadlines).toEqual([latencyMs])
  clock.set(latencyMs)
  const token = ((await (await pending).json()) as { access_token: string }).access_token
  return { emulator, token }
}

/** Sends an upload's headers now; `sendBody()` sends its body; `status` resolves with the answer's status. */
function startUpload(emulator: Emulator, token: string): { sendBody(): void; status: Promise<number> } {
  const body = JSON.stringify({
    sceneUuid: SAMPLE_OD_SCENES[0],
    openlabelContent: { openlabel: { metadata: { schema_version: '1.0.0' } } }
  })
  const url = new URL(`/v1/predictions-groups/${SAMPLE_OD_GROUP_UUID}/predictions`, emulator.url)
  const req = httpRequest(url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body)
    }
  })
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
  })
  req.flushHeaders()
  return { sendBody: () => req.end(body), status }
}

async function waitFor(condition: () => boolean): Promise<void> {
  await expect.poll(condition, { interval: 5 }).toBe(true)
}

describe('emulator latency', () => {
  it('counts the latency from arrival, so a body that takes time to arrive overlaps it', async () => {
    const clock = new SteppedClock()
    const { emulator, token } = await start(clock, 300)
    clock.set(1000)
    const upload = startUpload(emulator, token)
    await waitFor(() => emulator.state.endpointCounts.uploadPrediction === 1)
    clock.set(1200) // the body arrives 200 ms after the headers
    upload.sendBody()
    // The answer is due at arrival + latency (1300), not at body + latency (1500).
    await waitFor(() => clock.deadlines.length === 1)
    expect(clock.deadlines).toEqual([1300])
    expect(emulator.state.predictions).toHaveLength(1)
    clock.set(1300)
    expect(await upload.status).toBe(201)
    await waitFor(() => emulator.state.log.length === 2)
    expect(emulator.state.log.at(-1)).toMatchObject({ status: 201, ms: 300 })
  })

  it('answers at once when the body took longer than the latency', async () => {
    const clock = new SteppedClock()
    const { emulator, token } = await start(clock, 50)
    clock.set(1000)
    const upload = startUpload(emulator, token)
    await waitFor(() => emulator.state.endpointCounts.uploadPrediction === 1)
    clock.set(1250)
    upload.sendBody()
    expect(await upload.status).toBe(201)
    expect(clock.deadlines).toEqual([])
    await waitFor(() => emulator.state.log.length === 2)
    expect(emulator.state.log.at(-1)).toMatchObject({ status: 201, ms: 250 })
  })
})
