// Which of the files' scenes the dataset has annotations for, known page by page as the listing arrives: a
// file waits only until its own scene is listed (or the listing ends), not for the whole listing, so uploads
// start after the first pages instead of after the last (80 round trips for a dataset of 4,000 annotations).
import type { AnnotatedScenes } from './kognic/client.js'

/** `unchecked`: the listing ended without telling (missing, refused, unreadable): the file goes unchecked. */
export type SceneVerdict = 'annotated' | 'not-annotated' | 'unchecked'

export class SceneCheck {
  readonly #seen = new Set<string>()
  readonly #waiting = new Map<string, ((verdict: SceneVerdict) => void)[]>()
  #ended: AnnotatedScenes | null = null
  #failed: unknown = undefined
  /** The whole listing's answer; rejects as the listing does (cancelled, credentials refused). */
  readonly done: Promise<AnnotatedScenes>

  /** `list` reads the listing, calling back with each page's scenes. */
  constructor(list: (onScenes: (scenes: string[]) => void) => Promise<AnnotatedScenes>) {
    this.done = list((scenes) => this.#add(scenes)).then(
      (answer) => {
        this.#ended = answer
        for (const [, waiters] of this.#waiting)
          for (const resolve of waiters) resolve('unavailable' in answer ? 'unchecked' : 'not-annotated')
        this.#waiting.clear()
        return answer
      },
      (error: unknown) => {
        this.#failed = error
        for (const [, waiters] of this.#waiting) for (const resolve of waiters) resolve('unchecked')
        this.#waiting.clear()
        throw error
      }
    )
    // Awaited by the phases that need it; until then a failure must not count as unhandled.
    this.done.catch(() => undefined)
  }

  /** The listing has ended, or failed: every verdict is known. */
  get ended(): boolean {
    return this.#ended !== null || this.#failed !== undefined
  }

  /** The verdict when it is known already, else undefined. */
  known(scene: string): SceneVerdict | undefined {
    const key = scene.toLowerCase()
    if (this.#seen.has(key)) return 'annotated'
    if (this.#ended === null) return this.#failed === undefined ? undefined : 'unchecked'
    return 'unavailable' in this.#ended ? 'unchecked' : 'not-annotated'
  }

  /** Waits until the listing shows the scene, or ends; rejects when the listing failed (see `done`). */
  async verdict(scene: string): Promise<SceneVerdict> {
    const now = this.known(scene)
    if (now !== undefined) {
      if (now === 'unchecked' && this.#failed !== undefined) throw this.#failed
      return now
    }
    const verdict = await new Promise<SceneVerdict>((resolve) => {
      const key = scene.toLowerCase()
      this.#waiting.set(key, [...(this.#waiting.get(key) ?? []), resolve])
    })
    if (this.#failed !== undefined) throw this.#failed
    return verdict
  }

  /** Whether any of the scenes is annotated (or unchecked): false only once the listing has none of them. */
  async anyAnnotated(scenes: string[]): Promise<boolean> {
    if (scenes.length === 0) return false
    // The first verdict other than not-annotated answers; all of them not-annotated means none is.
    return new Promise<boolean>((resolve, reject) => {
      let left = scenes.length
      for (const scene of scenes) {
        this.verdict(scene).then((verdict) => {
          if (verdict !== 'not-annotated') resolve(true)
          else if (--left === 0) resolve(false)
        }, reject)
      }
    })
  }

  #add(scenes: string[]): void {
    for (const scene of scenes) {
      const key = scene.toLowerCase()
      this.#seen.add(key)
      const waiters = this.#waiting.get(key)
      if (waiters === undefined) continue
      this.#waiting.delete(key)
      for (const resolve of waiters) resolve('annotated')
    }
  }
}
