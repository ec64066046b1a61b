// Finding the predictions group the run uploads into: by UUID, or by exact name within the dataset.
import { INPUT, type GroupRef } from './inputs.js'

export interface GroupSummary {
  uuid: string
  name: string
}

export interface GroupLister {
  listPredictionsGroups(datasetUuid: string): Promise<GroupSummary[]>
}

export class GroupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GroupError'
  }
}

/**
 * Returns the dataset's group the inputs name, or null when a name matches no group (the caller decides
 * whether to create it). A UUID that is not the dataset's, or a name two groups share, is an error.
 */
export async function findGroup(
  api: GroupLister,
  datasetUuid: string,
  ref: GroupRef
): Promise<GroupSummary | null> {
  const groups = await api.listPredictionsGroups(datasetUuid).catch((error: unknown) => {
    const status = (error as { status?: unknown }).status
    if (status === 404 || status === 403) {
      throw new GroupError(
        `Could not list the predictions groups of dataset ${datasetUuid} (${error instanceof Error ? error.message : String(error)}). Check ${INPUT.datasetUuid} (it follows dataset/ in the app's address), that ${INPUT.apiUrl} is the dataset API's host, and that these credentials may see the dataset.`
      )
    }
    throw error
  })
  if (ref.kind === 'uuid') {
    const found = groups.find((g) => g.uuid.toLowerCase() === ref.uuid)
    if (found) return found
    throw new GroupError(
      `${INPUT.groupUuid} ${ref.uuid} is not a predictions group of dataset ${datasetUuid}. ${describeGroups(groups)} Check the UUID (it follows predictions/ in the app's address), or give ${INPUT.group} to find or create a group by name.`
    )
  }
  const matches = groups.filter((g) => g.name === ref.name)
  if (matches.length > 1) {
    throw new GroupError(
      `${INPUT.group} "${ref.name}" matches ${matches.length} groups in dataset ${datasetUuid}: ${matches.map((g) => g.uuid).join(', ')}. Give the one you mean as ${INPUT.groupUuid}, or rename one of them in the Kognic app.`
    )
  }
  return matches[0] ?? null
}

function describeGroups(groups: GroupSummary[]): string {
  if (groups.length === 0) return 'The dataset has no predictions groups.'
  const shown = groups.slice(0, 10).map((g) => `"${g.name}" (${g.uuid})`)
  const more = groups.length > shown.length ? ` and ${groups.length - shown.length} more` : ''
  return `Its groups: ${shown.join(', ')}${more}.`
}

/** The description of a group this run creates, when the input leaves it empty: where it came from. */
export function defaultGroupDescription(env: Record<string, string | undefined>): string {
  const repo = env.GITHUB_REPOSITORY
  if (!repo) return 'Uploaded by Kognic Upload Predictions'
  const sha = env.GITHUB_SHA ? ` at ${env.GITHUB_SHA.slice(0, 12)}` : ''
  const url = workflowRunUrl(env)
  return `Uploaded by Kognic Upload Predictions from ${repo}${sha}${url ? ` (${url})` : ''}`
}

/** Link to the workflow run, when the runner's variables say where it is. */
export function workflowRunUrl(env: Record<string, string | undefined>): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: runId } = env
  if (!server || !repo || !runId) return undefined
  const attempt =
    env.GITHUB_RUN_ATTEMPT && env.GITHUB_RUN_ATTEMPT !== '1' ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''
  return `${server.replace(/\/+$/, '')}/${repo}/actions/runs/${runId}${attempt}`
}
