// Entry point: wires the runner (@actions/core, process signals, the pull-request comment) to the flow in main.ts.
import * as core from '@actions/core'
import { run } from './main.js'
import { neutraliseCommands } from './report/escape.js'
import type { Logger } from './types.js'

const logger: Logger = {
  // The runner hides debug lines unless RUNNER_DEBUG is set: a line per file is not worth writing then.
  debug: core.isDebug() ? (message) => core.debug(message) : () => undefined,
  // core escapes the other levels and group titles as command data; a plain line it prints as it is.
  info: (message) => core.info(neutraliseCommands(message)),
  notice: (message, props) => core.notice(message, props),
  warning: (message, props) => core.warning(message, props),
  error: (message, props) => core.error(message, props)
}

await run({
  io: {
    getInput: (name) => core.getInput(name),
    setOutput: (name, value) => core.setOutput(name, value),
    setSecret: (secret) => core.setSecret(secret),
    setFailed: (message) => core.setFailed(message),
    group: (name, fn) => core.group(name, fn),
    writeSummary: async (markdown) => {
      await core.summary.addRaw(markdown, true).write({ overwrite: false })
    },
    logger
  },
  env: process.env,
  workspace: process.env.GITHUB_WORKSPACE || process.cwd(),
  comment: async (report, inputs) => {
    if (!inputs.prComment) return
    // Loaded only when asked for: octokit is most of the bundle, and a comment never changes the verdict.
    const { buildPrComment, prCommentContextFromEnv, upsertPrComment } =
      await import('./github/pr-comment.js')
    const { marker, body } = buildPrComment(report, inputs.group)
    const ctx = prCommentContextFromEnv(process.env)
    await upsertPrComment({ token: inputs.githubToken, ctx, body, marker, logger })
  },
  onCancel: (cancel) => {
    const onSignal = (signal: NodeJS.Signals): void => cancel(`Received ${signal} (the job was cancelled)`)
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    return () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
})
