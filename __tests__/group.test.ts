import { describe, expect, it } from 'vitest'
import { defaultGroupDescription, findGroup, GroupError, workflowRunUrl } from '../src/group.js'
import { KognicClient } from '../src/kognic/client.js'
import { KognicResponseShapeError } from '../src/kognic/decisions.js'
import { KognicAuthError, KognicCancelledError } from '../src/kognic/errors.js'
import { ManualClock, RecordingLogger, sendJson, startServer } from './kognic-fixtures.js'

const DATASET = '0b9c3b4e-8f6a-4c1e-9a57-2f3d1c0e7a11'
const groups = [
  { uuid: 'aaaaaaaa-0000-4000-8000-000000000001', name: 'nightly' },
  { uuid: 'aaaaaaaa-0000-4000-8000-000000000002', name: 'twice' },
  { uuid: 'aaaaaaaa-0000-4000-8000-000000000003', name: 'twice' }
]
const api = { listPredictionsGroups: async () => groups }

describe('findGroup', () => {
  it('finds a group by exact name', async () => {
    expect(await findGroup(api, DATASET, { kind: 'name', name: 'nightly' })).toEqual(groups[0])
  })
  it('returns null when no group has the name (names are exact: no case folding)', async () => {
    expect(await findGroup(api, DATASET, { kind: 'name', name: 'Nightly' })).toBeNull()
  })
  it('lists both UUIDs when two groups share the name', async () => {
    const error = await findGroup(api, DATASET, { kind: 'name', name: 'twice' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GroupError)
    expect((error as Error).message).toContain(
      'aaaaaaaa-0000-4000-8000-000000000002, aaaaaaaa-0000-4000-8000-000000000003'
    )
    expect((error as Error).message).toContain('predictions-group-uuid')
  })
  it('says which inputs to check when the dataset cannot be listed (404/403)', async () => {
    for (const status of [404, 403]) {
      const refusing = {
        listPredictionsGroups: async () => {
          throw Object.assign(new Error(`GET /v1/datasets/x/predictions-groups failed: ${status}`), {
            status
          })
        }
      }
      const error = await findGroup(refusing, DATASET, { kind: 'name', name: 'x' }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(GroupError)
      expect((error as Error).message).toMatch(/Check dataset-uuid .* api-url .* may see the dataset/)
    }
    const failing = {
      listPredictionsGroups: async () => {
        throw Object.assign(new Error('500 after retries'), { status: 500 })
      }
    }
    await expect(findGroup(failing, DATASET, { kind: 'name', name: 'x' })).rejects.toThrow(
      '500 after retries'
    )
  })

  it('finds a group by UUID, whatever its case', async () => {
    expect(
      await findGroup(api, DATASET, { kind: 'uuid', uuid: 'aaaaaaaa-0000-4000-8000-000000000002' })
    ).toEqual(groups[1])
  })
  it('names the dataset and its groups when a UUID is not among them', async () => {
    const error = await findGroup(api, DATASET, {
      kind: 'uuid',
      uuid: 'bbbbbbbb-0000-4000-8000-000000000009'
    }).catch((e: unknown) => e)
    expect((error as Error).message).toMatch(
      /predictions-group-uuid bbbbbbbb-0000-4000-8000-000000000009 is not a predictions group of dataset 0b9c3b4e/
    )
    expect((error as Error).message).toContain('"nightly" (aaaaaaaa-0000-4000-8000-000000000001)')
  })
})

describe('findGroup by UUID, whatever the listing looks like', () => {
  const UUID = 'aaaaaaaa-0000-4000-8000-000000000002'
  const listing = (items: unknown[]) => ({ listPredictionsGroups: async () => items })

  it('finds the group when other items have no name, odd fields or are not objects', async () => {
    const items = [{ id: 'x' }, 'text', null, { uuid: UUID.toUpperCase(), name: 7, extra: [] }]
    expect(await findGroup(listing(items), DATASET, { kind: 'uuid', uuid: UUID })).toEqual({
      uuid: UUID,
      name: null
    })
  })
  it('takes `id` for the id and keeps the name when there is one', async () => {
    expect(
      await findGroup(listing([{ id: UUID, name: 'nightly' }]), DATASET, { kind: 'uuid', uuid: UUID })
    ).toEqual({ uuid: UUID, name: 'nightly' })
  })
  it('goes on unconfirmed, saying why, when the listing fails or cannot be read', async () => {
    for (const failure of [
      Object.assign(new Error('GET /v1/datasets/x/predictions-groups failed: 500 after 4 attempts'), {
        status: 500
      }),
      new KognicResponseShapeError(
        'GET /v1/datasets/x/predictions-groups: the response is not JSON: "<html>"'
      )
    ]) {
      const failing = {
        listPredictionsGroups: async () => {
          throw failure
        }
      }
      expect(await findGroup(failing, DATASET, { kind: 'uuid', uuid: UUID })).toEqual({
        uuid: UUID,
        name: null,
        unconfirmed: failure.message
      })
    }
  })
  it('goes on unconfirmed when the group is not found but some items have no id', async () => {
    const group = await findGroup(listing([{ name: 'no id' }, { uuid: 'other', name: 'b' }]), DATASET, {
      kind: 'uuid',
      uuid: UUID
    })
    expect(group).toMatchObject({ uuid: UUID, name: null })
    expect(group?.unconfirmed).toMatch(/1 of the 2 items of GET .* have no "uuid" or "id"/)
  })
  it('still stops for refused credentials, a cancel, and a dataset the listing does not know', async () => {
    for (const failure of [
      new KognicAuthError('refused', { status: 401, tokenRequests: 1 }),
      new KognicCancelledError('cancelled'),
      Object.assign(new Error('404'), { status: 404 })
    ]) {
      const failing = {
        listPredictionsGroups: async () => {
          throw failure
        }
      }
      await expect(findGroup(failing, DATASET, { kind: 'uuid', uuid: UUID })).rejects.toThrow()
    }
  })
  it('by name, refuses an item without a name: a group missed would be created twice', async () => {
    await expect(
      findGroup(listing([{ uuid: 'g1' }]), DATASET, { kind: 'name', name: 'nightly' })
    ).rejects.toThrow(/item 0 has no string "uuid"\/"id" and "name"/)
  })
})

describe('group description and run link', () => {
  const env = {
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/perception',
    GITHUB_RUN_ID: '42',
    GITHUB_RUN_ATTEMPT: '2',
    GITHUB_SHA: '0123456789abcdef0123'
  }
  it('links the run attempt', () => {
    expect(workflowRunUrl(env)).toBe('https://github.com/acme/perception/actions/runs/42/attempts/2')
    expect(workflowRunUrl({ ...env, GITHUB_RUN_ATTEMPT: '1' })).toBe(
      'https://github.com/acme/perception/actions/runs/42'
    )
    expect(workflowRunUrl({})).toBeUndefined()
  })
  it('says where the predictions came from', () => {
    expect(defaultGroupDescription(env)).toBe(
      'Uploaded by Kognic Upload Predictions from acme/perception at 0123456789ab (https://github.com/acme/perception/actions/runs/42/attempts/2)'
    )
    expect(defaultGroupDescription({})).toBe('Uploaded by Kognic Upload Predictions')
  })
})

describe('findGroup through the paged groups listing', () => {
  it('finds a group on a later page instead of reporting it missing', async () => {
    const all = Array.from({ length: 7 }, (_, i) => ({
      uuid: `aaaaaaaa-0000-4000-8000-00000000001${i}`,
      name: `group ${i}`
    }))
    const server = await startServer((request, res) => {
      if (request.path === '/v1/auth/oauth/token') {
        sendJson(res, 200, { access_token: 'tok', expires_in: 3600 })
        return
      }
      const offset = Number(new URL(request.path, 'http://x').searchParams.get('offset'))
      sendJson(res, 200, { data: all.slice(offset, offset + 3) })
    })
    const client = new KognicClient({
      apiUrl: server.url,
      authUrl: server.url,
      clientId: 'c',
      clientSecret: 'secret-value',
      maxRetries: 0,
      requestTimeoutMs: 2000,
      logger: new RecordingLogger(),
      clock: new ManualClock()
    })
    try {
      expect(await findGroup(client, DATASET, { kind: 'name', name: 'group 6' })).toEqual(all[6])
    } finally {
      await client.close()
      await server.close()
    }
  })
})
