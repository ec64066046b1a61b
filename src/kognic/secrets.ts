// Every form a secret (client secret, token) can take in text we print, for masking and for redaction alike.

function jsonForm(secret: string, slash: boolean, ascii: boolean, htmlSafe: boolean, upper: boolean): string {
  const hex = (c: string): string => {
    const code = c.charCodeAt(0).toString(16).padStart(4, '0')
    return `\\u${upper ? code.toUpperCase() : code}`
  }
  let text = JSON.stringify(secret).slice(1, -1)
  if (slash) text = text.replace(/\//g, '\\/')
  if (htmlSafe) text = text.replace(/[<>&'=]/g, hex)
  if (ascii) text = text.replace(/[^\x20-\x7e]/g, hex)
  return text
}

function htmlEscaped(text: string, apostrophe: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, apostrophe)
}

/**
 * `secret` as it may appear in text we print: raw; JSON-escaped the ways servers do it (`\"`, `\\`, `\/`,
 * `\u0026`, `\u00e9`, either hex case); URI- and form-encoded; HTML-escaped (of each of those). Longest first,
 * so a redaction replacing them in turn never leaves the tail of a longer form behind.
 */
export function secretForms(secret: string): string[] {
  if (secret === '') return []
  const forms = new Set<string>([
    secret,
    encodeURIComponent(secret),
    new URLSearchParams({ s: secret }).toString().slice(2)
  ])
  for (const slash of [false, true])
    for (const ascii of [false, true])
      for (const htmlSafe of [false, true])
        for (const upper of [false, true]) forms.add(jsonForm(secret, slash, ascii, htmlSafe, upper))
  for (const form of [...forms]) {
    forms.add(htmlEscaped(form, '&#39;'))
    forms.add(htmlEscaped(form, '&#x27;'))
  }
  return [...forms].sort((a, b) => b.length - a.length)
}

/** Shorter values are not secrets worth cutting out: replacing them would garble ordinary text. */
const MIN_SECRET_LENGTH = 4

/** `text` with every form of every secret replaced by `***`. */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  const forms = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .flatMap(secretForms)
    .sort((a, b) => b.length - a.length)
  let clean = text
  for (const form of forms) clean = clean.split(form).join('***')
  return clean
}
