// The ActionIO of a terminal: headed sections, a live progress line on a TTY, colour only on a TTY and
// never with NO_COLOR, problems as `file:line:col: message`. No runner masks secrets here: every value
// handed to setSecret is replaced by *** in everything printed, and in the reports the command writes.
import type { ActionIO } from '../main.js'
import { terminalText } from '../report/escape.js'
import type { AnnotationProps } from '../types.js'

export const REDACTED = '***'

/** The secrets of this run, and their removal from any text. */
export class Secrets {
  private values: string[] = []

  add(secret: string): void {
    if (!secret || this.values.includes(secret)) return
    // Longest first, so a secret that contains another is replaced whole.
    this.values = [...this.values, secret].sort((a, b) => b.length - a.length)
  }

  redact(text: string): string {
    let out = text
    for (const secret of this.values) out = out.split(secret).join(REDACTED)
    return out
  }
}

export interface Stream {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

export interface TerminalOptions {
  /** Where sections and info lines go: stdout, or stderr when stdout carries --json. */
  out: Stream
  /** Warnings, errors and the live progress line. */
  err: Stream
  env: Record<string, string | undefined>
  secrets: Secrets
  /** The inputs, as the command line gives them ('' when unset). */
  getInput: (name: string) => string
}

/** What the run told the terminal beyond its lines: the outputs and the verdict. */
export interface TerminalRecord {
  outputs: Record<string, string>
  /** setFailed's messages; none means the run succeeded. */
  failures: string[]
}

type Colour = 'bold' | 'dim' | 'red' | 'yellow' | 'green' | 'cyan'
const SGR: Record<Colour, [string, string]> = {
  bold: ['1', '22'],
  dim: ['2', '22'],
  red: ['31', '39'],
  yellow: ['33', '39'],
  green: ['32', '39'],
  cyan: ['36', '39']
}

/** Colour for a stream: only a terminal shows it, and NO_COLOR (any non-empty value) turns it off. */
export function colourer(stream: Stream, env: Record<string, string | undefined>) {
  const on = stream.isTTY === true && !env.NO_COLOR
  return (colour: Colour, text: string): string =>
    on ? `\u001b[${SGR[colour][0]}m${text}\u001b[${SGR[colour][1]}m` : text
}

// The engine's progress lines (report/progress.ts) start so: on a TTY they redraw one status line.
const PROGRESS_LINE = /^Uploaded [\d,]+\/[\d,]+/
/** Back to the line's start and erase it: how a TTY's progress line goes away. */
export const CLEAR_LINE = '\r\u001b[2K'
/** A TTY's progress line is redrawn about every second; a log gets one every 5 s (the engine's default). */
const TTY_PROGRESS_INTERVAL_MS = 1000

/**
 * `file:line:col: message` when the annotation says where (props, or a JSON syntax error's "at line N,
 * column M" until every annotation carries its line); `file: message` when it names only the file.
 */
export function locate(message: string, props?: AnnotationProps & { startColumn?: number }): string {
  const file = props?.file
  if (!file) return message
  const said = /\bat line (\d+), column (\d+)\b/.exec(message)
  const line = props.startLine ?? (said ? Number(said[1]) : undefined)
  const column = props.startLine !== undefined ? props.startColumn : said ? Number(said[2]) : undefined
  const where = `${file}${line !== undefined ? `:${line}${column !== undefined ? `:${column}` : ''}` : ''}`
  if (message.startsWith(`${file}: `)) return `${where}: ${message.slice(file.length + 2)}`
  return `${where}: ${message}`
}

export function createTerminal(opts: TerminalOptions): {
  io: ActionIO
  record: TerminalRecord
  /** Erases the progress line, if one is on screen: call before the command's last words, and on exit. */
  clearProgress: () => void
} {
  const { out, err, env, secrets } = opts
  const outColour = colourer(out, env)
  const errColour = colourer(err, env)
  const live = err.isTTY === true
  const record: TerminalRecord = { outputs: {}, failures: [] }
  /** The progress line on screen, when live; '' when none is shown. */
  let status = ''

  const clean = (text: string): string => terminalText(secrets.redact(text))
  const clearStatus = (): void => {
    if (status) err.write(CLEAR_LINE)
  }
  const print = (stream: Stream, text: string): void => {
    clearStatus()
    stream.write(`${text}\n`)
    if (status) err.write(status)
  }
  /** Erases the progress line: a finished phase's last progress is stale next to what follows. */
  const settle = (): void => {
    clearStatus()
    status = ''
  }

  const io: ActionIO = {
    getInput: opts.getInput,
    setOutput: (name, value) => {
      record.outputs[name] = value
    },
    setSecret: (secret) => secrets.add(secret),
    setFailed: (message) => {
      record.failures.push(message)
      settle()
      print(err, `${errColour('red', 'error:')} ${clean(message)}`)
    },
    group: async (name, fn) => {
      settle()
      print(out, outColour('bold', outColour('cyan', `── ${clean(name)}`)))
      try {
        return await fn()
      } finally {
        settle()
      }
    },
    writeSummary: async () => undefined,
    progressIntervalMs: live ? TTY_PROGRESS_INTERVAL_MS : undefined,
    logger: {
      debug: (message) => {
        if (env.RUNNER_DEBUG === '1') print(err, errColour('dim', clean(message)))
      },
      info: (message) => {
        const text = clean(message)
        if (live && PROGRESS_LINE.test(text)) {
          clearStatus()
          // Cut to the terminal's width: a wrapped line could not be redrawn in place.
          status = text.slice(0, (err.columns || 120) - 1)
          err.write(status)
          return
        }
        print(out, text)
      },
      notice: (message, props) =>
        print(err, `${errColour('cyan', 'note:')} ${clean(locate(message, props))}`),
      warning: (message, props) =>
        print(err, `${errColour('yellow', 'warning:')} ${clean(locate(message, props))}`),
      error: (message, props) => print(err, `${errColour('red', 'error:')} ${clean(locate(message, props))}`)
    }
  }
  return { io, record, clearProgress: settle }
}
