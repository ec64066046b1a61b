// What the run leaves behind, written once from the report, also when the run failed: the results file,
// the outputs, the step's verdict and file annotations, the job summary and the pull-request comment.
import path from 'node:path'
import { asInputName, INPUT, type Inputs } from './inputs.js'
import type { RunDeps } from './main.js'
import { fileAnnotations } from './report/annotations.js'
import { formatCount } from './report/format.js'
import { noObjectsNote, verdict, type RunReport } from './report/model.js'
import { resultsFilePath, writeResultsFile } from './report/results.js'
import { renderSummary } from './report/summary.js'

export async function publish(
  report: RunReport,
  inputs: Inputs | undefined,
  /** '' when the inputs could not be read: the results go to this run's default place. */
  resultsPath: string,
  deps: RunDeps
): Promise<void> {
  const { io, env } = deps
  const log = io.logger
  const c = report.counts

  let resultsFile = ''
  // Later steps and artifacts rely on the results file: a run that cannot write it fails.
  let resultsProblem: string | undefined
  try {
    resultsFile = resultsPath || (await resultsFilePath('', deps.workspace, env))
    await writeResultsFile(resultsFile, report)
    log.info(`Results of ${formatCount(report.results.length)} file(s) written to ${resultsFile}.`)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    resultsProblem = reason.includes(resultsFile)
      ? reason
      : `Could not write the results file ${resultsFile}: ${reason}. Check ${(deps.nameInput ?? asInputName)(INPUT.resultsFile)}.`
    resultsFile = ''
  }

  io.setOutput('predictions-group-uuid', report.group.uuid ?? '')
  io.setOutput('group-created', String(report.group.created))
  io.setOutput('group-url', report.groupUrl ?? '')
  io.setOutput('matched', String(c.matched))
  io.setOutput('uploaded', String(c.uploaded))
  io.setOutput('failed', String(c.notUploaded))
  io.setOutput('scenes-without-prediction', report.scenesWithoutPrediction?.toString() ?? '')
  io.setOutput('results-file', resultsFile)

  // The overall result is the first annotation: GitHub shows only ten per step and level.
  const outcome = verdict(report)
  if (!outcome.ok) io.setFailed(outcome.text)
  else if (resultsProblem) io.setFailed(resultsProblem)
  else log.notice(outcome.text, { title: 'Kognic predictions upload' })
  if (!outcome.ok && resultsProblem) log.error(resultsProblem, { title: 'Results file' })
  for (const note of fileAnnotations(report)) log[note.level](note.message, note.props)
  const noObjects = noObjectsNote(report.results)
  if (noObjects) log.warning(noObjects, { title: 'Files with no objects' })

  if (env.GITHUB_STEP_SUMMARY) {
    try {
      const temp = env.RUNNER_TEMP
      await io.writeSummary(
        renderSummary(report, {
          resultsFile: resultsFile || null,
          resultsFileTemporary: Boolean(temp && resultsFile.startsWith(path.resolve(temp) + path.sep))
        })
      )
    } catch (error) {
      log.warning(
        `Could not write the job summary: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  }

  // The runner's entry posts the pull-request comment; the engine knows nothing of GitHub.
  if (inputs) await deps.comment?.(report, inputs)
}
