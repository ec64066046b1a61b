// The obvious implementation, for comparison: read and parse every file up front, then upload them all with
// `Promise.all` behind a semaphore, over the global `fetch`. It takes the action's INPUT_* variables, so the
// benchmark runs it in its own node process exactly like the action and measures it the same way.
// It is not the action: no retries, no checks beyond "is it JSON with an openlabel key".
import { appendFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'

const input = (name: string): string => process.env[`INPUT_${name.toUpperCase()}`] ?? ''

/** At most `limit` callers run at once; the rest queue. */
function semaphore(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const queue: (() => void)[] = []
  return async (task) => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve))
    active++
    try {
      return await task()
    } finally {
      active--
      queue.shift()?.()
    }
  }
}

async function main(): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE ?? process.cwd()
  // The benchmark's patterns are all `<dir>/*.json`.
  const dir = path.join(workspace, path.dirname(input('path')))
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort()

  const files: { sceneUuid: string; doc: unknown }[] = []
  for (const name of names) {
    const doc = JSON.parse(await readFile(path.join(dir, name), 'utf8')) as { openlabel?: unknown }
    if (typeof doc.openlabel !== 'object') throw new Error(`${name}: no openlabel`)
    files.push({ sceneUuid: name.slice(0, -'.json'.length), doc })
  }

  const tokenResponse = await fetch(new URL('/v1/auth/oauth/token', input('auth-url')), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: input('client-id'),
      client_secret: input('client-secret')
    })
  })
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string }
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const api = input('api-url')

  const groupsResponse = await fetch(
    new URL(`/v1/datasets/${input('dataset-uuid')}/predictions-groups`, api),
    { headers }
  )
  const groups = (await groupsResponse.json()) as { data: { uuid: string; name: string }[] }
  const group = groups.data.find((g) => g.name === input('predictions-group'))
  if (!group) throw new Error('no such group')

  const limit = semaphore(Number(input('concurrency')))
  const uploadUrl = new URL(`/v1/predictions-groups/${group.uuid}/predictions`, api)
  const outcomes = await Promise.all(
    files.map((file) =>
      limit(async () => {
        const response = await fetch(uploadUrl, {
          method: 'POST',
          headers,
          body: JSON.stringify({ sceneUuid: file.sceneUuid, openlabelContent: file.doc })
        })
        await response.text()
        return response.ok
      })
    )
  )
  const uploaded = outcomes.filter(Boolean).length
  if (process.env.GITHUB_OUTPUT)
    appendFileSync(process.env.GITHUB_OUTPUT, `uploaded<<EOF\n${uploaded}\nEOF\n`)
  if (uploaded !== files.length) process.exitCode = 1
}

await main()
