// The `class-mapping` input: Kognic's segmentation class mapping, inline or in a workspace file.
import { promises as fs } from 'node:fs'
import * as path from 'node:path'
import type { ClassMappingEntry } from '../types.js'
import { errorCode, isRecord, leavesRoot } from '../guards.js'

const INPUT = 'class-mapping'
const EXAMPLE = '[{"annotated": "oak", "predicted": "tree"}, {"annotated": "_background"}]'

/**
 * Parses the `class-mapping` input: a JSON list when it starts with `[`, else the path of a `.json` file
 * inside `workspace` holding one. Throws an Error naming the input and what is wrong. '' gives [].
 */
export async function parseClassMapping(raw: string, workspace: string): Promise<ClassMappingEntry[]> {
  const value = raw.trim()
  if (value === '') return []
  if (value.startsWith('[')) return parseMappingJson(value, `${INPUT} (inline)`)
  if (value.startsWith('{')) {
    throw new Error(
      `${INPUT}: expected a JSON list of {"annotated", "predicted"} entries, e.g. ${EXAMPLE}; found a single object`
    )
  }

  const root = path.resolve(workspace)
  const file = path.resolve(root, value)
  const relative = path.relative(root, file)
  if (relative === '' || leavesRoot(relative)) {
    throw new Error(
      `${INPUT}: "${value}" is neither a JSON list (it does not start with "[") nor a file inside the workspace ${root}; give the list inline or the path of a .json file relative to the workspace`
    )
  }
  if (!file.toLowerCase().endsWith('.json')) {
    throw new Error(
      `${INPUT}: "${value}" does not start with "[" and is not a .json file path; give the list inline, e.g. ${EXAMPLE}, or the path of a .json file in the workspace`
    )
  }
  // The real path, links resolved, must stay inside the workspace too: nothing of a file outside it is
  // read, and so none of it can be quoted in an error.
  let text: string
  try {
    const realFile = await fs.realpath(file)
    const realRoot = await fs.realpath(root).catch(() => root)
    if (leavesRoot(path.relative(realRoot, realFile))) {
      throw new Error(
        `${INPUT}: "${value}" leads through a symbolic link to a file outside the workspace ${root}; give the list inline or a .json file that is in the workspace`
      )
    }
    text = await fs.readFile(realFile, 'utf8')
  } catch (error) {
    const code = errorCode(error)
    if (code === undefined && error instanceof Error) throw error
    throw new Error(
      code === 'ENOENT'
        ? `${INPUT}: file "${value}" not found in the workspace ${root}; check the path (relative to the workspace) and that the step writing it ran first`
        : `${INPUT}: cannot read "${value}" (${code ?? String(error)})`,
      { cause: error }
    )
  }
  return parseMappingJson(text.replace(/^\uFEFF/, ''), `${INPUT} file "${value}"`)
}

function parseMappingJson(text: string, source: string): ClassMappingEntry[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new Error(
      `${source} is not valid JSON (${error instanceof Error ? error.message : String(error)}); expected e.g. ${EXAMPLE}`,
      { cause: error }
    )
  }
  if (!Array.isArray(parsed)) {
    throw new Error(`${source} must be a JSON list of {"annotated", "predicted"} entries, e.g. ${EXAMPLE}`)
  }
  if (parsed.length === 0) {
    throw new Error(`${source} is an empty list; list every class, e.g. ${EXAMPLE}, or leave ${INPUT} empty`)
  }

  const entries: ClassMappingEntry[] = []
  const seen = new Map<string, number>()
  parsed.forEach((entry: unknown, index) => {
    const where = `${source}, entry ${index + 1}`
    if (!isRecord(entry)) {
      throw new Error(
        `${where}: expected an object {"annotated": "<class>", "predicted": "<class>"}, found ${JSON.stringify(entry)}`
      )
    }
    const unknownKeys = Object.keys(entry).filter((key) => key !== 'annotated' && key !== 'predicted')
    if (unknownKeys.length > 0) {
      throw new Error(
        `${where}: unknown key(s) ${unknownKeys.map((k) => `"${k}"`).join(', ')}; an entry has only "annotated" and, optionally, "predicted"`
      )
    }
    const { annotated, predicted } = entry
    if (annotated === undefined) {
      throw new Error(`${where}: missing "annotated" (the class name in the annotations)`)
    }
    if (typeof annotated !== 'string' || annotated === '') {
      throw new Error(`${where}: "annotated" must be a non-empty string, found ${JSON.stringify(annotated)}`)
    }
    if (predicted !== undefined && (typeof predicted !== 'string' || predicted === '')) {
      throw new Error(
        `${where}: "predicted" must be a non-empty string or left out, found ${JSON.stringify(predicted)}`
      )
    }
    // Several annotated classes may map to one predicted class and the other way round (merging classes,
    // as Kognic's oak → tree example does); only the same pair twice is refused, as a slip.
    const pair = JSON.stringify([annotated, predicted ?? null])
    const same = seen.get(pair)
    if (same !== undefined) {
      throw new Error(
        `${where}: repeats entry ${same} (annotated "${annotated}"${predicted === undefined ? ', no predicted' : `, predicted "${predicted}"`}); list each pair once`
      )
    }
    seen.set(pair, index + 1)
    entries.push(predicted === undefined ? { annotated } : { annotated, predicted })
  })
  return entries
}

/** Classes found in the predictions that no entry's `predicted` covers, sorted. */
export function missingClasses(
  mapping: readonly ClassMappingEntry[],
  classesFound: Iterable<string>
): string[] {
  const covered = new Set<string>()
  for (const entry of mapping) if (entry.predicted !== undefined) covered.add(entry.predicted)
  const missing = new Set<string>()
  for (const name of classesFound) if (!covered.has(name)) missing.add(name)
  return [...missing].sort()
}

/** The class Kognic gives the area no segment covers; the guide's mapping always has it. */
export const BACKGROUND_CLASS = '_background'

/** Whether the mapping has the `{"annotated": "_background", ...}` entry segmentation needs. */
export function hasBackground(mapping: readonly ClassMappingEntry[]): boolean {
  return mapping.some((entry) => entry.annotated === BACKGROUND_CLASS)
}
