// The rules an upload body must meet on its own (no knowledge of groups or datasets): its fields, the
// OpenLABEL schema version, and the geometries the predictions API supports.
import { isRecord } from '../src/guards.js'

export interface UploadInspection {
  /** The lower-cased sceneUuid when the body has a string one, else ''; part of the fault key. */
  sceneForKey: string
  /** The 400 message when the body breaks a rule, else null. */
  problem: string | null
  /** The sceneUuid as sent, when the body is acceptable. */
  sceneUuid: string | null
  /** Class names in `ontologies.*.classifications` values. */
  classes: string[]
}

const BODY_FIELDS = ['sceneUuid', 'openlabelContent']
/** The geometries the predictions API takes (Kognic's prediction-format guide). */
export const SUPPORTED_GEOMETRIES = ['bbox', 'cuboid', 'image']
/**
 * OpenLABEL 1.0 object_data keys that are geometries the predictions API does not take: a 400. The
 * non-geometric attributes OpenLABEL also allows there (`text`, `num`, `boolean`, `vec`) pass, and so do
 * keys OpenLABEL does not define (Kognic's guide is silent on them).
 */
export const UNSUPPORTED_GEOMETRIES = [
  'poly2d',
  'poly3d',
  'point2d',
  'point3d',
  'rbbox',
  'line',
  'mesh',
  'mat',
  'binary',
  'area_reference',
  'line_reference'
]

/** Segmentation class names: the values of `ontologies.*.classifications` (pixel value → class). */
export function predictionClasses(openlabel: Record<string, unknown>): string[] {
  const classes = new Set<string>()
  if (!isRecord(openlabel.ontologies)) return []
  for (const ontology of Object.values(openlabel.ontologies)) {
    if (!isRecord(ontology) || !isRecord(ontology.classifications)) continue
    for (const name of Object.values(ontology.classifications))
      if (typeof name === 'string') classes.add(name)
  }
  return [...classes]
}

/** The first unsupported geometry in root or frame objects, as a 400 message; null when there is none. */
export function unsupportedGeometry(openlabel: Record<string, unknown>): string | null {
  const places: [string, unknown][] = [['objects', openlabel.objects]]
  if (isRecord(openlabel.frames)) {
    for (const [frameId, frame] of Object.entries(openlabel.frames)) {
      if (isRecord(frame)) places.push([`frames.${frameId}.objects`, frame.objects])
    }
  }
  for (const [where, objects] of places) {
    if (!isRecord(objects)) continue
    for (const [objectId, object] of Object.entries(objects)) {
      if (!isRecord(object) || !isRecord(object.object_data)) continue
      const refused = Object.keys(object.object_data).filter((key) => UNSUPPORTED_GEOMETRIES.includes(key))
      if (refused.length > 0) {
        return `Unsupported geometry ${refused.join(', ')} in openlabel.${where}.${objectId}.object_data: predictions support only ${SUPPORTED_GEOMETRIES.join(', ')}`
      }
    }
  }
  return null
}

/** Checks a parsed upload body on its own. */
export function inspectUploadBody(body: unknown): UploadInspection {
  const sceneForKey = isRecord(body) && typeof body.sceneUuid === 'string' ? body.sceneUuid.toLowerCase() : ''
  const fail = (problem: string): UploadInspection => ({ sceneForKey, problem, sceneUuid: null, classes: [] })
  if (!isRecord(body)) return fail('Body must be a JSON object {"sceneUuid", "openlabelContent"}')
  const extra = Object.keys(body).filter((key) => !BODY_FIELDS.includes(key))
  if (extra.length > 0)
    return fail(`Unknown field(s): ${extra.join(', ')}; allowed: ${BODY_FIELDS.join(', ')}`)
  if (typeof body.sceneUuid !== 'string' || body.sceneUuid === '') {
    return fail('sceneUuid must be a non-empty string')
  }
  const content = body.openlabelContent
  if (!isRecord(content)) return fail('openlabelContent must be an object {"openlabel": {...}}')
  const extraInContent = Object.keys(content).filter((key) => key !== 'openlabel')
  if (extraInContent.length > 0) {
    return fail(
      `openlabelContent has unknown field(s): ${extraInContent.join(', ')}; it holds only "openlabel"`
    )
  }
  const openlabel = content.openlabel
  if (!isRecord(openlabel)) return fail('openlabelContent.openlabel must be an object')
  const schemaVersion = isRecord(openlabel.metadata) ? openlabel.metadata.schema_version : undefined
  if (schemaVersion !== '1.0.0') {
    return fail(
      `openlabelContent.openlabel.metadata.schema_version must be "1.0.0", got ${JSON.stringify(schemaVersion ?? null)}`
    )
  }
  const geometry = unsupportedGeometry(openlabel)
  if (geometry !== null) return fail(geometry)
  return { sceneForKey, problem: null, sceneUuid: body.sceneUuid, classes: predictionClasses(openlabel) }
}
