// The request body of one upload, built from the file's bytes without parsing or re-serialising them.
import { promises as fs } from 'node:fs'
import type { InspectedFile } from '../types.js'

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const CLOSE = Buffer.from('}')

/**
 * Re-reads `file` for its upload. Form `openlabel`: the bytes of
 * `{"sceneUuid":"<uuid>","openlabelContent":<file>}`; form `request`: the file as it is. A UTF-8 BOM is
 * dropped in both: JSON bodies must not start with one.
 */
export async function readUploadBody(file: InspectedFile): Promise<Buffer> {
  if (file.form === null || file.sceneUuid === null) {
    throw new Error(`${file.displayPath} was not found usable when it was checked; it cannot be uploaded`)
  }
  let bytes = await fs.readFile(file.path)
  if (bytes.length !== file.sizeBytes) {
    throw new Error(
      `${file.displayPath} changed since it was checked (${file.sizeBytes} bytes then, ${bytes.length} now); make sure no other step writes the prediction files during the upload`
    )
  }
  if (bytes.subarray(0, 3).equals(UTF8_BOM)) bytes = bytes.subarray(3)
  if (file.form === 'request') return bytes
  const open = Buffer.from(`{"sceneUuid":${JSON.stringify(file.sceneUuid)},"openlabelContent":`)
  return Buffer.concat([open, bytes, CLOSE], open.length + bytes.length + CLOSE.length)
}
