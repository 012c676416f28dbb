// parseConfig as an operator meets it: defaults, one-line errors naming the variable, and the production guard.
import { describe, expect, test } from 'vitest'
import { ConfigError, DEFAULT_SECRET_KEY, parseConfig } from '../src/config.js'

/** The ConfigError parseConfig throws for this environment (fails the test when it does not throw one). */
function configError(env: Record<string, string>): ConfigError {
  try {
    parseConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return error as ConfigError
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`)
}

describe('defaults', () => {
  test('an empty environment gives the documented defaults', () => {
    const config = parseConfig({})
    expect(config).toMatchObject({
      PORT: 8000,
      HOST: '0.0.0.0',
      ALGORITHM: 'HS256',
      ACCESS_TOKEN_EXPIRE_MINUTES: 30,
      REFRESH_TOKEN_EXPIRE_DAYS: 7,
      MAX_CHAT_PARTICIPANTS: 50,
      DEBUG: true,
      ENVIRONMENT: 'development',
      ALLOWED_ORIGINS: ['http://localhost:3000'],
      DATABASE_URL: 'pglite://./data',
      RATE_LIMITS: 'on',
      SECRET_KEY: DEFAULT_SECRET_KEY,
      OPENAI_MODEL: 'gpt-4o-mini',
      AI_CONTEXT_MESSAGES: 20,
      AI_MAX_TOKENS: 1024,
      AI_MAX_REPLY_CHARS: 16_000,
      AI_TIMEOUT_MS: 60_000,
      AI_CONCURRENCY: 4,
      AI_REPLIES_PER_MINUTE: 20,
    })
  })

  test('optional services stay unset by default', () => {
    const config = parseConfig({})
    expect(config.REDIS_URL).toBeUndefined()
    expect(config.OPENAI_API_KEY).toBeUndefined()
    expect(config.OPENAI_BASE_URL).toBeUndefined()
    expect(config.AI_SYSTEM_PROMPT).toBeUndefined()
  })

  test('values are converted to their types', () => {
    const config = parseConfig({ PORT: '9001', DEBUG: 'false', RATE_LIMITS: 'off', AI_CONCURRENCY: '8' })
    expect(config.PORT).toBe(9001)
    expect(config.DEBUG).toBe(false)
    expect(config.RATE_LIMITS).toBe('off')
    expect(config.AI_CONCURRENCY).toBe(8)
  })
})

describe('a bad value stops start-up with one line naming the variable', () => {
  test.each([
    ['PORT', 'abc'],
    ['ALGORITHM', 'RS256'],
    ['DEBUG', 'maybe'],
    ['DATABASE_URL', 'mysql://x'],
    ['BCRYPT_ROUNDS', '99'],
  ])('%s=%s', (name, value) => {
    const error = configError({ [name]: value })
    expect(error.message).not.toContain('\n')
    expect(error.message.startsWith(`${name}:`)).toBe(true)
    // The line says what is wrong, not only which variable.
    expect(error.message.length).toBeGreaterThan(`${name}: `.length)
  })
})

describe('ALLOWED_ORIGINS', () => {
  test('is read as a JSON array', () => {
    const config = parseConfig({ ALLOWED_ORIGINS: '["https://a.example", "https://b.example"]' })
    expect(config.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example'])
  })

  test('is read as a comma-separated list, spaces trimmed', () => {
    const config = parseConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example ,https://c.example' })
    expect(config.ALLOWED_ORIGINS).toEqual(['https://a.example', 'https://b.example', 'https://c.example'])
  })

  test('a single origin is a list of one', () => {
    expect(parseConfig({ ALLOWED_ORIGINS: 'https://a.example' }).ALLOWED_ORIGINS).toEqual([
      'https://a.example',
    ])
  })
})

describe('variable names', () => {
  test('lower-case names are read', () => {
    const config = parseConfig({ port: '9000', environment: 'staging' })
    expect(config.PORT).toBe(9000)
    expect(config.ENVIRONMENT).toBe('staging')
  })

  test('upper case wins over lower case', () => {
    expect(parseConfig({ PORT: '9001', port: '9000' }).PORT).toBe(9001)
  })

  test('a bad lower-case value is reported under the upper-case name', () => {
    expect(configError({ port: 'abc' }).message.startsWith('PORT:')).toBe(true)
  })
})

describe('ENVIRONMENT=production', () => {
  test('refuses the default SECRET_KEY', () => {
    const error = configError({ ENVIRONMENT: 'production' })
    expect(error.message.startsWith('SECRET_KEY:')).toBe(true)
    expect(error.message).not.toContain('\n')
  })

  test('refuses the default SECRET_KEY when set explicitly', () => {
    expect(
      configError({ ENVIRONMENT: 'production', SECRET_KEY: DEFAULT_SECRET_KEY }).message.startsWith(
        'SECRET_KEY:',
      ),
    ).toBe(true)
  })

  test('refuses a SECRET_KEY shorter than 64 characters', () => {
    const error = configError({ ENVIRONMENT: 'production', SECRET_KEY: 'k'.repeat(63) })
    expect(error.message.startsWith('SECRET_KEY:')).toBe(true)
    expect(error.message).not.toContain('\n')
  })

  test('refuses DEBUG=true (the default)', () => {
    const error = configError({ ENVIRONMENT: 'production', SECRET_KEY: 'k'.repeat(64) })
    expect(error.message.startsWith('DEBUG:')).toBe(true)
    expect(error.message).not.toContain('\n')
  })

  test('refuses a wildcard ALLOWED_ORIGINS', () => {
    const error = configError({
      ENVIRONMENT: 'production',
      SECRET_KEY: 'k'.repeat(64),
      DEBUG: 'false',
      ALLOWED_ORIGINS: '*',
    })
    expect(error.message.startsWith('ALLOWED_ORIGINS:')).toBe(true)
  })

  test('accepts a 64-character SECRET_KEY with DEBUG=false and listed origins', () => {
    const config = parseConfig({ ENVIRONMENT: 'production', SECRET_KEY: 'k'.repeat(64), DEBUG: 'false' })
    expect(config.ENVIRONMENT).toBe('production')
    expect(config.SECRET_KEY).toBe('k'.repeat(64))
  })

  test('a short SECRET_KEY is accepted outside production', () => {
    expect(parseConfig({ ENVIRONMENT: 'development', SECRET_KEY: 'k'.repeat(20) }).SECRET_KEY).toBe(
      'k'.repeat(20),
    )
  })
})
