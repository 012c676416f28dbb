// API documentation from the schemas: /openapi.json, Swagger UI at /docs, ReDoc at /redoc (no CDN), and
// /asyncapi.json for the WebSocket frames.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import { buildAsyncApiDocument } from '../realtime/asyncapi.js'

const REDOC_CDN_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg'
const LOCAL_LOGO = '/redoc/logo.svg'

const REDOC_PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Insurge API — ReDoc</title>
</head>
<body>
  <redoc spec-url="/openapi.json"></redoc>
  <script src="/redoc/redoc.standalone.js"></script>
</body>
</html>`

const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="24" height="24" viewBox="0 0 24 24"><circle cx="12" cy="12" r="10" fill="#4f46e5"/></svg>`

/** Register before the routes: @fastify/swagger collects the routes added after it. */
export async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Insurge API',
        version,
        description:
          'Multi-user chat rooms with an AI assistant in the room. Errors are `{detail, code}`; 422 adds `errors: [{path, message}]`.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          OAuth2PasswordBearer: {
            type: 'oauth2',
            description: 'Swagger UI: enter the account email as `username`.',
            flows: { password: { tokenUrl: '/api/v1/auth/login', scopes: {} } },
          },
        },
      },
      tags: [
        { name: 'auth', description: 'Accounts and tokens' },
        { name: 'users', description: 'The caller’s account' },
        { name: 'chat', description: 'Rooms and participants' },
        {
          name: 'messages',
          description: 'Messages: send, history, edit, delete, reactions, read state, search',
        },
        {
          name: 'assistant',
          description:
            'The room’s assistant: settings, replies in progress, usage and budgets, catch-up summaries',
        },
        { name: 'health', description: 'Probes' },
      ],
    },
    transformObject: (document) =>
      'openapiObject' in document ? optionalDefaults(document.openapiObject) : document.swaggerObject,
  })
  // Generated clients name their methods after operationId: a route without one fails at start-up, not in a client.
  app.addHook('onRoute', (route) => {
    // Fastify's automatic HEAD copy of a GET route shares its schema and is not documented.
    if (route.method === 'HEAD' || route.schema?.hide) return
    if (!route.schema?.operationId) {
      throw new Error(`${route.method} ${route.url} is in /openapi.json without an operationId in its schema`)
    }
  })
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { persistAuthorization: true } })

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger())
  const asyncApi = buildAsyncApiDocument(version)
  app.get('/asyncapi.json', { schema: { hide: true } }, () => asyncApi)
  app.get('/redoc', { schema: { hide: true } }, (_req, reply) => reply.type('text/html').send(REDOC_PAGE))
  app.get('/redoc/logo.svg', { schema: { hide: true } }, (_req, reply) =>
    reply.type('image/svg+xml').send(LOGO_SVG),
  )

  // The bundle is read once, on first request, with its one CDN reference pointed at the local logo.
  let bundle: Promise<string> | undefined
  app.get('/redoc/redoc.standalone.js', { schema: { hide: true } }, async (_req, reply) => {
    bundle ??= readFile(
      createRequire(import.meta.url).resolve('redoc/bundles/redoc.standalone.js'),
      'utf8',
    ).then((js) => js.replaceAll(REDOC_CDN_LOGO, LOCAL_LOGO))
    return reply
      .type('application/javascript; charset=utf-8')
      .header('Cache-Control', 'public, max-age=86400')
      .send(await bundle)
  })
}

interface DocumentedSchema {
  required?: string[]
  properties?: Record<string, { default?: unknown }>
}
interface DocumentedOperation {
  parameters?: { required?: boolean; schema?: { default?: unknown } }[]
  requestBody?: { content?: Record<string, { schema?: DocumentedSchema }> }
}

/**
 * A field the server fills with its default when it is absent is not required of a client: TypeBox
 * lists it in `required` (the handler always sees it), which generated clients would then demand.
 */
function optionalDefaults<T>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, DocumentedOperation>> }).paths ?? {}
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const schema = media.schema
        if (!schema?.required || !schema.properties) continue
        const properties = schema.properties
        schema.required = schema.required.filter((name) => properties[name]?.default === undefined)
      }
    }
  }
  return document
}
