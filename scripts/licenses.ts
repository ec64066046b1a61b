// `npm run package`, after ncc: writes dist/licenses.txt from the build's webpack stats (`ncc build
// --stats-out`), listing every npm package with a module in any of the bundle's chunks. ncc's own `--license`
// writes one list per chunk to the same file name, so with lazily loaded chunks the last chunk's list won.
//
//   tsx scripts/licenses.ts <stats.json>... <licenses.txt>
//
// Module names in the stats are relative to webpack's context, which ncc leaves at the working directory:
// run it from the project root (npm does). Format, as ncc's licence plugin wrote it: for each package its
// name, its licence type and its licence text, separated by a blank line, sorted by name.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The part of webpack's stats JSON this script reads. */
export interface StatsModule {
  name?: string
  chunks?: (string | number)[]
  /** A concatenated module's parts ("./x.js + 17 modules"). */
  modules?: StatsModule[]
}

export interface Stats {
  chunks?: { modules?: StatsModule[] }[]
  modules?: StatsModule[]
}

export interface LicenseEntry {
  name: string
  version: string
  /** The package directory, relative to the project root, with forward slashes. */
  dir: string
  licenseType: string
  licenseText: string
}

/**
 * The names of every module in any chunk, parts of concatenated modules included. Modules left out of every
 * chunk (tree-shaken, or only inside a concatenation, which is walked instead) are not shipped.
 */
export function chunkModuleNames(stats: Stats): string[] {
  if (!Array.isArray(stats.chunks) && !Array.isArray(stats.modules)) {
    throw new Error(
      'the stats have neither chunks nor modules: is this webpack stats JSON (ncc --stats-out)?'
    )
  }
  const names = new Set<string>()
  const walk = (modules: StatsModule[] | undefined): void => {
    for (const module of modules ?? []) {
      if (typeof module.name === 'string') names.add(module.name)
      walk(module.modules)
    }
  }
  for (const chunk of stats.chunks ?? []) walk(chunk.modules)
  // Also the top-level module list, for stats written without modules under chunks.
  walk((stats.modules ?? []).filter((module) => (module.chunks ?? []).length > 0))
  return [...names].sort()
}

/**
 * The package directory a module belongs to, from its stats name: the path up to the package in the last
 * `node_modules` segment (`./node_modules/a/node_modules/@s/b/lib/x.js` → `./node_modules/a/node_modules/@s/b`);
 * undefined for the project's own code, Node built-ins (`external "fs"`) and webpack's runtime.
 */
export function packageDirOf(moduleName: string): string | undefined {
  let name = moduleName.replace(/ \+ \d+ modules?$/, '') // a concatenated module: its root's name
  name = name.slice(name.lastIndexOf('!') + 1) // loaders in front of the resource
  name = name.replace(/[?#].*$/, '').replace(/\\/g, '/')
  const match = /^(.*(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*)(?:\/|$)/.exec(name)
  return match?.[1]
}

/** Package directories of the given modules, each once, sorted. */
export function packageDirs(moduleNames: Iterable<string>): string[] {
  const dirs = new Set<string>()
  for (const name of moduleNames) {
    const dir = packageDirOf(name)
    if (dir) dirs.add(dir)
  }
  return [...dirs].sort()
}

const LICENSE_FILE = /^licen[cs]e/i

/**
 * Which of a directory's files is the licence: LICENSE, LICENCE, license.md, LICENSE.txt, LICENSE-MIT…
 * (case-insensitive). Several: the bare name first, then .md, .txt, anything else; ties by name.
 */
export function pickLicenseFile(fileNames: readonly string[]): string | undefined {
  const rank = (file: string): number => {
    const rest = file.slice('license'.length).toLowerCase()
    return ['', '.md', '.txt'].indexOf(rest) >>> 0 // not found → 2^32 - 1, after the known ones
  }
  const candidates = fileNames.filter((file) => LICENSE_FILE.test(file))
  candidates.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
  return candidates[0]
}

/** The licence type in a package.json: `license` (an SPDX expression), or the old object and array forms. */
export function licenseTypeOf(pkg: Record<string, unknown>): string | undefined {
  const typeOf = (value: unknown): string | undefined => {
    if (typeof value === 'string') return value.trim() || undefined
    if (value && typeof value === 'object' && 'type' in value) return typeOf(value.type)
    return undefined
  }
  const single = typeOf(pkg.license)
  if (single) return single
  if (Array.isArray(pkg.licenses)) {
    const types = pkg.licenses.map(typeOf).filter((type): type is string => type !== undefined)
    if (types.length === 1) return types[0]
    if (types.length > 1) return `(${types.join(' OR ')})`
  }
  return undefined
}

/** Reads one package's name, version, licence type and licence text; throws naming the package when one is missing. */
export function readPackage(root: string, dir: string): LicenseEntry {
  const absolute = path.resolve(root, dir)
  const manifest = path.join(absolute, 'package.json')
  let pkg: Record<string, unknown>
  try {
    pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>
  } catch (error) {
    throw new Error(`${dir}: cannot read package.json (${(error as Error).message})`, { cause: error })
  }
  const name = typeof pkg.name === 'string' && pkg.name ? pkg.name : undefined
  if (!name) throw new Error(`${dir}: package.json has no name`)
  const version = typeof pkg.version === 'string' ? pkg.version : ''
  const licenseType = licenseTypeOf(pkg)
  if (!licenseType) throw new Error(`${name}@${version} (${dir}): package.json gives no licence ("license")`)
  const files = readdirSync(absolute).filter((file) => statSync(path.join(absolute, file)).isFile())
  const licenseFile = pickLicenseFile(files)
  if (!licenseFile) {
    throw new Error(
      `${name}@${version} (${dir}): no licence file (LICENSE, LICENSE.md, LICENCE…) in the package`
    )
  }
  const licenseText = readFileSync(path.join(absolute, licenseFile), 'utf8').replace(/\r\n?/g, '\n')
  return { name, version, dir: dir.replace(/\\/g, '/'), licenseType, licenseText }
}

const byCodeUnits = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/**
 * One entry per package: the same name@version found at two paths once (the first path in sorted order),
 * two versions with the same licence type and text once; sorted by name, then version, then text.
 */
export function dedupe(entries: readonly LicenseEntry[]): LicenseEntry[] {
  const sorted = [...entries].sort(
    (a, b) =>
      byCodeUnits(a.name, b.name) ||
      byCodeUnits(a.version, b.version) ||
      byCodeUnits(a.licenseType, b.licenseType) ||
      byCodeUnits(a.licenseText, b.licenseText) ||
      byCodeUnits(a.dir, b.dir)
  )
  const versions = new Set<string>()
  const licences = new Set<string>()
  const kept: LicenseEntry[] = []
  for (const entry of sorted) {
    const version = `${entry.name}@${entry.version}`
    const licence = `${entry.name}\0${entry.licenseType}\0${entry.licenseText}`
    if (versions.has(version) || licences.has(licence)) continue
    versions.add(version)
    licences.add(licence)
    kept.push(entry)
  }
  return kept
}

/** The licences file: name, licence type, licence text and a blank line per package, as ncc wrote it. */
export function renderLicenses(entries: readonly LicenseEntry[]): string {
  return (
    dedupe(entries)
      .map((entry) => `${entry.name}\n${entry.licenseType}\n${entry.licenseText}\n\n`)
      .join('')
      .trim() + '\n'
  )
}

/** Every package with a module in the stats' chunks, read from disk; all the problems at once. */
export function collectLicenses(stats: Stats, root: string): LicenseEntry[] {
  const entries: LicenseEntry[] = []
  const problems: string[] = []
  for (const dir of packageDirs(chunkModuleNames(stats))) {
    try {
      entries.push(readPackage(root, dir))
    } catch (error) {
      problems.push((error as Error).message)
    }
  }
  if (problems.length > 0) {
    throw new Error(`cannot list the bundled packages' licences:\n  ${problems.join('\n  ')}`)
  }
  return entries
}

function main(argv: string[]): void {
  // One stats file per bundle (the action's, the command's): the list covers them all.
  const statsFiles = argv.slice(0, -1)
  const outFile = argv.at(-1)
  if (!outFile || statsFiles.length === 0) {
    console.error('usage: tsx scripts/licenses.ts <ncc-stats.json>... <licenses.txt>')
    process.exit(2)
  }
  const entries = statsFiles.flatMap((statsFile) => {
    const stats = JSON.parse(readFileSync(statsFile, 'utf8')) as Stats
    const found = collectLicenses(stats, process.cwd())
    if (found.length === 0)
      throw new Error(`${statsFile}: no npm package in any chunk; is this the right build?`)
    return found
  })
  writeFileSync(outFile, renderLicenses(entries))
  console.log(`${outFile}: ${dedupe(entries).length} packages`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2))
  } catch (error) {
    console.error(`licenses: ${(error as Error).message}`)
    process.exit(1)
  }
}
