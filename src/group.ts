// Finding the predictions group the run uploads into: by UUID, or by exact name within the dataset.
import { asInputName, INPUT, type GroupRef, type NameInput } from './inputs.js'
import { listedId, listedItem, listedName, predictionsGroupsPath } from './kognic/decisions.js'
import { KognicAuthError, KognicCancelledError } from './kognic/errors.js'

export interface GroupSummary {
  uuid: string
  /** null when a group given by UUID has no readable name in the listing. */
  name: string | null
  /**
   * Why a group given by UUID could not be confirmed as the dataset's: the groups listing failed or has
   * items without an id. The run goes on with the UUID; Kognic refuses uploads into a group it does not have.
   */
  unconfirmed?: string
}

export interface GroupLister {
  /** The listing's items as Kognic gives them (their fields are not documented). */
  listPredictionsGroups(datasetUuid: string): Promise<unknown[]>
}

export class GroupError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GroupError'
  }
}

/**
 * Returns the dataset's group the inputs name, or null when a name matches no group (the caller decides
 * whether to create it). A name two groups share, or a UUID a well-formed listing does not hold, is an error.
 */
export async function findGroup(
  api: GroupLister,
  datasetUuid: string,
  ref: GroupRef,
  name: NameInput = asInputName
): Promise<GroupSummary | null> {
  const listing = api.listPredictionsGroups(datasetUuid).catch((error: unknown) => {
    const status = (error as { status?: unknown }).status
    if (status === 404 || status === 403) {
      throw new GroupError(
        `Could not list the predictions groups of dataset ${datasetUuid} (${error instanceof Error ? error.message : String(error)}). Check ${name(INPUT.datasetUuid)} (it follows dataset/ in the app's address), that ${name(INPUT.apiUrl)} is the dataset API's host, and that these credentials may see the dataset.`
      )
    }
    throw error
  })
  return ref.kind === 'uuid'
    ? groupByUuid(listing, datasetUuid, ref.uuid, name)
    : groupByName(await listing, datasetUuid, ref.name, name)
}

async function groupByName(
  items: unknown[],
  datasetUuid: string,
  groupName: string,
  name: NameInput
): Promise<GroupSummary | null> {
  // Every item must be readable: a group missed here would be created a second time.
  const groups = items.map((item, index) =>
    listedItem(item, index, `GET ${predictionsGroupsPath(datasetUuid)}`)
  )
  const matches = groups.filter((g) => g.name === groupName)
  if (matches.length > 1) {
    throw new GroupError(
      `${name(INPUT.group)} "${groupName}" matches ${matches.length} groups in dataset ${datasetUuid}: ${matches.map((g) => g.uuid).join(', ')}. Give the one you mean as ${name(INPUT.groupUuid)}, or rename one of them in the Kognic app.`
    )
  }
  return matches[0] ?? null
}

/** A UUID needs from the listing only the item with that id: names and odd items elsewhere do not matter. */
async function groupByUuid(
  listing: Promise<unknown[]>,
  datasetUuid: string,
  uuid: string,
  name: NameInput
): Promise<GroupSummary> {
  let items: unknown[]
  try {
    items = await listing
  } catch (error) {
    // Refused credentials, a cancel and a dataset the listing does not know still stop the run.
    if (
      error instanceof GroupError ||
      error instanceof KognicAuthError ||
      error instanceof KognicCancelledError
    )
      throw error
    return { uuid, name: null, unconfirmed: error instanceof Error ? error.message : String(error) }
  }
  const found = items.find((item) => listedId(item)?.toLowerCase() === uuid)
  if (found !== undefined) {
    return { uuid, name: listedName(found) }
  }
  const withoutId = items.filter((item) => listedId(item) === undefined).length
  if (withoutId > 0) {
    return {
      uuid,
      name: null,
      unconfirmed: `${withoutId} of the ${items.length} items of GET ${predictionsGroupsPath(datasetUuid)} have no "uuid" or "id"`
    }
  }
  const groups = items.map((item) => ({
    uuid: listedId(item)!,
    name: listedName(item)
  }))
  throw new GroupError(
    `${name(INPUT.groupUuid)} ${uuid} is not a predictions group of dataset ${datasetUuid}. ${describeGroups(groups)} Check the UUID (it follows predictions/ in the app's address), or give ${name(INPUT.group)} to find or create a group by name.`
  )
}

function describeGroups(groups: { uuid: string; name: string | null }[]): string {
  if (groups.length === 0) return 'The dataset has no predictions groups.'
  const shown = groups.slice(0, 10).map((g) => (g.name === null ? g.uuid : `"${g.name}" (${g.uuid})`))
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
