import { describe, expect, it } from 'vitest'
import { escapeMarkdownCell, neutraliseCommands, oneLine, safeUrl } from '../src/report/escape.js'
import { formatCount, formatDuration, formatRate } from '../src/report/format.js'

const HOSTILE_FILE_NAME = '<img src=x onerror=alert(1)>|**x**.json'
const HOSTILE_SERVER_MESSAGE =
  'Bad request:\r\n<script>alert("x")</script>\n# Title [link](javascript:alert(1)) ~~s~~ `code` & \'q\' $x$'

describe('escapeMarkdownCell', () => {
  it('renders a hostile file name inert: HTML escaped, markdown syntax and the pipe backslash-escaped', () => {
    expect(escapeMarkdownCell(HOSTILE_FILE_NAME)).toBe(
      '&lt;img src=x onerror=alert\\(1\\)&gt;\\|\\*\\*x\\*\\*.json'
    )
  })

  it('puts a multi-line server message with HTML and markdown on one inert line', () => {
    expect(escapeMarkdownCell(HOSTILE_SERVER_MESSAGE)).toBe(
      'Bad request: &lt;script&gt;alert\\(&quot;x&quot;\\)&lt;/script&gt; \\# Title ' +
        '\\[link\\]\\(javascript:alert\\(1\\)\\) \\~\\~s\\~\\~ \\`code\\` &amp; &#39;q&#39; \\$x\\$'
    )
  })

  it('escapes every markdown special the summary relies on', () => {
    expect(escapeMarkdownCell('|*_\\[]()#~!`$')).toBe('\\|\\*\\_\\\\\\[\\]\\(\\)\\#\\~\\!\\`\\$')
  })

  it('strips control and bidirectional-override characters, and collapses line breaks and tabs', () => {
    expect(escapeMarkdownCell('a\u0000b\u001bc\u202Ed\u2066e\u007f\u0085f')).toBe('abcdef')
    expect(escapeMarkdownCell('  one\r\n\r\ntwo\tthree\u2028four  ')).toBe('one two three four')
  })

  it('escapes text that already looks like an entity, so it shows as typed', () => {
    expect(escapeMarkdownCell('&lt;b&gt; &#42;')).toBe('&amp;lt;b&amp;gt; &amp;\\#42;')
  })

  it('breaks @mentions so a file name cannot notify anyone', () => {
    expect(escapeMarkdownCell('@octocat')).toBe('@\u200Boctocat')
  })

  it('cuts to the maximum length with an ellipsis before escaping, never splitting a character', () => {
    expect(escapeMarkdownCell('abcdef', 4)).toBe('abc…')
    expect(escapeMarkdownCell('abcd', 4)).toBe('abcd')
    expect(escapeMarkdownCell('😀😀😀', 2)).toBe('😀…')
    // The cut happens on the raw text, so an entity is never cut in half.
    expect(escapeMarkdownCell('<<<<<<', 3)).toBe('&lt;&lt;…')
  })

  it('cuts a message of megabytes to the maximum', () => {
    const huge = 'x'.repeat(5_000_000)
    const escaped = escapeMarkdownCell(huge, 50)
    expect(escaped).toBe(`${'x'.repeat(49)}…`)
  })
})

describe('oneLine', () => {
  it('flattens and cuts without escaping, for logs', () => {
    expect(oneLine('first\nsecond\r\n<b>', 100)).toBe('first second <b>')
    expect(oneLine('abcdef', 3)).toBe('ab…')
  })
})

describe('safeUrl', () => {
  it('accepts http(s) and percent-encodes what would break a markdown link', () => {
    expect(safeUrl('https://app.kognic.com/p/a (b)"<x>')).toBe(
      'https://app.kognic.com/p/a%20%28b%29%22%3Cx%3E'
    )
  })

  it('refuses other schemes and non-URLs', () => {
    expect(safeUrl('javascript:alert(1)')).toBeNull()
    expect(safeUrl('data:text/html,<b>')).toBeNull()
    expect(safeUrl('not a url')).toBeNull()
    expect(safeUrl('')).toBeNull()
    expect(safeUrl(null)).toBeNull()
  })
})

describe('format', () => {
  it('formats counts with thousands separators whatever the locale', () => {
    expect(formatCount(0)).toBe('0')
    expect(formatCount(999)).toBe('999')
    expect(formatCount(1234567)).toBe('1,234,567')
    expect(formatCount(-1234)).toBe('-1,234')
    expect(formatCount(1234.6)).toBe('1,235')
    expect(formatCount(Number.NaN)).toBe('?')
  })

  it('formats durations for people', () => {
    expect(formatDuration(850)).toBe('850ms')
    expect(formatDuration(4000)).toBe('4s')
    expect(formatDuration(4200)).toBe('4.2s')
    expect(formatDuration(38_000)).toBe('38s')
    expect(formatDuration(59_600)).toBe('1m 0s')
    expect(formatDuration(78_000)).toBe('1m 18s')
    expect(formatDuration(7_500_000)).toBe('2h 5m')
    expect(formatDuration(-5)).toBe('0ms')
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('0ms')
  })

  it('formats rates, with no rate over zero time', () => {
    expect(formatRate(241, 5000)).toBe('48.2 files/s')
    expect(formatRate(1, 3000)).toBe('0.33 files/s')
    expect(formatRate(1000, 2000)).toBe('500 files/s')
    expect(formatRate(12_345, 1000, 'uploads/s')).toBe('12,345 uploads/s')
    expect(formatRate(5, 0)).toBe('– files/s')
    expect(formatRate(5, -10)).toBe('– files/s')
  })
})

describe('bare addresses', () => {
  it('are not turned into links by GitHub: the scheme and www. are broken with a zero-width space', () => {
    for (const escape of [escapeMarkdownCell]) {
      const out = escape('log in at https://evil.example/login or www.evil.example')
      expect(out).not.toMatch(/https?:\/\//)
      expect(out).not.toMatch(/www\./i)
      expect(out.replace(/\u200b/g, '')).toContain('evil.example/login')
    }
  })
})

describe('neutraliseCommands', () => {
  it('breaks up a workflow command on any line, after blanks and after a lone CR', () => {
    expect(neutraliseCommands('a.json\n::error::x\r  ::add-mask::y\r\n::group::z')).toBe(
      'a.json\n: :error::x\n  : :add-mask::y\n: :group::z'
    )
  })

  it('leaves lines that only contain :: further in as they are', () => {
    expect(neutraliseCommands('scene a::b\nplain')).toBe('scene a::b\nplain')
  })
})
