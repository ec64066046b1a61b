// What the emulator serves: clients, datasets, their scenes and pre-existing predictions groups.
// The sample seed has fixed UUIDs so demos, examples and tests can name them.
import { isRecord } from '../src/guards.js'

export interface SeedClassMappingEntry {
  annotated: string
  predicted?: string
}

export interface SeedGroup {
  uuid?: string
  name: string
  description?: string
  classMapping?: SeedClassMappingEntry[]
}

export interface SeedDataset {
  uuid: string
  name: string
  segmentation?: boolean
  scenes: string[]
  /** The scenes the annotations listing names (default: every scene); each must be one of `scenes`. */
  annotatedScenes?: string[]
  groups?: SeedGroup[]
}

export interface EmulatorSeed {
  clients: { clientId: string; clientSecret: string }[]
  datasets: SeedDataset[]
}

export const SAMPLE_CLIENT_ID = 'emulator-client-id'
export const SAMPLE_CLIENT_SECRET = 'emulator-client-secret-do-not-use-in-production'

export const SAMPLE_OD_DATASET_UUID = 'a1d2c3e4-0b0d-4e0f-8a11-0000000000d1'
export const SAMPLE_SEG_DATASET_UUID = 'a1d2c3e4-0b0d-4e0f-8a11-0000000000d2'
/** A group that already exists in the object-detection dataset (created "in the app"). */
export const SAMPLE_OD_GROUP_UUID = 'b2e3f4a5-1c1e-4f10-9b22-0000000000a1'
/** A segmentation group with the sample class mapping below. */
export const SAMPLE_SEG_GROUP_UUID = 'b2e3f4a5-1c1e-4f10-9b22-0000000000a2'

function sceneUuid(datasetTag: string, n: number): string {
  return `5ce7e000-${datasetTag}-4000-8000-${n.toString(16).padStart(12, '0')}`
}

/** 20 scenes of the object-detection dataset. */
export const SAMPLE_OD_SCENES: readonly string[] = Array.from({ length: 20 }, (_, i) =>
  sceneUuid('00d1', i + 1)
)
/** 5 scenes of the segmentation dataset. */
export const SAMPLE_SEG_SCENES: readonly string[] = Array.from({ length: 5 }, (_, i) =>
  sceneUuid('00d2', i + 1)
)

export const SAMPLE_SEG_CLASS_MAPPING: readonly SeedClassMappingEntry[] = [
  { annotated: '_background', predicted: '_background' },
  { annotated: 'car', predicted: 'car' },
  { annotated: 'oak', predicted: 'tree' },
  { annotated: 'birch', predicted: 'tree' },
  { annotated: 'pedestrian', predicted: 'person' },
  { annotated: 'traffic_sign' }
]

/** A ready demo dataset; a fresh copy each call so callers may change it. */
export function sampleSeed(): EmulatorSeed {
  return {
    clients: [{ clientId: SAMPLE_CLIENT_ID, clientSecret: SAMPLE_CLIENT_SECRET }],
    datasets: [
      {
        uuid: SAMPLE_OD_DATASET_UUID,
        name: 'Emulator object detection',
        segmentation: false,
        scenes: [...SAMPLE_OD_SCENES],
        groups: [{ uuid: SAMPLE_OD_GROUP_UUID, name: 'baseline-model', description: 'Created in the app' }]
      },
      {
        uuid: SAMPLE_SEG_DATASET_UUID,
        name: 'Emulator segmentation',
        segmentation: true,
        scenes: [...SAMPLE_SEG_SCENES],
        groups: [
          {
            uuid: SAMPLE_SEG_GROUP_UUID,
            name: 'segmentation-baseline',
            description: 'Created by the API',
            classMapping: SAMPLE_SEG_CLASS_MAPPING.map((entry) => ({ ...entry }))
          }
        ]
      }
    ]
  }
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Checks a seed (typically read from a --seed-file) and throws an Error naming `source` and the bad field,
 * so a typo in a seed file does not turn into a confusing 404 later.
 */
export function validateSeed(value: unknown, source = 'seed'): EmulatorSeed {
  const fail = (where: string, what: string): never => {
    throw new Error(`${source}: ${where} ${what}`)
  }
  if (!isRecord(value)) fail('the seed', 'must be an object {"clients": [...], "datasets": [...]}')
  const seed = value as Record<string, unknown>
  if (!Array.isArray(seed.clients) || seed.clients.length === 0) {
    fail('"clients"', 'must be a non-empty list of {"clientId", "clientSecret"}')
  }
  ;(seed.clients as unknown[]).forEach((client, i) => {
    if (!isRecord(client) || !isNonEmptyString(client.clientId) || !isNonEmptyString(client.clientSecret)) {
      fail(`clients[${i}]`, 'must have non-empty string "clientId" and "clientSecret"')
    }
  })
  if (!Array.isArray(seed.datasets)) fail('"datasets"', 'must be a list')
  const seenUuids = new Set<string>()
  const claimUuid = (uuid: unknown, where: string): void => {
    if (typeof uuid !== 'string' || !UUID_PATTERN.test(uuid))
      fail(where, `must be a UUID, got ${JSON.stringify(uuid)}`)
    const key = (uuid as string).toLowerCase()
    if (seenUuids.has(key)) fail(where, `repeats UUID ${key}; dataset, scene and group UUIDs must be unique`)
    seenUuids.add(key)
  }
  ;(seed.datasets as unknown[]).forEach((dataset, d) => {
    const at = `datasets[${d}]`
    if (!isRecord(dataset)) return fail(at, 'must be an object')
    claimUuid(dataset.uuid, `${at}.uuid`)
    if (!isNonEmptyString(dataset.name)) fail(`${at}.name`, 'must be a non-empty string')
    if (dataset.segmentation !== undefined && typeof dataset.segmentation !== 'boolean') {
      fail(`${at}.segmentation`, 'must be true or false')
    }
    if (!Array.isArray(dataset.scenes)) fail(`${at}.scenes`, 'must be a list of scene UUIDs')
    ;(dataset.scenes as unknown[]).forEach((scene, s) => claimUuid(scene, `${at}.scenes[${s}]`))
    if (dataset.annotatedScenes !== undefined) {
      const scenes = new Set((dataset.scenes as string[]).map((scene) => scene.toLowerCase()))
      if (!Array.isArray(dataset.annotatedScenes))
        fail(`${at}.annotatedScenes`, 'must be a list of scene UUIDs')
      ;(dataset.annotatedScenes as unknown[]).forEach((scene, s) => {
        if (typeof scene !== 'string' || !scenes.has(scene.toLowerCase())) {
          fail(
            `${at}.annotatedScenes[${s}]`,
            `must be one of the dataset's scenes, got ${JSON.stringify(scene)}`
          )
        }
      })
    }
    if (dataset.groups === undefined) return
    if (!Array.isArray(dataset.groups)) fail(`${at}.groups`, 'must be a list')
    ;(dataset.groups as unknown[]).forEach((group, g) => {
      const gat = `${at}.groups[${g}]`
      if (!isRecord(group)) return fail(gat, 'must be an object')
      if (group.uuid !== undefined) claimUuid(group.uuid, `${gat}.uuid`)
      if (!isNonEmptyString(group.name)) fail(`${gat}.name`, 'must be a non-empty string')
      if (group.description !== undefined && typeof group.description !== 'string') {
        fail(`${gat}.description`, 'must be a string')
      }
      if (group.classMapping !== undefined) {
        if (!Array.isArray(group.classMapping)) fail(`${gat}.classMapping`, 'must be a list')
        ;(group.classMapping as unknown[]).forEach((entry, e) => {
          const valid =
            isRecord(entry) &&
            isNonEmptyString(entry.annotated) &&
            (entry.predicted === undefined || isNonEmptyString(entry.predicted))
          if (!valid) fail(`${gat}.classMapping[${e}]`, 'must be {"annotated": string, "predicted"?: string}')
        })
      }
    })
  })
  return value as EmulatorSeed
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== ''
}
