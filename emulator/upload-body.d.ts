// Types of upload-body.js (plain JavaScript so the parse worker can load it under any runner).

export interface UploadInspection {
  /** The lower-cased sceneUuid when the body has a string one, else ''; part of the fault key. */
  sceneForKey: string
  /** The 400 message when the body breaks a structural rule, else null. */
  problem: string | null
  /** The sceneUuid as sent, when the body is acceptable. */
  sceneUuid: string | null
  /** Class names in `ontologies.*.classifications` values and root `objects.*.type`. */
  classes: string[]
  /** The 400 message when the body is not JSON. */
  parseError?: string
}

export function predictionClasses(openlabel: Record<string, unknown>): string[]
export function inspectUploadBody(body: unknown): UploadInspection
export function parseAndInspectUploadBody(bytes: Uint8Array): UploadInspection & { parsed: unknown }
