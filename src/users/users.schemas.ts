import Type, { type Static } from 'typebox'
import { MAX_BYTES_KEYWORD, Nullable } from '../http/schemas.js'

export const Email = Type.String({ format: 'email', maxLength: 254, examples: ['ada@example.com'] })
export const Username = Type.String({
  minLength: 3,
  maxLength: 50,
  pattern: '^[A-Za-z0-9._-]+$',
  description: '3-50 letters, digits, dots, underscores or hyphens',
  examples: ['ada'],
})
/** 8 characters to 72 bytes in UTF-8: bcrypt ignores what follows, so longer would be a lie. */
export const NewPassword = Type.String({
  minLength: 8,
  format: 'password',
  [MAX_BYTES_KEYWORD]: 72,
  description: '8 characters to 72 bytes in UTF-8',
  examples: ['correct horse battery'],
})
const Name = Nullable(Type.String({ maxLength: 100, examples: ['Ada'] }))

export const User = Type.Object(
  {
    id: Type.Integer(),
    email: Type.String(),
    username: Type.String(),
    first_name: Nullable(Type.String()),
    last_name: Nullable(Type.String()),
    is_active: Type.Boolean(),
    is_verified: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  {
    examples: [
      {
        id: 1,
        email: 'ada@example.com',
        username: 'ada',
        first_name: 'Ada',
        last_name: 'Lovelace',
        is_active: true,
        is_verified: false,
        created_at: '2026-11-25T12:00:00.000Z',
        updated_at: '2026-11-25T12:00:00.000Z',
      },
    ],
  },
)

export const UserCreate = Type.Object(
  {
    email: Email,
    username: Username,
    password: NewPassword,
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
  },
  {
    examples: [
      {
        email: 'ada@example.com',
        username: 'ada',
        password: 'correct horse battery',
        first_name: 'Ada',
        last_name: 'Lovelace',
      },
    ],
  },
)

export const UserUpdate = Type.Object(
  {
    email: Type.Optional(Email),
    username: Type.Optional(Username),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    password: Type.Optional(NewPassword),
    current_password: Type.Optional(
      Type.String({ minLength: 1, maxLength: 1024, description: 'Required when `password` is set' }),
    ),
  },
  {
    examples: [
      { first_name: 'Augusta Ada' },
      { password: 'a new long passphrase', current_password: 'correct horse battery' },
    ],
  },
)

export type UserView = Static<typeof User>
export type UserCreateInput = Static<typeof UserCreate>
export type UserUpdateInput = Static<typeof UserUpdate>
