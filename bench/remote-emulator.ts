// The benchmark's handle on the emulator running in its own process (bench/emulator-process.ts).
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { EmulatorFaults } from '../emulator/server.js'
import type { EmulatorCommand, EmulatorReply, RunSummary } from './emulator-process.js'

export type { RunSummary } from './emulator-process.js'

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'emulator-process.ts')
const START_TIMEOUT_MS = 30_000

type Command = EmulatorCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never

export interface RemoteEmulator {
  url: string
  /** The emulator's process id, so it can be told apart from the program measured. */
  pid: number
  setFaults(faults: EmulatorFaults): Promise<void>
  reset(): Promise<void>
  summary(latencyMs: number): Promise<RunSummary>
  close(): Promise<void>
}

/** Forks the emulator (TypeScript through tsx's loader) and waits until it listens. */
export async function startRemoteEmulator(opts: { nodeArgs?: string[] } = {}): Promise<RemoteEmulator> {
  const child: ChildProcess = fork(CHILD, [], {
    // nodeArgs: e.g. --cpu-prof, to see where the emulator's own time goes.
    execArgv: ['--import', 'tsx', ...(opts.nodeArgs ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>()
  let nextId = 1
  let exited: Error | null = null

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill()
      reject(new Error(`the emulator process did not start within ${START_TIMEOUT_MS} ms`))
    }, START_TIMEOUT_MS)
    child.once('message', (message: { ready?: string }) => {
      clearTimeout(timer)
      if (message.ready) resolve(message.ready)
      else reject(new Error(`unexpected first message from the emulator process: ${JSON.stringify(message)}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the emulator process exited with code ${code} before it listened`))
    })
  })

  child.on('message', (reply: EmulatorReply) => {
    const waiter = pending.get(reply.id)
    if (!waiter) return
    pending.delete(reply.id)
    if (reply.ok) waiter.resolve(reply.value)
    else waiter.reject(new Error(`emulator: ${reply.error}`))
  })
  child.on('exit', (code, signal) => {
    exited = new Error(`the emulator process exited (code ${code}, signal ${signal})`)
    for (const waiter of pending.values()) waiter.reject(exited)
    pending.clear()
  })

  const call = (command: Command): Promise<unknown> => {
    if (exited) return Promise.reject(exited)
    const id = nextId++
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject })
      child.send({ ...command, id } as EmulatorCommand)
    })
  }

  return {
    url,
    pid: child.pid!,
    setFaults: async (faults) => void (await call({ op: 'setFaults', faults })),
    reset: async () => void (await call({ op: 'reset' })),
    summary: async (latencyMs) => (await call({ op: 'summary', latencyMs })) as RunSummary,
    close: async () => {
      if (exited) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      await call({ op: 'close' })
      await gone
    }
  }
}
