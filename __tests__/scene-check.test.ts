import { describe, expect, it } from 'vitest'
import type { AnnotatedScenes } from '../src/kognic/client.js'
import { SceneCheck } from '../src/scene-check.js'

/** A listing the test feeds page by page, and ends when it says. */
function listing(): {
  check: SceneCheck
  page(scenes: string[]): void
  end(answer: AnnotatedScenes): void
  fail(error: Error): void
} {
  let onScenes: (scenes: string[]) => void = () => undefined
  let settle: { resolve(a: AnnotatedScenes): void; reject(e: Error): void } | undefined
  const check = new SceneCheck((callback) => {
    onScenes = callback
    return new Promise<AnnotatedScenes>((resolve, reject) => (settle = { resolve, reject }))
  })
  return {
    check,
    page: (scenes) => onScenes(scenes),
    end: (answer) => settle!.resolve(answer),
    fail: (error) => settle!.reject(error)
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('SceneCheck', () => {
  it('answers a scene as soon as a page lists it, whatever its case, before the listing ends', async () => {
    const l = listing()
    const verdict = l.check.verdict('AAAA')
    expect(l.check.known('aaaa')).toBeUndefined()
    l.page(['aaaa', 'bbbb'])
    expect(await verdict).toBe('annotated')
    expect(l.check.known('BBBB')).toBe('annotated')
    expect(l.check.ended).toBe(false)
  })

  it('answers not-annotated only once the whole listing has ended without the scene', async () => {
    const l = listing()
    let answered: string | undefined
    void l.check.verdict('cccc').then((v) => (answered = v))
    l.page(['aaaa'])
    await flush()
    expect(answered).toBeUndefined()
    l.end({ scenes: new Set(['aaaa']) })
    await flush()
    expect(answered).toBe('not-annotated')
    expect(l.check.ended).toBe(true)
  })

  it('leaves a scene unchecked when the listing ends without telling; what it showed still counts', async () => {
    const l = listing()
    const waiting = l.check.verdict('cccc')
    l.page(['aaaa'])
    l.end({ unavailable: 'GET …/annotations: 500' })
    expect(await waiting).toBe('unchecked')
    expect(await l.check.verdict('aaaa')).toBe('annotated')
  })

  it('rejects the waiting and later verdicts when the listing fails (cancelled, credentials refused)', async () => {
    const l = listing()
    const waiting = l.check.verdict('cccc')
    l.fail(new Error('cancelled'))
    await expect(waiting).rejects.toThrow('cancelled')
    await expect(l.check.verdict('dddd')).rejects.toThrow('cancelled')
    await expect(l.check.done).rejects.toThrow('cancelled')
  })

  it('anyAnnotated: true at the first listed scene, false only when the listing has none of them', async () => {
    const l = listing()
    const some = l.check.anyAnnotated(['x1', 'x2', 'aaaa'])
    l.page(['aaaa'])
    expect(await some).toBe(true)
    const none = l.check.anyAnnotated(['x1', 'x2'])
    l.end({ scenes: new Set(['aaaa']) })
    expect(await none).toBe(false)
    expect(await l.check.anyAnnotated([])).toBe(false)
  })
})
