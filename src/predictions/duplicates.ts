import type { InspectedFile } from '../types.js'

/** Scenes that more than one file predicts, with those files' display paths in order: each is an error. */
export function findDuplicateScenes(files: readonly InspectedFile[]): Map<string, string[]> {
  const byScene = new Map<string, string[]>()
  for (const file of files) {
    if (file.sceneUuid === null) continue
    const paths = byScene.get(file.sceneUuid)
    if (paths) paths.push(file.displayPath)
    else byScene.set(file.sceneUuid, [file.displayPath])
  }
  const duplicates = new Map<string, string[]>()
  for (const [scene, paths] of byScene) if (paths.length > 1) duplicates.set(scene, paths)
  return duplicates
}
