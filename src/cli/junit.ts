// JUnit XML for CI systems that show test reports (GitLab, Jenkins, Buildkite): one test case per matched
// file. Uploaded (or would be, in a dry run) passes; invalid, failed or never attempted fails with its
// reason; a path rightly passed over (a directory, a second path to a file) is skipped.
import type { RunReport } from '../report/model.js'
import type { FileResult } from '../types.js'

const SUITE = 'kognic-upload-predictions'

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;'
}

/**
 * Text for an XML attribute or element: the five specials as entities, and every character XML 1.0 does
 * not allow (controls but tab and line breaks, lone surrogates, U+FFFE/U+FFFF) left out. Line breaks in
 * attributes become &#10; so parsers keep them.
 */
export function escapeXml(text: string): string {
  return (
    String(text)
      // eslint-disable-next-line no-control-regex -- removing what XML cannot carry is the point
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/[&<>"']/g, (ch) => XML_ENTITIES[ch]!)
      .replace(/\r\n?|\n/g, '&#10;')
  )
}

const FAILURE_TYPE: Partial<Record<FileResult['status'], string>> = {
  invalid: 'invalid',
  failed: 'upload-failed',
  'not-attempted': 'not-attempted'
}

/** The report as JUnit XML; `clean` is applied to every text from outside (e.g. removes secrets). */
export function renderJUnit(report: RunReport, clean: (text: string) => string = (t) => t): string {
  const x = (text: string): string => escapeXml(clean(text))
  const seconds = ((report.finishedAt - report.startedAt) / 1000).toFixed(3)
  const cases: string[] = []
  let failures = 0
  let skipped = 0
  for (const result of report.results) {
    const type = FAILURE_TYPE[result.status]
    const open = `    <testcase classname="${SUITE}" name="${x(result.path)}"`
    if (!type) {
      cases.push(`${open}/>`)
      continue
    }
    failures++
    const reason = result.error ?? `not uploaded (${result.status})`
    const details = result.problems.map((p) => `${p.jsonPath ? `${p.jsonPath}: ` : ''}${p.message}`)
    if (result.moreProblems) details.push(`… and ${result.moreProblems} more problem(s)`)
    cases.push(
      `${open}>\n      <failure type="${type}" message="${x(reason)}">${x(details.join('\n') || reason)}</failure>\n    </testcase>`
    )
  }
  for (const s of report.skipped) {
    skipped++
    cases.push(
      `    <testcase classname="${SUITE}" name="${x(s.displayPath)}">\n      <skipped message="${x(s.reason)}"/>\n    </testcase>`
    )
  }
  // A run that stopped before or without its files still shows red, not an empty green suite.
  if (report.fatalError) {
    failures++
    cases.push(
      `    <testcase classname="${SUITE}" name="run">\n      <failure type="run-stopped" message="${x(report.fatalError)}"/>\n    </testcase>`
    )
  }
  const suite = `tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${seconds}"`
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${SUITE}" ${suite}>`,
    `  <testsuite name="${SUITE}" ${suite} timestamp="${new Date(report.startedAt).toISOString().slice(0, 19)}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    ''
  ].join('\n')
}
