// `npm run screenshots`: the README's "How it looks" pictures, from real runs. Runs the built action
// (dist/index.js) against the Kognic emulator (and, for the pull-request comment, the loopback GitHub stub),
// renders the markdown it wrote to HTML styled like GitHub and captures each page with headless Chromium.
// Made on demand only (not in CI or `npm test`): it needs Chromium, e.g. Debian's `apt-get install chromium`.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { marked } from 'marked'
import { startEmulator } from '../emulator/server.js'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_SCENES,
  sampleSeed
} from '../emulator/seed.js'
import { pullRequestEvent, startGitHubStub } from '../__tests__/github-stub.js'
import { ENTRY, ROOT, runAction, type ActionRun } from './runner.js'
import { bboxDoc, cuboidDoc, json, requestBody } from './sample-predictions.js'

const OUT_DIR = path.join(ROOT, 'docs', 'images')
const WIDTH = 1000
const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']
const REJECTED_SCENE = SAMPLE_OD_SCENES[19]!
const REPO = 'acme/perception'

/** The Chromium to use: $CHROMIUM, else the first of the usual names on PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM) return existsSync(process.env.CHROMIUM) ? process.env.CHROMIUM : undefined
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)
  for (const name of CHROMIUM_NAMES) {
    const found = dirs.map((dir) => path.join(dir, name)).find((file) => existsSync(file))
    if (found) return found
  }
  return undefined
}

/** Eight good files: six camera box documents and two lidar cuboid request bodies. */
function goodFiles(): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < 6; i++) {
    files[`out/predictions/${SAMPLE_OD_SCENES[i]}.json`] = json(bboxDoc({ count: 3 + i, seed: i + 1 }))
  }
  for (let i = 6; i < 8; i++) {
    files[`out/predictions/lidar-${i}.json`] = json(
      requestBody(SAMPLE_OD_SCENES[i]!, cuboidDoc({ frames: 3, seed: i + 1 }))
    )
  }
  return files
}

/** A candidate model against goodFiles(): more cars, fewer pedestrians, a new class, cyclists gone. */
function candidateFiles(): Record<string, string> {
  const files: Record<string, string> = {}
  for (let i = 0; i < 6; i++) {
    files[`out/predictions/${SAMPLE_OD_SCENES[i]}.json`] = json(
      bboxDoc({ count: 5 + i, seed: i + 21, classes: ['car', 'car', 'pedestrian', 'traffic_sign'] })
    )
  }
  for (let i = 6; i < 8; i++) {
    files[`out/predictions/lidar-${i}.json`] = json(
      requestBody(SAMPLE_OD_SCENES[i]!, cuboidDoc({ count: 3, frames: 3, seed: i + 1 }))
    )
  }
  return files
}

/** Where actions/download-artifact leaves the main branch's results artifact, and the pattern that finds it. */
const BASELINE_FILE = 'baseline/kognic-results/kognic-upload-results.json'
const BASELINE_GLOB = 'baseline/**/*.json'

/** The common mistakes: no scene in the name, a confidence written as text, broken JSON; and a scene Kognic rejects. */
function partialFailureFiles(): Record<string, string> {
  const textConfidence = bboxDoc({ count: 1, seed: 9 }) as {
    openlabel: { frames: Record<string, { objects: Record<string, unknown> }> }
  }
  const object = Object.values(textConfidence.openlabel.frames['0']!.objects)[0] as {
    object_data: { bbox: { attributes: { num: { val: unknown }[] } }[] }
  }
  const confidence = object.object_data.bbox[0]!.attributes.num[0]!
  confidence.val = String(confidence.val)
  return {
    ...goodFiles(),
    'out/predictions/model_output_0001.json': json(bboxDoc({ seed: 10 })),
    [`out/predictions/${SAMPLE_OD_SCENES[10]}.json`]: json(textConfidence),
    [`out/predictions/${SAMPLE_OD_SCENES[11]}.json`]:
      '{"openlabel": {"metadata": {"schema_version": "1.0.0"},\n',
    [`out/predictions/${REJECTED_SCENE}.json`]: json(bboxDoc({ seed: 12 }))
  }
}

const CSS = `
body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 -apple-system, BlinkMacSystemFont,
  "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif, "Noto Color Emoji"; }
main { box-sizing: border-box; width: ${WIDTH}px; padding: 16px 24px; }
.frame { border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px 16px; }
.frame-title { margin: -8px -16px 12px; padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d1d9e0;
  font-weight: 600; border-radius: 6px 6px 0 0; }
h1, h2, h3, h4 { margin: 16px 0 8px; font-weight: 600; line-height: 1.25; }
h1, h2 { padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
h1 { font-size: 2em; } h2 { font-size: 1.5em; } h3 { font-size: 1.25em; } h4 { font-size: 1em; }
p, ul, ol, table, details, blockquote { margin: 0 0 12px; }
a { color: #0969da; text-decoration: none; }
code { font: 85% ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  background: #818b981f; padding: .2em .4em; border-radius: 6px; }
table { border-collapse: collapse; display: block; max-width: 100%; overflow: auto; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; } tr:nth-child(2n) { background: #f6f8fa; }
summary { cursor: pointer; } details > :not(summary) { margin-left: 0; }
blockquote { padding: 0 1em; color: #59636e; border-left: .25em solid #d1d9e0; }
hr { border: 0; height: 2px; background: #d1d9e0; }
`

/** A page showing `markdown` as GitHub would, in a frame titled `title`; every `<details>` open. */
function page(title: string, markdown: string): string {
  const body = (marked.parse(markdown, { async: false, gfm: true }) as string).replace(
    /<details(?![^>]*\bopen\b)/g,
    '<details open'
  )
  return `<!doctype html><html><head><meta charset="utf-8"><style>${CSS}</style></head>
<body><main><div class="frame"><div class="frame-title">${title}</div>${body}</div></main>
<script>document.body.dataset.height = Math.ceil(document.querySelector('main').getBoundingClientRect().height)</script>
</body></html>`
}

/** Captures `html` as a PNG of the page's own height. */
function capture(chromium: string, html: string, out: string, workDir: string): void {
  const file = path.join(workDir, `${path.basename(out, '.png')}.html`)
  writeFileSync(file, html)
  const url = pathToFileURL(file).href
  const common = [
    '--headless',
    '--disable-gpu',
    '--hide-scrollbars',
    '--force-device-scale-factor=1',
    `--user-data-dir=${path.join(workDir, 'profile')}`,
    // Chromium refuses to start its sandbox as root (containers); the pages come from this script's own runs.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])
  ]
  // First pass: lay the page out and read back its height, so the picture ends where the content does.
  const dom = execFileSync(chromium, [...common, `--window-size=${WIDTH},800`, '--dump-dom', url], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const height = Number(/data-height="(\d+)"/.exec(dom)?.[1])
  if (!Number.isFinite(height) || height <= 0) throw new Error(`could not measure the page height of ${file}`)
  execFileSync(chromium, [...common, `--window-size=${WIDTH},${height}`, `--screenshot=${out}`, url], {
    stdio: ['ignore', 'ignore', 'pipe']
  })
}

function expectCode(run: ActionRun, code: number, what: string): void {
  if (run.code !== code) {
    throw new Error(`${what}: expected exit code ${code}, got ${run.code}\n${run.stdout}\n${run.stderr}`)
  }
}

async function main(): Promise<number> {
  const chromium = findChromium()
  if (!chromium) {
    console.error(
      `Chromium not found (looked for $CHROMIUM: ${process.env.CHROMIUM || 'not set'}; then ` +
        `${CHROMIUM_NAMES.join(', ')} on PATH).\n` +
        'Install it, e.g. on Debian or Ubuntu:\n' +
        '  sudo apt-get update && sudo apt-get install -y chromium fonts-noto-color-emoji\n' +
        'or point CHROMIUM at a Chrome/Chromium binary: CHROMIUM=/path/to/chrome npm run screenshots'
    )
    return 1
  }
  if (!/emoji/i.test(spawnSync('fc-list', [':', 'family'], { encoding: 'utf8' }).stdout ?? '')) {
    console.warn(
      'No emoji font found: the verdict icons will show as boxes (apt-get install fonts-noto-color-emoji).'
    )
  }
  if (!existsSync(ENTRY)) {
    console.error(`${path.relative(ROOT, ENTRY)} is missing: run 'npm run package' first.`)
    return 1
  }
  mkdirSync(OUT_DIR, { recursive: true })
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'kup-screenshots-'))
  const emulator = await startEmulator({
    seed: sampleSeed(),
    quiet: true,
    faults: { rejectScenes: { [REJECTED_SCENE]: 'Scene is archived and read-only' } }
  })
  const github = await startGitHubStub()
  const inputs = {
    'dataset-uuid': SAMPLE_OD_DATASET_UUID,
    path: 'out/predictions/**/*.json',
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url,
    'group-link-template': 'https://app.kognic.com/view/dataset/{dataset}/predictions/{group}',
    // A path in the workspace, as the README advises (kept with actions/upload-artifact), not RUNNER_TEMP's.
    'results-file': 'kognic-upload-results.json'
  }
  try {
    const shots: { file: string; title: string; markdown: string }[] = []

    const success = await runAction({
      inputs: { ...inputs, 'predictions-group': 'detector-v2-nightly' },
      files: goodFiles()
    })
    expectCode(success, 0, 'success run')
    shots.push({ file: 'summary-success.png', title: 'Job summary', markdown: success.summary })
    // The success run stands for the main branch's last run: a candidate model is compared with it.
    const baseline = { [BASELINE_FILE]: JSON.stringify(success.results) }

    const candidate = await runAction({
      inputs: { ...inputs, 'predictions-group': 'detector-v3-candidate', 'compare-with': BASELINE_GLOB },
      files: { ...candidateFiles(), ...baseline }
    })
    expectCode(candidate, 0, 'comparison run')
    shots.push({ file: 'summary-statistics.png', title: 'Job summary', markdown: candidate.summary })

    const partial = await runAction({
      inputs: { ...inputs, 'predictions-group': 'detector-v2-candidate' },
      files: partialFailureFiles()
    })
    expectCode(partial, 1, 'partial-failure run')
    shots.push({ file: 'summary-partial-failure.png', title: 'Job summary', markdown: partial.summary })

    const eventFile = path.join(workDir, 'event.json')
    writeFileSync(eventFile, JSON.stringify(pullRequestEvent(42, REPO)))
    const pr = await runAction({
      inputs: {
        ...inputs,
        'predictions-group': 'pr-42-detector',
        'pr-comment': 'true',
        'github-token': 'ghs_screenshotStubToken',
        'compare-with': BASELINE_GLOB
      },
      // One misnamed file, so the comment shows how a problem reads in a pull request.
      files: {
        ...candidateFiles(),
        ...baseline,
        'out/predictions/model_output_0001.json': json(bboxDoc({ seed: 10 }))
      },
      env: {
        GITHUB_REPOSITORY: REPO,
        GITHUB_EVENT_NAME: 'pull_request',
        GITHUB_EVENT_PATH: eventFile,
        GITHUB_API_URL: github.url
      }
    })
    expectCode(pr, 1, 'pull-request run')
    const comment = github.comments[0]
    if (!comment) throw new Error(`pull-request run posted no comment\n${pr.stdout}`)
    shots.push({
      file: 'pr-comment.png',
      title: 'github-actions <span style="font-weight:400">(bot) commented</span>',
      markdown: comment.body
    })

    for (const shot of shots) {
      const out = path.join(OUT_DIR, shot.file)
      capture(chromium, page(shot.title, shot.markdown), out, workDir)
      console.log(`${path.relative(ROOT, out)}  ${Math.round(statSync(out).size / 1024)} KB`)
    }
  } finally {
    await github.close()
    await emulator.close()
    rmSync(workDir, { recursive: true, force: true })
  }
  return 0
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err)
    process.exit(1)
  }
)
