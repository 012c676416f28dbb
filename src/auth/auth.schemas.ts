import Type, { type Static } from 'typebox'

const ANY_PASSWORD = Type.String({ minLength: 1, maxLength: 1024, examples: ['correct horse battery'] })

export const LoginJson = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254, examples: ['ada@example.com'] }),
    password: ANY_PASSWORD,
  },
  { examples: [{ email: 'ada@example.com', password: 'correct horse battery' }] },
)

/** The OAuth2 password grant form, as sent by Swagger UI's Authorize button: `username` holds the email. */
export const LoginForm = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 254, description: 'The account email' }),
    password: ANY_PASSWORD,
    grant_type: Type.Optional(Type.String()),
    scope: Type.Optional(Type.String()),
    client_id: Type.Optional(Type.String()),
    client_secret: Type.Optional(Type.String()),
  },
  { examples: [{ username: 'ada@example.com', password: 'correct horse battery', grant_type: 'password' }] },
)

export const TokenPair = Type.Object(
  {
    access_token: Type.String(),
    refresh_token: Type.String(),
    token_type: Type.Literal('bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  },
  {
    examples: [
      {
        access_token: 'eyJhbGciOiJIUzI1NiIs…',
        refresh_token: 'eyJhbGciOiJIUzI1NiIs…',
        token_type: 'bearer',
        expires_in: 1800,
      },
    ],
  },
)

const RefreshTokenField = Type.String({ minLength: 1, maxLength: 4096 })

export const RefreshBody = Type.Object(
  { refresh_token: Type.Optional(RefreshTokenField) },
  { examples: [{ refresh_token: 'eyJhbGciOiJIUzI1NiIs…' }] },
)
export const RefreshQuery = Type.Object({ refresh_token: Type.Optional(RefreshTokenField) })
export const LogoutBody = Type.Object(
  { refresh_token: RefreshTokenField },
  { examples: [{ refresh_token: 'eyJhbGciOiJIUzI1NiIs…' }] },
)

export type TokenPair = Static<typeof TokenPair>
export type LoginJsonInput = Static<typeof LoginJson>
export type LoginFormInput = Static<typeof LoginForm>
