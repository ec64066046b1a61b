// OpenLABEL checks for Kognic predictions, in one walk over the parsed document. It runs on thousands of
// files before anything is uploaded, so paths and messages are only built when a problem is found.
import type { Problem } from '../types.js'
import { isRecord } from '../guards.js'

/** What the walk learns besides problems; collected whatever the `validation` input says. */
export interface OpenLabelFacts {
  /** True when any frame object holds an `image` (segmentation) geometry. */
  hasSegmentation: boolean
  /** Values of `ontologies.*.classifications`, sorted, unique. */
  segmentationClasses: string[]
}

export interface OpenLabelAnalysis extends OpenLabelFacts {
  /** Every problem, in document order. Paths are relative to the `openlabel` object. */
  problems: Problem[]
}

export const SCHEMA_VERSION = '1.0.0'
export const LIDAR_STREAM = '@lidar'
/** How far a cuboid rotation quaternion's length may be from 1. */
export const QUATERNION_TOLERANCE = 1e-3

// OpenLABEL geometry keys of object_data: each must name its stream. Other keys (text, num, boolean…) are
// static attributes, not geometries.
const GEOMETRY_KEYS = new Set(['bbox', 'rbbox', 'cuboid', 'poly2d', 'poly3d', 'point2d', 'point3d', 'image'])

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
// Signature (8) + IHDR length and type (8) + IHDR data (13) = 29 bytes; 64 base64 characters give 48 bytes,
// room for a stray line break, and nothing else of the image is decoded.
const PNG_HEADER_BASE64_CHARS = 64
const PNG_COLOUR_TYPES: Record<number, string> = {
  0: 'greyscale',
  2: 'RGB',
  3: 'palette',
  4: 'greyscale with alpha',
  6: 'RGBA'
}

type JsonRecord = Record<string, unknown>

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

const PLAIN_KEY = /^[A-Za-z0-9_@$-]+$/

/** One step of a jsonPath: `.key`, or `["odd.key"]` when the key has dots or other odd characters. */
export function pathKey(key: string): string {
  return PLAIN_KEY.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** A short rendering of a found value for messages: never the whole of a large value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') {
    return value.length > 40
      ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)`
      : JSON.stringify(value)
  }
  if (Array.isArray(value)) {
    // Only a short list of plain values is shown: a nested one could be arbitrarily deep.
    const plain = value.length <= 12 && value.every((item) => item === null || typeof item !== 'object')
    const text = plain ? JSON.stringify(value) : ''
    return text !== '' && text.length <= 80
      ? text
      : `a list of ${value.length} item${value.length === 1 ? '' : 's'}`
  }
  if (isRecord(value)) return 'an object'
  return String(value)
}

/** All problems of an OpenLABEL document (`{"openlabel": {...}}`); paths are relative to `openlabel`. */
export function validateOpenLabel(doc: unknown): Problem[] {
  return analyseOpenLabel(doc).problems
}

/** The single walk: problems, plus what the upload needs to know about segmentation. */
export function analyseOpenLabel(doc: unknown): OpenLabelAnalysis {
  const problems: Problem[] = []
  const report = (kind: string, jsonPath: string, message: string): void => {
    problems.push({ kind, jsonPath, message })
  }
  const classes = new Set<string>()
  const at = new GeometryCursor()
  let hasSegmentation = false
  let firstImagePath: string | null = null

  const openlabel = isRecord(doc) ? doc.openlabel : undefined
  if (!isRecord(openlabel)) {
    report(
      'openlabel-not-object',
      '',
      `expected a document {"openlabel": {...}}; found ${isRecord(doc) ? `"openlabel" as ${describeValue(openlabel)}` : describeValue(doc)}`
    )
    return { problems, hasSegmentation, segmentationClasses: [] }
  }

  // metadata.schema_version
  const metadata = openlabel.metadata
  const schemaVersion = isRecord(metadata) ? metadata.schema_version : undefined
  if (schemaVersion !== SCHEMA_VERSION) {
    report(
      'schema-version',
      'metadata.schema_version',
      `found ${describeValue(schemaVersion)}; expected "${SCHEMA_VERSION}" (Kognic reads OpenLABEL ${SCHEMA_VERSION})`
    )
  }

  // streams: only camera and lidar, the lidar one named @lidar
  const streams = openlabel.streams
  const declaredStreams = isRecord(streams) ? streams : null
  if (declaredStreams === null) {
    report(
      'structure',
      'streams',
      `found ${describeValue(streams)}; expected an object of streams, e.g. {"@lidar": {"type": "lidar"}, "<camera name>": {"type": "camera"}}`
    )
  } else {
    for (const name in declaredStreams) {
      const stream = declaredStreams[name]
      const type = isRecord(stream) ? stream.type : undefined
      if (type !== 'camera' && type !== 'lidar') {
        report(
          'stream-type',
          `streams${pathKey(name)}.type`,
          `stream "${name}" has type ${describeValue(type)}; expected "camera" or "lidar"`
        )
      } else if (type === 'lidar' && name !== LIDAR_STREAM) {
        report(
          'lidar-stream-name',
          `streams${pathKey(name)}`,
          `the lidar stream is named "${name}"; Kognic expects it to be named "${LIDAR_STREAM}"`
        )
      }
    }
  }

  // root objects: each has a class name in `type`
  const rootObjects = isRecord(openlabel.objects) ? openlabel.objects : null
  if (openlabel.objects !== undefined && rootObjects === null) {
    report(
      'structure',
      'objects',
      `found ${describeValue(openlabel.objects)}; expected an object of objects keyed by object id`
    )
  }
  if (rootObjects !== null) {
    for (const id in rootObjects) {
      const object = rootObjects[id]
      const type = isRecord(object) ? object.type : undefined
      if (typeof type !== 'string' || type === '') {
        report(
          'object-type',
          `objects${pathKey(id)}.type`,
          `object "${id}" has type ${describeValue(type)}; expected its class name, a non-empty string`
        )
      }
    }
  }

  // ontologies: the segmentation classes, pixel value → class name
  let hasClassifications = false
  const ontologies = openlabel.ontologies
  if (isRecord(ontologies)) {
    for (const ontologyKey in ontologies) {
      const ontology = ontologies[ontologyKey]
      const classifications = isRecord(ontology) ? ontology.classifications : undefined
      if (!isRecord(classifications)) continue
      for (const index in classifications) {
        const className = classifications[index]
        if (typeof className === 'string' && className !== '') {
          classes.add(className)
          hasClassifications = true
        } else {
          report(
            'ontology-class',
            `ontologies${pathKey(ontologyKey)}.classifications${pathKey(index)}`,
            `pixel value ${index} maps to ${describeValue(className)}; expected a class name, a non-empty string`
          )
        }
      }
    }
  }

  // frames
  const frames = openlabel.frames
  if (!isRecord(frames)) {
    report(
      'structure',
      'frames',
      `found ${describeValue(frames)}; expected an object of frames, e.g. {"0": {"frame_properties": {"timestamp": 0}, "objects": {...}}}`
    )
  } else {
    for (const frameId in frames) {
      const frame = frames[frameId]
      if (!isRecord(frame)) {
        report(
          'structure',
          `frames${pathKey(frameId)}`,
          `frame "${frameId}" is ${describeValue(frame)}; expected an object with frame_properties and objects`
        )
        continue
      }
      const frameProperties = frame.frame_properties
      const timestamp = isRecord(frameProperties) ? frameProperties.timestamp : undefined
      if (!isFiniteNumber(timestamp)) {
        report(
          'frame-timestamp',
          `frames${pathKey(frameId)}.frame_properties.timestamp`,
          `found ${describeValue(timestamp)}; expected a number (milliseconds; 0 for a single frame) that matches the annotated frame`
        )
      }
      const frameObjects = frame.objects
      if (frameObjects === undefined) continue
      if (!isRecord(frameObjects)) {
        report(
          'structure',
          `frames${pathKey(frameId)}.objects`,
          `found ${describeValue(frameObjects)}; expected an object keyed by the ids of root objects`
        )
        continue
      }
      for (const objectId in frameObjects) {
        if (rootObjects === null || !Object.hasOwn(rootObjects, objectId)) {
          report(
            'unknown-object',
            `frames${pathKey(frameId)}.objects${pathKey(objectId)}`,
            `object "${objectId}" is not declared in the root "objects"; add it there with its "type" (class name)`
          )
        }
        const frameObject = frameObjects[objectId]
        const objectData = isRecord(frameObject) ? frameObject.object_data : undefined
        if (objectData === undefined) continue
        if (!isRecord(objectData)) {
          report(
            'structure',
            `frames${pathKey(frameId)}.objects${pathKey(objectId)}.object_data`,
            `found ${describeValue(objectData)}; expected an object of geometries such as {"bbox": [...]}`
          )
          continue
        }
        for (const geometryKey in objectData) {
          if (!GEOMETRY_KEYS.has(geometryKey)) continue
          const list = objectData[geometryKey]
          if (!Array.isArray(list)) {
            report(
              'structure',
              `frames${pathKey(frameId)}.objects${pathKey(objectId)}.object_data.${geometryKey}`,
              `found ${describeValue(list)}; expected a list of ${geometryKey} geometries`
            )
            continue
          }
          for (let i = 0; i < list.length; i++) {
            const geometry: unknown = list[i]
            at.frameId = frameId
            at.objectId = objectId
            at.geometryKey = geometryKey
            at.index = i
            if (!isRecord(geometry)) {
              report('structure', at.path(), `found ${describeValue(geometry)}; expected a geometry object`)
              continue
            }
            if (geometryKey === 'bbox') {
              checkBbox(geometry.val, at, report)
            } else if (geometryKey === 'cuboid') {
              checkCuboid(geometry.val, at, report)
            } else if (geometryKey === 'image') {
              hasSegmentation = true
              if (firstImagePath === null) firstImagePath = at.path()
              checkImage(geometry, at, report)
            }
            checkAttributes(geometry.attributes, declaredStreams, at, report)
          }
        }
      }
    }
  }

  if (hasSegmentation && !hasClassifications) {
    report(
      'ontology-missing',
      'ontologies',
      `${firstImagePath ?? 'an image geometry'} is a segmentation image, but no ontologies.<n>.classifications maps its pixel values to class names; add e.g. "ontologies": {"0": {"classifications": {"1": "car", "2": "road"}}}`
    )
  }

  const segmentationClasses = [...classes].sort()
  return { problems, hasSegmentation, segmentationClasses }
}

type Report = (kind: string, jsonPath: string, message: string) => void

/** Where the walk is, updated in place: a path string is only built when a problem is reported. */
class GeometryCursor {
  frameId = ''
  objectId = ''
  geometryKey = ''
  index = 0

  path(): string {
    return `frames${pathKey(this.frameId)}.objects${pathKey(this.objectId)}.object_data.${this.geometryKey}[${this.index}]`
  }
}

function allFinite(values: unknown[]): boolean {
  for (const value of values) if (!isFiniteNumber(value)) return false
  return true
}

function checkBbox(val: unknown, at: GeometryCursor, report: Report): void {
  if (!Array.isArray(val) || val.length !== 4 || !allFinite(val)) {
    report(
      'bbox-val',
      `${at.path()}.val`,
      `found ${describeValue(val)}; expected [x_center, y_center, width, height]: 4 finite numbers, in pixels`
    )
    return
  }
  const [, , width, height] = val as number[]
  if (!(width! > 0) || !(height! > 0)) {
    report(
      'bbox-size',
      `${at.path()}.val`,
      `width ${width} and height ${height}; both must be positive (val is [x_center, y_center, width, height])`
    )
  }
}

function checkCuboid(val: unknown, at: GeometryCursor, report: Report): void {
  if (!Array.isArray(val) || val.length !== 10 || !allFinite(val)) {
    report(
      'cuboid-val',
      `${at.path()}.val`,
      `found ${describeValue(val)}; expected [x, y, z, qx, qy, qz, qw, width, length, height]: 10 finite numbers`
    )
    return
  }
  const v = val as number[]
  const norm = Math.hypot(v[3]!, v[4]!, v[5]!, v[6]!)
  if (Math.abs(norm - 1) > QUATERNION_TOLERANCE) {
    report(
      'cuboid-quaternion',
      `${at.path()}.val`,
      `rotation quaternion [qx, qy, qz, qw] = [${v[3]}, ${v[4]}, ${v[5]}, ${v[6]}] has length ${norm.toPrecision(6)}; expected a unit quaternion (length 1 ± ${QUATERNION_TOLERANCE})`
    )
  }
  if (!(v[7]! > 0) || !(v[8]! > 0) || !(v[9]! > 0)) {
    report(
      'cuboid-size',
      `${at.path()}.val`,
      `width ${v[7]}, length ${v[8]}, height ${v[9]}; all three must be positive (metres)`
    )
  }
}

function checkImage(geometry: JsonRecord, at: GeometryCursor, report: Report): void {
  const { val, mime_type: mimeType, encoding } = geometry
  if (mimeType !== 'image/png' || encoding !== 'base64' || typeof val !== 'string') {
    const found: string[] = []
    if (mimeType !== 'image/png') found.push(`mime_type ${describeValue(mimeType)}`)
    if (encoding !== 'base64') found.push(`encoding ${describeValue(encoding)}`)
    if (typeof val !== 'string') found.push(`val ${describeValue(val)}`)
    report(
      'image-encoding',
      at.path(),
      `found ${found.join(', ')}; expected {"val": "<base64 PNG>", "mime_type": "image/png", "encoding": "base64"}`
    )
    return
  }
  const problem = pngHeaderProblem(val)
  if (problem !== null) report('image-png', `${at.path()}.val`, problem)
}

/** Reads only the PNG signature and IHDR from the start of the base64 text; null when it is 8-bit greyscale. */
export function pngHeaderProblem(base64: string): string | null {
  const expected =
    'expected an 8-bit greyscale PNG (colour type 0), one byte per pixel holding the class index'
  if (base64.startsWith('data:')) {
    return `val starts with a data URL prefix ("${base64.slice(0, 22)}…"); give only the base64 of the PNG; ${expected}`
  }
  const header = Buffer.from(base64.slice(0, PNG_HEADER_BASE64_CHARS), 'base64')
  let isPng = header.length >= 29
  for (let i = 0; isPng && i < PNG_SIGNATURE.length; i++) if (header[i] !== PNG_SIGNATURE[i]) isPng = false
  if (!isPng) return `val does not decode to a PNG (no PNG signature at the start); ${expected}`
  if (header.toString('latin1', 12, 16) !== 'IHDR') {
    return `val is not a well-formed PNG (its first chunk is not IHDR); ${expected}`
  }
  const bitDepth = header[24]!
  const colourType = header[25]!
  if (bitDepth !== 8 || colourType !== 0) {
    const colour = PNG_COLOUR_TYPES[colourType] ?? `unknown colour type ${colourType}`
    return `val is a PNG of bit depth ${bitDepth}, colour type ${colourType} (${colour}); ${expected}`
  }
  return null
}

function checkAttributes(
  attributes: unknown,
  declaredStreams: JsonRecord | null,
  at: GeometryCursor,
  report: Report
): void {
  const text = isRecord(attributes) ? attributes.text : undefined
  let streamIndex = -1
  let stream: unknown = undefined
  if (Array.isArray(text)) {
    for (let j = 0; j < text.length; j++) {
      const entry: unknown = text[j]
      if (isRecord(entry) && entry.name === 'stream') {
        streamIndex = j
        stream = entry.val
        break
      }
    }
  }
  if (streamIndex < 0 || typeof stream !== 'string' || stream === '') {
    report(
      'stream-missing',
      `${at.path()}.attributes.text`,
      streamIndex < 0
        ? 'no {"name": "stream", "val": "<sensor>"} entry; every geometry must name the stream (sensor) it belongs to'
        : `the stream entry has val ${describeValue(stream)}; expected the name of a declared stream`
    )
  } else if (declaredStreams !== null && !Object.hasOwn(declaredStreams, stream)) {
    const known = Object.keys(declaredStreams)
    report(
      'stream-undeclared',
      `${at.path()}.attributes.text[${streamIndex}].val`,
      `stream "${stream}" is not declared in "streams"${known.length > 0 ? ` (declared: ${known.map((s) => `"${s}"`).join(', ')})` : ''}; declare it or fix the name`
    )
  }

  const num = isRecord(attributes) ? attributes.num : undefined
  if (!Array.isArray(num)) return
  for (let j = 0; j < num.length; j++) {
    const entry: unknown = num[j]
    if (!isRecord(entry) || entry.name !== 'confidence') continue
    const confidence = entry.val
    if (!isFiniteNumber(confidence) || confidence < 0 || confidence > 1) {
      report(
        'confidence',
        `${at.path()}.attributes.num[${j}].val`,
        `confidence is ${describeValue(confidence)}; expected a number from 0 to 1`
      )
    }
  }
}
