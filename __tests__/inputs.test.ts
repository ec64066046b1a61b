import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULTS, INPUT, InputError, readInputs, type InputName } from '../src/inputs.js'
import { isLoopbackHost } from '../src/net.js'

const DATASET = '0b9c3b4e-8f6a-4c1e-9a57-2f3d1c0e7a11'
const GROUP = '5f1d2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b'

function reader(values: Partial<Record<InputName, string>>) {
  return (name: InputName) => values[name] ?? ''
}

function problemsOf(values: Partial<Record<InputName, string>>): string[] {
  try {
    readInputs(reader(values))
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return (error as InputError).problems
  }
  throw new Error('expected an InputError')
}

const minimal = { 'dataset-uuid': DATASET, 'predictions-group': 'nightly', path: 'preds/*.json' } as const

describe('readInputs', () => {
  it('parses a minimal set with the documented defaults', () => {
    const inputs = readInputs(reader(minimal))
    expect(inputs).toMatchObject({
      datasetUuid: DATASET,
      group: { kind: 'name', name: 'nightly' },
      createGroup: true,
      patterns: 'preds/*.json',
      apiUrl: 'https://dataset.app.kognic.com',
      authUrl: 'https://auth.app.kognic.com',
      concurrency: 10,
      maxRetries: 5,
      requestTimeoutMs: 120_000,
      maxFileSizeBytes: 100 * 1024 * 1024,
      validation: 'strict',
      ifNoFilesFound: 'error',
      dryRun: false,
      resultsFile: '',
      warnings: []
    })
  })

  it('takes a group UUID, lowercased, and every explicit value', () => {
    const inputs = readInputs(
      reader({
        'dataset-uuid': DATASET.toUpperCase(),
        'predictions-group-uuid': GROUP.toUpperCase(),
        path: 'a/**/*.json\n\n# comment\n!a/skip/**\n',
        'create-group': 'False',
        concurrency: '4',
        'max-retries': '0',
        'request-timeout': '2.5',
        'max-file-size': '7',
        validation: 'warn',
        'if-no-files-found': 'ignore',
        'dry-run': 'TRUE',
        'api-url': 'http://127.0.0.1:8080',
        'auth-url': 'http://localhost:9'
      })
    )
    expect(inputs.datasetUuid).toBe(DATASET)
    expect(inputs.group).toEqual({ kind: 'uuid', uuid: GROUP })
    expect(inputs.patterns).toBe('a/**/*.json\n!a/skip/**')
    expect(inputs.createGroup).toBe(false)
    expect(inputs.dryRun).toBe(true)
    expect(inputs.concurrency).toBe(4)
    expect(inputs.maxRetries).toBe(0)
    expect(inputs.requestTimeoutMs).toBe(2500)
    expect(inputs.maxFileSizeBytes).toBe(7 * 1024 * 1024)
    expect(inputs.validation).toBe('warn')
    expect(inputs.ifNoFilesFound).toBe('ignore')
  })

  it('reports every problem at once, each naming its input', () => {
    const problems = problemsOf({
      'dataset-uuid': 'not-a-uuid',
      path: '',
      concurrency: '0',
      'max-retries': 'many',
      'request-timeout': '-1',
      'max-file-size': '99999',
      validation: 'loose',
      'if-no-files-found': 'fail',
      'dry-run': 'yes',
      'create-group': '1',
      'api-url': 'http://dataset.example.com',
      'auth-url': 'ftp://auth.example.com'
    })
    const byInput = (name: string) =>
      problems.filter((p) => p.startsWith(`${name}:`) || p.startsWith(`${name} `))
    expect(byInput('dataset-uuid')[0]).toMatch(/must be a UUID/)
    expect(
      problems.some((p) => p.startsWith('predictions-group or predictions-group-uuid: one is required'))
    ).toBe(true)
    expect(byInput('path')[0]).toMatch(/required/)
    expect(byInput('concurrency')[0]).toMatch(
      /from 1 to 64, got "0" \(the default, 10, Kognic's advised most, suits most runs\)/
    )
    expect(byInput('max-retries')[0]).toMatch(/whole number from 0 to 20/)
    expect(byInput('request-timeout')[0]).toMatch(/number of seconds/)
    expect(byInput('max-file-size')[0]).toMatch(
      /from 1 to 511, got "99999" \(the default, 100, suits most runs\)/
    )
    expect(byInput('validation')[0]).toMatch(/'strict', 'warn' or 'off'/)
    expect(byInput('if-no-files-found')[0]).toMatch(/'error', 'warn' or 'ignore'/)
    expect(byInput('dry-run')[0]).toMatch(/'true' or 'false'/)
    expect(byInput('create-group')[0]).toMatch(/'true' or 'false'/)
    expect(byInput('api-url')[0]).toMatch(/http:\/\/ is refused for dataset\.example\.com/)
    expect(byInput('auth-url')[0]).toMatch(/https:\/\//)
    expect(problems).toHaveLength(13)
  })

  it('refuses both a group name and a UUID, and a missing dataset', () => {
    const problems = problemsOf({ 'predictions-group': 'a', 'predictions-group-uuid': GROUP, path: 'x' })
    expect(problems).toEqual([
      expect.stringMatching(/^dataset-uuid: required/),
      expect.stringMatching(/^predictions-group and predictions-group-uuid: give one of them, not both/)
    ])
  })

  it('refuses patterns that only exclude', () => {
    expect(problemsOf({ ...minimal, path: '!a\n!b' })).toEqual([
      expect.stringMatching(/^path: every pattern excludes/)
    ])
  })

  it('refuses URLs with user info or a query', () => {
    const problems = problemsOf({
      ...minimal,
      'api-url': 'https://u:p@example.com',
      'auth-url': 'https://a.example.com/?x=1'
    })
    expect(problems[0]).toMatch(/^api-url: must not carry a user name or password/)
    expect(problems[1]).toMatch(/^auth-url: must not carry a query/)
    expect(problems.join('\n')).not.toContain('u:p')
  })

  it('takes a group link template with a {group} placeholder, over https only', () => {
    const template = 'https://app.kognic.com/view/dataset/{dataset}/predictions/{group}'
    expect(readInputs(reader({ ...minimal, 'group-link-template': template })).groupLinkTemplate).toBe(
      template
    )
    for (const bad of [
      'http://app.example.com/{group}',
      'https://app.example.com/groups',
      'not a url {group}'
    ]) {
      expect(problemsOf({ ...minimal, 'group-link-template': bad })).toEqual([
        expect.stringMatching(
          /^group-link-template: must be an https:\/\/ address with a \{group\} placeholder/
        )
      ])
    }
  })

  it('warns, without failing, when concurrency is above what Kognic advises', () => {
    const inputs = readInputs(reader({ ...minimal, concurrency: '20' }))
    expect(inputs.concurrency).toBe(20)
    expect(inputs.warnings).toEqual([expect.stringMatching(/concurrency is 20: Kognic advises at most 10/)])
    expect(problemsOf({ ...minimal, concurrency: '65' })[0]).toMatch(
      /^concurrency: must be a whole number from 1 to 64, got "65" \(the default, 10, Kognic's advised most/
    )
  })

  it('warns when the jobs of a matrix together open more connections than Kognic advises', () => {
    const shards = readInputs(reader({ ...minimal, 'parallel-jobs': '3' }))
    expect(shards.warnings).toEqual([
      expect.stringMatching(
        /^3 jobs \(parallel-jobs\) × concurrency 10 open up to 30 connections.*Set concurrency to 3 in each job/
      )
    ])
    expect(readInputs(reader({ ...minimal, 'parallel-jobs': '3', concurrency: '3' })).warnings).toEqual([])
  })

  it('keeps the defaults equal to those action.yml declares', () => {
    const yml = readFileSync(new URL('../action.yml', import.meta.url), 'utf8')
    const declared = new Map<string, string>()
    let current: string | undefined
    let section = ''
    for (const line of yml.split('\n')) {
      const top = /^(\w[\w-]*):/.exec(line)
      if (top) section = top[1]!
      const key = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line)
      if (key && section === 'inputs') current = key[1]
      const def = /^ {4}default:\s*(.*)$/.exec(line)
      if (def && current && section === 'inputs') declared.set(current, def[1]!.replace(/^'(.*)'$/, '$1'))
    }
    const names = Object.values(INPUT) as string[]
    expect([...declared.keys()].sort()).toEqual(
      names.filter((n) => !['dataset-uuid', 'path'].includes(n)).sort()
    )
    for (const name of names) {
      const ours = DEFAULTS[name as InputName] ?? ''
      const value = declared.get(name)
      // An expression default (github-token's ${{ github.token }}) is filled in by the runner, not by us.
      if (value === undefined || value.startsWith('${{')) continue
      expect({ name, value }).toEqual({ name, value: ours })
    }
  })

  it("lists every input in the README's Inputs table, with action.yml's default", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const table = readme.split('\n## Inputs\n')[1]!.split('\n## ')[0]!
    const rows = new Map<string, string>()
    for (const line of table.split('\n')) {
      const m = /^\| `([a-z][a-z0-9-]*)` +\| ([^|]*?) +\|/.exec(line)
      if (m) rows.set(m[1]!, m[2]!)
    }
    const names = Object.values(INPUT) as string[]
    expect([...rows.keys()].sort()).toEqual([...names].sort())
    for (const name of names) {
      const shown = rows.get(name)!
      const ours = DEFAULTS[name as InputName]
      if (name === INPUT.githubToken || name === INPUT.datasetUuid || name === INPUT.path) continue
      // The README shows a default as `'value'` (a string in YAML), a URL or a word bare: the value is the same.
      expect({ name, shown: shown.replace(/^`'?|'?`$/g, '') }).toEqual({ name, shown: ours ?? '' })
    }
  })
})

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['api.localhost', true],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['127.0.0.1.example.com', false],
    ['localhost.example.com', false],
    ['dataset.app.kognic.com', false]
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected)
  })
})
