// The built bundle (dist/, from `npm run package`): it starts on the oldest Node the action supports, and
// holds undici once (the `overrides` pin in package.json keeps the toolkit on the same copy as ours).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(import.meta.dirname, '..')
const DIST = path.join(ROOT, 'dist')

function bundleFiles(): string[] {
  return readdirSync(DIST).filter((f) => f.endsWith('.js'))
}

describe('the bundle', () => {
  it('starts on this Node (the engines minimum is what CI runs it on) and fails on missing inputs, not on loading', () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'bundle-start-'))
    let output: string
    try {
      output = execFileSync(process.execPath, [path.join(DIST, 'index.js')], {
        cwd,
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe']
      })
    } catch (error) {
      output =
        String((error as { stdout?: unknown }).stdout ?? '') +
        String((error as { stderr?: unknown }).stderr ?? '')
    }
    expect(output).not.toMatch(/SyntaxError|ERR_MODULE_NOT_FOUND|ERR_REQUIRE_ESM|Cannot find module/)
    expect(output).toMatch(/::error|::set-output|Results of/)
  })

  it('holds one copy of undici', () => {
    const copies = bundleFiles()
      .map((f) => readFileSync(path.join(DIST, f), 'utf8').split('class ConnectTimeoutError').length - 1)
      .reduce((a, b) => a + b, 0)
    expect(copies).toBe(1)
  })
})
