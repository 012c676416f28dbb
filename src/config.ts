// Every environment variable, parsed and validated once into a typed object. The only reader of process.env.
import { config as readDotenv } from 'dotenv'
import Type, { type Static, type TSchema } from 'typebox'
import Value from 'typebox/value'

/** The seed's default secret: accepted in development, refused in production. */
export const DEFAULT_SECRET_KEY = 'your-super-secret-key-change-this-in-production'
const MIN_PRODUCTION_SECRET_LENGTH = 64

const Flag = (fallback: boolean) => Type.Boolean({ default: fallback })
const Int = (fallback: number, minimum: number, maximum = Number.MAX_SAFE_INTEGER) =>
  Type.Integer({ default: fallback, minimum, maximum })
const OneOf = <T extends string>(values: readonly T[], fallback: T) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    { default: fallback },
  )

const ConfigSchema = Type.Object({
  DATABASE_URL: Type.String({
    default: 'pglite://./data',
    pattern: '^(postgres|postgresql|pglite)://',
    description: 'must start with postgres://, postgresql:// or pglite://',
  }),
  REDIS_URL: Type.Optional(
    Type.String({ pattern: '^rediss?://', description: 'must start with redis:// or rediss://' }),
  ),
  REDIS_KEY_PREFIX: Type.String({
    default: 'insurge',
    pattern: '^[A-Za-z0-9_.-]{1,64}$',
    description: 'must be 1-64 letters, digits, dots, underscores or hyphens',
  }),
  SECRET_KEY: Type.String({ default: DEFAULT_SECRET_KEY, minLength: 16 }),
  ALGORITHM: OneOf(['HS256', 'HS384', 'HS512'] as const, 'HS256'),
  ACCESS_TOKEN_EXPIRE_MINUTES: Int(30, 1, 24 * 60),
  REFRESH_TOKEN_EXPIRE_DAYS: Int(7, 1, 365),
  OPENAI_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  OPENAI_BASE_URL: Type.Optional(
    Type.String({ pattern: '^https?://', description: 'must be an http(s) URL' }),
  ),
  OPENAI_MODEL: Type.String({ default: 'gpt-4o-mini', minLength: 1 }),
  /** The models a room may choose (comma list); empty means OPENAI_MODEL alone. See `roomModels`. */
  AI_MODELS: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { default: [], maxItems: 50 }),
  /** Tokens a day (UTC) per user and per room, prompt and completion together; 0 = unlimited. */
  AI_DAILY_TOKENS_PER_USER: Int(200_000, 0),
  AI_DAILY_TOKENS_PER_ROOM: Int(1_000_000, 0),
  DEBUG: Flag(true),
  ENVIRONMENT: OneOf(['development', 'test', 'staging', 'production'] as const, 'development'),
  MAX_CHAT_PARTICIPANTS: Int(50, 2, 10_000),
  ALLOWED_ORIGINS: Type.Array(Type.String({ minLength: 1 }), { default: ['http://localhost:3000'] }),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  PORT: Int(8000, 0, 65_535),
  BCRYPT_ROUNDS: Int(12, 4, 15),
  LOG_LEVEL: OneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
  AI_CONTEXT_MESSAGES: Int(20, 1, 200),
  AI_MAX_TOKENS: Int(1024, 1, 32_768),
  /** A provider may ignore max_tokens: the reply stops at this many characters (UTF-16 code units). */
  AI_MAX_REPLY_CHARS: Int(16_000, 1, 100_000),
  AI_TIMEOUT_MS: Int(60_000, 100, 600_000),
  AI_CONCURRENCY: Int(4, 1, 256),
  AI_REPLIES_PER_MINUTE: Int(20, 1, 10_000),
  AI_SYSTEM_PROMPT: Type.Optional(Type.String({ minLength: 1 })),
  RATE_LIMITS: OneOf(['on', 'off'] as const, 'on'),
  TRUST_PROXY: Type.String({
    default: 'false',
    pattern: '^(true|false|\\d{1,2}|[0-9a-fA-F.:/, ]+)$',
    description: 'must be true, false, a number of proxy hops, or addresses/CIDRs separated by commas',
  }),
})

export type Config = Static<typeof ConfigSchema>
export type Environment = Config['ENVIRONMENT']

/** A configuration that cannot run. The message is one line naming the variable. */
export class ConfigError extends Error {}

type RawEnv = Record<string, string | undefined>

/**
 * Parses a raw environment (names in upper case; lower-case names, as the Python original's
 * pydantic settings accepted, are read when the upper-case one is absent).
 */
export function parseConfig(env: RawEnv): Config {
  const keys = Object.keys(ConfigSchema.properties) as (keyof Config)[]
  const raw: Record<string, unknown> = {}
  for (const key of keys) {
    const value = env[key] ?? env[key.toLowerCase()]
    if (value === undefined || value.trim() === '') continue
    raw[key] = key === 'ALLOWED_ORIGINS' || key === 'AI_MODELS' ? parseList(value) : value.trim()
  }
  const converted = Value.Default(ConfigSchema, Value.Convert(ConfigSchema, raw))
  const [first] = [...Value.Errors(ConfigSchema, converted)]
  if (first) {
    const name = first.instancePath.split('/')[1] ?? 'configuration'
    throw new ConfigError(
      `${name}: ${describe(ConfigSchema.properties[name as keyof Config], first.message)}`,
    )
  }
  const config = converted as Config
  guardProduction(config)
  return config
}

/** The assistant is on when a provider is configured (an API key, or a base URL for local servers). */
export function assistantEnabled(config: Pick<Config, 'OPENAI_API_KEY' | 'OPENAI_BASE_URL'>): boolean {
  return config.OPENAI_API_KEY !== undefined || config.OPENAI_BASE_URL !== undefined
}

/**
 * The models a room may choose: AI_MODELS, or OPENAI_MODEL alone when AI_MODELS is empty. The first is the
 * default of a room that has not chosen. OPENAI_MODEL is listed first when AI_MODELS names it too.
 */
export function roomModels(config: Pick<Config, 'AI_MODELS' | 'OPENAI_MODEL'>): string[] {
  if (config.AI_MODELS.length === 0) return [config.OPENAI_MODEL]
  const models = [...new Set(config.AI_MODELS)]
  return models.includes(config.OPENAI_MODEL)
    ? [config.OPENAI_MODEL, ...models.filter((m) => m !== config.OPENAI_MODEL)]
    : models
}

/** Reads `.env` when present (the process environment wins), then parses. */
export function loadConfig(): Config {
  readDotenv({ quiet: true })
  return parseConfig(process.env)
}

function guardProduction(config: Config): void {
  if (config.ENVIRONMENT !== 'production') return
  if (config.SECRET_KEY === DEFAULT_SECRET_KEY) {
    throw new ConfigError('SECRET_KEY: the default secret key cannot be used in production (npm run secret)')
  }
  if (config.SECRET_KEY.length < MIN_PRODUCTION_SECRET_LENGTH) {
    throw new ConfigError(
      `SECRET_KEY: must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production (npm run secret)`,
    )
  }
  if (config.DEBUG) throw new ConfigError('DEBUG: must be false in production')
  if (config.ALLOWED_ORIGINS.includes('*')) {
    throw new ConfigError('ALLOWED_ORIGINS: a wildcard (*) is not allowed in production; list the origins')
  }
}

/** ALLOWED_ORIGINS may be a JSON array (as in the seed's .env) or a comma-separated list. */
function parseList(value: string): unknown {
  const text = value.trim()
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0)
}

function describe(schema: TSchema | undefined, message: string): string {
  const s = schema as {
    anyOf?: { const: string }[]
    type?: string
    minimum?: number
    maximum?: number
    pattern?: string
    description?: string
  }
  if (s?.pattern && s.description) return s.description
  if (s?.anyOf) return `must be one of ${s.anyOf.map((v) => v.const).join(', ')}`
  if (s?.type === 'integer') return `must be a whole number from ${s.minimum} to ${s.maximum}`
  if (s?.type === 'boolean') return 'must be true or false'
  if (s?.type === 'array') return 'must be a JSON array of strings or a comma-separated list'
  return message
}

/**
 * Fastify's trustProxy from TRUST_PROXY: behind nginx or a load balancer, client addresses (and so
 * per-address rate limits) come from X-Forwarded-For only when the proxy is trusted.
 */
export function trustProxySetting(config: Config): boolean | number | string {
  const value = config.TRUST_PROXY.trim()
  if (value === 'true') return true
  if (value === 'false') return false
  if (/^\d+$/.test(value)) return Number(value)
  return value
}
