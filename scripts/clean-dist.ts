// `npm run package`, before ncc: removes what the last build wrote to dist/ (JavaScript chunks, source maps,
// licenses.txt), so a chunk the sources no longer produce cannot survive next to the new bundle. ncc 0.45 means
// to delete old .js files itself, but its pattern (`**/*.(js|cjs)`) matches none. dist/package.json stays: ncc
// writes it again, and so does dist/cli.js: the command's two-line entry, kept by hand, that loads the second
// bundle in dist/cli/ (two ncc builds in one folder would collide on chunk names). Also makes .tmp/ for the build's stats (`--stats-out`), which ncc does not create.
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const DIST = path.join(ROOT, 'dist')
const BUILT = /\.(?:c|m)?js(?:\.map)?$|^licenses\.txt$/
const KEPT = path.join(DIST, 'cli.js')

for (const entry of existsSync(DIST) ? readdirSync(DIST, { recursive: true, withFileTypes: true }) : []) {
  const file = path.join(entry.parentPath, entry.name)
  if (entry.isFile() && BUILT.test(entry.name) && file !== KEPT) rmSync(file)
}
mkdirSync(path.join(ROOT, '.tmp'), { recursive: true })
