// Entry point of the command (`kognic-upload-predictions`, `node dist/cli.js`): wires the terminal,
// the process's signals and its exit code to the command in cli/run.ts.
import { EXIT, runCli } from './cli/run.js'
import { CLEAR_LINE } from './cli/terminal.js'
import { ACTION_VERSION } from './version.js'

// stdout is the command's own (--json puts only the results there): anything a bundled library prints to
// process.stdout goes to stderr instead.
const stdout = { write: process.stdout.write.bind(process.stdout), isTTY: process.stdout.isTTY }
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  cwd: process.cwd(),
  stdout,
  stderr: process.stderr,
  version: ACTION_VERSION,
  onCancel: (cancel) => {
    let received: NodeJS.Signals | undefined
    const onSignal = (signal: NodeJS.Signals): void => {
      // A second Ctrl-C does not wait for the grace period: the results file is written whole or not at all.
      if (received) {
        // Exiting at once: the progress line (and the echoed ^C) must not stay on screen.
        if (process.stderr.isTTY) process.stderr.write(`${CLEAR_LINE}\n`)
        process.exit(EXIT.interrupted)
      }
      received = signal
      cancel(`Received ${signal === 'SIGINT' ? 'Ctrl-C (SIGINT)' : signal}`)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    return () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
})
