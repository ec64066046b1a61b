// OpenLABEL checks for Kognic predictions, in one walk over the parsed document. It runs on thousands of
// files before anything is uploaded, so paths and messages are only built when a problem is found.
import type { Problem } from '../types.js'
import { isRecord } from '../guards.js'
import {
  FileStatisticsCollector,
  type FileStatistics,
  type GeometryAttributes,
  type GeometryKind
} from './statistics.js'

/** What the walk learns besides problems; collected whatever the `validation` input says. */
export interface OpenLabelFacts {
  /** True when any frame object holds an `image` (segmentation) geometry. */
  hasSegmentation: boolean
  /** Values of `ontologies.*.classifications`, sorted, unique. */
  segmentationClasses: string[]
  /** What the file predicts, counted (statistics.ts). */
  statistics: FileStatistics
}

export interface OpenLabelAnalysis extends OpenLabelFacts {
  /** Every problem, in document order. Paths are relative to the `openlabel` object. */
  problems: Problem[]
}

export const SCHEMA_VERSION = '1.0.0'
export const LIDAR_STREAM = '@lidar'
/** How far a cuboid rotation quaternion's length may be from 1 before it is worth a warning. */
export const QUATERNION_TOLERANCE = 1e-3

export type Severity = 'error' | 'warning'

/** One check: how much it weighs, and what it rests on. */
export interface Rule {
  /** `error` blocks the file in `validation: strict`; `warning` is reported and the file is still uploaded. */
  severity: Severity
  /** `guide: <section>` (Kognic's prediction-format guide), `data model: <field>` (kognic-openlabel), or `plausibility`. */
  source: string
  /** What is checked, in one line: the README's "What is checked" table shows these words. */
  checks: string
}

// Attribute names a model's exporter often gives its confidence; compared case-insensitively, so
// `Confidence` and `CONFIDENCE` count too (exactly `confidence` is the right name).
const CONFIDENCE_LOOKALIKES = ['confidence', 'score', 'conf', 'probability', 'prob'] as const
/** Frames whose neighbouring timestamps are all closer than this many ms are likely in seconds. */
const SECONDS_GAP_MS = 1
// The segmentation object type of Kognic's example.
const SEGMENTATION_TYPE = 'segmentation_bitmap'

// Every rule, by the `kind` its problems carry. An error rests on what Kognic documents (the guide, or the
// data model's required fields and types) or on the file being unusable; plausibility alone only warns.
// Where the guide and the data model disagree, the looser one decides what blocks (frame keys, timestamps,
// stream types). The README's "What is checked" table must equal this one (a test compares them).
export const RULES = {
  'openlabel-not-object': {
    severity: 'error',
    source: 'guide: The prediction format',
    checks: 'the document is `{"openlabel": {...}}`'
  },
  structure: {
    severity: 'error',
    source: 'data model: types of `streams`, `objects`, `frames`, `object_data`, `ontologies`',
    checks:
      '`frames` is there (without it nothing is predicted); each part is an object, or a list, as OpenLABEL shapes it'
  },
  'schema-version': {
    severity: 'error',
    source: 'guide: metadata; data model: `metadata.schema_version`',
    checks: '`metadata.schema_version` is `"1.0.0"`'
  },
  'unknown-key': {
    severity: 'warning',
    source: 'data model: no extra keys in the `openlabel` root, `object_data`, `attributes`',
    checks: 'no key there that OpenLABEL does not define'
  },
  'streams-missing': {
    severity: 'warning',
    source: 'guide: streams (data model: optional)',
    checks: '`streams` declares the sensors; without it stream names are not checked'
  },
  'stream-type': {
    severity: 'error',
    source: 'data model: `streams.*.type`',
    checks: 'a stream is an object; its `type`, if any, is `camera`, `lidar`, `radar`, `gps_imu` or `other`'
  },
  'lidar-stream-name': {
    severity: 'error',
    source: 'guide: the lidar sensor id is `@lidar`',
    checks: 'a stream of type `lidar` is named `@lidar`'
  },
  'frame-key': {
    severity: 'warning',
    source: 'data model: `frames` keys (the guide: any string)',
    checks: 'frame keys are whole numbers: `"0"`, `"1"`, …'
  },
  'frame-timestamp-missing': {
    severity: 'warning',
    source: 'guide: `frame_properties.timestamp` (data model: optional)',
    checks: 'each frame has `frame_properties.timestamp`, which matches it to the annotated frame'
  },
  'frame-timestamp': {
    severity: 'error',
    source: 'guide: `frame_properties.timestamp` in ms; data model: int or str',
    checks: 'a timestamp is a number or a numeric string'
  },
  'object-name': {
    severity: 'error',
    source: 'data model: `objects.*.name`',
    checks: 'each root object has a `name` string'
  },
  'object-type': {
    severity: 'error',
    source: 'guide: `type` is the class name; data model: `objects.*.type`',
    checks: 'each root object has a non-empty `type` string'
  },
  'unknown-object': {
    severity: 'error',
    source: 'guide: object keys match in root and frame `objects`',
    checks: "every key of a frame's `objects` is a key of the root `objects`"
  },
  'geometry-unsupported': {
    severity: 'error',
    source: 'guide: Supported prediction features',
    checks: 'geometries are `bbox`, `cuboid` or `image` only (not `poly2d`, `point3d`, `rbbox`, …)'
  },
  'geometry-name': {
    severity: 'error',
    source: 'data model: `name` of `bbox`, `cuboid`, `image`',
    checks: 'each `bbox`, `cuboid` and `image` entry has a `name` string'
  },
  'bbox-val': {
    severity: 'error',
    source: 'guide: 2D bounding box',
    checks: '`bbox` `val` is `[x_center, y_center, width, height]`: 4 finite numbers'
  },
  'bbox-size': {
    severity: 'warning',
    source: 'plausibility',
    checks: "a box's width and height are above 0"
  },
  'cuboid-val': {
    severity: 'error',
    source: 'guide: 3D cuboid',
    checks: '`cuboid` `val` is `[x, y, z, qx, qy, qz, qw, width, length, height]`: 10 finite numbers'
  },
  'cuboid-quaternion': {
    severity: 'warning',
    source: 'plausibility',
    checks: `the rotation quaternion has length 1 (± ${QUATERNION_TOLERANCE})`
  },
  'cuboid-size': {
    severity: 'warning',
    source: 'plausibility',
    checks: "a cuboid's width, length and height are above 0"
  },
  'image-encoding': {
    severity: 'error',
    source: 'guide: segmentation bitmaps; data model: `image` `val`, `mime_type`, `encoding`',
    checks: 'an `image` is a base64 string with `mime_type` `image/png` and `encoding` `base64`'
  },
  'image-png': {
    severity: 'error',
    source: 'guide: segmentation bitmaps (grey-scale 8-bit PNG)',
    checks: 'the PNG is 8-bit grey-scale'
  },
  'stream-missing': {
    severity: 'error',
    source: 'guide: prediction examples (`attributes.text` stream)',
    checks: 'each geometry names its stream: `{"name": "stream", "val": "<sensor>"}` in `attributes.text`'
  },
  'stream-undeclared': {
    severity: 'error',
    source: 'guide: streams',
    checks: 'that stream is declared in `streams` (when `streams` is given)'
  },
  confidence: {
    severity: 'error',
    source: 'guide: confidence ("must be defined as a numeric value")',
    checks: 'a `confidence` is a number from 0 to 1 in `attributes.num`'
  },
  'confidence-name': {
    severity: 'warning',
    source: 'guide: confidence (1.0 when absent)',
    checks: `no geometry attribute in \`text\` or \`num\` is named ${CONFIDENCE_LOOKALIKES.slice(1)
      .map((n) => `\`${n}\``)
      .join(', ')} or \`confidence\` in another case (e.g. \`Confidence\`) instead of \`confidence\``
  },
  'confidence-place': {
    severity: 'warning',
    source: 'guide: confidence (1.0 when absent)',
    checks:
      "a `confidence` is in the geometry's `attributes.num`, not in `object_data.num` of a frame or root object, nor in `attributes.vec`/`boolean`"
  },
  'timestamps-zero': {
    severity: 'warning',
    source: 'guide: frames are matched by millisecond timestamp (plausibility)',
    checks: 'a file with more than one frame does not give every frame timestamp 0'
  },
  'timestamps-seconds': {
    severity: 'warning',
    source: 'guide: frames are matched by millisecond timestamp (plausibility)',
    checks: `timestamps are not seconds: with 2 or more distinct timestamps, not every gap between neighbours is below ${SECONDS_GAP_MS} ms`
  },
  'timestamp-negative': {
    severity: 'warning',
    source: 'guide: frames are matched by millisecond timestamp (plausibility)',
    checks: 'a timestamp is not negative'
  },
  'timestamp-duplicate': {
    severity: 'warning',
    source: 'guide: frames are matched by millisecond timestamp (plausibility)',
    checks: 'no two frames of a file have the same timestamp'
  },
  'stream-geometry': {
    severity: 'warning',
    source: 'guide: 2D bounding box, 3D cuboid, segmentation bitmaps (plausibility)',
    checks:
      'a `bbox` or `image` is not on a `lidar` stream, a `cuboid` not on a `camera` stream (when `streams` gives the type)'
  },
  'segmentation-type': {
    severity: 'warning',
    source: 'guide: segmentation bitmaps (`"type": "segmentation_bitmap"`)',
    checks: 'a root object whose frames hold `image` geometries has `type` `segmentation_bitmap`'
  },
  'ontology-pixel': {
    severity: 'warning',
    source: 'guide: segmentation bitmaps (grey-scale 8-bit PNG)',
    checks: '`classifications` keys are pixel values: whole numbers 0 to 255'
  },
  'root-geometry': {
    severity: 'warning',
    source: 'guide: The prediction format (geometries are in frames)',
    checks: "no `bbox`, `cuboid` or `image` in a root object's `object_data`"
  },
  'no-objects': {
    severity: 'warning',
    source: 'plausibility',
    checks: 'a file holds at least one geometry in some frame'
  },
  'ontology-uri': {
    severity: 'error',
    source: 'data model: `ontologies.*.uri`',
    checks: 'each ontology has a `uri` string (`""` will do, as in the guide)'
  },
  'ontology-class': {
    severity: 'error',
    source: 'guide: segmentation bitmaps (`ontologies`)',
    checks: '`classifications` map pixel values to class names (non-empty strings)'
  },
  'ontology-missing': {
    severity: 'error',
    source: 'guide: segmentation bitmaps ("an ontology has to be supplied")',
    checks: 'a file with an `image` has `ontologies.<n>.classifications`'
  }
} as const satisfies Record<string, Rule>

export type RuleId = keyof typeof RULES

// The keys the data model allows in the `openlabel` root (OpenLABEL 1.0.0); others only warn.
const OPENLABEL_KEYS = new Set([
  'metadata',
  'ontologies',
  'resources',
  'tags',
  'frames',
  'frame_intervals',
  'objects',
  'actions',
  'events',
  'contexts',
  'relations',
  'streams',
  'coordinate_systems'
])
// The stream types of the data model; the guide names camera and lidar ("cameras, lidars, ...").
const STREAM_TYPES = new Set(['camera', 'lidar', 'radar', 'gps_imu', 'other'])
// What object_data may hold. The data model copies OpenLABEL 1.0.0's object_data (unknown keys forbidden):
// - bbox, cuboid, image: the geometries the predictions API supports (the guide, "Supported prediction features");
// - boolean, num, text, vec: OpenLABEL's non-geometric "generic data", allowed: the guide's own examples put
//   a static `text` property (`color`) in object_data, and none of them is a geometry;
// - every other OpenLABEL object_data key is a geometry (or a reference to one, or a matrix or blob standing
//   for one) that the predictions API does not take: an error. `line` and `mesh` are not OpenLABEL 1.0.0
//   keys, but are geometries by any reading, so they are refused too rather than passed as unknown keys.
const GEOMETRY_KEYS = new Set(['bbox', 'cuboid', 'image'])
const ATTRIBUTE_KEYS = new Set(['boolean', 'num', 'text', 'vec'])
const UNSUPPORTED_GEOMETRY_KEYS = new Set([
  'rbbox',
  'poly2d',
  'poly3d',
  'point2d',
  'point3d',
  'mat',
  'binary',
  'line_reference',
  'area_reference',
  'line',
  'mesh'
])
// The data model's pattern for frame keys; the guide only says "a string", so a mismatch only warns.
const FRAME_KEY = /^[0-9]+$/
// The data model takes int or str, the guide milliseconds: a string is taken when it is a number.
const NUMERIC_STRING = /^-?[0-9]+(\.[0-9]+)?$/
// An ontology key is a pixel value of an 8-bit PNG: a whole number, checked ≤ 255 after.
const PIXEL_VALUE = /^[0-9]{1,3}$/

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

/** The path of a key of the `openlabel` object: paths are relative to it, so no leading dot. */
function rootKey(key: string): string {
  return pathKey(key).replace(/^\./, '')
}

/** All problems of an OpenLABEL document (`{"openlabel": {...}}`); paths are relative to `openlabel`. */
export function validateOpenLabel(doc: unknown): Problem[] {
  return analyseOpenLabel(doc).problems
}

/** The single walk: problems, plus what the upload needs to know about segmentation. */
export function analyseOpenLabel(doc: unknown): OpenLabelAnalysis {
  const problems: Problem[] = []
  const report: Report = (kind, jsonPath, message) => {
    problems.push({ kind, severity: RULES[kind].severity, jsonPath, message })
  }
  const classes = new Set<string>()
  const at = new GeometryCursor()
  const statistics = new FileStatisticsCollector()
  let hasSegmentation = false
  let firstImagePath: string | null = null
  // Ids of frame objects holding an image, their root objects' type checked after the walk.
  const imageObjects = new Set<string>()
  const timestamps: FrameTime[] = []
  let geometryCount = 0

  const openlabel = isRecord(doc) ? doc.openlabel : undefined
  if (!isRecord(openlabel)) {
    report(
      'openlabel-not-object',
      '',
      `expected a document {"openlabel": {...}}; found ${isRecord(doc) ? `"openlabel" as ${describeValue(openlabel)}` : describeValue(doc)}`
    )
    return { problems, hasSegmentation, segmentationClasses: [], statistics: statistics.result() }
  }

  for (const key in openlabel) {
    if (!OPENLABEL_KEYS.has(key)) {
      report(
        'unknown-key',
        rootKey(key),
        `"${key}" is not an OpenLABEL key (Kognic's data model forbids unknown keys here); remove it if it is a mistake`
      )
    }
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

  // streams: optional in the data model. Without them a geometry's stream cannot be checked here (Kognic
  // matches it to the scene's sensors), so their absence warns instead of turning every geometry into an error.
  const streams = openlabel.streams
  let declaredStreams: JsonRecord | null = null
  if (streams === undefined) {
    report(
      'streams-missing',
      'streams',
      `no "streams"; the stream each geometry names cannot be checked. Declare the sensors, e.g. {"${LIDAR_STREAM}": {"type": "lidar"}, "<camera name>": {"type": "camera"}}`
    )
  } else if (!isRecord(streams)) {
    report(
      'structure',
      'streams',
      `found ${describeValue(streams)}; expected an object of streams, e.g. {"${LIDAR_STREAM}": {"type": "lidar"}, "<camera name>": {"type": "camera"}}`
    )
  } else {
    declaredStreams = streams
    for (const name in streams) {
      const stream = streams[name]
      if (!isRecord(stream)) {
        report(
          'stream-type',
          `streams${pathKey(name)}`,
          `stream "${name}" is ${describeValue(stream)}; expected an object such as {"type": "camera"}`
        )
        continue
      }
      const type = stream.type
      if (type !== undefined && !(typeof type === 'string' && STREAM_TYPES.has(type))) {
        report(
          'stream-type',
          `streams${pathKey(name)}.type`,
          `stream "${name}" has type ${describeValue(type)}; expected one of ${[...STREAM_TYPES].map((t) => `"${t}"`).join(', ')}`
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

  // root objects: each has a name and a class name in `type`
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
      if (!isRecord(object)) {
        report(
          'structure',
          `objects${pathKey(id)}`,
          `object "${id}" is ${describeValue(object)}; expected {"name": "<name>", "type": "<class name>"}`
        )
        continue
      }
      if (typeof object.name !== 'string') {
        report(
          'object-name',
          `objects${pathKey(id)}.name`,
          `object "${id}" has name ${describeValue(object.name)}; expected a string (Kognic's data model requires it; the object id will do)`
        )
      }
      const type = object.type
      if (typeof type !== 'string' || type === '') {
        report(
          'object-type',
          `objects${pathKey(id)}.type`,
          `object "${id}" has type ${describeValue(type)}; expected its class name, a non-empty string`
        )
      }
      if (isRecord(object.object_data)) {
        const dataPath = `objects${pathKey(id)}.object_data`
        for (const key in object.object_data) {
          if (GEOMETRY_KEYS.has(key)) {
            report(
              'root-geometry',
              `${dataPath}${pathKey(key)}`,
              `a "${key}" in the root object's object_data; Kognic reads geometries from frames only, so it is not read: move it into frames.<n>.objects${pathKey(id)}.object_data`
            )
          } else checkObjectDataKey(key, dataPath, report)
        }
        checkDataConfidence(object.object_data, dataPath, report)
      }
    }
  }

  // ontologies: the segmentation classes, pixel value → class name
  let hasClassifications = false
  const ontologies = openlabel.ontologies
  if (ontologies !== undefined && !isRecord(ontologies)) {
    report(
      'structure',
      'ontologies',
      `found ${describeValue(ontologies)}; expected an object such as {"0": {"classifications": {"1": "car"}, "uri": ""}}`
    )
  } else if (isRecord(ontologies)) {
    for (const ontologyKey in ontologies) {
      const ontology = ontologies[ontologyKey]
      // OpenLABEL's short form: the string is the ontology's uri.
      if (typeof ontology === 'string') continue
      if (!isRecord(ontology)) {
        report(
          'structure',
          `ontologies${pathKey(ontologyKey)}`,
          `found ${describeValue(ontology)}; expected an object such as {"classifications": {"1": "car"}, "uri": ""}`
        )
        continue
      }
      if (typeof ontology.uri !== 'string') {
        report(
          'ontology-uri',
          `ontologies${pathKey(ontologyKey)}.uri`,
          `found ${describeValue(ontology.uri)}; expected a string (Kognic's data model requires "uri"; "" will do, as in Kognic's segmentation example)`
        )
      }
      const classifications = ontology.classifications
      if (!isRecord(classifications)) continue
      for (const index in classifications) {
        if (!PIXEL_VALUE.test(index) || Number(index) > 255) {
          report(
            'ontology-pixel',
            `ontologies${pathKey(ontologyKey)}.classifications${pathKey(index)}`,
            `key "${index}" is not a pixel value; an 8-bit PNG's pixels are 0 to 255, so this class can never match: key it by the pixel value, e.g. "1"`
          )
        }
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
      const framePath = `frames${pathKey(frameId)}`
      if (!FRAME_KEY.test(frameId)) {
        report(
          'frame-key',
          framePath,
          `frame key "${frameId}" is not a whole number; Kognic's data model expects "0", "1", … (frames are matched by timestamp, so this only warns)`
        )
      }
      const frame = frames[frameId]
      statistics.frame()
      if (!isRecord(frame)) {
        report(
          'structure',
          framePath,
          `frame "${frameId}" is ${describeValue(frame)}; expected an object with frame_properties and objects`
        )
        continue
      }
      const ms = checkTimestamp(frame.frame_properties, framePath, report)
      if (ms !== undefined) timestamps.push({ frameId, ms })
      const frameObjects = frame.objects
      if (frameObjects === undefined) continue
      if (!isRecord(frameObjects)) {
        report(
          'structure',
          `${framePath}.objects`,
          `found ${describeValue(frameObjects)}; expected an object keyed by the ids of root objects`
        )
        continue
      }
      for (const objectId in frameObjects) {
        const objectPath = `${framePath}.objects${pathKey(objectId)}`
        if (rootObjects === null || !Object.hasOwn(rootObjects, objectId)) {
          report(
            'unknown-object',
            objectPath,
            `object "${objectId}" is not declared in the root "objects"; add it there with its "name" and "type" (class name)`
          )
        }
        const frameObject = frameObjects[objectId]
        if (!isRecord(frameObject)) {
          report(
            'structure',
            objectPath,
            `found ${describeValue(frameObject)}; expected an object such as {"object_data": {"bbox": [...]}}`
          )
          continue
        }
        const objectData = frameObject.object_data
        if (objectData === undefined) continue
        if (!isRecord(objectData)) {
          report(
            'structure',
            `${objectPath}.object_data`,
            `found ${describeValue(objectData)}; expected an object of geometries such as {"bbox": [...]}`
          )
          continue
        }
        checkDataConfidence(objectData, `${objectPath}.object_data`, report)
        for (const geometryKey in objectData) {
          if (!GEOMETRY_KEYS.has(geometryKey)) {
            // An unsupported geometry is its own error: the file is not also one with no objects.
            if (UNSUPPORTED_GEOMETRY_KEYS.has(geometryKey)) geometryCount++
            checkObjectDataKey(geometryKey, `${objectPath}.object_data`, report)
            continue
          }
          const list = objectData[geometryKey]
          if (!Array.isArray(list)) {
            report(
              'structure',
              `${objectPath}.object_data.${geometryKey}`,
              `found ${describeValue(list)}; expected a list of ${geometryKey} geometries`
            )
            continue
          }
          geometryCount += list.length
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
            if (typeof geometry.name !== 'string') {
              report(
                'geometry-name',
                `${at.path()}.name`,
                `found ${describeValue(geometry.name)}; expected a string naming this ${geometryKey} (Kognic's data model requires it; any human-readable name will do)`
              )
            }
            if (geometryKey === 'bbox') {
              checkBbox(geometry.val, at, report)
            } else if (geometryKey === 'cuboid') {
              checkCuboid(geometry.val, at, report)
            } else {
              hasSegmentation = true
              imageObjects.add(objectId)
              if (firstImagePath === null) firstImagePath = at.path()
              checkImage(geometry, at, report)
            }
            const read = checkAttributes(geometry.attributes, declaredStreams, at, report)
            statistics.geometry(geometryKey as GeometryKind, objectId, rootObjects?.[objectId], read)
          }
        }
      }
    }
  }

  if (isRecord(frames)) {
    checkSequence(timestamps, report)
    if (geometryCount === 0) {
      report(
        'no-objects',
        'frames',
        'no frame holds a bbox, cuboid or image, so this file predicts nothing for its scene; add the geometries to frames.<n>.objects.<id>.object_data, or leave the file out'
      )
    }
  }
  for (const id of imageObjects) {
    const type = rootObjects?.[id]
    if (!isRecord(type) || typeof type.type !== 'string' || type.type === '') continue
    if (type.type !== SEGMENTATION_TYPE) {
      report(
        'segmentation-type',
        `objects${pathKey(id)}.type`,
        `object "${id}" holds segmentation images but has type ${describeValue(type.type)}; Kognic's segmentation example gives it "type": "${SEGMENTATION_TYPE}"`
      )
    }
  }

  if (hasSegmentation && !hasClassifications) {
    report(
      'ontology-missing',
      'ontologies',
      `${firstImagePath ?? 'an image geometry'} is a segmentation image, but no ontologies.<n>.classifications maps its pixel values to class names; add e.g. "ontologies": {"0": {"classifications": {"1": "car", "2": "road"}, "uri": ""}}`
    )
  }

  const segmentationClasses = [...classes].sort()
  return { problems, hasSegmentation, segmentationClasses, statistics: statistics.result() }
}

type Report = (kind: RuleId, jsonPath: string, message: string) => void

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

/** A key of object_data other than bbox, cuboid, image: another geometry is an error, an unknown key warns. */
function checkObjectDataKey(key: string, objectDataPath: string, report: Report): void {
  if (GEOMETRY_KEYS.has(key) || ATTRIBUTE_KEYS.has(key)) return
  if (UNSUPPORTED_GEOMETRY_KEYS.has(key)) {
    report(
      'geometry-unsupported',
      `${objectDataPath}${pathKey(key)}`,
      `"${key}" geometries are not supported by Kognic's predictions API, which takes only bbox, cuboid and image (segmentation); remove them or convert them`
    )
  } else {
    report(
      'unknown-key',
      `${objectDataPath}${pathKey(key)}`,
      `"${key}" is not an OpenLABEL object_data key (Kognic's data model forbids unknown keys here); remove it if it is a mistake`
    )
  }
}

/** A frame's timestamp as a number (a numeric string counts as its number). */
interface FrameTime {
  frameId: string
  ms: number
}

/** The frame's timestamp as a number, when it is one (or a numeric string). */
function checkTimestamp(frameProperties: unknown, framePath: string, report: Report): number | undefined {
  if (frameProperties !== undefined && !isRecord(frameProperties)) {
    report(
      'structure',
      `${framePath}.frame_properties`,
      `found ${describeValue(frameProperties)}; expected {"timestamp": <ms>, "external_id": "", "streams": {}}`
    )
    return undefined
  }
  const timestamp = frameProperties?.timestamp
  if (timestamp === undefined) {
    report(
      'frame-timestamp-missing',
      `${framePath}.frame_properties${frameProperties === undefined ? '' : '.timestamp'}`,
      "no frame_properties.timestamp; Kognic matches predicted frames to annotated ones by it: give the frame's time in milliseconds (0 for a single frame)"
    )
  } else if (
    !isFiniteNumber(timestamp) &&
    !(typeof timestamp === 'string' && NUMERIC_STRING.test(timestamp))
  ) {
    report(
      'frame-timestamp',
      `${framePath}.frame_properties.timestamp`,
      `found ${describeValue(timestamp)}; expected a number of milliseconds (or a numeric string; 0 for a single frame) that matches the annotated frame`
    )
  } else {
    return Number(timestamp)
  }
  return undefined
}

function timestampPath(frameId: string): string {
  return `frames${pathKey(frameId)}.frame_properties.timestamp`
}

// One file is one scene: Kognic matches its frames to the annotated ones by millisecond timestamp, so
// timestamps that are all 0, in seconds, negative or repeated make frames land on the wrong ones.
function checkSequence(times: FrameTime[], report: Report): void {
  for (const { frameId, ms } of times) {
    if (ms < 0) {
      report(
        'timestamp-negative',
        timestampPath(frameId),
        `frame "${frameId}" has timestamp ${ms}; a time in milliseconds is 0 or more: give the frame's time from the scene's start or its recording time`
      )
    }
  }
  if (times.length > 1 && times.every((t) => t.ms === 0)) {
    report(
      'timestamps-zero',
      'frames',
      `all ${times.length} frames with a timestamp have timestamp 0, so Kognic cannot tell them apart; give each frame its time in milliseconds`
    )
    return
  }
  const firstAt = new Map<number, string>()
  for (const { frameId, ms } of times) {
    const first = firstAt.get(ms)
    if (first === undefined) firstAt.set(ms, frameId)
    else {
      report(
        'timestamp-duplicate',
        timestampPath(frameId),
        `frames "${first}" and "${frameId}" both have timestamp ${ms}; Kognic matches frames by timestamp, so give each frame its own time in milliseconds`
      )
    }
  }
  const distinct = [...firstAt.keys()].sort((a, b) => a - b)
  if (distinct.length < 2) return
  for (let i = 1; i < distinct.length; i++) if (distinct[i]! - distinct[i - 1]! >= SECONDS_GAP_MS) return
  report(
    'timestamps-seconds',
    'frames',
    `the frames' timestamps (${distinct.slice(0, 3).join(', ')}${distinct.length > 3 ? ', …' : ''}) are all less than ${SECONDS_GAP_MS} ms apart: they look like seconds; Kognic reads milliseconds, so multiply them by 1000`
  )
}

/** Whether an attribute name looks like a confidence without being exactly `confidence`. */
function isConfidenceLookalike(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name !== 'confidence' &&
    (CONFIDENCE_LOOKALIKES as readonly string[]).includes(name.toLowerCase())
  )
}

// A confidence in a frame's or root object's object_data is generic data, not the geometry's: Kognic
// reads none there and sets each geometry's confidence to 1.0.
function checkDataConfidence(objectData: JsonRecord, dataPath: string, report: Report): void {
  for (const { key, index } of entriesNamedConfidence(objectData, ATTRIBUTE_KEYS)) {
    report(
      'confidence-place',
      `${dataPath}.${key}[${index}]`,
      `a confidence in object_data.${key}, outside any geometry; Kognic reads no confidence here and sets it to 1.0: move {"name": "confidence", "val": <0 to 1>} into attributes.num of each geometry`
    )
  }
}

/** Where `record`'s lists under `keys` hold an entry named `confidence`. */
function entriesNamedConfidence(
  record: JsonRecord | null,
  keys: Iterable<string>
): { key: string; index: number }[] {
  const found: { key: string; index: number }[] = []
  for (const key of keys) {
    const list = record?.[key]
    if (!Array.isArray(list)) continue
    list.forEach((entry: unknown, index) => {
      if (isRecord(entry) && entry.name === 'confidence') found.push({ key, index })
    })
  }
  return found
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
      `width ${width} and height ${height}; a box without area is likely a mistake (val is [x_center, y_center, width, height])`
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
      `rotation quaternion [qx, qy, qz, qw] = [${v[3]}, ${v[4]}, ${v[5]}, ${v[6]}] has length ${norm.toPrecision(6)}; a rotation is a unit quaternion (length 1 ± ${QUATERNION_TOLERANCE})`
    )
  }
  if (!(v[7]! > 0) || !(v[8]! > 0) || !(v[9]! > 0)) {
    report(
      'cuboid-size',
      `${at.path()}.val`,
      `width ${v[7]}, length ${v[8]}, height ${v[9]}; a cuboid without volume is likely a mistake (metres)`
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

/** Checks a geometry's attributes; returns the stream and the confidence Kognic reads from them. */
function checkAttributes(
  attributes: unknown,
  declaredStreams: JsonRecord | null,
  at: GeometryCursor,
  report: Report
): GeometryAttributes {
  const record = isRecord(attributes) ? attributes : null
  if (record !== null) {
    for (const key in record) {
      if (!ATTRIBUTE_KEYS.has(key)) {
        report(
          'unknown-key',
          `${at.path()}.attributes${pathKey(key)}`,
          `"${key}" is not an OpenLABEL attribute type (boolean, num, text, vec; Kognic's data model forbids others); remove it if it is a mistake`
        )
      }
    }
  }
  const text = record?.text
  let streamIndex = -1
  let stream: unknown = undefined
  if (Array.isArray(text)) {
    for (let j = 0; j < text.length; j++) {
      const entry: unknown = text[j]
      if (!isRecord(entry)) continue
      if (entry.name === 'stream' && streamIndex < 0) {
        streamIndex = j
        stream = entry.val
      } else if (isConfidenceLookalike(entry.name)) {
        reportLookalike(entry.name, `${at.path()}.attributes.text[${j}]`, report)
      } else if (entry.name === 'confidence') {
        report(
          'confidence',
          `${at.path()}.attributes.text[${j}]`,
          `confidence is given as text (${describeValue(entry.val)}); Kognic requires a number: put {"name": "confidence", "val": <0 to 1>} in attributes.num`
        )
      }
    }
  }
  if (streamIndex < 0 || typeof stream !== 'string' || stream === '') {
    report(
      'stream-missing',
      `${at.path()}.attributes.text`,
      streamIndex < 0
        ? 'no {"name": "stream", "val": "<sensor>"} entry; every geometry must name the stream (sensor) it belongs to'
        : `the stream entry has val ${describeValue(stream)}; expected the name of a stream (sensor)`
    )
  } else if (declaredStreams !== null && !Object.hasOwn(declaredStreams, stream)) {
    const known = Object.keys(declaredStreams)
    report(
      'stream-undeclared',
      `${at.path()}.attributes.text[${streamIndex}].val`,
      `stream "${stream}" is not declared in "streams"${known.length > 0 ? ` (declared: ${known.map((s) => `"${s}"`).join(', ')})` : ''}; declare it or fix the name`
    )
  } else if (declaredStreams !== null) {
    const declared = declaredStreams[stream]
    const type = isRecord(declared) ? declared.type : undefined
    const wrong =
      (type === 'lidar' && at.geometryKey !== 'cuboid') || (type === 'camera' && at.geometryKey === 'cuboid')
    if (wrong) {
      const a = at.geometryKey === 'image' ? 'an' : 'a'
      report(
        'stream-geometry',
        `${at.path()}.attributes.text[${streamIndex}].val`,
        `${a} ${at.geometryKey} on stream "${stream}", which "streams" declares as ${type}; ${at.geometryKey === 'cuboid' ? 'a cuboid is 3D: put it on the lidar stream' : `${a} ${at.geometryKey} is 2D: put it on the camera stream`} it was predicted on`
      )
    }
  }
  for (const { key, index } of entriesNamedConfidence(record, ['vec', 'boolean'])) {
    report(
      'confidence-place',
      `${at.path()}.attributes.${key}[${index}]`,
      `a confidence in attributes.${key}; Kognic reads no confidence here and sets it to 1.0: put {"name": "confidence", "val": <0 to 1>} in attributes.num`
    )
  }

  const read: GeometryAttributes = {
    stream: typeof stream === 'string' && stream !== '' ? stream : null,
    confidence: null
  }
  const num = record?.num
  if (!Array.isArray(num)) return read
  let confidenceSeen = false
  for (let j = 0; j < num.length; j++) {
    const entry: unknown = num[j]
    if (!isRecord(entry)) continue
    if (isConfidenceLookalike(entry.name))
      reportLookalike(entry.name, `${at.path()}.attributes.num[${j}]`, report)
    if (entry.name !== 'confidence') continue
    const confidence = entry.val
    const valid = isFiniteNumber(confidence) && confidence >= 0 && confidence <= 1
    // Kognic reads the first confidence entry: a later one does not stand in for an invalid first.
    if (!confidenceSeen) read.confidence = valid ? confidence : null
    confidenceSeen = true
    if (!valid) {
      report(
        'confidence',
        `${at.path()}.attributes.num[${j}].val`,
        typeof confidence === 'string'
          ? `confidence is the text ${describeValue(confidence)}; Kognic requires a number from 0 to 1, without quotes`
          : `confidence is ${describeValue(confidence)}; expected a number from 0 to 1`
      )
    }
  }
  return read
}

function reportLookalike(name: string, entryPath: string, report: Report): void {
  report(
    'confidence-name',
    `${entryPath}.name`,
    `attribute "${name}": Kognic reads no confidence here and sets it to 1.0; rename it to "confidence" in attributes.num`
  )
}
