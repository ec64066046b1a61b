// The request body of one upload: the very bytes that were checked, without parsing or re-serialising them.
import fs from 'node:fs'
import type { InspectedFile } from '../types.js'
import { errorCode } from '../guards.js'
import { identityOf, OPEN_FLAGS, sha256 } from './inspect.js'

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const CLOSE = Buffer.from('}')

/**
 * Re-reads `file` for its upload. Form `openlabel`: the bytes of
 * `{"sceneUuid":"<uuid>","openlabelContent":<file>}`; form `request`: the file as it is. A UTF-8 BOM is
 * dropped in both: JSON bodies must not start with one. Throws, with a message naming the file, when the
 * file is not the one checked (another file, a symbolic link, another size or content).
 */
export async function readUploadBody(file: InspectedFile): Promise<Buffer> {
  if (file.form === null || file.sceneUuid === null || file.contentSha256 === null) {
    throw new Error(`${file.displayPath} was not found usable when it was checked; it cannot be uploaded`)
  }
  const open =
    file.form === 'openlabel'
      ? Buffer.from(`{"sceneUuid":${JSON.stringify(file.sceneUuid)},"openlabelContent":`)
      : Buffer.alloc(0)
  const close = file.form === 'openlabel' ? CLOSE : Buffer.alloc(0)
  const body = Buffer.allocUnsafe(open.length + file.sizeBytes + close.length)
  const content = body.subarray(open.length, open.length + file.sizeBytes)
  const changed = readChecked(file, content)
  if (changed !== null) {
    throw new Error(
      `${file.displayPath} changed after it was checked: ${changed}; nothing was uploaded for it — re-run, and make sure no other step writes the prediction files during the upload`
    )
  }
  close.copy(body, open.length + file.sizeBytes)
  if (!content.subarray(0, UTF8_BOM.length).equals(UTF8_BOM)) {
    open.copy(body, 0)
    return body
  }
  // Drop the BOM: the opening moves up over it.
  open.copy(body, UTF8_BOM.length)
  return body.subarray(UTF8_BOM.length)
}

/**
 * Fills `into` with the file's bytes; returns how the file differs from the one checked, or null.
 * Synchronous, as the checks read: a small file from the page cache costs less than the thread-pool round
 * trips of a promise file handle (open, fstat, read, read, close), paid by every upload.
 */
function readChecked(file: InspectedFile, into: Buffer): string | null {
  let fd: number
  try {
    fd = fs.openSync(file.path, OPEN_FLAGS)
  } catch (error) {
    const code = errorCode(error)
    if (code === 'ELOOP') return 'it is now a symbolic link'
    if (code === 'ENOENT') return 'it is gone'
    throw new Error(`cannot read ${file.displayPath} for its upload (${code ?? String(error)})`, {
      cause: error
    })
  }
  try {
    const stats = fs.fstatSync(fd, { bigint: true })
    if (!stats.isFile() || identityOf(stats) !== file.identity) return 'it is now another file'
    if (Number(stats.size) !== file.sizeBytes) return `${file.sizeBytes} bytes then, ${stats.size} bytes now`
    let done = 0
    while (done < into.length) {
      const bytesRead = fs.readSync(fd, into, done, into.length - done, done)
      if (bytesRead === 0) return `${file.sizeBytes} bytes then, ${done} bytes now`
      done += bytesRead
    }
    if (fs.readSync(fd, Buffer.alloc(1), 0, 1, done) > 0) return `${file.sizeBytes} bytes then, more now`
    if (sha256(into) !== file.contentSha256) return 'its content is not the content checked'
    return null
  } finally {
    fs.closeSync(fd)
  }
}
