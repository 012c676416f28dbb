// The row decoder generated for a prepared select: nested fields, nulls, each field's own decoder, and
// names that are not identifiers. Built from a Drizzle query as preparedRows builds it.
import { sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import { expect, test } from 'vitest'
import { rowDecoder } from '../../src/db/prepared.js'
import { users } from '../../src/db/schema.js'

const query = drizzle
  .mock()
  .select({
    id: users.id,
    createdAt: users.createdAt,
    'odd "name"\n': sql<string>`'x'`,
    counted: sql<number>`count(*)`.mapWith(Number),
    author: { name: users.username, active: users.isActive, since: users.createdAt },
  })
  .from(users)

test('a row becomes the select’s shape, each value decoded by its own field', () => {
  const decode = rowDecoder(query)
  const created = new Date('2026-12-03T10:00:00.000Z')
  expect(decode(['5', created, 'x', '12', 'alice', true, '2026-12-01 09:30:00+00'])).toEqual({
    id: 5,
    createdAt: created,
    'odd "name"\n': 'x',
    counted: 12,
    author: { name: 'alice', active: true, since: new Date('2026-12-01T09:30:00.000Z') },
  })
})

test('null stays null, whatever the field’s decoder', () => {
  const decode = rowDecoder(query)
  expect(decode([7, null, null, null, null, null, null])).toEqual({
    id: 7,
    createdAt: null,
    'odd "name"\n': null,
    counted: null,
    author: { name: null, active: null, since: null },
  })
})

test('a field named __proto__ is refused when the statement is built, not turned into a prototype', () => {
  const odd = drizzle
    .mock()
    .select({ ['__proto__']: users.id })
    .from(users)
  expect(() => rowDecoder(odd)).toThrow(/__proto__/)
})
