import { describe, expect, it } from 'vitest'
import {
  excerpt,
  extractServerMessage,
  joinUrl,
  KognicResponseShapeError,
  parseSunsetDate,
  sceneIdOf,
  parseCreatedResponse,
  listedItem,
  parseListPage,
  predictionsGroupsPath,
  predictionsPath,
  RETRYABLE_STATUSES,
  tokenRenewalMarginMs,
  TOKEN_PATH
} from '../src/kognic/decisions.js'

describe('hosts and paths', () => {
  it('uses the documented paths', () => {
    expect(TOKEN_PATH).toBe('/v1/auth/oauth/token')
    expect(predictionsGroupsPath('ds-1')).toBe('/v1/datasets/ds-1/predictions-groups')
    expect(predictionsPath('g-1')).toBe('/v1/predictions-groups/g-1/predictions')
  })

  it('escapes ids so a stray slash cannot reach another endpoint', () => {
    expect(predictionsPath('a/../b')).toBe('/v1/predictions-groups/a%2F..%2Fb/predictions')
  })

  it('retries exactly 429 and the transient 5xx statuses', () => {
    expect([...RETRYABLE_STATUSES].sort()).toEqual([429, 500, 502, 503, 504])
  })
})

describe('joinUrl', () => {
  it.each([
    ['https://dataset.app.kognic.com', '/v1/datasets/x', 'https://dataset.app.kognic.com/v1/datasets/x'],
    ['https://dataset.app.kognic.com/', '/v1/datasets/x', 'https://dataset.app.kognic.com/v1/datasets/x'],
    ['https://dataset.app.kognic.com///', 'v1/datasets/x', 'https://dataset.app.kognic.com/v1/datasets/x'],
    ['https://dataset.app.kognic.com/v1/', '/v1/datasets/x', 'https://dataset.app.kognic.com/v1/datasets/x'],
    ['https://dataset.app.kognic.com/v1', '/v1/datasets/x', 'https://dataset.app.kognic.com/v1/datasets/x'],
    ['https://dataset.app.kognic.com/v1/', '/v2/datasets', 'https://dataset.app.kognic.com/v2/datasets'],
    ['http://127.0.0.1:8080/proxy/kognic/', '/v1/x', 'http://127.0.0.1:8080/proxy/kognic/v1/x'],
    ['http://127.0.0.1:8080/proxy/v1/', '/v1/x', 'http://127.0.0.1:8080/proxy/v1/x']
  ])('%s + %s → %s', (base, path, expected) => {
    expect(joinUrl(base, path)).toBe(expected)
  })

  it('never produces a double slash after the host', () => {
    const joined = joinUrl('https://h.example/v1//', '//v1/datasets')
    expect(joined.replace('https://', '')).not.toContain('//')
  })
})

describe('parseSunsetDate', () => {
  it.each([
    ['2026-12-31', '2026-12-31T00:00:00.000Z'],
    ['2026-12-31T10:20:30Z', '2026-12-31T10:20:30.000Z'],
    ['2026-12-31T10:20:30.5+02:00', '2026-12-31T08:20:30.500Z'],
    ['2026-12-31 10:20:30Z', '2026-12-31T10:20:30.000Z'],
    ['Thu, 31 Dec 2026 10:20:30 GMT', '2026-12-31T10:20:30.000Z']
  ])('reads %s', (text, iso) => {
    expect(new Date(parseSunsetDate(text)!).toISOString()).toBe(iso)
  })

  it.each(['', 'soon', '5', '2026-13-45', '31/12/2026'])('is undefined for %j', (text) => {
    expect(parseSunsetDate(text)).toBeUndefined()
  })
})

describe('sceneIdOf', () => {
  it.each([
    [{ sceneUuid: 'a' }, 'a'],
    [{ scene_uuid: 'b' }, 'b'],
    [{ sceneId: 'c' }, 'c'],
    [{ scene_id: 'd' }, 'd'],
    [{ scene: { uuid: 'e' } }, 'e'],
    [{ scene: { id: 'f' } }, 'f'],
    [{ uuid: 'g' }, undefined],
    [{ sceneUuid: '' }, undefined],
    ['h', undefined]
  ])('%j → %s', (item, id) => {
    expect(sceneIdOf(item)).toBe(id)
  })
})

/** A whole list response as the client reads it: the page, then each item. */
function parseListResponse(text: string, what: string) {
  return parseListPage(text, what).map((item, index) => listedItem(item, index, what))
}

describe('parseListPage and listedItem', () => {
  it('reads {"data": [...]} with uuid and name', () => {
    const text = JSON.stringify({
      data: [
        { uuid: 'u1', name: 'first', extra: 1 },
        { uuid: 'u2', name: '' }
      ]
    })
    expect(parseListResponse(text, 'GET /x')).toEqual([
      { uuid: 'u1', name: 'first' },
      { uuid: 'u2', name: '' }
    ])
  })

  it('reads a bare array and takes id when uuid is absent', () => {
    expect(parseListResponse(JSON.stringify([{ id: 'i1', name: 'n' }]), 'GET /x')).toEqual([
      { uuid: 'i1', name: 'n' }
    ])
    expect(parseListResponse('{"data": []}', 'GET /x')).toEqual([])
  })

  it('refuses other shapes with a short excerpt of what came back', () => {
    const long = JSON.stringify({ items: [{ uuid: 'u', name: 'x'.repeat(1000) }] })
    let caught: unknown
    try {
      parseListResponse(long, 'GET /v1/datasets/d/predictions-groups')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(KognicResponseShapeError)
    const message = (caught as Error).message
    expect(message).toContain('GET /v1/datasets/d/predictions-groups')
    expect(message).toContain('expected {"data": [...]} or a JSON array')
    expect(message).toContain('{"items":[{"uuid":"u"')
    const quoted = message.slice(message.indexOf(', got "') + ', got "'.length, -1)
    expect(quoted.length).toBeLessThanOrEqual(200)
    expect(message.length).toBeLessThan(400)
  })

  it('refuses items without an id or a name, naming the item', () => {
    expect(() =>
      parseListResponse('{"data": [{"uuid": "a", "name": "x"}, {"name": "y"}]}', 'GET /x')
    ).toThrow(/item 1 has no string "uuid"\/"id" and "name": "\{"name":"y"\}"/)
    expect(() => parseListResponse('[{"uuid": "a"}]', 'GET /x')).toThrow(/item 0/)
    expect(() => parseListResponse('[{"uuid": 5, "name": "n"}]', 'GET /x')).toThrow(/item 0/)
    expect(() => parseListResponse('["a"]', 'GET /x')).toThrow(/item 0 .*: ""a""$/)
  })

  it('refuses a body that is not JSON, quoting it', () => {
    expect(() => parseListResponse('<html>Bad gateway</html>', 'GET /x')).toThrow(
      'GET /x: the response is not JSON: "<html>Bad gateway</html>"'
    )
  })
})

describe('parseCreatedResponse', () => {
  it('reads {"data": "<uuid>"} and {"data": {"uuid": …}}', () => {
    expect(parseCreatedResponse('{"data": "abc"}', 'POST /x')).toBe('abc')
    expect(parseCreatedResponse('{"data": {"uuid": "def", "name": "n"}}', 'POST /x')).toBe('def')
    expect(parseCreatedResponse('{"data": {"id": "ghi"}}', 'POST /x')).toBe('ghi')
  })

  it('refuses anything else, quoting it', () => {
    expect(() => parseCreatedResponse('{"data": ""}', 'POST /x')).toThrow(
      'POST /x: expected {"data": "<uuid>"} or {"data": {"uuid": …}}, got "{"data": ""}"'
    )
    expect(() => parseCreatedResponse('"abc"', 'POST /x')).toThrow(/expected/)
    expect(() => parseCreatedResponse('{"data": {"name": "n"}}', 'POST /x')).toThrow(/expected/)
    expect(() => parseCreatedResponse('', 'POST /x')).toThrow(/not JSON/)
  })
})

describe('extractServerMessage', () => {
  it('prefers the JSON message', () => {
    expect(extractServerMessage('{"message": "Scene s is not part of dataset d", "statusCode": 400}')).toBe(
      'Scene s is not part of dataset d'
    )
    expect(extractServerMessage('{"message": ["name must be a string", "x is required"]}')).toBe(
      'name must be a string; x is required'
    )
  })

  it('falls back to the text when there is no message', () => {
    expect(extractServerMessage('upstream connect error')).toBe('upstream connect error')
    expect(extractServerMessage('{"error": "nope"}')).toBe('{"error": "nope"}')
    expect(extractServerMessage('')).toBe('')
  })

  it('strips control characters and cuts long text to ~300 characters', () => {
    expect(extractServerMessage('line1\r\n::error::injected\u0007\u009b')).toBe('line1 ::error::injected')
    const cut = extractServerMessage('x'.repeat(5000))
    expect(cut.length).toBe(300)
    expect(cut.endsWith('…')).toBe(true)
  })
})

describe('excerpt', () => {
  it('keeps short text and cuts long text with an ellipsis', () => {
    expect(excerpt('  a\n\tb  ')).toBe('a b')
    expect(excerpt('abcdef', 4)).toBe('abc…')
  })
})

describe('tokenRenewalMarginMs', () => {
  it('scales with the lifetime: 10%, at most a minute', () => {
    expect(tokenRenewalMarginMs(30_000)).toBe(3_000)
    expect(tokenRenewalMarginMs(300_000)).toBe(30_000)
    expect(tokenRenewalMarginMs(3_600_000)).toBe(60_000)
    expect(tokenRenewalMarginMs(Number.POSITIVE_INFINITY)).toBe(0)
    expect(tokenRenewalMarginMs(0)).toBe(0)
  })
})
