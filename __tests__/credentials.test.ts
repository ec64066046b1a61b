import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { CredentialsError, resolveCredentials } from '../src/credentials.js'
import { redactSecrets, secretForms } from '../src/kognic/secrets.js'

const SECRET = 'sEcReT-value-123456'
const none = { credentials: '', clientId: '', clientSecret: '' }

function credentialsJson(fields: Record<string, unknown> = {}): string {
  return JSON.stringify(
    {
      clientId: 'id-from-file',
      clientSecret: SECRET,
      email: 'ml@example.com',
      userId: 7,
      issuer: 'auth.kognic',
      ...fields
    },
    null,
    2
  )
}

async function failure(promise: Promise<unknown>): Promise<CredentialsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e
  )
  expect(error).toBeInstanceOf(CredentialsError)
  expect((error as Error).message).not.toContain(SECRET)
  return error as CredentialsError
}

describe('resolveCredentials', () => {
  it('takes client-id and client-secret inputs and masks the secret', async () => {
    const masked: string[] = []
    const creds = await resolveCredentials({ ...none, clientId: 'abc', clientSecret: SECRET }, {}, (s) =>
      masked.push(s)
    )
    expect(creds).toEqual({
      clientId: 'abc',
      clientSecret: SECRET,
      source: 'client-id/client-secret'
    })
    expect(masked).toContain(SECRET)
  })

  it('takes the credentials input and masks the whole content, line by line, and the secret', async () => {
    const masked: string[] = []
    const json = credentialsJson()
    const creds = await resolveCredentials({ ...none, credentials: json }, {}, (s) => masked.push(s))
    expect(creds.clientId).toBe('id-from-file')
    expect(creds.clientSecret).toBe(SECRET)
    expect(masked).toContain(json)
    expect(masked).toContain(`"clientSecret": "${SECRET}",`)
    expect(masked).toContain(SECRET)
  })

  it('falls back to env KOGNIC_CREDENTIALS (a file) before env client id/secret', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'creds-'))
    const file = path.join(dir, 'credentials.json')
    writeFileSync(file, credentialsJson())
    const masked: string[] = []
    const creds = await resolveCredentials(
      none,
      { KOGNIC_CREDENTIALS: file, KOGNIC_CLIENT_ID: 'env-id', KOGNIC_CLIENT_SECRET: 'env-secret-xyz' },
      (s) => masked.push(s)
    )
    expect(creds).toMatchObject({ clientId: 'id-from-file', clientSecret: SECRET })
    expect(creds.source).toContain(file)
    expect(masked).toContain(SECRET)
    expect(masked).toContain('env-secret-xyz')
  })

  it('falls back to env KOGNIC_CLIENT_ID/KOGNIC_CLIENT_SECRET', async () => {
    const creds = await resolveCredentials(
      none,
      { KOGNIC_CLIENT_ID: 'env-id', KOGNIC_CLIENT_SECRET: SECRET },
      () => {}
    )
    expect(creds).toMatchObject({
      clientId: 'env-id',
      clientSecret: SECRET,
      source: expect.stringContaining('env')
    })
  })

  it('masks the form-encoded and URI-encoded forms of a secret with special characters', async () => {
    const secret = 'p@ss+w/rd=Zq9#xY&k z'
    const masked: string[] = []
    await resolveCredentials({ ...none, clientId: 'abc', clientSecret: secret }, {}, (s) => masked.push(s))
    expect(masked).toContain(secret)
    expect(masked).toContain(encodeURIComponent(secret))
    expect(masked).toContain(new URLSearchParams({ v: secret }).toString().slice(2))
  })

  it('masks every form secretForms lists: JSON-escaped, HTML-escaped, URI- and form-encoded', async () => {
    const secret = 'a"b\\c/d&e\u00e9<f'
    const masked: string[] = []
    await resolveCredentials({ ...none, clientId: 'abc', clientSecret: secret }, {}, (s) => masked.push(s))
    const forms = secretForms(secret)
    for (const form of [
      'a\\"b\\\\c/d&e\u00e9<f',
      'a\\"b\\\\c\\/d&e\u00e9<f',
      'a\\"b\\\\c\\/d\\u0026e\\u00e9\\u003cf',
      'a\\"b\\\\c/d&e\\u00E9<f',
      'a&quot;b\\c/d&amp;e\u00e9&lt;f',
      encodeURIComponent(secret),
      new URLSearchParams({ v: secret }).toString().slice(2)
    ]) {
      expect(forms).toContain(form)
    }
    for (const form of forms) expect(masked).toContain(form)
    expect(redactSecrets(`x ${forms.join(' ')} y`, [secret])).toBe(`x ${forms.map(() => '***').join(' ')} y`)
  })

  it('reads KOGNIC_CREDENTIALS starting with ~ from the home directory, and carries its scopes', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'kognic-home-'))
    writeFileSync(
      path.join(home, 'creds.json'),
      credentialsJson({ scopes: ['dataset:read', 'dataset:write'] })
    )
    const creds = await resolveCredentials(none, { KOGNIC_CREDENTIALS: '~/creds.json', HOME: home }, () => {})
    expect(creds).toMatchObject({ clientId: 'id-from-file', scope: 'dataset:read dataset:write' })
  })

  it('takes scopes given as a string, and sends none when the file has none', async () => {
    const withString = await resolveCredentials(
      { ...none, credentials: credentialsJson({ scopes: 'dataset:read' }) },
      {},
      () => {}
    )
    expect(withString.scope).toBe('dataset:read')
    const without = await resolveCredentials({ ...none, credentials: credentialsJson() }, {}, () => {})
    expect(without).not.toHaveProperty('scope')
  })

  it('refuses both forms at once', async () => {
    const error = await failure(
      resolveCredentials(
        { credentials: credentialsJson(), clientId: 'a', clientSecret: SECRET },
        {},
        () => {}
      )
    )
    expect(error.message).toMatch(/credentials and client-id\/client-secret are both set/)
  })

  it('refuses half a pair, naming the missing half', async () => {
    expect((await failure(resolveCredentials({ ...none, clientId: 'a' }, {}, () => {}))).message).toMatch(
      /client secret is empty/
    )
    expect(
      (await failure(resolveCredentials(none, { KOGNIC_CLIENT_SECRET: SECRET }, () => {}))).message
    ).toMatch(/env KOGNIC_CLIENT_ID\/KOGNIC_CLIENT_SECRET: the client id is empty/)
  })

  it('says how to give credentials when there are none', async () => {
    const error = await failure(resolveCredentials(none, {}, () => {}))
    expect(error.message).toMatch(/No Kognic credentials: set client-id and client-secret/)
  })

  it('refuses credentials JSON that is not JSON without quoting it', async () => {
    const error = await failure(
      resolveCredentials({ ...none, credentials: `{"clientSecret": "${SECRET}"` }, {}, () => {})
    )
    expect(error.message).toMatch(/the value of credentials is not valid JSON/)
  })

  it('names the fields a credentials file lacks', async () => {
    const error = await failure(
      resolveCredentials({ ...none, credentials: JSON.stringify({ clientSecret: SECRET }) }, {}, () => {})
    )
    expect(error.message).toMatch(/not a Kognic credentials file: clientId missing/)
  })

  it('refuses expired credentials, as the Python client does', async () => {
    const json = credentialsJson({ expires: '2020-01-01T00:00:00Z' })
    const error = await failure(resolveCredentials({ ...none, credentials: json }, {}, () => {}))
    expect(error.message).toMatch(/expired on 2020-01-01T00:00:00.000Z; create new API credentials/)
    const future = credentialsJson({ expires: '2999-01-01T00:00:00Z' })
    await expect(resolveCredentials({ ...none, credentials: future }, {}, () => {})).resolves.toMatchObject({
      clientId: 'id-from-file'
    })
  })

  it('says which KOGNIC_CREDENTIALS path cannot be read', async () => {
    const error = await failure(
      resolveCredentials(none, { KOGNIC_CREDENTIALS: '/nonexistent/creds.json' }, () => {})
    )
    expect(error.message).toMatch(
      /KOGNIC_CREDENTIALS points to \/nonexistent\/creds.json, which cannot be read \(ENOENT\)/
    )
  })
})
