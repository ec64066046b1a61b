// Parses large upload bodies on a worker thread: JSON.parse of a 100 MB body would otherwise stall every
// other response of the emulator for hundreds of milliseconds and skew latency and concurrency numbers.
import { Worker } from 'node:worker_threads'

import type { UploadInspection } from './upload-body.js'

interface Pending {
  resolve(inspection: UploadInspection): void
  reject(error: Error): void
}

export class OffThreadInspector {
  private worker: Worker | null = null
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  inspect(bytes: Buffer): Promise<UploadInspection> {
    const worker = this.worker ?? this.startWorker()
    const id = this.nextId++
    // Transfer instead of copying when the Buffer owns its whole ArrayBuffer (true for large bodies).
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    const payload = owned ? new Uint8Array(bytes.buffer as ArrayBuffer) : new Uint8Array(bytes)
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ id, bytes: payload }, [payload.buffer as ArrayBuffer])
    })
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    this.failAll(new Error('emulator closed'))
    if (worker) await worker.terminate()
  }

  private startWorker(): Worker {
    const worker = new Worker(new URL('./parse-worker.js', import.meta.url))
    worker.unref()
    worker.on('message', ({ id, inspection }: { id: number; inspection: UploadInspection }) => {
      this.pending.get(id)?.resolve(inspection)
      this.pending.delete(id)
    })
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = null
      this.failAll(error)
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`parse worker exited with code ${code}`)))
    this.worker = worker
    return worker
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error)
    this.pending.clear()
  }
}
