import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createProgress } from '../src/report/progress.js'

describe('createProgress', () => {
  let clock = 0
  let printed: string[] = []

  beforeEach(() => {
    vi.useFakeTimers()
    clock = 0
    printed = []
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  function advance(ms: number): void {
    clock += ms
    vi.advanceTimersByTime(ms)
  }

  function make(total: number, intervalMs = 5000) {
    return createProgress({ total, intervalMs, now: () => clock, print: (line) => printed.push(line) })
  }

  it('prints a line every interval with counts, rate and estimate', () => {
    const progress = make(5000)
    progress.start()
    for (let i = 0; i < 240; i++) progress.tick('uploaded')
    advance(5000)
    expect(printed).toEqual(['Uploaded 240/5,000 · 48.0 files/s · about 1m 40s left'])

    for (let i = 0; i < 1000; i++) progress.tick('uploaded')
    progress.tick('failed')
    progress.tick('failed')
    advance(5000)
    // 1,242 done in 10 s → 124.2 files/s; 3,758 left → 30.3 s, rounded up to whole seconds.
    expect(printed[1]).toBe('Uploaded 1,240/5,000 (2 failed) · 124 files/s · about 31s left')
    progress.stop()
  })

  it('estimates from the recent rate, not the average since the start', () => {
    const progress = make(1000)
    progress.start()
    // 2 files/s for 30 s, then 10 files/s for 30 s.
    for (let second = 0; second < 60; second++) {
      const perSecond = second < 30 ? 2 : 10
      for (let i = 0; i < perSecond; i++) progress.tick('uploaded')
      advance(1000)
    }
    // Over the last 30 s: 300 files → 10 files/s; 640 left → 64 s. The overall average (6/s) would say 107 s.
    expect(printed.at(-1)).toBe('Uploaded 360/1,000 · 10.0 files/s · about 1m 4s left')
    progress.stop()
  })

  it('says when nothing has finished lately instead of estimating forever', () => {
    const progress = make(100)
    progress.start()
    progress.tick('uploaded')
    advance(5000)
    advance(30_000)
    expect(printed.at(-1)).toBe('Uploaded 1/100 · 0.00 files/s · no file finished in the last 30s')
    progress.stop()
  })

  it('gives no estimate once everything is done', () => {
    const progress = make(3)
    progress.start()
    progress.tick('uploaded')
    progress.tick('uploaded')
    progress.tick('failed')
    advance(5000)
    expect(printed).toEqual(['Uploaded 2/3 (1 failed) · 0.60 files/s'])
    progress.stop()
  })

  it('prints nothing before start and nothing after stop', () => {
    const progress = make(10)
    progress.tick('uploaded')
    advance(20_000)
    expect(printed).toEqual([])
    // line() works without start: just the counts.
    expect(progress.line()).toBe('Uploaded 1/10')

    progress.start()
    advance(5000)
    expect(printed).toHaveLength(1)
    progress.stop()
    progress.tick('uploaded')
    advance(60_000)
    expect(printed).toHaveLength(1)
    expect(progress.line()).toMatch(/^Uploaded 2\/10 · /)
    // A stopped progress does not start again.
    progress.start()
    advance(60_000)
    expect(printed).toHaveLength(1)
  })
})

describe('createProgress timer', () => {
  it('does not keep the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setInterval')
    try {
      const progress = createProgress({ total: 1, print: () => undefined })
      progress.start()
      const timer = spy.mock.results[0]?.value as NodeJS.Timeout
      expect(timer.hasRef()).toBe(false)
      progress.stop()
    } finally {
      spy.mockRestore()
    }
  })
})
