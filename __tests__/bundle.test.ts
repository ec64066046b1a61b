// The bundle's stand-in for undici (src/bundle/undici, mapped in tsconfig.json for ncc): it must hand out
// undici's own classes, load nothing until one is used, and cover every name the bundled code imports.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '..')
const STAND_IN = path.join(ROOT, 'src', 'bundle', 'undici', 'index.cjs')
const require = createRequire(import.meta.url)

interface StandIn {
  Agent: unknown
  ProxyAgent: unknown
  fetch: unknown
}

function filesUnder(dir: string, test: (file: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
}

/** Names a source file takes from 'undici' at run time (type-only imports excluded). */
function undiciImports(source: string): string[] {
  const names: string[] = []
  for (const match of source.matchAll(/import\s+(type\s+)?([^;'"]*?)\s+from\s+['"]undici['"]/g)) {
    if (match[1]) continue
    const clause = match[2]!.trim()
    const named = /^\{([^}]*)\}$/.exec(clause)
    if (!named) {
      names.push(`<${clause}>`) // a default or namespace import: the stand-in cannot serve it
      continue
    }
    for (const part of named[1]!.split(',')) {
      const name = part.trim()
      if (name && !name.startsWith('type ')) names.push(name.split(/\s+as\s+/)[0]!)
    }
  }
  // CommonJS as TypeScript emits it: `const undici_1 = require("undici")`, then `undici_1.ProxyAgent`.
  for (const match of source.matchAll(/(\w+)\s*=\s*require\(\s*['"]undici['"]\s*\)/g)) {
    const uses = [...source.matchAll(new RegExp(`\\b${match[1]}\\.(\\w+)`, 'g'))].map((use) => use[1]!)
    names.push(...(uses.length > 0 ? uses : [`<require>`]))
  }
  return names
}

describe('the bundle’s undici stand-in', () => {
  it('hands out undici’s own Agent, ProxyAgent and fetch', () => {
    const standIn = require(STAND_IN) as StandIn
    expect(standIn.Agent).toBe(require('undici/lib/dispatcher/agent.js'))
    expect(standIn.ProxyAgent).toBe(require('undici/lib/dispatcher/proxy-agent.js'))
    expect(standIn.fetch).toBe((require('undici/lib/web/fetch/index.js') as { fetch: unknown }).fetch)
    expect(typeof standIn.fetch).toBe('function')
  })

  it('loads no part of undici until one is used, and then only that part', () => {
    const script = `
      const loaded = () => Object.keys(require.cache).filter((f) => f.includes('node_modules/undici/'))
      const standIn = require(${JSON.stringify(STAND_IN)})
      const before = loaded().length
      void standIn.Agent
      const after = loaded()
      console.log(JSON.stringify({ before, after: after.length, fetch: after.some((f) => f.includes('/web/')) }))`
    const out = JSON.parse(
      execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })
    ) as {
      before: number
      after: number
      fetch: boolean
    }
    expect(out.before).toBe(0)
    expect(out.after).toBeGreaterThan(0)
    expect(out.fetch).toBe(false)
  })

  it('covers every name the bundled code imports from undici (ours and the toolkit’s)', () => {
    const sources = [
      ...filesUnder(path.join(ROOT, 'src'), (f) => f.endsWith('.ts')),
      ...filesUnder(path.join(ROOT, 'node_modules', '@actions'), (f) => /\.c?js$/.test(f))
    ].filter((file) => !file.includes(`${path.sep}undici${path.sep}`))
    const imported = new Set(sources.flatMap((file) => undiciImports(readFileSync(file, 'utf8'))))
    const provided = Object.keys(require(STAND_IN) as StandIn)
    expect(imported.size).toBeGreaterThan(0)
    expect([...imported].filter((name) => !provided.includes(name))).toEqual([])
  })

  it('is what tsconfig.json maps undici to, so ncc bundles it', () => {
    const config = JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths?: Record<string, string[]> }
    }
    expect(config.compilerOptions.paths?.undici).toEqual(['./src/bundle/undici'])
  })

  it('kept undici’s unused parts out of the built bundle', () => {
    const bundle = readdirSync(path.join(ROOT, 'dist'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(path.join(ROOT, 'dist', f), 'utf8'))
      .join('\n')
    for (const unused of ['WebSocketStream', 'MockAgent', 'SqliteCacheStore'])
      expect(bundle).not.toContain(unused)
    expect(bundle).toContain('class Agent')
  })
})
