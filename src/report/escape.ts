// Text that came from file names or from the server is shown in markdown that GitHub renders (the job
// summary, a pull-request comment). Nothing in it may become markup, a link, a mention or a new line.

const DEFAULT_MAX_CHARS = 200

// C0 and C1 controls, DEL, and the bidirectional overrides that can make a file name read differently
// from what it is. Tabs and line breaks are handled first: they become spaces.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const INVISIBLE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g
const LINE_BREAKS_AND_TABS = /[\r\n\t\u2028\u2029]+/g

const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;'
}

// `$` is GitHub's math delimiter; the rest are CommonMark/GFM inline and block syntax.
const MARKDOWN_SPECIALS = new Set(['|', '*', '_', '\\', '[', ']', '(', ')', '#', '~', '!', '`', '$'])

// Zero-width space placed after `@` so `@someone` in a file name never notifies anyone.
const MENTION_BREAK = '\u200B'

/**
 * One line of plain text: control characters removed, line breaks and tabs collapsed to a space,
 * trimmed, cut to `max` characters (code points) with `…`. For logs and annotation titles; not escaped.
 */
export function oneLine(s: string, max = DEFAULT_MAX_CHARS): string {
  const limit = Math.max(1, Math.floor(max))
  // A megabyte of server error text would be cut anyway: do not scan all of it.
  const source = String(s)
  const head = source.length > limit * 8 + 64 ? `${sliceCodeUnits(source, limit * 8 + 64)}…` : source
  const flat = head.replace(LINE_BREAKS_AND_TABS, ' ').replace(INVISIBLE, '').replace(/ {2,}/g, ' ').trim()
  return cut(flat, limit)
}

/**
 * Text for a terminal: nothing in it can move the cursor, change colours or retitle the window. Line
 * breaks are kept (a CR becomes one); every other control character and bidirectional override goes.
 */
export function terminalText(s: string): string {
  return String(s).replace(/\r\n?/g, '\n').replace(INVISIBLE, '').replace(/\t/g, ' ')
}

/**
 * A log message as the runner may read it: a line of it that starts with `::` (after blanks, which the
 * runner skips) would be taken as a workflow command such as `::add-mask::` or `::error::`, so its `::`
 * is broken up. Line breaks are kept; a lone CR counts as one, as it does for the runner.
 */
export function neutraliseCommands(message: string): string {
  return message
    .split(/\r\n|\r|\n/)
    .map((line) => line.replace(/^(\s*):(?=:)/, '$1: '))
    .join('\n')
}

/**
 * Text for a markdown context (a table cell, a list item, a paragraph): HTML-escaped, markdown syntax
 * backslash-escaped, on one line, at most `max` characters before escaping. Place it after other text
 * on the line: a leading `-` or `1.` is left as it is.
 */
export function escapeMarkdownCell(s: string, max = DEFAULT_MAX_CHARS): string {
  return escapeEach(oneLine(s, max), (ch) => (MARKDOWN_SPECIALS.has(ch) ? `\\${ch}` : undefined))
}

/**
 * A URL safe to put in a markdown link destination or an `href`, or null when it is not http(s) or not
 * a URL at all: a `javascript:` link must never reach the page.
 */
export function safeUrl(raw: string | null | undefined): string | null {
  if (!raw) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return null
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  // The URL parser leaves these as they are; each would end or break a markdown link or an attribute.
  return url.href.replace(/[()'"<> \\|[\]`*_]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
}

function escapeEach(text: string, markdown: (ch: string) => string | undefined): string {
  let out = ''
  for (const ch of text) {
    out += HTML_ENTITIES[ch] ?? markdown(ch) ?? (ch === '@' ? `@${MENTION_BREAK}` : ch)
  }
  // GitHub turns bare http(s):// and www. addresses into links: a file name or server message must not.
  return out
    .replace(/:\/\//g, `:${MENTION_BREAK}//`)
    .replace(/\b(www)\./gi, (_match, www: string) => `${www}${MENTION_BREAK}.`)
}

/** The first `end` UTF-16 units, one fewer when the last would be half a surrogate pair. */
function sliceCodeUnits(text: string, end: number): string {
  const last = text.charCodeAt(end - 1)
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? end - 1 : end)
}

/** Cut to `max` code points, the last being `…`, so a surrogate pair is never split. */
function cut(text: string, limit: number): string {
  let count = 0
  let kept = ''
  for (const ch of text) {
    count++
    if (count > limit)
      return `${Array.from(kept)
        .slice(0, limit - 1)
        .join('')}…`
    kept += ch
  }
  return text
}
