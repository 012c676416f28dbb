// The API documentation: /openapi.json complete and with examples, Swagger UI with a working Authorize, ReDoc with no CDN.
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registerDocs } from '../../src/http/docs.js'
import { API, startTestApp, type TestApi } from '../helpers/app.js'

interface MediaType {
  schema?: unknown
  example?: unknown
  examples?: unknown
}
interface Operation {
  operationId?: string
  requestBody?: { content?: Record<string, MediaType> }
  security?: Record<string, string[]>[]
}
interface OpenApi {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, Record<string, unknown>> }
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace']

let api: TestApi
let spec: OpenApi
beforeAll(async () => {
  api = await startTestApp()
  const res = await api.get('/openapi.json')
  if (res.status !== 200) throw new Error(`GET /openapi.json: ${res.status} ${await res.text()}`)
  spec = (await res.json()) as OpenApi
})
afterAll(() => api?.close())

/** Every operation in the document, as [method, path, operation]. */
function operations(): [string, string, Operation][] {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]): [string, string, Operation] => [method, path, op]),
  )
}

describe('GET /openapi.json', () => {
  test('is OpenAPI 3.x', () => {
    expect(spec.openapi).toMatch(/^3\.\d+\.\d+$/)
  })

  test('lists every path in full, with the /api/v1 prefix', () => {
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        `${API}/auth/register`,
        `${API}/auth/login`,
        `${API}/auth/refresh`,
        `${API}/auth/logout`,
        `${API}/users/me`,
        '/health',
        '/',
      ]),
    )
    // No feature route is listed without its prefix.
    expect(Object.keys(spec.paths).filter((p) => /^\/(auth|users|chat)\b/.test(p))).toEqual([])
  })

  test('declares a bearer scheme and an OAuth2 password flow on /api/v1/auth/login', () => {
    const schemes = Object.values(spec.components.securitySchemes)
    expect(schemes).toContainEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }))
    const oauth2 = schemes.find((s) => s.type === 'oauth2') as
      | { flows?: { password?: { tokenUrl?: string } } }
      | undefined
    expect(oauth2?.flows?.password?.tokenUrl).toBe(`${API}/auth/login`)
  })

  test('every request body has an example for each of its media types', () => {
    const withBody = operations().filter(([, , op]) => op.requestBody)
    // The auth routes alone have bodies, so an empty list means the loop below checked nothing.
    expect(withBody.length).toBeGreaterThanOrEqual(4)
    const missing: string[] = []
    for (const [method, path, op] of withBody) {
      const content = op.requestBody?.content ?? {}
      if (Object.keys(content).length === 0) missing.push(`${method.toUpperCase()} ${path} (no media type)`)
      for (const [mediaType, media] of Object.entries(content)) {
        if (media.example === undefined && media.examples === undefined) {
          missing.push(`${method.toUpperCase()} ${path} ${mediaType}`)
        }
      }
    }
    expect(missing).toEqual([])
  })

  test('login documents both JSON and the OAuth2 form', () => {
    const content = spec.paths[`${API}/auth/login`]?.post?.requestBody?.content ?? {}
    expect(Object.keys(content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded'])
  })

  test('GET /api/v1/users/me declares security', () => {
    const security = spec.paths[`${API}/users/me`]?.get?.security
    expect(security?.length).toBeGreaterThan(0)
    const names = (security ?? []).flatMap((s) => Object.keys(s))
    expect(names.every((name) => name in spec.components.securitySchemes)).toBe(true)
    expect(names).toContain('bearerAuth')
  })

  test('every operation has a unique camelCase operationId, the method name in generated clients', () => {
    const all = operations()
    // Guards against a document that lost its paths: the checks below would pass on nothing.
    expect(all.length).toBeGreaterThanOrEqual(32)
    const invalid = all
      .filter(([, , op]) => !/^[a-z][A-Za-z0-9]*$/.test(op.operationId ?? ''))
      .map(([method, path, op]) => `${method.toUpperCase()} ${path}: ${op.operationId}`)
    expect(invalid).toEqual([])
    expect(new Set(all.map(([, , op]) => op.operationId)).size).toBe(all.length)
  })

  test('an operation declares bearer security exactly when it answers 401 without a token', async () => {
    const publicIds: string[] = []
    const mismatches: string[] = []
    for (const [method, path, op] of operations()) {
      // Any id will do: the token is checked before the parameters and the body are.
      const url = path.replace(/\{[^}]+\}/g, '1')
      const res = await api.request(method.toUpperCase(), url, method === 'get' ? {} : { body: {} })
      const name = op.operationId ?? `${method.toUpperCase()} ${path}`
      const needsToken = res.status === 401
      const declared = (op.security ?? []).some((requirement) => 'bearerAuth' in requirement)
      if (declared !== needsToken) {
        mismatches.push(`${name}: 401 without a token ${needsToken}, bearerAuth ${declared}`)
      }
      if (!needsToken) {
        publicIds.push(name)
        expect(op.security ?? [], `${name} is public`).toEqual([])
      }
    }
    expect(mismatches).toEqual([])
    // A new public operation should be a decision: add it here on purpose.
    expect(publicIds.sort()).toEqual(
      ['getHealth', 'getReady', 'getRoot', 'login', 'logout', 'refreshTokens', 'register'].sort(),
    )
  })

  test('a documented route without an operationId stops the app at start-up', async () => {
    const app = Fastify()
    await registerDocs(app, 'test')
    expect(() => app.get('/forgotten', { schema: { summary: 'No id' } }, () => 'x')).toThrow(/operationId/)
    expect(() => app.get('/hidden', { schema: { hide: true } }, () => 'x')).not.toThrow()
    await app.close()
  })

  test('public routes declare no security', () => {
    expect(spec.paths[`${API}/auth/register`]?.post?.security ?? []).toEqual([])
    expect(spec.paths['/health']?.get?.security ?? []).toEqual([])
  })
})

describe('Swagger UI', () => {
  test('GET /docs (following redirects) is HTML', async () => {
    const res = await fetch(`${api.url}/docs`, { redirect: 'follow' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toMatch(/swagger/i)
  })

  test('GET /docs/ is HTML', async () => {
    const res = await fetch(`${api.url}/docs/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).toMatch(/swagger/i)
  })

  test('Authorize (OAuth2 password grant, form-encoded) logs in, and the token works', async () => {
    const user = await api.signUp()
    const form = new URLSearchParams({
      grant_type: 'password',
      username: user.email,
      password: user.password,
    })
    const res = await fetch(`${api.url}${API}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    expect(res.status, await res.clone().text()).toBe(200)
    const tokens = (await res.json()) as { access_token: string; token_type: string }
    expect(tokens.token_type).toBe('bearer')
    expect(typeof tokens.access_token).toBe('string')
    const me = await api.get(`${API}/users/me`, tokens.access_token)
    expect(me.status).toBe(200)
    expect((await me.json()).email).toBe(user.email)
  })

  test('Authorize with a wrong password is 401', async () => {
    const user = await api.signUp()
    const form = new URLSearchParams({
      grant_type: 'password',
      username: user.email,
      password: 'wrong-password',
    })
    const res = await fetch(`${api.url}${API}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    expect(res.status).toBe(401)
  })
})

describe('ReDoc', () => {
  test('GET /redoc is HTML that loads /openapi.json with a local script without any CDN', async () => {
    const res = await api.get('/redoc')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toContain('/openapi.json')
    expect(html).not.toMatch(/https?:\/\//)

    const scripts = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1] ?? '')
    expect(scripts.length).toBeGreaterThan(0)
    for (const src of scripts) {
      expect(src.startsWith('/')).toBe(true)
      expect(src.startsWith('//')).toBe(false)
      const script = await api.get(src)
      expect(script.status, src).toBe(200)
      expect(script.headers.get('content-type')).toMatch(/javascript/)
      const js = await script.text()
      expect(js.length).toBeGreaterThan(1000)
      expect(js).not.toContain('https://cdn.')
    }
  })
})
