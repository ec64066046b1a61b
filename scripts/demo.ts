// `npm run demo`: the tour. Starts the local Kognic emulator with its sample datasets, runs the built action
// (dist/index.js) exactly as the runner would on the files in examples/, and prints what a person would see:
// the log, the outputs and the job summary. Stops everything when done; exits non-zero if a run misbehaved.
import { existsSync } from 'node:fs'
import { cpSync } from 'node:fs'
import path from 'node:path'
import { startEmulator } from '../emulator/server.js'
import {
  SAMPLE_CLIENT_ID,
  SAMPLE_CLIENT_SECRET,
  SAMPLE_OD_DATASET_UUID,
  SAMPLE_OD_GROUP_UUID,
  SAMPLE_OD_SCENES,
  SAMPLE_SEG_DATASET_UUID,
  sampleSeed
} from '../emulator/seed.js'
import { ENTRY, ROOT, makeWorkspace, runAction, type ActionRun } from './runner.js'
import { bboxDoc } from './sample-predictions.js'

function confidenceAsText() {
  const doc = bboxDoc({ count: 1 }) as {
    openlabel: {
      frames: Record<
        string,
        { objects: Record<string, { object_data: { bbox: { attributes: { num: { val: unknown }[] } }[] } }> }
      >
    }
  }
  const confidence = Object.values(doc.openlabel.frames['0']!.objects)[0]!.object_data.bbox[0]!.attributes
    .num[0]!
  confidence.val = String(confidence.val)
  return doc
}

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s)
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s)

interface Step {
  title: string
  why: string
  inputs: Record<string, string>
  expectCode: number
}

async function main(): Promise<number> {
  if (!existsSync(ENTRY)) {
    console.error(`${path.relative(ROOT, ENTRY)} is missing: run 'npm run package' first.`)
    return 1
  }
  const emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
  console.log(bold(`Kognic emulator on ${emulator.url}`))
  console.log(
    dim(
      `  client id ${SAMPLE_CLIENT_ID}; datasets ${SAMPLE_OD_DATASET_UUID} (boxes), ${SAMPLE_SEG_DATASET_UUID} (segmentation)\n`
    )
  )

  // The runner checks the repository out into the workspace: copy examples/ into a fresh one.
  const workspace = makeWorkspace({
    // Two mistakes people make: a file not named after its scene, and a confidence written as text.
    'scratch/model-output-0001.json': JSON.stringify({
      openlabel: { metadata: { schema_version: '1.0.0' } }
    }),
    [`scratch/${SAMPLE_OD_SCENES[12]}.json`]: JSON.stringify(confidenceAsText())
  })
  cpSync(path.join(ROOT, 'examples'), path.join(workspace, 'examples'), { recursive: true })

  const common = {
    'client-id': SAMPLE_CLIENT_ID,
    'client-secret': SAMPLE_CLIENT_SECRET,
    'api-url': emulator.url,
    'auth-url': emulator.url
  }
  const stamp = new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')
  const steps: Step[] = [
    {
      title: '1. Boxes and cuboids into a new predictions group',
      why: 'The group does not exist yet, so the action creates it, then uploads 9 files (6 bbox documents, 3 cuboid sequences in the request-body form).',
      inputs: {
        'dataset-uuid': SAMPLE_OD_DATASET_UUID,
        'predictions-group': `demo-boxes-${stamp}`,
        path: 'examples/object-detection/**/*.json',
        ...common
      },
      expectCode: 0
    },
    {
      title: '2. Two bad files among good ones, into an existing group by UUID',
      why: 'Each bad file fails alone, named, with the reason; the good ones still land; then the step fails.',
      inputs: {
        'dataset-uuid': SAMPLE_OD_DATASET_UUID,
        'predictions-group-uuid': SAMPLE_OD_GROUP_UUID,
        path: 'examples/object-detection/camera/*.json\nscratch/*.json',
        ...common
      },
      expectCode: 1
    },
    {
      title: '3. Segmentation masks, with the class mapping from a file',
      why: 'A segmentation group must be created with a class mapping that covers every predicted class.',
      inputs: {
        'dataset-uuid': SAMPLE_SEG_DATASET_UUID,
        'predictions-group': `demo-segmentation-${stamp}`,
        'class-mapping': 'examples/class-mapping.json',
        path: 'examples/segmentation/*.json',
        ...common
      },
      expectCode: 0
    },
    {
      title: '4. A dry run without credentials, as for a pull request from a fork',
      why: 'A fork gets no secrets: the dry run still reads and checks every file and lists file → scene; it creates and uploads nothing.',
      inputs: {
        'dataset-uuid': SAMPLE_OD_DATASET_UUID,
        'predictions-group': 'baseline-model',
        path: 'examples/object-detection/**/*.json',
        'dry-run': 'true',
        'api-url': emulator.url,
        'auth-url': emulator.url
      },
      expectCode: 0
    }
  ]

  let ok = true
  try {
    for (const step of steps) {
      console.log(bold(`\n━━ ${step.title}`))
      console.log(dim(step.why))
      console.log(
        dim(
          `  with:\n${Object.entries(step.inputs)
            .map(([k, v]) => `    ${k}: ${k === 'client-secret' ? '***' : v.replace(/\n/g, '\n      ')}`)
            .join('\n')}`
        )
      )
      const run = await runAction({ inputs: step.inputs, workspace })
      show(run)
      if (run.code !== step.expectCode) {
        ok = false
        console.log(bold(`  ✗ expected exit code ${step.expectCode}, got ${run.code}`))
      }
    }
    const stored = emulator.state.predictions.length
    console.log(
      bold(
        `\n━━ The emulator now holds ${stored} predictions in ${Object.values(emulator.state.groups).flat().length} groups;`
      )
    )
    console.log(
      `   it issued ${emulator.state.tokenRequests} token(s) for ${steps.length} runs and served ${emulator.state.requests} requests.`
    )
    console.log(
      ok
        ? bold('\nDemo finished: every run behaved as expected.')
        : bold('\nDemo finished with surprises (see ✗ above).')
    )
  } finally {
    await emulator.close()
  }
  return ok ? 0 : 1
}

/** Prints the action's log as the Actions UI shows it: groups as headings, annotations marked. */
function show(run: ActionRun): void {
  console.log(dim(`  ── log (exit code ${run.code}, ${run.durationMs} ms)`))
  for (const line of run.stdout.split('\n')) {
    if (line === '' || line.startsWith('::add-mask::') || line === '::endgroup::') continue
    if (line.startsWith('::group::')) console.log(`  ▸ ${line.slice(9)}`)
    else if (line.startsWith('::debug::')) continue
    else if (line.startsWith('::error'))
      console.log(`    ✗ ${line.replace(/^::error[^:]*::/, '').replace(/%0A/g, '\n      ')}`)
    else if (line.startsWith('::warning')) console.log(`    ⚠ ${line.replace(/^::warning[^:]*::/, '')}`)
    else console.log(`    ${line}`)
  }
  console.log(dim('  ── outputs'))
  for (const [name, value] of Object.entries(run.outputs)) console.log(`    ${name} = ${value}`)
  console.log(dim('  ── job summary (markdown)'))
  console.log(
    run.summary
      .trim()
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n')
  )
}

main().then(
  async (code) => process.exit(code === 0 ? await showCommand() : code),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)

/** The same engine as a command (dist/cli.js): a dry run of examples/, as a person would type it. */
async function showCommand(): Promise<number> {
  const { execFile } = await import('node:child_process')
  const emulator = await startEmulator({ seed: sampleSeed(), quiet: true })
  try {
    const workspace = makeWorkspace()
    cpSync(path.join(ROOT, 'examples', 'object-detection'), path.join(workspace, 'predictions'), {
      recursive: true
    })
    const args = ['--dataset-uuid', SAMPLE_OD_DATASET_UUID, '--predictions-group', 'from the command line']
    const shown = args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ')
    console.log(bold(`\nThe command line, with env KOGNIC_CLIENT_ID and KOGNIC_CLIENT_SECRET set:`))
    console.log(`  $ npx kognic-upload-predictions ${shown} --dry-run predictions/`)
    // Asynchronously: the emulator answers from this process.
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [
          path.join(ROOT, 'dist', 'cli.js'),
          ...args,
          '--dry-run',
          'predictions/',
          '--api-url',
          emulator.url,
          '--auth-url',
          emulator.url
        ],
        {
          cwd: workspace,
          env: {
            PATH: process.env.PATH,
            KOGNIC_CLIENT_ID: SAMPLE_CLIENT_ID,
            KOGNIC_CLIENT_SECRET: SAMPLE_CLIENT_SECRET
          }
        },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number(error.code ?? 1) : 0, output: `${stderr}${stdout}` })
      )
    })
    console.log(run.output.trimEnd().replace(/^/gm, '    '))
    console.log(dim(`  ── exit code ${run.code}`))
    return run.code === 0 ? 0 : 1
  } finally {
    await emulator.close()
  }
}
