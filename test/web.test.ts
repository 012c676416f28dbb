// The web app at /app/ (built by test/global-setup.ts when stale, as `npm start` does), served with
// its security headers, and where a browser asking for / is sent.
import { readdirSync } from 'node:fs'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { registerErrorHandlers } from '../src/http/errors.js'
import { webRoutes } from '../src/web/web.routes.js'
import { startTestApp, type TestApi } from './helpers/app.js'

let api: TestApi
beforeAll(async () => {
  api = await startTestApp()
})
afterAll(async () => {
  await api?.close()
})

describe('the web app', () => {
  test('a browser asking for / is redirected to /app/; an API client still gets the JSON welcome', async () => {
    const browser = await fetch(`${api.url}/`, {
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
      redirect: 'manual',
    })
    expect(browser.status).toBe(302)
    expect(browser.headers.get('location')).toBe('/app/')
    await browser.body?.cancel()
    const client = await api.get('/')
    expect(client.status).toBe(200)
    expect((await client.json()).message).toMatch(/Welcome/)
  })

  test('only a client that prefers HTML to JSON (by q-value) is redirected', async () => {
    const cases: [string, boolean][] = [
      ['application/json, text/html;q=0.1', false],
      ['text/html;q=0.5, application/json', false],
      ['text/html, application/json', false],
      ['*/*', false],
      ['text/html;q=0', false],
      ['application/json;q=0.9, text/html', true],
      ['text/*, application/json;q=0.5', true],
      ['text/html;level=1;q=0.9, */*;q=0.8', true],
      ['Text/HTML, application/json;q=0.999', true],
    ]
    for (const [accept, redirected] of cases) {
      const res = await fetch(`${api.url}/`, { headers: { accept }, redirect: 'manual' })
      await res.body?.cancel()
      expect(res.status, accept).toBe(redirected ? 302 : 200)
    }
  })

  test('/app/ is the app’s page, not cached, with a content security policy; /app redirects there', async () => {
    const res = await api.get('/app/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
    const html = await res.text()
    expect(html).toContain('<div id="app">')
    expect(html).toMatch(/src="\/app\/assets\/[^"]+\.js"/)
    const bare = await fetch(`${api.url}/app`, { redirect: 'manual' })
    expect(bare.status).toBe(302)
    expect(bare.headers.get('location')).toBe('/app/')
    await bare.body?.cancel()
  })

  test('its hashed assets are served for a year', async () => {
    const script = readdirSync(new URL('../web/dist/assets/', import.meta.url)).find((f) => f.endsWith('.js'))
    expect(script).toBeDefined()
    const res = await api.get(`/app/assets/${script}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toContain('immutable')
    expect((await res.text()).length).toBeGreaterThan(1000)
  })

  test('a file that is not there is a 404 with a sentence', async () => {
    const res = await api.get('/app/assets/nothing-here.js')
    expect(res.status).toBe(404)
    expect((await res.json()).detail).toMatch(/\w+/)
  })
})

describe('a server whose web app is not built', () => {
  test('/app/ is a 503 that says how to build it', async () => {
    const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } })
    registerErrorHandlers(app)
    await webRoutes(app, '/nonexistent/web/dist')
    try {
      const res = await app.inject({ method: 'GET', url: '/app/' })
      expect(res.statusCode).toBe(503)
      expect(res.json().detail).toContain('npm run build:web')
    } finally {
      await app.close()
    }
  })
})
