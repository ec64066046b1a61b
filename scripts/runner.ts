// Runs the built action (`node dist/index.js`) the way the runner does: inputs as INPUT_<NAME> env vars
// (hyphens kept), per-step output and summary files, cwd = GITHUB_WORKSPACE, no stdin. Used by the
// process-level tests, the demo and the benchmarks.
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { secretForms } from '../src/kognic/secrets.js'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
/** The bundle to run; KUP_ENTRY points the tests at another build (an older one, to show a test fails on it). */
export const ENTRY = process.env.KUP_ENTRY || path.join(ROOT, 'dist', 'index.js')
/** The node that runs the action: the runner uses Node 24; CI sets ACTION_NODE to run the suite on it too. */
export const ACTION_NODE = process.env.ACTION_NODE || process.execPath

export interface ActionRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** Parsed results file, when the action wrote one. */
  results: ResultsFile | null
  workspace: string
  durationMs: number
}

export interface ResultsFile {
  version: number
  datasetUuid: string
  predictionsGroupUuid: string | null
  groupCreated: boolean
  fatalError?: string | null
  dryRun: boolean
  counts: Record<string, number>
  files: {
    path: string
    sceneUuid: string | null
    status: string
    predictionUuid: string | null
    attempts: number
    possibleDuplicate: boolean
    error: string | null
    problems: { kind: string; jsonPath: string; message: string }[]
  }[]
}

export interface RunOptions {
  inputs: Record<string, string>
  /** Files to create in a fresh workspace: relative path → content. */
  files?: Record<string, string | Buffer>
  /** Use this workspace instead of a fresh one. */
  workspace?: string
  env?: Record<string, string>
  /** Send this signal after `afterMs`, or `afterMatchMs` (default 0) after stdout matches, whichever is first. */
  kill?: { signal: NodeJS.Signals; afterMs?: number; whenStdoutMatches?: RegExp; afterMatchMs?: number }
  timeoutMs?: number
  /** Run the action as this user (the caller must be root): files a test made unreadable then are. */
  runAs?: { uid: number; gid: number }
}

export function makeWorkspace(files: Record<string, string | Buffer> = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kup-ws-'))
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, content)
  }
  return dir
}

/**
 * The environment the runner gives a JavaScript action: a minimal one, the run's identity, and each
 * input as INPUT_<NAME> (spaces become _, hyphens kept), plus `extra`.
 */
export function runnerEnv(
  workspace: string,
  inputs: Record<string, string>,
  extra: Record<string, string> = {}
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.homedir(),
    GITHUB_WORKSPACE: workspace,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/perception',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    GITHUB_ACTION: 'upload',
    ...extra
  }
  for (const [name, value] of Object.entries(inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  return env
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const workspace = opts.workspace ?? makeWorkspace(opts.files)
  if (opts.workspace && opts.files) {
    for (const [rel, content] of Object.entries(opts.files)) {
      const full = path.join(workspace, rel)
      mkdirSync(path.dirname(full), { recursive: true })
      writeFileSync(full, content)
    }
  }
  const runnerDir = mkdtempSync(path.join(os.tmpdir(), 'kup-runner-'))
  const outputFile = path.join(runnerDir, 'output')
  const summaryFile = path.join(runnerDir, 'summary')
  const temp = path.join(runnerDir, 'temp')
  mkdirSync(temp)
  for (const f of [outputFile, summaryFile, path.join(runnerDir, 'state'), path.join(runnerDir, 'env')])
    writeFileSync(f, '')

  const env = runnerEnv(workspace, opts.inputs, {
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: path.join(runnerDir, 'state'),
    GITHUB_ENV: path.join(runnerDir, 'env'),
    RUNNER_TEMP: temp,
    ...opts.env
  })

  const started = Date.now()
  if (opts.runAs) {
    // The other user must reach the workspace and write the runner's files; modes a test set are kept.
    for (const dir of [workspace, runnerDir, temp]) chmodSync(dir, 0o777)
    for (const f of [outputFile, summaryFile]) chmodSync(f, 0o666)
  }
  const child = spawn(ACTION_NODE, [ENTRY], {
    cwd: workspace,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.runAs ?? {})
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  let killed = false
  let matched = false
  const sendKill = (): void => {
    if (!killed && opts.kill) {
      killed = true
      child.kill(opts.kill.signal)
    }
  }
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
    if (!matched && opts.kill?.whenStdoutMatches?.test(stdout)) {
      matched = true
      if (opts.kill.afterMatchMs) setTimeout(sendKill, opts.kill.afterMatchMs)
      else sendKill()
    }
  })
  child.stderr.on('data', (chunk: string) => (stderr += chunk))
  if (opts.kill?.afterMs !== undefined) setTimeout(sendKill, opts.kill.afterMs)

  const timeout = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 45_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s]))
  )
  clearTimeout(timeout)

  const outputs = parseOutputs(readFileSync(outputFile, 'utf8'))
  const resultsPath = outputs['results-file']
  const results =
    resultsPath && existsSync(resultsPath)
      ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as ResultsFile)
      : null
  return {
    code,
    signal,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(summaryFile, 'utf8'),
    results,
    workspace,
    durationMs: Date.now() - started
  }
}

/** Parses the runner's `name<<delimiter` / value / `delimiter` output file format. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split(os.EOL)
  for (let i = 0; i < lines.length; i++) {
    const header = /^([^<]+)<<(.+)$/.exec(lines[i]!)
    if (!header) continue
    const [, name, delimiter] = header
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!)
    outputs[name!] = value.join(os.EOL)
  }
  return outputs
}

/**
 * The log without the `::add-mask::` commands, which the runner consumes and never shows. A secret found
 * in what is left was printed by the action itself (the tests do not rely on the runner's masking).
 */
export function visibleLog(stdout: string): string {
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
}

/**
 * Where any of `secrets` can be read by a person or a later step: the visible log, stderr, the job summary
 * (also as rendered), the outputs and the results file, in any form a secret takes in printed text (raw,
 * JSON-escaped, URI- and form-encoded, HTML-escaped: `secretForms`). Outputs and results are scanned value by
 * value, as decoded strings. Returns `place: secret-index` for each leak; empty when none.
 */
export function secretLeaks(run: ActionRun, secrets: readonly string[]): string[] {
  const places = {
    stdout: visibleLog(run.stdout),
    stderr: run.stderr,
    // As written, and as a reader sees it rendered: a secret escaped for markdown shows in clear.
    summary: `${run.summary}\n${rendered(run.summary)}`,
    outputs: stringsIn(run.outputs).join('\n'),
    results: stringsIn(run.results).join('\n')
  }
  const leaks: string[] = []
  for (const [where, text] of Object.entries(places)) {
    secrets.forEach((secret, i) => {
      if (secretForms(secret).some((form) => text.includes(form))) leaks.push(`${where}: secret #${i}`)
    })
  }
  return leaks
}

const NAMED_REFERENCES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/** Markdown as rendered text: backslash escapes and character references undone, zero-width spaces gone. */
function rendered(markdown: string): string {
  return markdown
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .replace(/&(?:#(\d{1,6})|#x([0-9a-f]{1,5})|(amp|lt|gt|quot|apos));/gi, (reference, dec, hex, name) => {
      const code = dec ? Number(dec) : hex ? parseInt(hex as string, 16) : undefined
      if (code === undefined) return NAMED_REFERENCES[(name as string).toLowerCase()] ?? reference
      return code <= 0x10ffff ? String.fromCodePoint(code) : reference
    })
    .replace(/\u200b/g, '')
}

/** Every string in a parsed JSON value, keys included. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsIn)
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => [key, ...stringsIn(item)])
  return []
}

/** Values the action asked the runner to mask. */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length))
}

/** Error annotations (`::error file=…::message`) the action printed. */
export function annotations(
  stdout: string,
  level: 'error' | 'warning' | 'notice' = 'error'
): { file?: string; message: string }[] {
  const found: { file?: string; message: string }[] = []
  for (const line of stdout.split('\n')) {
    const m = new RegExp(`^::${level}(?: ([^:]*))?::(.*)$`).exec(line)
    if (!m) continue
    const props = m[1] ?? ''
    const file = /(?:^|,)file=([^,]*)/.exec(props)?.[1]
    found.push({ file: file ? unescapeProperty(file) : undefined, message: unescapeData(m[2]!) })
  }
  return found
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}
function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/g, ':').replace(/%2C/g, ',')
}

export function uuid(): string {
  return randomUUID()
}
