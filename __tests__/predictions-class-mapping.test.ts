import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { missingClasses, parseClassMapping } from '../src/predictions/class-mapping.js'

let base: string
let ws: string

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'class-mapping-')))
  ws = join(base, 'workspace')
  await mkdir(join(ws, 'config'), { recursive: true })
  await writeFile(
    join(ws, 'config', 'mapping.json'),
    '\uFEFF[{"annotated": "oak", "predicted": "tree"}, {"annotated": "_background"}]\n'
  )
  await writeFile(join(ws, 'config', 'object.json'), '{"annotated": "oak"}')
  await writeFile(join(ws, 'config', 'broken.json'), '[{"annotated": "oak",]')
  await writeFile(join(base, 'outside.json'), '[]')
  // Outside the workspace, and not a valid mapping: an error that quoted it would leak it.
  await writeFile(join(base, 'secret.json'), '["TOP-SECRET-VALUE"]')
  await symlink(join(base, 'secret.json'), join(ws, 'config', 'linked.json'))
  await symlink(base, join(ws, 'up'))
})

afterAll(async () => {
  await rm(base, { recursive: true, force: true })
})

describe('parseClassMapping', () => {
  it('reads an inline list; predicted may be left out', async () => {
    expect(
      await parseClassMapping(' [{"annotated": "oak", "predicted": "tree"}, {"annotated": "sky"}] ', ws)
    ).toEqual([{ annotated: 'oak', predicted: 'tree' }, { annotated: 'sky' }])
  })

  it('reads a .json file in the workspace, BOM and all', async () => {
    expect(await parseClassMapping('config/mapping.json', ws)).toEqual([
      { annotated: 'oak', predicted: 'tree' },
      { annotated: '_background' }
    ])
    expect(await parseClassMapping(join(ws, 'config', 'mapping.json'), ws)).toHaveLength(2)
  })

  it('accepts several annotated classes for one predicted class, and the other way round', async () => {
    const merged = '[{"annotated": "oak", "predicted": "tree"}, {"annotated": "birch", "predicted": "tree"}]'
    expect(await parseClassMapping(merged, ws)).toHaveLength(2)
    const split = '[{"annotated": "tree", "predicted": "oak"}, {"annotated": "tree", "predicted": "birch"}]'
    expect(await parseClassMapping(split, ws)).toHaveLength(2)
    // "sky" only in the annotations, and "sky" also mapped: different pairs.
    expect(
      await parseClassMapping('[{"annotated": "sky"}, {"annotated": "sky", "predicted": "sky"}]', ws)
    ).toHaveLength(2)
  })

  it('reads a mapping file whose name starts with two dots (inside the workspace, not above it)', async () => {
    await writeFile(join(ws, '..mapping.json'), '[{"annotated": "oak", "predicted": "tree"}]')
    expect(await parseClassMapping('..mapping.json', ws)).toEqual([{ annotated: 'oak', predicted: 'tree' }])
  })

  it('refuses a path that leads outside the workspace through a symbolic link, quoting nothing of it', async () => {
    for (const value of ['config/linked.json', 'up/secret.json']) {
      const error = await parseClassMapping(value, ws).then(
        () => null,
        (e: unknown) => e as Error
      )
      expect(error?.message).toContain(
        `class-mapping: "${value}" leads through a symbolic link to a file outside the workspace`
      )
      expect(error?.message).not.toContain('TOP-SECRET-VALUE')
    }
  })

  it('gives [] for an empty input', async () => {
    expect(await parseClassMapping('  \n', ws)).toEqual([])
  })

  const failures: [string, string, RegExp][] = [
    [
      'inline text that is not JSON',
      '[{"annotated": oak}]',
      /^class-mapping \(inline\) is not valid JSON \(/
    ],
    [
      'an inline object',
      '{"annotated": "oak"}',
      /^class-mapping: expected a JSON list .* found a single object/
    ],
    ['an empty list', '[]', /is an empty list; list every class/],
    [
      'an entry that is not an object',
      '[{"annotated": "a"}, "b"]',
      /entry 2: expected an object .* found "b"/
    ],
    [
      'an entry missing annotated',
      '[{"predicted": "tree"}]',
      /entry 1: missing "annotated" \(the class name in the annotations\)/
    ],
    [
      'a non-string annotated',
      '[{"annotated": 3}]',
      /entry 1: "annotated" must be a non-empty string, found 3/
    ],
    [
      'an empty annotated',
      '[{"annotated": ""}]',
      /entry 1: "annotated" must be a non-empty string, found ""/
    ],
    [
      'a non-string predicted',
      '[{"annotated": "a", "predicted": null}]',
      /entry 1: "predicted" must be a non-empty string or left out, found null/
    ],
    ['an unknown key', '[{"annotated": "a", "class": "b"}]', /entry 1: unknown key\(s\) "class"/],
    [
      'the same pair twice',
      '[{"annotated": "oak", "predicted": "tree"}, {"annotated": "sky"}, {"annotated": "oak", "predicted": "tree"}]',
      /entry 3: repeats entry 1 \(annotated "oak", predicted "tree"\); list each pair once/
    ],
    [
      'the same annotated-only entry twice',
      '[{"annotated": "sky"}, {"annotated": "sky"}]',
      /entry 2: repeats entry 1 \(annotated "sky", no predicted\)/
    ],
    [
      'a file that does not exist',
      'config/missing.json',
      /^class-mapping: file "config\/missing.json" not found in the workspace/
    ],
    [
      'a file holding an object',
      'config/object.json',
      /^class-mapping file "config\/object.json" must be a JSON list/
    ],
    [
      'a file that is not JSON',
      'config/broken.json',
      /^class-mapping file "config\/broken.json" is not valid JSON/
    ],
    [
      'a path outside the workspace',
      '../outside.json',
      /^class-mapping: "..\/outside.json" is neither a JSON list .* nor a file inside the workspace/
    ],
    [
      'a path that is not .json',
      'config/mapping.yaml',
      /^class-mapping: "config\/mapping.yaml" does not start with "\[" and is not a .json file path/
    ]
  ]
  for (const [what, raw, message] of failures) {
    it(`refuses ${what}, naming the input`, async () => {
      await expect(parseClassMapping(raw, ws)).rejects.toThrow(message)
    })
  }
})

describe('missingClasses', () => {
  const mapping = [
    { annotated: 'oak', predicted: 'tree' },
    { annotated: 'road', predicted: 'road' },
    { annotated: 'sky' }
  ]

  it('lists the classes no entry predicts, sorted and once each', () => {
    expect(missingClasses(mapping, ['tree', 'car', 'road', 'car', 'bike'])).toEqual(['bike', 'car'])
  })

  it('does not count annotated-only classes as covering a predicted one', () => {
    expect(missingClasses(mapping, new Set(['sky', 'oak']))).toEqual(['oak', 'sky'])
  })

  it('is empty when every class is covered, or there are none', () => {
    expect(missingClasses(mapping, ['tree', 'road'])).toEqual([])
    expect(missingClasses([], [])).toEqual([])
  })
})
