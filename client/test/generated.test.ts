// client.api covers every operation of /openapi.json, with the types the server generates now.
import type { OpenAPI3 } from 'openapi-typescript'
import { beforeAll, describe, expect, test } from 'vitest'
import { serverOpenApi, staleClientFiles } from '../../scripts/generate-client-types.js'
import { operationTable } from '../src/generated/operations.js'

let spec: OpenAPI3
beforeAll(async () => {
  spec = await serverOpenApi()
}, 60_000)

describe('the generated client types', () => {
  test('the committed files are what `npm run client:types` generates from the server now', async () => {
    expect(await staleClientFiles(spec)).toEqual([])
  })

  test('a server whose document changed makes them stale (the check can fail)', async () => {
    const changed = structuredClone(spec)
    delete changed.paths?.['/api/v1/chat/search']
    expect(await staleClientFiles(changed)).toEqual([
      'client/src/generated/openapi.ts',
      'client/src/generated/operations.ts',
    ])
  })

  test('every operation of /openapi.json is in the table, with its method, path and need of a token', () => {
    const operations: string[] = []
    for (const [path, item] of Object.entries(spec.paths ?? {})) {
      for (const [method, operation] of Object.entries(
        item as Record<string, { operationId?: string; security?: unknown[] }>,
      )) {
        if (!operation.operationId) continue
        operations.push(
          `${operation.operationId} ${method.toUpperCase()} ${path} ${!!operation.security?.length}`,
        )
      }
    }
    expect(operations.length).toBeGreaterThan(30)
    const table = Object.entries(operationTable).map(([id, op]) => `${id} ${op.method} ${op.path} ${op.auth}`)
    expect(table.sort()).toEqual(operations.sort())
    expect(operationTable.getMe.auth).toBe(true)
    expect(operationTable.login.auth).toBe(false)
  })
})
