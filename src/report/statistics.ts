// The prediction statistics, and their comparison with a baseline, as people read them: a markdown section
// for the job summary and the pull-request comment, and plain text for the terminal. Class and stream names
// come from the files: escaped wherever they are shown. The chart is Unicode block bars in a table column,
// which renders alike in job summaries, pull-request comments and terminals.
import type { ClassChange, ClassStats, Comparison, Statistics } from '../predictions/statistics.js'
import { MAX_CLASSES, NO_CLASS } from '../predictions/statistics.js'
import { escapeMarkdownCell, neutraliseCommands, oneLine, terminalText } from './escape.js'
import { formatCount } from './format.js'

/** Rows shown before the rest are collapsed. */
export const SHOWN_ROWS = 15
/** Rows inside the collapsed part at most; the results file has every class. */
export const COLLAPSED_ROWS = 85
const NAME_CHARS = 60
const BAR_WIDTH = 16
const MAX_NAMED_CLASSES = 10
const MAX_STREAMS_SHOWN = 10
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉']

const n = formatCount

/** A bar of `value` out of `max`, `width` characters at full length, in eighths; at least a sliver when above 0. */
export function bar(value: number, max: number, width = BAR_WIDTH): string {
  if (!(value > 0) || !(max > 0)) return ''
  const eighths = Math.max(1, Math.round((Math.min(value, max) / max) * width * 8))
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]
}

/** The baseline's bar: light shade, whole characters, so it reads apart from this run's. */
function baselineBar(value: number, max: number, width = BAR_WIDTH): string {
  if (!(value > 0) || !(max > 0)) return ''
  return '░'.repeat(Math.max(1, Math.round((Math.min(value, max) / max) * width)))
}

function formatPercent(change: number | null): string {
  if (change === null) return 'new'
  const rounded = Math.abs(change) >= 10 ? change.toFixed(0) : change.toFixed(1)
  return `${change > 0 ? '+' : change < 0 ? '−' : '±'}${rounded.replace('-', '')}%`
}

function formatConfidence(value: number | null): string {
  return value === null ? '—' : value.toFixed(2)
}

function confidenceChange(c: ClassChange): string {
  if (c.meanConfidence === null)
    return c.baselineMeanConfidence === null ? '—' : `— (was ${formatConfidence(c.baselineMeanConfidence)})`
  if (c.baselineMeanConfidence === null) return formatConfidence(c.meanConfidence)
  const delta = c.meanConfidence - c.baselineMeanConfidence
  const sign = delta > 0.005 ? '+' : delta < -0.005 ? '−' : '±'
  return `${formatConfidence(c.meanConfidence)} (${sign}${Math.abs(delta).toFixed(2)})`
}

function mdName(name: string): string {
  return name === NO_CLASS ? '_(no type)_' : escapeMarkdownCell(name, NAME_CHARS)
}

function textName(name: string): string {
  return name === NO_CLASS ? '(no type)' : oneLine(terminalText(name), NAME_CHARS)
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** `rows` as a table, the first SHOWN_ROWS open and the rest (up to COLLAPSED_ROWS, and `budget`) collapsed. */
function cappedTable(header: string, rows: string[], noun: string, budget: number): string {
  const shown: string[] = []
  let used = bytes(header)
  for (const row of rows.slice(0, SHOWN_ROWS)) {
    if (used + bytes(row) + 1 > budget) break
    shown.push(row)
    used += bytes(row) + 1
  }
  const parts = [`${header}\n${shown.join('\n')}`]
  const rest = rows.slice(shown.length)
  if (rest.length === 0 || shown.length < SHOWN_ROWS) {
    if (rest.length > 0) parts.push(`_…and ${n(rest.length)} more ${noun}: the results file has them all._`)
    return parts.join('\n\n')
  }
  const opening = `<details>\n<summary>${n(rest.length)} more ${noun}</summary>\n\n${header}\n`
  const closing = '\n\n</details>'
  used += bytes(opening) + bytes(closing) + 120
  const collapsed: string[] = []
  for (const row of rest.slice(0, COLLAPSED_ROWS)) {
    if (used + bytes(row) + 1 > budget) break
    collapsed.push(row)
    used += bytes(row) + 1
  }
  const left = rest.length - collapsed.length
  const note = left > 0 ? `\n\n_…and ${n(left)} more ${noun}: the results file has them all._` : ''
  if (collapsed.length > 0) parts.push(`${opening}${collapsed.join('\n')}${note}${closing}`)
  else parts.push(`_…and ${n(rest.length)} more ${noun}: the results file has them all._`)
  return parts.join('\n\n')
}

function totalsLine(s: Statistics): string {
  const g = s.geometries
  const kinds = (['bbox', 'cuboid', 'image'] as const).filter((k) => g[k] > 0).map((k) => `${n(g[k])} ${k}`)
  const streams = s.streams
    .slice(0, MAX_STREAMS_SHOWN)
    .map((st) => `${escapeMarkdownCell(st.name, NAME_CHARS)} ${n(st.objects)}`)
  const moreStreams =
    s.streams.length > MAX_STREAMS_SHOWN ? `, ${n(s.streams.length - MAX_STREAMS_SHOWN)} more` : ''
  return [
    `${n(s.files)} ${s.files === 1 ? 'file' : 'files'}`,
    `${n(s.frames)} frames`,
    `${n(g.bbox + g.cuboid + g.image)} geometries${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}`,
    streams.length > 0 ? `objects per stream: ${streams.join(', ')}${moreStreams}` : ''
  ]
    .filter(Boolean)
    .join(' · ')
}

function namesList(names: string[]): string {
  const shown = names.slice(0, MAX_NAMED_CLASSES).map(mdName)
  return names.length > MAX_NAMED_CLASSES
    ? `${shown.join(', ')} and ${n(names.length - MAX_NAMED_CLASSES)} more`
    : shown.join(', ')
}

/**
 * The statistics section of the summary: the comparison with the baseline when there is one, else the
 * per-class statistics alone; '' when the run checked no file. At most `budget` bytes.
 */
export function statisticsSection(
  statistics: Statistics | null | undefined,
  comparison: Comparison | null | undefined,
  budget: number
): string {
  if (!statistics || statistics.files === 0) return ''
  const untracked =
    statistics.untracked.geometries > 0
      ? `\n\n_${n(statistics.untracked.geometries)} geometries of classes beyond the first ${n(MAX_CLASSES)} are counted only in the totals._`
      : ''
  if (comparison) {
    const head = [
      '### Predictions against the baseline',
      `This run: ${totalsLine(statistics)}. Baseline: ${n(comparison.baselineFiles)} ${comparison.baselineFiles === 1 ? 'file' : 'files'} in ${comparison.baselines
        .slice(0, 3)
        .map((b) => `<code>${escapeMarkdownCell(b, 120)}</code>`)
        .join(
          ', '
        )}${comparison.baselines.length > 3 ? ` and ${n(comparison.baselines.length - 3)} more` : ''}.` +
        (comparison.files !== comparison.baselineFiles
          ? ' The runs have different numbers of files: the counts are compared as they are.'
          : '')
    ]
    const appeared = comparison.classes.filter((c) => c.state === 'appeared').map((c) => c.name)
    const vanished = comparison.classes.filter((c) => c.state === 'vanished').map((c) => c.name)
    const changes = [
      appeared.length > 0 ? `🆕 **Appeared:** ${namesList(appeared)}` : '',
      vanished.length > 0 ? `🚫 **Vanished:** ${namesList(vanished)}` : ''
    ].filter(Boolean)
    if (changes.length > 0) head.push(changes.join('<br>'))
    const max = Math.max(1, ...comparison.classes.map((c) => Math.max(c.objects, c.baselineObjects)))
    const header =
      '| Class | Objects | Baseline | Change | Mean confidence (change) | █ this run · ░ baseline |\n| :-- | --: | --: | --: | --: | :-- |'
    const rows = comparison.classes.map(
      (c) =>
        `| ${mdName(c.name)} | ${n(c.objects)} | ${n(c.baselineObjects)} | ${c.state === 'vanished' ? 'vanished' : formatPercent(c.changePercent)} | ${confidenceChange(c)} | ${bar(c.objects, max)}<br>${baselineBar(c.baselineObjects, max)} |`
    )
    const top = head.join('\n\n')
    return `${top}\n\n${cappedTable(header, rows, 'classes', budget - bytes(top) - bytes(untracked) - 4)}${untracked}`
  }
  const top = `### What the predictions hold\n\n${totalsLine(statistics)}.`
  const max = Math.max(1, ...statistics.classes.map((c) => c.objects))
  const header =
    '| Class | Objects | Geometries | Scenes | Confidence mean (min–max) | Without confidence | Objects |\n| :-- | --: | --: | --: | --: | --: | :-- |'
  const rows = statistics.classes.map(
    (c: ClassStats) =>
      `| ${mdName(c.name)} | ${n(c.objects)} | ${n(c.geometries)} | ${n(c.scenes)} | ${c.confidence ? `${formatConfidence(c.confidence.mean)} (${formatConfidence(c.confidence.min)}–${formatConfidence(c.confidence.max)})` : '—'} | ${n(c.withoutConfidence)} | ${bar(c.objects, max)} |`
  )
  if (rows.length === 0) return `${top} The files hold no geometry.`
  return `${top}\n\n${cappedTable(header, rows, 'classes', budget - bytes(top) - bytes(untracked) - 4)}${untracked}`
}

/** The same for a terminal: a table of plain text, the first SHOWN_ROWS classes; '' when nothing was counted. */
export function statisticsText(
  statistics: Statistics | null | undefined,
  comparison: Comparison | null | undefined
): string {
  if (!statistics || statistics.files === 0) return ''
  const g = statistics.geometries
  const lines: string[] = []
  const totals = `${n(statistics.files)} file(s), ${n(statistics.frames)} frame(s), ${n(g.bbox)} bbox, ${n(g.cuboid)} cuboid, ${n(g.image)} image`
  let table: string[][]
  let more: number
  if (comparison) {
    lines.push(
      `Predictions against the baseline (${n(comparison.baselineFiles)} file(s) in ${comparison.baselines.map((b) => oneLine(terminalText(b), 120)).join(', ')}); this run: ${totals}`
    )
    const max = Math.max(1, ...comparison.classes.map((c) => Math.max(c.objects, c.baselineObjects)))
    table = [['class', 'objects', 'baseline', 'change', 'confidence', 'this run █ / baseline ░']]
    for (const c of comparison.classes.slice(0, SHOWN_ROWS))
      table.push([
        textName(c.name),
        n(c.objects),
        n(c.baselineObjects),
        c.state === 'vanished' ? 'vanished' : formatPercent(c.changePercent),
        confidenceChange(c),
        `${bar(c.objects, max)} / ${baselineBar(c.baselineObjects, max)}`
      ])
    more = comparison.classes.length - SHOWN_ROWS
  } else {
    lines.push(`Predictions: ${totals}`)
    const max = Math.max(1, ...statistics.classes.map((c) => c.objects))
    table = [['class', 'objects', 'geometries', 'scenes', 'confidence', '']]
    for (const c of statistics.classes.slice(0, SHOWN_ROWS))
      table.push([
        textName(c.name),
        n(c.objects),
        n(c.geometries),
        n(c.scenes),
        c.confidence
          ? `${formatConfidence(c.confidence.mean)} (${formatConfidence(c.confidence.min)}–${formatConfidence(c.confidence.max)})`
          : '—',
        bar(c.objects, max)
      ])
    more = statistics.classes.length - SHOWN_ROWS
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => [...row[i]!].length)))
  for (const row of table)
    lines.push(
      `  ${row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`.trimEnd()
    )
  if (more > 0) lines.push(`  …and ${n(more)} more classes (the results file has them all)`)
  return `${neutraliseCommands(lines.join('\n'))}\n`
}
