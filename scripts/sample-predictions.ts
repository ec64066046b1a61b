// Builders of valid OpenLABEL prediction documents, shared by the demo, the process-level tests and the
// benchmarks, so each of them uploads what Kognic's "prediction format" guide describes.
import { randomUUID } from 'node:crypto'
import { deflateSync, crc32 } from 'node:zlib'

export interface OpenLabelDoc {
  openlabel: Record<string, unknown>
}

function frame(objects: Record<string, unknown>, timestamp = 0) {
  return { frame_properties: { timestamp, external_id: '', streams: {} }, objects }
}

function streamAttr(stream: string, confidence?: number) {
  return {
    text: [{ name: 'stream', val: stream }],
    ...(confidence === undefined ? {} : { num: [{ name: 'confidence', val: confidence }] })
  }
}

/** 2D boxes on one camera; `count` objects; `seed` varies the geometry deterministically. */
export function bboxDoc(
  opts: { count?: number; seed?: number; camera?: string; classes?: string[] } = {}
): OpenLabelDoc {
  const { count = 3, seed = 1, camera = 'CAM_FRONT', classes = ['car', 'pedestrian', 'cyclist'] } = opts
  const objects: Record<string, unknown> = {}
  const frameObjects: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    const id = deterministicId(seed, i)
    objects[id] = { name: `${classes[i % classes.length]}-${i}`, type: classes[i % classes.length] }
    frameObjects[id] = {
      object_data: {
        bbox: [
          {
            name: 'bbox',
            val: [
              100 + ((seed * 37 + i * 53) % 800),
              200 + ((seed * 11 + i * 29) % 300),
              40 + (i % 7) * 10,
              30 + (i % 5) * 8
            ],
            attributes: streamAttr(camera, Math.round((0.5 + ((seed + i) % 50) / 100) * 100) / 100)
          }
        ]
      }
    }
  }
  return {
    openlabel: {
      metadata: { schema_version: '1.0.0' },
      streams: { [camera]: { type: 'camera' } },
      objects,
      frames: { '0': frame(frameObjects) }
    }
  }
}

/** 3D cuboids in the lidar stream, over `frames` frames 100 ms apart. */
export function cuboidDoc(opts: { count?: number; frames?: number; seed?: number } = {}): OpenLabelDoc {
  const { count = 2, frames = 1, seed = 1 } = opts
  const objects: Record<string, unknown> = {}
  const frameMap: Record<string, unknown> = {}
  for (let i = 0; i < count; i++) {
    objects[deterministicId(seed, i)] = { name: `car-${i}`, type: 'car' }
  }
  for (let f = 0; f < frames; f++) {
    const frameObjects: Record<string, unknown> = {}
    for (let i = 0; i < count; i++) {
      const angle = ((seed + i) % 8) * (Math.PI / 8)
      frameObjects[deterministicId(seed, i)] = {
        object_data: {
          cuboid: [
            {
              name: 'cuboid',
              val: [
                5 + i * 4 + f * 0.5,
                -2 + i,
                0.8,
                0,
                0,
                Math.sin(angle / 2),
                Math.cos(angle / 2),
                1.9,
                4.5,
                1.6
              ],
              attributes: streamAttr('@lidar', 0.9)
            }
          ]
        }
      }
    }
    frameMap[String(f)] = frame(frameObjects, f * 100)
  }
  return {
    openlabel: {
      metadata: { schema_version: '1.0.0' },
      streams: { '@lidar': { type: 'lidar' } },
      objects,
      frames: frameMap
    }
  }
}

/**
 * Semantic segmentation on one camera: an 8-bit greyscale PNG whose pixel values index `classes`
 * (index 0 is the first class). `size` sets the image's width and height.
 */
export function segmentationDoc(
  opts: { classes?: string[]; camera?: string; size?: number; seed?: number } = {}
): OpenLabelDoc {
  const { classes = ['_background', 'road', 'tree'], camera = 'CAM_FRONT', size = 16, seed = 1 } = opts
  const objectId = deterministicId(seed, 0)
  const png = greyscalePng(size, size, (x, y) => (x + y + seed) % classes.length)
  return {
    openlabel: {
      metadata: { schema_version: '1.0.0' },
      ontologies: {
        '0': { classifications: Object.fromEntries(classes.map((c, i) => [String(i), c])), uri: '' }
      },
      streams: { [camera]: { type: 'camera' } },
      objects: { [objectId]: { name: 'segmentation', type: 'segmentation_bitmap' } },
      frames: {
        '0': frame({
          [objectId]: {
            object_data: {
              image: [
                {
                  name: 'segmentation',
                  val: png.toString('base64'),
                  mime_type: 'image/png',
                  encoding: 'base64',
                  attributes: streamAttr(camera)
                }
              ]
            }
          }
        })
      }
    }
  }
}

/** An 8-bit greyscale PNG (colour type 0); `pixel` gives each value. */
export function greyscalePng(width: number, height: number, pixel: (x: number, y: number) => number): Buffer {
  const raw = Buffer.alloc((width + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0 // filter: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixel(x, y) & 0xff
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 0 // colour type: greyscale
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0))
  ])
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}

/** A UUID-shaped id that is the same for the same inputs, so sample files are stable. */
export function deterministicId(seed: number, index: number): string {
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(len, '0').slice(-len)
  const a = Math.imul(seed + 1, 2654435761)
  const b = Math.imul(index + 1, 2246822519)
  return `${hex(a, 8)}-${hex(b, 4)}-4${hex(a ^ b, 3)}-8${hex(b >>> 3, 3)}-${hex(a + b, 8)}${hex(index, 4)}`
}

/** The request-body form: `{"sceneUuid", "openlabelContent"}`. */
export function requestBody(
  sceneUuid: string,
  doc: OpenLabelDoc
): { sceneUuid: string; openlabelContent: OpenLabelDoc } {
  return { sceneUuid, openlabelContent: doc }
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`
}

export { randomUUID }
