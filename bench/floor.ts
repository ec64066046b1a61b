// The minimal client, the speed budget's yardstick: sign in, find the group, then POST each file as it is
// read, `concurrency` in flight, no checks and no retries. It takes the action's INPUT_* variables, so the
// benchmark runs and measures it in its own node process exactly like the action.
import { appendFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { Agent, request } from 'undici'

const input = (name: string): string => process.env[`INPUT_${name.toUpperCase()}`] ?? ''

async function main(): Promise<void> {
  const concurrency = Number(input('concurrency'))
  const dispatcher = new Agent({ connections: concurrency })
  const api = input('api-url')
  const token = (await (
    await request(new URL('/v1/auth/oauth/token', input('auth-url')), {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: input('client-id'),
        client_secret: input('client-secret')
      }).toString()
    })
  ).body.json()) as { access_token: string }
  const headers = { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' }
  const groups = (await (
    await request(new URL(`/v1/datasets/${input('dataset-uuid')}/predictions-groups`, api), {
      dispatcher,
      headers
    })
  ).body.json()) as { data: { uuid: string; name: string }[] }
  const group = groups.data.find((g) => g.name === input('predictions-group'))
  if (!group) throw new Error('no such group')
  const uploadUrl = new URL(`/v1/predictions-groups/${group.uuid}/predictions`, api)

  // The benchmark's speed row has one folder: `<dir>/*.json`.
  const dir = path.join(process.env.GITHUB_WORKSPACE ?? process.cwd(), path.dirname(input('path')))
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json'))
  let next = 0
  let uploaded = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < names.length) {
        const name = names[next++]!
        const text = await readFile(path.join(dir, name), 'utf8')
        const body = `{"sceneUuid":${JSON.stringify(name.slice(0, -'.json'.length))},"openlabelContent":${text}}`
        const response = await request(uploadUrl, { dispatcher, method: 'POST', headers, body })
        await response.body.dump()
        if (response.statusCode === 201) uploaded++
      }
    })
  )
  await dispatcher.close()
  if (process.env.GITHUB_OUTPUT)
    appendFileSync(process.env.GITHUB_OUTPUT, `uploaded<<EOF\n${uploaded}\nEOF\n`)
  if (uploaded !== names.length) process.exitCode = 1
}

await main()
