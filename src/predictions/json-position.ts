// Where JSON.parse failed. V8 gives a position for some errors ("… in JSON at position 7") and not for
// others ("Unexpected token '}', "…" is not valid JSON"), so when it gives none we find it by scanning.

export interface JsonErrorLocation {
  /** Offset in the text (UTF-16 code units). */
  position: number
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
  /** The parser's own words, without the excerpt V8 appends. */
  reason: string
}

/** Locates a JSON.parse error in `text`. */
export function locateJsonError(text: string, error: unknown): JsonErrorLocation {
  const message = error instanceof Error ? error.message : String(error)
  const reported = /at position (\d+)/.exec(message)
  const position = reported ? Number(reported[1]) : findJsonErrorOffset(text)
  // V8 quotes a slice of the input after the reason; the reason is what helps.
  const reason = message
    .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
    .replace(/ in JSON at position \d+.*$/s, '')
    .trim()
  const { line, column } = lineAndColumn(text, position)
  return { position, line, column, reason }
}

export function lineAndColumn(text: string, position: number): { line: number; column: number } {
  let line = 1
  let lineStart = 0
  const end = Math.min(position, text.length)
  for (let i = text.indexOf('\n'); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) {
    line++
    lineStart = i + 1
  }
  return { line, column: end - lineStart + 1 }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const HEX_DIGIT = /^[0-9a-fA-F]$/

const enum Expect {
  Value,
  FirstArrayItem,
  FirstObjectKey,
  Key,
  AfterValue
}

/**
 * The offset of the first character that makes `text` invalid JSON (text.length when it ends too early),
 * or -1 when it is valid. Follows RFC 8259, as JSON.parse does; iterative, so deep nesting cannot overflow.
 */
export function findJsonErrorOffset(text: string): number {
  const length = text.length
  let i = 0
  const stack: string[] = []
  let expect = Expect.Value

  // Each scanner leaves `i` on the offending character and returns false, or past the token and true.
  const scanString = (): boolean => {
    i++
    while (i < length) {
      const c = text.charCodeAt(i)
      if (c === 0x22) {
        i++
        return true
      }
      if (c < 0x20) return false
      if (c === 0x5c) {
        const e = text[i + 1]
        if (e === 'u') {
          for (let k = 2; k < 6; k++) if (!HEX_DIGIT.test(text[i + k] ?? '')) return ((i += k), false)
          i += 6
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2
        else return ((i += 1), false)
      } else i++
    }
    return false
  }
  const scanDigits = (): boolean => {
    const start = i
    while (i < length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++
    return i > start
  }
  const scanNumber = (): boolean => {
    if (text[i] === '-') i++
    if (text[i] === '0') i++
    else if (!scanDigits()) return false
    if (text[i] === '.') {
      i++
      if (!scanDigits()) return false
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (!scanDigits()) return false
    }
    return true
  }
  const scanWord = (word: string): boolean => {
    for (let k = 0; k < word.length; k++, i++) if (text[i] !== word[k]) return false
    return true
  }

  for (;;) {
    while (i < length && WHITESPACE.has(text[i]!)) i++
    const c = text[i]
    switch (expect) {
      case Expect.Value:
        if (c === '{' || c === '[') {
          stack.push(c)
          i++
          expect = c === '{' ? Expect.FirstObjectKey : Expect.FirstArrayItem
          continue
        }
        if (
          c === '"'
            ? !scanString()
            : c === 't'
              ? !scanWord('true')
              : c === 'f'
                ? !scanWord('false')
                : c === 'n'
                  ? !scanWord('null')
                  : c === '-' || (c !== undefined && c >= '0' && c <= '9')
                    ? !scanNumber()
                    : true
        ) {
          return i
        }
        expect = Expect.AfterValue
        continue
      case Expect.FirstArrayItem:
        if (c === ']') {
          stack.pop()
          i++
          expect = Expect.AfterValue
        } else expect = Expect.Value
        continue
      case Expect.FirstObjectKey:
        if (c === '}') {
          stack.pop()
          i++
          expect = Expect.AfterValue
        } else expect = Expect.Key
        continue
      case Expect.Key:
        if (c !== '"' || !scanString()) return i
        while (i < length && WHITESPACE.has(text[i]!)) i++
        if (text[i] !== ':') return i
        i++
        expect = Expect.Value
        continue
      case Expect.AfterValue: {
        const top = stack[stack.length - 1]
        if (top === undefined) return i < length ? i : -1
        if (c === ',') {
          i++
          expect = top === '{' ? Expect.Key : Expect.Value
        } else if (c === (top === '{' ? '}' : ']')) {
          stack.pop()
          i++
        } else return i
        continue
      }
    }
  }
}
