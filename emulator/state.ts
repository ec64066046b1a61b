// What the emulator holds: the seeded datasets and clients, the groups, predictions and tokens made since,
// and the counters and request log that tests read as `emulator.state`.
import { randomUUID } from 'node:crypto'

import { FAULT_KINDS } from './faults.js'
import type { FaultKind } from './faults.js'
import type { EmulatorSeed, SeedClassMappingEntry } from './seed.js'

export type EndpointName =
  | 'token'
  | 'listDatasets'
  | 'listGroups'
  | 'createGroup'
  | 'uploadPrediction'
  | 'listAnnotations'
  | 'notFound'

const ENDPOINT_NAMES: readonly EndpointName[] = [
  'token',
  'listDatasets',
  'listGroups',
  'createGroup',
  'uploadPrediction',
  'listAnnotations',
  'notFound'
]

/** The last this many requests stay in `state.log`. */
export const REQUEST_LOG_CAP = 100_000

export interface StoredPrediction {
  uuid: string
  groupUuid: string
  datasetUuid: string
  sceneUuid: string
  /** Size of the request body in bytes. */
  sizeBytes: number
  /** sha256 of the request body, hex: tells identical re-uploads apart from different ones. */
  sha256: string
  /** Date.now() when stored. */
  receivedAt: number
  /** The uploaded `openlabelContent`, only with `keepBodies`. */
  content?: unknown
}

export interface StoredGroup {
  uuid: string
  datasetUuid: string
  name: string
  description: string
  classMapping: SeedClassMappingEntry[] | null
  createdAt: string
}

export interface RequestLogEntry {
  /** Date.now() when the request arrived. */
  at: number
  method: string
  /** The path without the query string. */
  path: string
  /** The query string without `?` ('' when none). */
  query: string
  /** 0 when no response was sent (dropped, hung, or the client went away). */
  status: number
  /** Arrival → the exchange closed (the response sent, or the connection gone), in ms. */
  ms: number
  /** The fault key (method + path, `#<sceneUuid>` for uploads); absent for the token endpoint and 404s. */
  key?: string
  /** The attempt number for `key`, 1-based. */
  attempt?: number
  fault?: FaultKind
}

export interface EmulatorState {
  predictions: StoredPrediction[]
  /** Uploads for a (group, scene) pair that already had a stored prediction. */
  duplicateUploads: number
  /** Predictions groups by dataset UUID (lower case). */
  groups: Record<string, StoredGroup[]>
  /** Every access token ever issued (kept across reset()), so tests can scan logs for leaks. */
  tokensIssued: string[]
  refreshTokensIssued: string[]
  tokenRequests: number
  /** The `scope` of each token request that sent one, in order (the credentials file's `scopes`). */
  tokenScopes: string[]
  /** Every HTTP request, the token endpoint included. */
  requests: number
  endpointCounts: Record<EndpointName, number>
  statusCounts: Record<string, number>
  /**
   * Uploads the emulator is working on, from arrival until its own response is sent and the exchange has
   * closed (a hung upload counts until its connection ends). A client that timed out and went away does
   * not end it: the server keeps working on a slow answer, as a real one would.
   */
  inFlight: number
  maxInFlight: number
  /** Uploads whose exchange is open, from arrival until the response ends or the client goes away. */
  openUploads: number
  maxOpenUploads: number
  faultsInjected: Record<FaultKind, number>
  /** Requests that carried an Authorization header (any endpoint). */
  authHeadersSeen: number
  /** The last REQUEST_LOG_CAP requests, oldest first, each logged when its exchange closed. */
  log: RequestLogEntry[]
}

export interface Dataset {
  uuid: string
  name: string
  segmentation: boolean
  /** Scene UUIDs, lower case, in seed order. */
  scenes: string[]
  sceneSet: Set<string>
  /** The scenes the annotations listing names, lower case, in seed order. */
  annotatedScenes: string[]
}

interface IssuedToken {
  clientId: string
  expiresAt: number
}

function freshState(): EmulatorState {
  return {
    predictions: [],
    duplicateUploads: 0,
    groups: {},
    tokensIssued: [],
    refreshTokensIssued: [],
    tokenRequests: 0,
    tokenScopes: [],
    requests: 0,
    endpointCounts: Object.fromEntries(ENDPOINT_NAMES.map((name) => [name, 0])) as Record<
      EndpointName,
      number
    >,
    statusCounts: {},
    inFlight: 0,
    maxInFlight: 0,
    openUploads: 0,
    maxOpenUploads: 0,
    faultsInjected: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    authHeadersSeen: 0,
    log: []
  }
}

/** The emulator's data; `state` is the part tests read. */
export class Store {
  readonly state: EmulatorState = freshState()
  readonly datasets: Map<string, Dataset>
  readonly clients: Map<string, string>
  readonly tokens = new Map<string, IssuedToken>()
  readonly revokedClients = new Set<string>()
  groupsByUuid = new Map<string, StoredGroup>()
  /** Attempts so far per fault key. */
  attempts = new Map<string, number>()
  /** Date.now() of the token requests inside the tokenRateLimit window. */
  tokenWindow: number[] = []
  /** `<group>/<scene>` pairs that have a stored prediction. */
  readonly seenUploads = new Set<string>()

  constructor(private readonly seed: EmulatorSeed) {
    this.datasets = new Map(
      seed.datasets.map((dataset) => {
        const scenes = dataset.scenes.map((scene) => scene.toLowerCase())
        const uuid = dataset.uuid.toLowerCase()
        const annotatedScenes = dataset.annotatedScenes?.map((scene) => scene.toLowerCase()) ?? scenes
        const entry: Dataset = {
          uuid,
          name: dataset.name,
          segmentation: dataset.segmentation ?? false,
          scenes,
          sceneSet: new Set(scenes),
          annotatedScenes
        }
        return [uuid, entry]
      })
    )
    this.clients = new Map(seed.clients.map((client) => [client.clientId, client.clientSecret]))
    this.loadSeedGroups()
  }

  addGroup(group: StoredGroup): void {
    this.groupsByUuid.set(group.uuid, group)
    ;(this.state.groups[group.datasetUuid] ??= []).push(group)
  }

  /** Stores a prediction, counting a second one for the same group and scene as a duplicate. */
  addPrediction(prediction: StoredPrediction): void {
    const pair = `${prediction.groupUuid}/${prediction.sceneUuid}`
    if (this.seenUploads.has(pair)) this.state.duplicateUploads++
    this.seenUploads.add(pair)
    this.state.predictions.push(prediction)
  }

  /** Clears counters, log, predictions, created groups and revocations; issued tokens stay valid. */
  reset(): void {
    const state = this.state
    const kept = { tokensIssued: state.tokensIssued, refreshTokensIssued: state.refreshTokensIssued }
    const { inFlight, openUploads } = state
    Object.assign(state, freshState(), kept, { inFlight, openUploads })
    this.loadSeedGroups()
    this.attempts = new Map()
    this.tokenWindow = []
    this.seenUploads.clear()
    this.revokedClients.clear()
  }

  private loadSeedGroups(): void {
    this.groupsByUuid = new Map()
    this.state.groups = {}
    const seededAt = new Date().toISOString()
    for (const dataset of this.seed.datasets) {
      const datasetUuid = dataset.uuid.toLowerCase()
      this.state.groups[datasetUuid] = []
      for (const group of dataset.groups ?? []) {
        this.addGroup({
          uuid: (group.uuid ?? randomUUID()).toLowerCase(),
          datasetUuid,
          name: group.name,
          description: group.description ?? '',
          classMapping: group.classMapping ? group.classMapping.map((entry) => ({ ...entry })) : null,
          createdAt: seededAt
        })
      }
    }
  }
}
