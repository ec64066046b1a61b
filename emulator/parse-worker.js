// Worker thread: parses and inspects large upload bodies so the server's event loop keeps answering.
import { parentPort } from 'node:worker_threads'

import { parseAndInspectUploadBody } from './upload-body.js'

parentPort?.on('message', ({ id, bytes }) => {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  const { parsed, ...inspection } = parseAndInspectUploadBody(bytes)
  parentPort?.postMessage({ id, inspection })
})
