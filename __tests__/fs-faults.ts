// File-system faults for discovery tests: root ignores chmod, so an unreadable folder is simulated.
import { promises as fsp } from 'node:fs'
import { vi } from 'vitest'

/** Makes `fs.promises.readdir` of `folder` fail with EACCES, as a folder the runner's user may not read; undone by vi.restoreAllMocks(). */
export function denyReading(folder: string): void {
  const readdir = fsp.readdir.bind(fsp)
  vi.spyOn(fsp, 'readdir').mockImplementation(((dir: string, options: never) =>
    dir === folder
      ? Promise.reject(
          Object.assign(new Error(`EACCES: permission denied, scandir '${dir}'`), { code: 'EACCES' })
        )
      : readdir(dir, options)) as typeof fsp.readdir)
}
