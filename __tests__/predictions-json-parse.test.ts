import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseJson } from '../src/predictions/json-parse.js'

const FIXTURES = join(import.meta.dirname, 'fixtures', 'predictions')

/**
 * The same value as JSON.parse gives (same types, numbers with -0, keys in the same order), parsed by
 * parseJson itself.
 */
function expectSameAsJsonParse(text: string): void {
  const expected = JSON.parse(text) as unknown
  const actual = parseJson(text)
  const compare = (a: unknown, b: unknown, at: string): void => {
    if (typeof b !== 'object' || b === null) {
      expect(Object.is(a, b), `${at}: ${String(a)} is not ${String(b)}`).toBe(true)
      return
    }
    expect(typeof a, at).toBe('object')
    expect(Array.isArray(a), at).toBe(Array.isArray(b))
    // Parsed here, not handed to JSON.parse: objects come without a prototype.
    if (!Array.isArray(a)) expect(Object.getPrototypeOf(a), at).toBeNull()
    const keysA = Object.keys(a as object)
    expect(keysA, at).toEqual(Object.keys(b))
    for (const key of keysA) {
      compare((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`)
    }
  }
  compare(actual, expected, '$')
}

function thrownBy(parse: () => unknown): string {
  try {
    parse()
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`
  }
  return 'nothing thrown'
}

/** A small deterministic generator, so a failure can be reproduced. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 4 ? 5 : 7))
  const strings = [
    '',
    'a',
    'bbox',
    'ü',
    '😀',
    'line\nbreak',
    'tab\t"quote"\\',
    '\u0001',
    '\ud800',
    'x'.repeat(70)
  ]
  switch (pick) {
    case 0:
      return null
    case 1:
      return next() < 0.5
    case 2: {
      const numbers = [0, -0, 1, -1, 0.51, 1e21, -1.5e-7, 123456789012345, 2 ** 53 + 2, Math.PI, 5e-324]
      return next() < 0.5 ? numbers[Math.floor(next() * numbers.length)] : Math.round((next() - 0.5) * 1e6)
    }
    case 3:
    case 4:
      return strings[Math.floor(next() * strings.length)]
    case 5:
      return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1))
    default: {
      const keys = [
        'name',
        'val',
        '0',
        '17',
        '__proto__',
        'constructor',
        '3c6ef362-ca77-4915-894e-c25abdd90000',
        ''
      ]
      const object: Record<string, unknown> = {}
      for (let i = Math.floor(next() * 5); i > 0; i--) {
        Object.defineProperty(object, keys[Math.floor(next() * keys.length)]!, {
          value: randomValue(next, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true
        })
      }
      return object
    }
  }
}

describe('parseJson', () => {
  it('gives what JSON.parse gives for every prediction fixture', () => {
    for (const dir of ['good', 'bad']) {
      for (const name of readdirSync(join(FIXTURES, dir))) {
        const text = readFileSync(join(FIXTURES, dir, name), 'utf8').replace(/^\uFEFF/, '')
        if (thrownBy(() => JSON.parse(text)) !== 'nothing thrown') {
          expect(
            thrownBy(() => parseJson(text)),
            name
          ).toBe(thrownBy(() => JSON.parse(text)))
        } else expectSameAsJsonParse(text)
      }
    }
  })

  it('gives what JSON.parse gives for random documents, compact and indented', () => {
    const next = random(42)
    for (let i = 0; i < 500; i++) {
      const value = randomValue(next, 0)
      expectSameAsJsonParse(JSON.stringify(value))
      expectSameAsJsonParse(JSON.stringify(value, null, i % 2 === 0 ? 2 : '\t'))
    }
  })

  it('reads numbers as JSON.parse does', () => {
    const numbers = [
      '0',
      '-0',
      '7',
      '-12',
      '123456789012345',
      '-123456789012345',
      '1234567890123456',
      '9007199254740993',
      '18446744073709551616',
      '0.1',
      '1.5',
      '-1.5e-7',
      '1e+2',
      '1E2',
      '1e400',
      '-1e400',
      '2.2250738585072011e-308',
      '0.30000000000000004'
    ]
    for (const number of numbers) {
      expectSameAsJsonParse(number)
      expectSameAsJsonParse(`[${number}, {"n": ${number}}]`)
    }
  })

  it('reads strings as JSON.parse does: escapes, any characters, long runs', () => {
    const strings = [
      '""',
      '"plain"',
      '"a\\nb\\t\\"c\\"\\\\d\\/e\\b\\f\\r"',
      '"\\u00e9\\u0000"',
      '"\\ud83d\\ude00"',
      '"\\ud800"',
      '"ü😀\u2028"',
      `"${'x'.repeat(100_000)}"`,
      `"${'x'.repeat(70)}\\n${'y'.repeat(200)}"`,
      `"${'x'.repeat(64)}"`,
      `"${'x'.repeat(65)}\u007f"`
    ]
    for (const string of strings) expectSameAsJsonParse(`{${string}: [${string}]}`)
  })

  it('keeps keys as JSON.parse does: repeated keys, index keys first, __proto__ as a plain key', () => {
    expectSameAsJsonParse('{"a": 1, "b": 2, "a": 3}')
    expectSameAsJsonParse('{"b": 1, "2": 2, "1": 3, "x": {"10": 0, "9": 1}}')
    expectSameAsJsonParse('{"__proto__": {"polluted": true}, "constructor": 1, "toString": 2}')
    const parsed = parseJson('{"__proto__": {"polluted": true}}') as Record<string, unknown>
    expect(Object.keys(parsed)).toEqual(['__proto__'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('builds objects without a prototype, which read the same through own keys', () => {
    const parsed = parseJson('{"objects": {"3c6ef362-ca77-4915-894e-c25abdd90000": {"type": "car"}}}')
    expect(Object.getPrototypeOf(parsed)).toBeNull()
    const objects = (parsed as { objects: Record<string, unknown> }).objects
    expect(Object.hasOwn(objects, '3c6ef362-ca77-4915-894e-c25abdd90000')).toBe(true)
    expect('toString' in objects).toBe(false)
    expect(JSON.stringify(parsed)).toBe('{"objects":{"3c6ef362-ca77-4915-894e-c25abdd90000":{"type":"car"}}}')
  })

  it('refuses what JSON.parse refuses, with JSON.parse’s own error', () => {
    const invalid = [
      '',
      '   ',
      '{',
      '}',
      '[1,]',
      '[,1]',
      '{"a":1,}',
      '{"a" 1}',
      '{a: 1}',
      "{'a': 1}",
      '01',
      '-01',
      '1.',
      '.5',
      '+1',
      '-',
      '1e',
      '1e+',
      '0x10',
      'NaN',
      'Infinity',
      'tru',
      'nul',
      'True',
      '"abc',
      '"a\tb"',
      '"a\nb"',
      '"\\x41"',
      '"\\u12"',
      `"${'x'.repeat(80)}`,
      `"${'x'.repeat(80)}\u0001"`,
      '[1 2]',
      '1 2',
      '\u00a01',
      '\ufeff1',
      '{"a": 1} x',
      '['.repeat(5000)
    ]
    for (const text of invalid) {
      expect(
        thrownBy(() => parseJson(text)),
        JSON.stringify(text.slice(0, 40))
      ).toBe(thrownBy(() => JSON.parse(text)))
    }
  })

  it('hands nesting too deep for its own recursion to JSON.parse', () => {
    const depth = 100_000
    const text = `${'['.repeat(depth)}1${']'.repeat(depth)}`
    let value = parseJson(text)
    for (let i = 0; i < depth; i++) value = (value as unknown[])[0]
    expect(value).toBe(1)
  })
})
