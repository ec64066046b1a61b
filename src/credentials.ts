// Where the Kognic API credentials come from, in the order kognic-auth looks, with the action's inputs first.
// Every secret is handed to `mask` before anything else can print it; error messages never quote a secret.
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import path from 'node:path'
import { z } from 'zod'
import { asInputName, INPUT, type NameInput } from './inputs.js'
import { secretForms } from './kognic/secrets.js'

export interface Credentials {
  clientId: string
  clientSecret: string
  /** The credentials file's `scopes`, space-separated, for the token request's `scope`. */
  scope?: string
  /** Where they came from, for the log: never the values. */
  source: string
}

export class CredentialsError extends Error {
  /** True when no credentials were given at all (as opposed to credentials that are wrong). */
  constructor(
    message: string,
    readonly missing = false
  ) {
    super(message)
    this.name = 'CredentialsError'
  }
}

const credentialsFile = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  email: z.string().optional(),
  userId: z.union([z.string(), z.number()]).optional(),
  issuer: z.string().optional(),
  name: z.string().optional(),
  created: z.string().optional(),
  expires: z.string().optional(),
  scopes: z.unknown().optional()
})

type Env = Record<string, string | undefined>

/**
 * Resolves the credentials: the `credentials` input, else `client-id` + `client-secret`, else env
 * KOGNIC_CREDENTIALS (a file path), else env KOGNIC_CLIENT_ID + KOGNIC_CLIENT_SECRET.
 */
export async function resolveCredentials(
  inputs: { credentials: string; clientId: string; clientSecret: string },
  env: Env,
  mask: (secret: string) => void,
  now: () => number = Date.now,
  /** How messages name an input: `credentials`, or `--credentials` on the command line. */
  name: NameInput = asInputName
): Promise<Credentials> {
  // Mask first: whatever goes wrong below, nothing printed afterwards can carry these.
  maskAll(mask, inputs.credentials, inputs.clientSecret, env.KOGNIC_CLIENT_SECRET)

  const hasPair = inputs.clientId !== '' || inputs.clientSecret !== ''
  if (inputs.credentials !== '' && hasPair) {
    throw new CredentialsError(
      `${name(INPUT.credentials)} and ${name(INPUT.clientId)}/${name(INPUT.clientSecret)} are both set: give one form of credentials, not both`
    )
  }
  if (inputs.credentials !== '') {
    return fromCredentialsJson(inputs.credentials, `the value of ${name(INPUT.credentials)}`, mask, now)
  }
  if (hasPair) {
    return fromPair(
      inputs.clientId,
      inputs.clientSecret,
      `${name(INPUT.clientId)}/${name(INPUT.clientSecret)}`
    )
  }

  const file = expandHome(env.KOGNIC_CREDENTIALS?.trim() ?? '', env)
  if (file) {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      throw new CredentialsError(
        `env KOGNIC_CREDENTIALS points to ${file}, which cannot be read (${code}): give the path of the credentials file downloaded from the Kognic app, or set ${name(INPUT.credentials)}`
      )
    }
    maskAll(mask, text)
    return fromCredentialsJson(text, `the file ${file} (env KOGNIC_CREDENTIALS)`, mask, now)
  }

  const envId = env.KOGNIC_CLIENT_ID?.trim() ?? ''
  const envSecret = env.KOGNIC_CLIENT_SECRET?.trim() ?? ''
  if (envId !== '' || envSecret !== '') {
    return fromPair(envId, envSecret, 'env KOGNIC_CLIENT_ID/KOGNIC_CLIENT_SECRET', 'env')
  }

  throw new CredentialsError(
    `No Kognic credentials: set ${name(INPUT.clientId)} and ${name(INPUT.clientSecret)} (e.g. from repository secrets), or ${name(INPUT.credentials)} to the content of a Kognic credentials file, or env KOGNIC_CREDENTIALS / KOGNIC_CLIENT_ID + KOGNIC_CLIENT_SECRET`,
    true
  )
}

function fromPair(id: string, secret: string, names: string, where?: string): Credentials {
  if (id === '' || secret === '') {
    const missing = id === '' ? 'client id' : 'client secret'
    throw new CredentialsError(
      `${names}: the ${missing} is empty; give both the client id and the client secret`
    )
  }
  return { clientId: id, clientSecret: secret, source: where ? `${names} (${where})` : names }
}

function fromCredentialsJson(
  text: string,
  where: string,
  mask: (s: string) => void,
  now: () => number
): Credentials {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // The parser's message can quote the content: say where, not what.
    throw new CredentialsError(
      `${where} is not valid JSON: give the whole content of the credentials file downloaded from the Kognic app`
    )
  }
  const parsed = credentialsFile.safeParse(json)
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(top level)'))]
    throw new CredentialsError(
      `${where} is not a Kognic credentials file: ${fields.join(', ')} missing or of the wrong type (it needs clientId and clientSecret strings)`
    )
  }
  const creds = parsed.data
  maskAll(mask, creds.clientSecret)
  if (creds.expires) {
    const expires = Date.parse(creds.expires)
    if (!Number.isNaN(expires) && expires <= now()) {
      throw new CredentialsError(
        `${where}: these credentials expired on ${new Date(expires).toISOString()}; create new API credentials in the Kognic app`
      )
    }
  }
  // A list or a space-separated string; anything else is not a scope the token endpoint could read.
  const scopes = creds.scopes
  const scope = Array.isArray(scopes)
    ? scopes.filter((s) => typeof s === 'string').join(' ')
    : typeof scopes === 'string'
      ? scopes
      : undefined
  return {
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
    ...(scope?.trim() ? { scope: scope.trim() } : {}),
    source: where
  }
}

/** A leading `~` (alone or before a slash) is the home directory, as kognic-auth reads the path. */
function expandHome(file: string, env: Env): string {
  if (file !== '~' && !file.startsWith('~/') && !file.startsWith(`~${path.sep}`)) return file
  return path.join(env.HOME || homedir(), file.slice(1))
}

/** Masks a secret and, for multi-line values, each line: the runner matches masks line by line. */
export function maskAll(mask: (s: string) => void, ...values: (string | undefined)[]): void {
  const masked = new Set<string>()
  const once = (form: string): void => {
    if (masked.has(form)) return
    masked.add(form)
    mask(form)
  }
  for (const value of values) {
    if (!value) continue
    // Every form the secret can take in printed text (encoded, escaped): the same list redaction uses.
    for (const form of secretForms(value)) once(form)
    for (const line of value.split(/\r?\n/)) {
      const trimmed = line.trim()
      // Lines like `{` or `}` are not secret and masking them would blank out logs.
      if (trimmed.length >= 6) once(trimmed)
    }
  }
}
