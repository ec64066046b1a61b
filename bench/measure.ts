// Runs one node process the way the runner runs the action and measures it from the outside: wall time
// (spawn → exit), peak RSS and CPU time (from /usr/bin/time's rusage, or /proc polling where it is absent).
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseOutputs } from '../scripts/runner.js'

const TIME_BINARY = '/usr/bin/time'
export const HAS_GNU_TIME = existsSync(TIME_BINARY)

export interface Measured {
  code: number | null
  /** Spawn to exit, milliseconds. */
  wallMs: number
  /** Date.now() at spawn, to compare with the emulator's timestamps. */
  spawnedAt: number
  peakRssMiB: number
  /** User + system CPU time of the process, milliseconds. */
  cpuMs: number
  outputs: Record<string, string>
  stdoutTail: string
  stderr: string
}

export interface MeasureOptions {
  args: string[]
  cwd: string
  env: Record<string, string>
  timeoutMs: number
}

/** Spawns `node <args>` in `cwd` with exactly `env` (plus the runner's per-step files) and measures it. */
export async function measureNode(opts: MeasureOptions): Promise<Measured> {
  const runnerDir = mkdtempSync(path.join(os.tmpdir(), 'kup-bench-runner-'))
  try {
    const files = {
      GITHUB_OUTPUT: path.join(runnerDir, 'output'),
      GITHUB_STEP_SUMMARY: path.join(runnerDir, 'summary'),
      GITHUB_STATE: path.join(runnerDir, 'state'),
      GITHUB_ENV: path.join(runnerDir, 'env')
    }
    for (const file of Object.values(files)) writeFileSync(file, '')
    const temp = path.join(runnerDir, 'temp')
    mkdirSync(temp)
    const rusageFile = path.join(runnerDir, 'rusage')
    const env = { ...opts.env, ...files, RUNNER_TEMP: temp }

    const command = HAS_GNU_TIME ? TIME_BINARY : process.execPath
    const args = HAS_GNU_TIME
      ? ['-f', '%M %U %S', '-o', rusageFile, process.execPath, ...opts.args]
      : opts.args
    let tail = ''
    let stderr = ''

    const spawnedAt = Date.now()
    const started = performance.now()
    const child = spawn(command, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const poller = HAS_GNU_TIME ? null : pollProc(child.pid!)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => (tail = (tail + chunk).slice(-4000)))
    child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs)
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
    const wallMs = performance.now() - started
    clearTimeout(timer)

    let peakRssMiB: number
    let cpuMs: number
    if (poller) {
      const last = poller.stop()
      peakRssMiB = last.peakRssKiB / 1024
      cpuMs = last.cpuMs
    } else {
      // /usr/bin/time may put a "Command exited with non-zero status" line first.
      const line = readFileSync(rusageFile, 'utf8').trim().split('\n').pop() ?? ''
      const [rssKiB, user, sys] = line.split(' ').map(Number)
      peakRssMiB = (rssKiB ?? NaN) / 1024
      cpuMs = ((user ?? NaN) + (sys ?? NaN)) * 1000
    }
    return {
      code,
      wallMs,
      spawnedAt,
      peakRssMiB,
      cpuMs,
      outputs: parseOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      stdoutTail: tail,
      stderr
    }
  } finally {
    rmSync(runnerDir, { recursive: true, force: true })
  }
}

/** Without GNU time: samples VmHWM and utime+stime every 10 ms; the last sample before exit stands. */
function pollProc(pid: number): { stop(): { peakRssKiB: number; cpuMs: number } } {
  const ticksPerSecond = 100
  let peakRssKiB = 0
  let cpuMs = 0
  const sample = (): void => {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const hwm = /VmHWM:\s+(\d+)/.exec(status)
      if (hwm) peakRssKiB = Math.max(peakRssKiB, Number(hwm[1]))
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond
    } catch {
      // The process has exited between samples.
    }
  }
  const timer = setInterval(sample, 10)
  return {
    stop() {
      clearInterval(timer)
      return { peakRssKiB, cpuMs }
    }
  }
}
