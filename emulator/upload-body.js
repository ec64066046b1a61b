// The structural rules of an upload body, in plain JavaScript so that the parse worker (which cannot load
// TypeScript under every runner) and the server share one implementation. Types: upload-body.d.ts.

const BODY_FIELDS = ['sceneUuid', 'openlabelContent']

function isObject(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Segmentation class names: the values of `ontologies.*.classifications` (pixel value → class). Root
 * object types name the segmentation objects themselves, not classes the class mapping must cover.
 */
export function predictionClasses(openlabel) {
  const classes = new Set()
  if (isObject(openlabel.ontologies)) {
    for (const ontology of Object.values(openlabel.ontologies)) {
      if (!isObject(ontology) || !isObject(ontology.classifications)) continue
      for (const name of Object.values(ontology.classifications))
        if (typeof name === 'string') classes.add(name)
    }
  }
  return [...classes]
}

/** Checks a parsed upload body on its own (no knowledge of groups or datasets). */
export function inspectUploadBody(body) {
  const sceneForKey = isObject(body) && typeof body.sceneUuid === 'string' ? body.sceneUuid.toLowerCase() : ''
  const fail = (problem) => ({ sceneForKey, problem, sceneUuid: null, classes: [] })
  if (!isObject(body)) return fail('Body must be a JSON object {"sceneUuid", "openlabelContent"}')
  const extra = Object.keys(body).filter((key) => !BODY_FIELDS.includes(key))
  if (extra.length > 0)
    return fail(`Unknown field(s): ${extra.join(', ')}; allowed: ${BODY_FIELDS.join(', ')}`)
  if (typeof body.sceneUuid !== 'string' || body.sceneUuid === '')
    return fail('sceneUuid must be a non-empty string')
  const content = body.openlabelContent
  if (!isObject(content)) return fail('openlabelContent must be an object {"openlabel": {...}}')
  const extraInContent = Object.keys(content).filter((key) => key !== 'openlabel')
  if (extraInContent.length > 0) {
    return fail(
      `openlabelContent has unknown field(s): ${extraInContent.join(', ')}; it holds only "openlabel"`
    )
  }
  const openlabel = content.openlabel
  if (!isObject(openlabel)) return fail('openlabelContent.openlabel must be an object')
  const schemaVersion = isObject(openlabel.metadata) ? openlabel.metadata.schema_version : undefined
  if (schemaVersion !== '1.0.0') {
    return fail(
      `openlabelContent.openlabel.metadata.schema_version must be "1.0.0", got ${JSON.stringify(schemaVersion ?? null)}`
    )
  }
  return { sceneForKey, problem: null, sceneUuid: body.sceneUuid, classes: predictionClasses(openlabel) }
}

// One decoder for every body: decode() without `stream` keeps no state between calls.
const UTF8 = new TextDecoder()

/** Parses a UTF-8 body and inspects it; a syntax error becomes `parseError`. */
export function parseAndInspectUploadBody(bytes) {
  let parsed
  try {
    parsed = JSON.parse(UTF8.decode(bytes))
  } catch (error) {
    return {
      sceneForKey: '',
      problem: null,
      sceneUuid: null,
      classes: [],
      parseError: `Invalid JSON body: ${String(error.message).slice(0, 200)}`,
      parsed: undefined
    }
  }
  return { ...inspectUploadBody(parsed), parsed }
}
