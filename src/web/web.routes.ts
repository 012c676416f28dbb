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

/** A browser asking for `/` (it accepts HTML) is shown the app; API clients keep the JSON welcome. */
export const wantsHtml = (accept: string | undefined): boolean => !!accept && /\btext\/html\b/.test(accept)
