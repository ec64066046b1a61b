// The request body of one upload, built from the file's bytes without parsing or re-serialising them.
import { closeSync, fstatSync, openSync, readSync, promises as fs } from 'node:fs'
import type { InspectedFile } from '../types.js'

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf])
const CLOSE = Buffer.from('}')
const NOTHING = Buffer.alloc(0)
/**
 * Files up to this size are read synchronously: a read from the page cache costs microseconds, less than
 * the thread-pool round-trips of an asynchronous read. Larger ones are read asynchronously, so that a big
 * file never holds up the answers to the requests in flight.
 */
export const SYNC_READ_MAX_BYTES = 4 * 1024 * 1024

/**
 * Re-reads `file` for its upload. Form `openlabel`: the bytes of
 * `{"sceneUuid":"<uuid>","openlabelContent":<file>}`; form `request`: the file as it is. A UTF-8 BOM is
 * dropped in both: JSON bodies must not start with one. The file is read straight into the body: one
 * allocation of the body's size, no copy.
 */
export async function readUploadBody(file: InspectedFile): Promise<Buffer> {
  if (file.form === null || file.sceneUuid === null) {
    throw new Error(`${file.displayPath} was not found usable when it was checked; it cannot be uploaded`)
  }
  const open =
    file.form === 'openlabel'
      ? Buffer.from(`{"sceneUuid":${JSON.stringify(file.sceneUuid)},"openlabelContent":`)
      : NOTHING
  const close = file.form === 'openlabel' ? CLOSE : NOTHING
  const body = Buffer.allocUnsafe(open.length + file.sizeBytes + close.length)
  const content = body.subarray(open.length, open.length + file.sizeBytes)
  const size =
    file.sizeBytes <= SYNC_READ_MAX_BYTES
      ? readWholeSync(file.path, content)
      : await readWhole(file.path, content)
  if (size !== file.sizeBytes) {
    throw new Error(
      `${file.displayPath} changed since it was checked (${file.sizeBytes} bytes then, ${size} now); make sure no other step writes the prediction files during the upload`
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
 * Fills `into` from the start of the file and returns the file's size now: the size of `into` only when
 * the file has exactly that many bytes (a file that grew reports at least one more).
 */
function readWholeSync(filePath: string, into: Buffer): number {
  const fd = openSync(filePath, 'r')
  try {
    const size = fstatSync(fd).size
    if (size !== into.length) return size
    let done = 0
    while (done < into.length) {
      const n = readSync(fd, into, done, into.length - done, done)
      if (n === 0) return done
      done += n
    }
    return done + readSync(fd, Buffer.alloc(1), 0, 1, done)
  } finally {
    closeSync(fd)
  }
}

async function readWhole(filePath: string, into: Buffer): Promise<number> {
  const handle = await fs.open(filePath, 'r')
  try {
    const size = (await handle.stat()).size
    if (size !== into.length) return size
    let done = 0
    while (done < into.length) {
      const { bytesRead } = await handle.read(into, done, into.length - done, done)
      if (bytesRead === 0) return done
      done += bytesRead
    }
    return done + (await handle.read(Buffer.alloc(1), 0, 1, done)).bytesRead
  } finally {
    await handle.close()
  }
}
