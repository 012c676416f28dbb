// What /metrics says, read as an operator's scraper would.
import type { TestApi } from './app.js'

/** The value of a metric without labels; fails when /metrics does not have it. */
export async function metric(api: Pick<TestApi, 'get'>, name: string): Promise<number> {
  const text = await (await api.get('/metrics')).text()
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  if (!line) throw new Error(`/metrics has no ${name}`)
  return Number(line.slice(name.length + 1))
}
