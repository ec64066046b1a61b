// The emulator in a process of its own for the benchmark, as a real Kognic server is elsewhere: in the
// benchmark's process it would compete with the program measured for the same event loop. The parent
// (bench/remote-emulator.ts) drives it over the IPC channel: faults, reset, and a summary of each run.
import { startEmulator, TOKEN_PATH } from '../emulator/server.js'
import type { EmulatorFaults } from '../emulator/server.js'
import { ANNOTATIONS_PAGE_SIZE, benchSeed } from './fixtures.js'

/** Requests from the parent; each is answered with `{ id, ok, value | error }`. */
export type EmulatorCommand =
  | { id: number; op: 'setFaults'; faults: EmulatorFaults }
  | { id: number; op: 'reset' }
  | { id: number; op: 'summary'; latencyMs: number }
  | { id: number; op: 'close' }

export type EmulatorReply =
  { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string }

/** What the benchmark needs of one run, computed here so 20,000 log entries never cross the channel. */
export interface RunSummary {
  stored: number
  duplicateUploads: number
  /** Date.now() when the first upload request arrived; null when none did. */
  firstUploadAt: number | null
  maxInFlight: number
  /** Mean time an upload's exchange stayed open beyond the latency (timer lateness, parsing, writing). */
  overshootMs: number
  tokenMs: number | null
  listMs: number | null
}

const emulator = await startEmulator({
  seed: benchSeed(),
  quiet: true,
  annotationsPageSize: ANNOTATIONS_PAGE_SIZE
})

function summary(latencyMs: number): RunSummary {
  const { state } = emulator
  let uploads = 0
  let extra = 0
  let firstUploadAt = Infinity
  for (const entry of state.log) {
    if (entry.method !== 'POST' || !entry.path.endsWith('/predictions')) continue
    uploads++
    extra += entry.ms - latencyMs
    firstUploadAt = Math.min(firstUploadAt, entry.at)
  }
  return {
    stored: state.predictions.length,
    duplicateUploads: state.duplicateUploads,
    firstUploadAt: Number.isFinite(firstUploadAt) ? firstUploadAt : null,
    maxInFlight: state.maxInFlight,
    overshootMs: extra / Math.max(1, uploads),
    tokenMs: state.log.find((e) => e.path === TOKEN_PATH)?.ms ?? null,
    listMs: state.log.find((e) => e.method === 'GET' && e.path.endsWith('/predictions-groups'))?.ms ?? null
  }
}

process.on('message', (message: EmulatorCommand) => {
  const answer = (reply: EmulatorReply): void => {
    process.send?.(reply)
  }
  try {
    switch (message.op) {
      case 'setFaults':
        emulator.setFaults(message.faults)
        return answer({ id: message.id, ok: true, value: null })
      case 'reset':
        emulator.reset()
        return answer({ id: message.id, ok: true, value: null })
      case 'summary':
        return answer({ id: message.id, ok: true, value: summary(message.latencyMs) })
      case 'close':
        void emulator.close().then(() => {
          answer({ id: message.id, ok: true, value: null })
          process.disconnect()
        })
        return
    }
  } catch (error) {
    answer({ id: message.id, ok: false, error: error instanceof Error ? error.message : String(error) })
  }
})
// The benchmark went away (crashed or interrupted): do not outlive it.
process.on('disconnect', () => process.exit(0))
process.send?.({ ready: emulator.url })
