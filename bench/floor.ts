// The round-trip floor of this machine: a minimal client (undici, a tiny fixed body, no files, no checks)
// against the same emulator process. What it needs per round of C requests beyond the latency is the
// machine's own cost (process wake-ups, loopback, timer resolution), which no client can avoid; the
// efficiency target's ideal leaves it out.
import { Agent, type Dispatcher } from 'undici'
import { SAMPLE_CLIENT_ID, SAMPLE_CLIENT_SECRET } from '../emulator/seed.js'
import { BENCH_GROUP_NAME, BENCH_OD_DATASET, sceneUuid } from './fixtures.js'
import type { RemoteEmulator } from './remote-emulator.js'

export interface Floor {
  /** Mean wall time of one round of `c` concurrent uploads. */
  roundMs: number
  /** latency ÷ roundMs: the best upload-phase efficiency any client reaches here. */
  ceiling: number
}

/** Runs `rounds` rounds of `c` concurrent minimal uploads at `latencyMs`; the emulator is reset after. */
export async function measureFloor(
  emulator: RemoteEmulator,
  c: number,
  latencyMs: number,
  rounds = 100
): Promise<Floor> {
  await emulator.reset()
  await emulator.setFaults({ latencyMs: 0 })
  const agent = new Agent({ connections: c, pipelining: 1 })
  try {
    const token = await json<{ access_token: string }>(
      agent.request({
        origin: emulator.url,
        path: '/v1/auth/oauth/token',
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: SAMPLE_CLIENT_ID,
          client_secret: SAMPLE_CLIENT_SECRET
        }).toString()
      })
    )
    const headers = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }
    const groups = await json<{ data: { uuid: string; name: string }[] }>(
      agent.request({
        origin: emulator.url,
        path: `/v1/datasets/${BENCH_OD_DATASET}/predictions-groups`,
        method: 'GET',
        headers
      })
    )
    const group = groups.data.find((g) => g.name === BENCH_GROUP_NAME)
    if (!group) throw new Error(`floor: no group "${BENCH_GROUP_NAME}" in the bench seed`)
    const uploadPath = `/v1/predictions-groups/${group.uuid}/predictions`
    const total = rounds * c
    const send = async (i: number): Promise<void> => {
      const response = await agent.request({
        origin: emulator.url,
        path: uploadPath,
        method: 'POST',
        headers,
        body: `{"sceneUuid":"${sceneUuid('bbox', i)}","openlabelContent":{"openlabel":{"metadata":{"schema_version":"1.0.0"}}}}`
      })
      await response.body.text()
      if (response.statusCode !== 201) throw new Error(`floor: upload answered ${response.statusCode}`)
    }
    // Warm the connections up first, as the action's are by its sign-in and group lookup.
    await Promise.all(Array.from({ length: c }, (_, i) => send(total + i)))
    await emulator.setFaults({ latencyMs })
    let next = 0
    const started = performance.now()
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (next < total) await send(next++)
      })
    )
    const roundMs = (performance.now() - started) / rounds
    return { roundMs, ceiling: latencyMs / roundMs }
  } finally {
    await agent.close()
    await emulator.reset()
  }
}

async function json<T>(pending: Promise<Dispatcher.ResponseData>): Promise<T> {
  const response = await pending
  return (await response.body.json()) as T
}
