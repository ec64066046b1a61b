// JSON.parse's result, except that every object is a null-prototype dictionary. Why: JSON.parse gives each
// object a hidden class ("map") named by its keys. OpenLABEL keys objects by UUID, so every file brings
// keys no other file has, and JSON.parse makes new hidden classes for them, in the old generation, where
// only a full garbage collection frees them; V8 lets that garbage grow to several times the live heap
// first. Over 20,000 small files it was ~1.2 KB a file, most of what made memory grow with the file count.
// A dictionary object has no hidden class of its own: what parsing a file leaves behind dies young.
//
// It accepts exactly what JSON.parse accepts: anything it does not parse itself (an error, an unusual
// string, nesting deep enough to exhaust the stack) is handed to JSON.parse, whose result or error stands.
// The walk over the document (inspect.ts, validate.ts) reads objects only through own keys, so a missing
// prototype changes nothing it finds.

const QUOTE = 0x22
const BACKSLASH = 0x5c
/** Strings longer than this are searched with a regular expression (base64 images run to megabytes). */
const SCAN_CHARS = 64
/** What ends a plain run of string characters: the closing quote, an escape, or a control character. */
// eslint-disable-next-line no-control-regex -- JSON strings may not hold control characters: finding them is the point
const STRING_SPECIAL = /["\\\u0000-\u001f]/g

const WHITESPACE = /[ \t\n\r]*/y

class NotParsed extends Error {}

export function parseJson(text: string): unknown {
  try {
    return parseWhole(text)
  } catch {
    // Not valid JSON, or not within what is parsed here: JSON.parse gives the answer (or the error).
    return JSON.parse(text) as unknown
  }
}

function parseWhole(text: string): unknown {
  let i = 0

  const fail = (): never => {
    throw new NotParsed()
  }

  const skipWhitespace = (): number => {
    const c = text.charCodeAt(i)
    if (c > 0x20) return c
    // Indentation comes in long runs: one search skips a run faster than a loop over its characters.
    WHITESPACE.lastIndex = i
    WHITESPACE.test(text)
    i = WHITESPACE.lastIndex
    return text.charCodeAt(i)
  }

  const string = (): string => {
    const start = ++i
    const scanned = start + SCAN_CHARS
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === QUOTE) break
      if (c === BACKSLASH) return escapedString(start)
      // A control character, or the end of the text (NaN).
      if (!(c >= 0x20)) fail()
      if (++i === scanned) {
        STRING_SPECIAL.lastIndex = i
        const special = STRING_SPECIAL.exec(text)
        if (special === null) fail()
        i = special!.index
      }
    }
    return text.slice(start, i++)
  }

  // Escapes are rare in predictions: JSON.parse decodes the string literal (and checks its escapes).
  const escapedString = (start: number): string => {
    for (;;) {
      const c = text.charCodeAt(i)
      if (c === QUOTE) break
      if (c === BACKSLASH) i++
      else if (!(c >= 0x20)) fail()
      i++
    }
    i++
    return JSON.parse(text.slice(start - 1, i)) as string
  }

  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39

  const number = (): number => {
    const start = i
    let c = text.charCodeAt(i)
    const negative = c === 0x2d
    if (negative) c = text.charCodeAt(++i)
    let value = 0
    if (c === 0x30) c = text.charCodeAt(++i)
    else if (c >= 0x31 && c <= 0x39) {
      do {
        value = value * 10 + (c - 0x30)
        c = text.charCodeAt(++i)
      } while (isDigit(c))
    } else fail()
    // Up to 15 digits, an integer is exact as it was summed; anything else is converted as JSON.parse does.
    let exact = i - start <= 15
    if (c === 0x2e) {
      exact = false
      c = text.charCodeAt(++i)
      if (!isDigit(c)) fail()
      do c = text.charCodeAt(++i)
      while (isDigit(c))
    }
    if (c === 0x65 || c === 0x45) {
      exact = false
      c = text.charCodeAt(++i)
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i)
      if (!isDigit(c)) fail()
      do c = text.charCodeAt(++i)
      while (isDigit(c))
    }
    if (exact) return negative ? -value : value
    return Number(text.slice(start, i))
  }

  const object = (): Record<string, unknown> => {
    // Null prototype: V8 keeps such an object as a dictionary, without a hidden class of its own.
    const result = Object.create(null) as Record<string, unknown>
    i++
    let c = skipWhitespace()
    if (c === 0x7d) {
      i++
      return result
    }
    for (;;) {
      if (c !== QUOTE) fail()
      const key = string()
      if (skipWhitespace() !== 0x3a) fail()
      i++
      result[key] = value(skipWhitespace())
      c = skipWhitespace()
      i++
      if (c === 0x7d) return result
      if (c !== 0x2c) fail()
      c = skipWhitespace()
    }
  }

  const array = (): unknown[] => {
    const result: unknown[] = []
    i++
    let c = skipWhitespace()
    if (c === 0x5d) {
      i++
      return result
    }
    for (;;) {
      result.push(value(c))
      c = skipWhitespace()
      i++
      if (c === 0x5d) return result
      if (c !== 0x2c) fail()
      c = skipWhitespace()
    }
  }

  const literal = <T>(word: string, result: T): T => {
    if (!text.startsWith(word, i)) fail()
    i += word.length
    return result
  }

  const value = (c: number): unknown => {
    switch (c) {
      case QUOTE:
        return string()
      case 0x7b:
        return object()
      case 0x5b:
        return array()
      case 0x74:
        return literal('true', true)
      case 0x66:
        return literal('false', false)
      case 0x6e:
        return literal('null', null)
      default:
        return c === 0x2d || isDigit(c) ? number() : fail()
    }
  }

  const result = value(skipWhitespace())
  skipWhitespace()
  if (i !== text.length) fail()
  return result
}
