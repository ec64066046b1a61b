// Hostile and unlucky file systems, through the built action (`node dist/index.js`): an unreadable or
// excluded folder, a class mapping that leads out of the workspace, a number too large for a double.
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type Emulator, type EmulatorSeed } from '../emulator/server.js'
import { bboxDoc, json } from '../scripts/sample-predictions.js'
import { annotations, makeWorkspace, runAction } from '../scripts/runner.js'

const CLIENT_ID = 'files-client'
const CLIENT_SECRET = 'fIles-Secret-6f1e2d3c00004000800000000000000a'
const DATASET = '88888888-8888-4888-8888-888888888888'
const GROUP = '99999999-9999-4999-8999-999999999999'
const scenes = Array.from({ length: 10 }, (_, i) => `fafafafa-0000-4000-8000-${String(i).padStart(12, '0')}`)

const seed: EmulatorSeed = {
  clients: [{ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }],
  datasets: [{ uuid: DATASET, name: 'files', scenes, groups: [{ uuid: GROUP, name: 'files' }] }]
}

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator({ seed, quiet: true })
})
afterAll(async () => {
  await emulator?.close()
})

function baseInputs(): Record<string, string> {
  return {
    'dataset-uuid': DATASET,
    'predictions-group-uuid': GROUP,
    'client-id': CLIENT_ID,
    'client-secret': CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url
  }
}

describe('a folder the action may not read', () => {
  // Root reads every folder whatever its mode, so the action runs as an unprivileged user here.
  const asRoot = process.getuid?.() === 0
  function workspace(): string {
    const dir = makeWorkspace({
      [`p/${scenes[0]}.json`]: json(bboxDoc({ seed: 0 })),
      [`p/sub/${scenes[1]}.json`]: json(bboxDoc({ seed: 1 })),
      [`p/private/${scenes[2]}.json`]: json(bboxDoc({ seed: 2 }))
    })
    chmodSync(path.join(dir, 'p', 'private'), 0o000)
    return dir
  }

  it.skipIf(!asRoot)('is skipped with a warning naming it, and the other files land', async () => {
    const run = await runAction({
      inputs: { ...baseInputs(), path: 'p/**/*.json' },
      workspace: workspace(),
      runAs: { uid: 65534, gid: 65534 }
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs).toMatchObject({ matched: '2', uploaded: '2', failed: '0' })
    const warning = annotations(run.stdout, 'warning').find((a) => a.file === 'p/private')
    expect(warning?.message).toMatch(/p\/private: is a folder that cannot be read \(EACCES\)/)
  })

  it.skipIf(!asRoot)('is never read when excluded: no warning, no error', async () => {
    const run = await runAction({
      inputs: { ...baseInputs(), path: 'p/**/*.json\n!p/private/**' },
      workspace: workspace(),
      runAs: { uid: 65534, gid: 65534 }
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs).toMatchObject({ matched: '2', uploaded: '2', failed: '0' })
    expect(run.stdout).not.toContain('private')
  })
})

describe('path as @actions/glob means it', () => {
  // Three files at three depths, and one folder excluded by name: dry runs, so nothing is stored.
  const files = {
    [`preds/${scenes[3]}.json`]: json(bboxDoc({ seed: 3 })),
    [`preds/sub/${scenes[4]}.json`]: json(bboxDoc({ seed: 4 })),
    [`preds/sub/deeper/${scenes[5]}.json`]: json(bboxDoc({ seed: 5 })),
    [`preds/old/${scenes[6]}.json`]: json(bboxDoc({ seed: 6 }))
  }
  const all = Object.keys(files).sort()
  async function matchedBy(pattern: string, env: Record<string, string> = {}): Promise<string[]> {
    const workspace = makeWorkspace(files)
    const run = await runAction({
      inputs: { ...baseInputs(), path: pattern, 'dry-run': 'true' },
      workspace,
      env: { HOME: workspace, ...env }
    })
    expect(run.code, run.stdout + run.stderr).toBe(0)
    expect(run.outputs.matched).toBe(String(run.results!.files.length))
    return run.results!.files.map((f) => f.path).sort()
  }

  it('a folder named alone, with or without a trailing /, is every file under it', async () => {
    expect(await matchedBy('preds')).toEqual(all)
    expect(await matchedBy('preds/')).toEqual(all)
  })
  it('~ is HOME', async () => {
    expect(await matchedBy('~/preds')).toEqual(all)
    expect(await matchedBy('~/preds/sub/**/*.json')).toEqual(all.filter((f) => f.startsWith('preds/sub/')))
  })
  it('X/** matches X and everything under it; a later line takes part of an excluded folder back', async () => {
    expect(await matchedBy('preds/sub/**')).toEqual(all.filter((f) => f.startsWith('preds/sub/')))
    expect(await matchedBy(`preds\n!preds/sub\npreds/sub/deeper/${scenes[5]}.json`)).toEqual(
      all.filter((f) => !f.startsWith('preds/sub/') || f.includes('deeper'))
    )
  })
})

describe('a class mapping given as a path', () => {
  it('fails naming the input when it leads out of the workspace, quoting nothing of the file', async () => {
    const dir = makeWorkspace({ [`p/${scenes[3]}.json`]: json(bboxDoc({ seed: 3 })) })
    const outside = makeWorkspace({ 'secret.json': '["TOP-SECRET-MAPPING"]' })
    mkdirSync(path.join(dir, 'config'))
    symlinkSync(path.join(outside, 'secret.json'), path.join(dir, 'config', 'mapping.json'))
    const run = await runAction({
      inputs: { ...baseInputs(), path: 'p/*.json', 'class-mapping': 'config/mapping.json' },
      workspace: dir
    })
    expect(run.code).toBe(1)
    expect(run.stdout).toContain('leads through a symbolic link to a file outside the workspace')
    expect(run.stdout + run.stderr + run.summary + JSON.stringify(run.results)).not.toContain(
      'TOP-SECRET-MAPPING'
    )
  })
})

describe('a number too large for a double', () => {
  it('is shown as written, not as null', async () => {
    const text = json(bboxDoc({ seed: 4 })).replace(/("val":\s*\[\s*)(-?[\d.]+)/, '$11e400')
    expect(text).toContain('1e400')
    const dir = makeWorkspace({ [`p/${scenes[4]}.json`]: text })
    const run = await runAction({ inputs: { ...baseInputs(), path: 'p/*.json' }, workspace: dir })
    expect(run.code).toBe(1)
    const file = run.results!.files[0]!
    expect(file.status).toBe('invalid')
    expect(file.problems[0]!.message).toContain('the number 1e400 at line')
  })
})

describe('a file changed between its check and its upload', () => {
  it('fails alone, saying so, and nothing of it is uploaded', async () => {
    const first = `p/${scenes[5]}.json`
    const second = `p/${scenes[6]}.json`
    const dir = makeWorkspace({ [first]: json(bboxDoc({ seed: 5 })), [second]: json(bboxDoc({ seed: 6 })) })
    // In front of the API: when the first upload arrives (both files checked, the second not yet read for
    // its upload, one upload at a time), the second file is rewritten with the same size.
    let rewritten = false
    const target = new URL(emulator.url)
    const proxy = http.createServer((req, res) => {
      if (req.method === 'POST' && !rewritten && /prediction/i.test(req.url ?? '')) {
        rewritten = true
        const text = readFileSync(path.join(dir, second), 'utf8')
        writeFileSync(
          path.join(dir, second),
          text.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10))
        )
      }
      const upstream = http.request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        }
      )
      req.pipe(upstream)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const port = (proxy.address() as AddressInfo).port
      const run = await runAction({
        inputs: {
          ...baseInputs(),
          path: 'p/*.json',
          concurrency: '1',
          'api-url': `http://127.0.0.1:${port}`
        },
        workspace: dir
      })
      expect(rewritten).toBe(true)
      expect(run.code).toBe(1)
      expect(run.outputs).toMatchObject({ matched: '2', uploaded: '1', failed: '1' })
      const changed = run.results!.files.find((f) => f.path === second)!
      expect(changed.status).toBe('failed')
      expect(changed.error).toContain(
        `${second} changed after it was checked: its content is not the content checked; nothing was uploaded for it — re-run`
      )
      expect(emulator.state.predictions.some((p) => p.sceneUuid === scenes[6])).toBe(false)
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()))
    }
  })
})
