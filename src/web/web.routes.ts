// The web app (web/, built by Vite into web/dist) at /app/, and a browser's GET / sent there.
// `npm start` builds it when its sources changed (scripts/build-web.ts); without a build, /app/ says how.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import { AppError } from '../errors.js'

export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url))

/** The app talks to this origin only (HTTP and its WebSocket); nothing inline but styles set by the UI. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self' 'unsafe-inline'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ')

export async function webRoutes(app: FastifyInstance, root = WEB_DIST): Promise<void> {
  if (!existsSync(`${root}/index.html`)) {
    const notBuilt = () => {
      throw new AppError(
        'unavailable',
        'The web app is not built: run `npm run build:web` (npm start does it)',
      )
    }
    app.get('/app', { schema: { hide: true } }, notBuilt)
    app.get('/app/*', { schema: { hide: true } }, notBuilt)
    return
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    // Hashed asset names never change; index.html must be read again to find the new ones.
    setHeaders(res, path) {
      res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY)
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      )
    },
    // Our own cache-control below, not the plugin's max-age=0 for everything.
    cacheControl: false,
    index: false,
    schemaHide: true,
  })
  // With ignoreTrailingSlash `/app` and `/app/` are one route: the page at `/app/`, and `/app` sent
  // there so that the page's relative URLs resolve against the directory.
  app.get('/app', { schema: { hide: true } }, (request, reply) =>
    request.url.startsWith('/app/') ? reply.sendFile('index.html') : reply.redirect('/app/'),
  )
}

/**
 * A browser asking for `/` is shown the app; API clients keep the JSON welcome. Only a client that prefers
 * HTML to JSON is a browser here: `application/json, text/html;q=0.1`, any type at all, or no Accept is not.
 */
export const wantsHtml = (accept: string | undefined): boolean => {
  if (!accept) return false
  const html = acceptQuality(accept, 'text/html')
  return html > 0 && html > acceptQuality(accept, 'application/json')
}

/**
 * How much an Accept header wants `mediaType`: the q of the most specific range that matches it
 * (`text/html` over `text/*` over any type, RFC 9110 section 12.5.1), 0 when none does. A range with a
 * malformed q is left out, as if absent.
 */
function acceptQuality(accept: string, mediaType: string): number {
  const wildcard = `${mediaType.split('/')[0]}/*`
  let specificity = -1
  let quality = 0
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    const rank = media === mediaType ? 2 : media === wildcard ? 1 : media === '*/*' ? 0 : -1
    if (rank < 0 || rank < specificity) continue
    const weight = params.find((param) => /^q\s*=/.test(param))
    const q = weight === undefined ? 1 : qvalue(weight.replace(/^q\s*=\s*/, ''))
    if (q === undefined) continue
    quality = rank > specificity ? q : Math.max(quality, q)
    specificity = rank
  }
  return quality
}

/** RFC 9110's qvalue: 0 to 1 with at most three decimals; undefined when it is not one. */
function qvalue(text: string): number | undefined {
  return /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(text) ? Number(text) : undefined
}
