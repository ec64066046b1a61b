// scripts/licenses.ts: which packages the bundle ships and what dist/licenses.txt says about them.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  chunkModuleNames,
  collectLicenses,
  dedupe,
  licenseTypeOf,
  packageDirOf,
  packageDirs,
  pickLicenseFile,
  readPackage,
  renderLicenses,
  type LicenseEntry,
  type Stats
} from '../scripts/licenses.js'

const ROOT = path.resolve(import.meta.dirname, '..')

describe('packageDirOf', () => {
  it('finds plain and scoped packages', () => {
    expect(packageDirOf('./node_modules/zod/v4/core/util.js')).toBe('./node_modules/zod')
    expect(packageDirOf('./node_modules/@actions/core/lib/core.js')).toBe('./node_modules/@actions/core')
    expect(packageDirOf('./node_modules/tunnel/index.js')).toBe('./node_modules/tunnel')
  })

  it('takes the innermost package of nested node_modules', () => {
    expect(
      packageDirOf('./node_modules/@actions/github/node_modules/@actions/http-client/lib/index.js')
    ).toBe('./node_modules/@actions/github/node_modules/@actions/http-client')
    expect(packageDirOf('./node_modules/a/node_modules/b/x.js')).toBe('./node_modules/a/node_modules/b')
    expect(packageDirOf('./node_modules/.pnpm/undici@7.0.0/node_modules/undici/index.js')).toBe(
      './node_modules/.pnpm/undici@7.0.0/node_modules/undici'
    )
  })

  it('reads the root of a concatenated module, and strips loaders and queries', () => {
    expect(packageDirOf('./node_modules/@actions/core/lib/core.js + 17 modules')).toBe(
      './node_modules/@actions/core'
    )
    expect(
      packageDirOf('./node_modules/some-loader/index.js!./node_modules/minimatch/dist/esm/index.js')
    ).toBe('./node_modules/minimatch')
    expect(packageDirOf('./node_modules/zod/index.js?raw')).toBe('./node_modules/zod')
    expect(packageDirOf('.\\node_modules\\@s\\p\\x.js')).toBe('./node_modules/@s/p')
  })

  it('is undefined for our own code, built-ins and webpack’s runtime', () => {
    expect(packageDirOf('./src/main.ts + 63 modules')).toBeUndefined()
    expect(packageDirOf('./src/bundle/undici/index.cjs')).toBeUndefined()
    expect(packageDirOf('external "node:fs"')).toBeUndefined()
    expect(packageDirOf('webpack/runtime/ensure chunk')).toBeUndefined()
  })
})

describe('chunkModuleNames', () => {
  const stats: Stats = {
    chunks: [
      { modules: [{ name: './node_modules/@actions/github/lib/github.js' }] },
      {
        modules: [
          {
            name: './src/main.ts + 2 modules',
            modules: [{ name: './src/main.ts' }, { name: './node_modules/zod/v4/core/util.js' }]
          },
          { name: './node_modules/undici/lib/dispatcher/agent.js' }
        ]
      }
    ],
    modules: [
      { name: './node_modules/zod/v4/locales/ar.js', chunks: [] }, // tree-shaken: not shipped
      { name: './node_modules/tunnel/index.js', chunks: [792] }
    ]
  }

  it('lists the modules of every chunk, parts of concatenated modules included, not modules in no chunk', () => {
    const names = chunkModuleNames(stats)
    expect(names).toContain('./node_modules/@actions/github/lib/github.js')
    expect(names).toContain('./node_modules/zod/v4/core/util.js')
    expect(names).toContain('./node_modules/undici/lib/dispatcher/agent.js')
    expect(names).toContain('./node_modules/tunnel/index.js')
    expect(names).not.toContain('./node_modules/zod/v4/locales/ar.js')
    expect(packageDirs(names)).toEqual([
      './node_modules/@actions/github',
      './node_modules/tunnel',
      './node_modules/undici',
      './node_modules/zod'
    ])
  })

  it('refuses a file that is not webpack stats', () => {
    expect(() => chunkModuleNames({} as Stats)).toThrow(/stats/)
  })
})

describe('pickLicenseFile', () => {
  it('finds the licence whatever its case and spelling', () => {
    for (const file of ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE', 'license', 'License.markdown']) {
      expect(pickLicenseFile(['package.json', 'README.md', file, 'index.js'])).toBe(file)
    }
  })

  it('prefers the bare name, then .md, then .txt, then any other; none is undefined', () => {
    expect(pickLicenseFile(['LICENSE.txt', 'LICENSE-MIT', 'LICENSE.md', 'LICENSE'])).toBe('LICENSE')
    expect(pickLicenseFile(['LICENSE.txt', 'LICENSE-MIT', 'LICENSE.md'])).toBe('LICENSE.md')
    expect(pickLicenseFile(['LICENSE-MIT', 'LICENSE.txt'])).toBe('LICENSE.txt')
    expect(pickLicenseFile(['README.md', 'package.json'])).toBeUndefined()
  })
})

describe('licenseTypeOf', () => {
  it('reads the SPDX expression, and the old object and array forms', () => {
    expect(licenseTypeOf({ license: 'MIT' })).toBe('MIT')
    expect(licenseTypeOf({ license: '(MIT OR Apache-2.0)' })).toBe('(MIT OR Apache-2.0)')
    expect(licenseTypeOf({ license: { type: 'ISC' } })).toBe('ISC')
    expect(licenseTypeOf({ licenses: [{ type: 'MIT' }, { type: 'Apache-2.0' }] })).toBe('(MIT OR Apache-2.0)')
    expect(licenseTypeOf({ license: '' })).toBeUndefined()
    expect(licenseTypeOf({})).toBeUndefined()
  })
})

describe('reading packages from disk', () => {
  let root: string | undefined
  afterEach(() => {
    if (root) rmSync(root, { recursive: true, force: true })
    root = undefined
  })

  function makePackage(
    dir: string,
    manifest: Record<string, unknown>,
    files: Record<string, string> = {}
  ): void {
    mkdirSync(path.join(root!, dir), { recursive: true })
    writeFileSync(path.join(root!, dir, 'package.json'), JSON.stringify(manifest))
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root!, dir, name), text)
  }

  it('reads name, version, licence type and text (CRLF made LF)', () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'licenses-'))
    makePackage(
      'node_modules/@s/p',
      { name: '@s/p', version: '1.2.3', license: 'MIT' },
      { 'license.md': 'A\r\nB\r\n' }
    )
    expect(readPackage(root, './node_modules/@s/p')).toEqual({
      name: '@s/p',
      version: '1.2.3',
      dir: './node_modules/@s/p',
      licenseType: 'MIT',
      licenseText: 'A\nB\n'
    })
  })

  it('fails naming every package without a licence file or licence type', () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'licenses-'))
    makePackage('node_modules/ok', { name: 'ok', version: '1.0.0', license: 'MIT' }, { LICENSE: 'ok' })
    makePackage(
      'node_modules/no-file',
      { name: 'no-file', version: '2.0.0', license: 'MIT' },
      { 'README.md': '' }
    )
    makePackage('node_modules/no-type', { name: 'no-type', version: '3.0.0' }, { LICENSE: 'text' })
    const stats: Stats = {
      chunks: [
        {
          modules: [
            { name: './node_modules/ok/index.js' },
            { name: './node_modules/no-file/index.js' },
            { name: './node_modules/no-type/index.js' }
          ]
        }
      ]
    }
    expect(() => readPackage(root!, './node_modules/no-file')).toThrow(/no-file@2\.0\.0.*no licence file/)
    expect(() => collectLicenses(stats, root!)).toThrow(
      /no-file@2\.0\.0[^\n]*licence file[\s\S]*no-type@3\.0\.0/
    )
    expect(() => collectLicenses(stats, root!)).not.toThrow(/\bok@/)
  })
})

describe('renderLicenses', () => {
  const entry = (name: string, version: string, licenseText: string, dir = `./node_modules/${name}`) =>
    ({ name, version, dir, licenseType: 'MIT', licenseText }) satisfies LicenseEntry

  it('writes name, type, text and a blank line per package, sorted by name, whatever the input order', () => {
    const entries = [
      entry('zod', '4.0.0', 'Z\n'),
      entry('@actions/core', '3.0.0', 'C'),
      entry('balanced', '1.0.0', 'B\n')
    ]
    const text = renderLicenses(entries)
    expect(text).toBe('@actions/core\nMIT\nC\n\nbalanced\nMIT\nB\n\n\nzod\nMIT\nZ\n')
    expect(renderLicenses([...entries].reverse())).toBe(text)
    expect(renderLicenses([entries[1]!, entries[2]!, entries[0]!])).toBe(text)
  })

  it('lists a name@version once, and two versions once unless their licence texts differ', () => {
    const nested = './node_modules/a/node_modules/http-client'
    expect(
      dedupe([entry('http-client', '4.0.1', 'T'), entry('http-client', '4.0.1', 'T', nested)])
    ).toHaveLength(1)
    expect(
      dedupe([entry('http-client', '4.0.1', 'T'), entry('http-client', '3.0.2', 'T', nested)])
    ).toHaveLength(1)
    const two = renderLicenses([
      entry('http-client', '4.0.1', 'New'),
      entry('http-client', '3.0.2', 'Old', nested)
    ])
    expect(two).toBe('http-client\nMIT\nOld\n\nhttp-client\nMIT\nNew\n')
  })
})

describe('the committed dist/licenses.txt', () => {
  it('lists the packages the bundle is built from', () => {
    const text = readFileSync(path.join(ROOT, 'dist', 'licenses.txt'), 'utf8')
    const listed = new Set(
      text
        .split('\n')
        .filter((line, i, lines) => (i === 0 || lines[i - 1] === '') && /^(@[\w.-]+\/)?[\w.-]+$/.test(line))
    )
    for (const name of ['@actions/core', '@actions/github', 'undici', 'zod', 'minimatch']) {
      expect(listed, name).toContain(name)
    }
  })
})
