// What the model predicted, counted in the checks' one walk over each file (validate.ts calls the collector),
// merged into the run's total as soon as the file is checked: nothing per object or per file is kept.
import { isRecord } from '../guards.js'

/** The `statistics` section's own version (the results file's `version` stays 1: fields are only added). */
export const STATISTICS_VERSION = 1
/** Distinct class names a run keeps; geometries of classes beyond are counted in `untracked`. */
export const MAX_CLASSES = 1000
/** Distinct stream names a run keeps; the rest are left out of the list. */
export const MAX_STREAMS = 100
/** The class of an object whose root entry has no `type` string (an error, so only with validation warn/off). */
export const NO_CLASS = ''

export type GeometryKind = 'bbox' | 'cuboid' | 'image'

/** What Kognic reads from a geometry's attributes: its stream, and its confidence when a number from 0 to 1. */
export interface GeometryAttributes {
  stream: string | null
  confidence: number | null
}

export interface ConfidenceStats {
  /** Geometries that gave a confidence (a number from 0 to 1 in `attributes.num`). */
  count: number
  mean: number
  min: number
  max: number
}

export interface ClassStats {
  name: string
  /** Distinct object ids of the class holding a geometry, counted per file (one file is one scene). */
  objects: number
  geometries: number
  /** Files (scenes) with at least one geometry of the class. */
  scenes: number
  /** Over the geometries that gave one; null when none did. */
  confidence: ConfidenceStats | null
  /** Geometries without a valid confidence: Kognic reads 1.0 for them. */
  withoutConfidence: number
}

export interface StreamStats {
  name: string
  /** Distinct object ids with a geometry on the stream, per file. */
  objects: number
  geometries: number
}

/** The results file's `statistics` section: the files the checks let through, counted. */
export interface Statistics {
  version: typeof STATISTICS_VERSION
  /** Files counted (two files for one scene count twice: both are predictions the model made). */
  files: number
  frames: number
  geometries: Record<GeometryKind, number>
  /** Most objects first, ties by name. */
  classes: ClassStats[]
  /** Most objects first, ties by name. */
  streams: StreamStats[]
  /** Geometries of classes beyond MAX_CLASSES, not listed by name (each counted once). */
  untracked: { geometries: number }
}

interface Tally {
  objects: number
  geometries: number
  scenes: number
  confidenceCount: number
  confidenceSum: number
  min: number
  max: number
  withoutConfidence: number
}

function emptyTally(): Tally {
  return {
    objects: 0,
    geometries: 0,
    scenes: 0,
    confidenceCount: 0,
    confidenceSum: 0,
    min: Infinity,
    max: -Infinity,
    withoutConfidence: 0
  }
}

/** One file's counts: what the collector hands the run's total. */
export interface FileStatistics {
  frames: number
  geometries: Record<GeometryKind, number>
  classes: Map<string, Tally>
  streams: Map<string, Tally>
}

/**
 * Collects one file's counts during the checks' walk. Object ids are kept only for the file being walked,
 * to count each object once however many frames and geometries it has.
 */
export class FileStatisticsCollector {
  private frames = 0
  private readonly geometries: Record<GeometryKind, number> = { bbox: 0, cuboid: 0, image: 0 }
  private readonly classes = new Map<string, { tally: Tally; ids: Set<string> }>()
  private readonly streams = new Map<string, { tally: Tally; ids: Set<string> }>()

  frame(): void {
    this.frames++
  }

  /**
   * A geometry of object `objectId`; `rootObject` is its entry in the root `objects` (its `type` is the class),
   * `read` the stream and confidence the checks read from its attributes.
   */
  geometry(kind: GeometryKind, objectId: string, rootObject: unknown, read: GeometryAttributes): void {
    this.geometries[kind]++
    const className = isRecord(rootObject) && typeof rootObject.type === 'string' ? rootObject.type : NO_CLASS
    const { confidence } = read
    for (const [map, key] of [
      [this.classes, className],
      [this.streams, read.stream]
    ] as const) {
      if (key === null) continue
      let entry = map.get(key)
      if (!entry) map.set(key, (entry = { tally: emptyTally(), ids: new Set() }))
      const { tally, ids } = entry
      tally.geometries++
      if (!ids.has(objectId)) {
        ids.add(objectId)
        tally.objects++
      }
      if (confidence === null) tally.withoutConfidence++
      else {
        tally.confidenceCount++
        tally.confidenceSum += confidence
        if (confidence < tally.min) tally.min = confidence
        if (confidence > tally.max) tally.max = confidence
      }
    }
  }

  /** The file's counts, the object ids dropped. */
  result(): FileStatistics {
    const tallies = (map: Map<string, { tally: Tally }>): Map<string, Tally> =>
      new Map([...map].map(([name, { tally }]) => [name, { ...tally, scenes: 1 }]))
    return {
      frames: this.frames,
      geometries: { ...this.geometries },
      classes: tallies(this.classes),
      streams: tallies(this.streams)
    }
  }
}

/** The run's total: files' counts are added as they are checked, and nothing of a file is kept. */
export class RunStatistics {
  private files = 0
  private frames = 0
  private readonly geometries: Record<GeometryKind, number> = { bbox: 0, cuboid: 0, image: 0 }
  private readonly classes = new Map<string, Tally>()
  private readonly streams = new Map<string, Tally>()
  private untracked = 0

  add(file: FileStatistics): void {
    this.files++
    this.frames += file.frames
    for (const kind of Object.keys(this.geometries) as GeometryKind[])
      this.geometries[kind] += file.geometries[kind]
    // Only the classes' overflow: a geometry past both caps would otherwise count twice.
    this.untracked += mergeInto(this.classes, file.classes, MAX_CLASSES)
    mergeInto(this.streams, file.streams, MAX_STREAMS)
  }

  /** Adds a statistics section read back from a results file (a baseline of several shards). */
  addSection(section: Statistics): void {
    this.files += section.files
    this.frames += section.frames
    for (const kind of Object.keys(this.geometries) as GeometryKind[])
      this.geometries[kind] += section.geometries[kind]
    this.untracked += section.untracked.geometries
    const tallies = (list: (ClassStats | StreamStats)[]): Map<string, Tally> =>
      new Map(
        list.map((s) => {
          const c = 'confidence' in s ? s.confidence : null
          return [
            s.name,
            {
              objects: s.objects,
              geometries: s.geometries,
              scenes: 'scenes' in s ? s.scenes : 0,
              confidenceCount: c?.count ?? 0,
              confidenceSum: c ? c.mean * c.count : 0,
              min: c?.min ?? Infinity,
              max: c?.max ?? -Infinity,
              withoutConfidence: 'withoutConfidence' in s ? s.withoutConfidence : 0
            }
          ]
        })
      )
    this.untracked += mergeInto(this.classes, tallies(section.classes), MAX_CLASSES)
    mergeInto(this.streams, tallies(section.streams), MAX_STREAMS)
  }

  result(): Statistics {
    const byObjects = <T extends { name: string; objects: number }>(a: T, b: T): number =>
      b.objects - a.objects || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    return {
      version: STATISTICS_VERSION,
      files: this.files,
      frames: this.frames,
      geometries: { ...this.geometries },
      classes: [...this.classes]
        .map(([name, t]) => ({
          name,
          objects: t.objects,
          geometries: t.geometries,
          scenes: t.scenes,
          confidence:
            t.confidenceCount > 0
              ? {
                  count: t.confidenceCount,
                  mean: t.confidenceSum / t.confidenceCount,
                  min: t.min,
                  max: t.max
                }
              : null,
          withoutConfidence: t.withoutConfidence
        }))
        .sort(byObjects),
      streams: [...this.streams]
        .map(([name, t]) => ({ name, objects: t.objects, geometries: t.geometries }))
        .sort(byObjects),
      untracked: { geometries: this.untracked }
    }
  }
}

/** Adds `from`'s tallies into `into`; returns the geometries of names left out for being over `max`. */
function mergeInto(into: Map<string, Tally>, from: Map<string, Tally>, max: number): number {
  let untracked = 0
  for (const [name, t] of from) {
    let total = into.get(name)
    if (!total) {
      if (into.size >= max) {
        untracked += t.geometries
        continue
      }
      into.set(name, (total = emptyTally()))
    }
    total.objects += t.objects
    total.geometries += t.geometries
    total.scenes += t.scenes
    total.confidenceCount += t.confidenceCount
    total.confidenceSum += t.confidenceSum
    total.min = Math.min(total.min, t.min)
    total.max = Math.max(total.max, t.max)
    total.withoutConfidence += t.withoutConfidence
  }
  return untracked
}

/**
 * A `statistics` section read back from an earlier results file, checked field by field (anyone may have
 * edited it); a reason when it cannot be used.
 */
export function readStatisticsSection(value: unknown): Statistics | string {
  if (value === undefined)
    return 'it has no "statistics" (written by a version of the action before they were kept)'
  if (!isRecord(value)) return 'malformed: "statistics" is not an object'
  if (value.version !== STATISTICS_VERSION)
    return `its statistics are in format ${String(value.version)}, which this version (format ${STATISTICS_VERSION}) cannot read`
  const count = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0
  const unit = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1
  const g = value.geometries
  if (
    !count(value.files) ||
    !count(value.frames) ||
    !isRecord(g) ||
    !count(g.bbox) ||
    !count(g.cuboid) ||
    !count(g.image)
  )
    return 'malformed: "statistics" lacks its file, frame or geometry counts'
  const untracked =
    isRecord(value.untracked) && count(value.untracked.geometries) ? value.untracked.geometries : 0
  if (!Array.isArray(value.classes) || !Array.isArray(value.streams))
    return 'malformed: "statistics" has no "classes" or "streams" list'
  const classes: ClassStats[] = []
  for (const c of value.classes as unknown[]) {
    if (
      !isRecord(c) ||
      typeof c.name !== 'string' ||
      !count(c.objects) ||
      !count(c.geometries) ||
      !count(c.scenes)
    )
      return 'malformed: an entry of "statistics.classes" lacks its name or counts'
    const conf = c.confidence
    const confidence =
      isRecord(conf) &&
      count(conf.count) &&
      conf.count > 0 &&
      unit(conf.mean) &&
      unit(conf.min) &&
      unit(conf.max)
        ? { count: conf.count, mean: conf.mean, min: conf.min, max: conf.max }
        : null
    classes.push({
      name: c.name,
      objects: c.objects,
      geometries: c.geometries,
      scenes: c.scenes,
      confidence,
      withoutConfidence: count(c.withoutConfidence) ? c.withoutConfidence : 0
    })
  }
  const streams: StreamStats[] = []
  for (const s of value.streams as unknown[]) {
    if (!isRecord(s) || typeof s.name !== 'string' || !count(s.objects) || !count(s.geometries))
      return 'malformed: an entry of "statistics.streams" lacks its name or counts'
    streams.push({ name: s.name, objects: s.objects, geometries: s.geometries })
  }
  return {
    version: STATISTICS_VERSION,
    files: value.files,
    frames: value.frames,
    geometries: { bbox: g.bbox, cuboid: g.cuboid, image: g.image },
    classes,
    streams,
    untracked: { geometries: untracked }
  }
}

/** One class, this run against the baseline. */
export interface ClassChange {
  name: string
  objects: number
  baselineObjects: number
  /** Percent change of the objects; null when the baseline had none (the class appeared). */
  changePercent: number | null
  meanConfidence: number | null
  baselineMeanConfidence: number | null
  /** `appeared`: not in the baseline; `vanished`: only in the baseline. */
  state: 'appeared' | 'vanished' | 'both'
}

/** The results file's `comparison` section. */
export interface Comparison {
  version: typeof STATISTICS_VERSION
  /** The baseline results files, as people see their paths; several are merged (the shards of a run). */
  baselines: string[]
  files: number
  baselineFiles: number
  /** Largest change in objects first; ties by the larger confidence change, then by name. */
  classes: ClassChange[]
}

/** This run's statistics against a baseline's, class by class. */
export function compareStatistics(
  current: Statistics,
  baseline: Statistics,
  baselines: string[]
): Comparison {
  const before = new Map(baseline.classes.map((c) => [c.name, c]))
  const now = new Map(current.classes.map((c) => [c.name, c]))
  const names = [...new Set([...now.keys(), ...before.keys()])]
  const classes = names.map((name): ClassChange => {
    const a = now.get(name)
    const b = before.get(name)
    const objects = a?.objects ?? 0
    const baselineObjects = b?.objects ?? 0
    return {
      name,
      objects,
      baselineObjects,
      changePercent: baselineObjects > 0 ? ((objects - baselineObjects) / baselineObjects) * 100 : null,
      meanConfidence: a?.confidence?.mean ?? null,
      baselineMeanConfidence: b?.confidence?.mean ?? null,
      state: !b ? 'appeared' : !a ? 'vanished' : 'both'
    }
  })
  const confidenceShift = (c: ClassChange): number =>
    c.meanConfidence !== null && c.baselineMeanConfidence !== null
      ? Math.abs(c.meanConfidence - c.baselineMeanConfidence)
      : 0
  classes.sort(
    (x, y) =>
      Math.abs(y.objects - y.baselineObjects) - Math.abs(x.objects - x.baselineObjects) ||
      confidenceShift(y) - confidenceShift(x) ||
      (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)
  )
  return {
    version: STATISTICS_VERSION,
    baselines,
    files: current.files,
    baselineFiles: baseline.files,
    classes
  }
}
