// The logins baseline: raw bcrypt.compare at the same cost and concurrency, on the same pinned core as
// the server, so the libuv thread pool has the same CPU. Also reports its own event-loop delay.
import bcrypt from 'bcrypt'
import { lagHandlers, serveCommands } from './commands.js'

interface RunArgs {
  password: string
  hash: string
  concurrency: number
  /** How many compares in all, like the fixed number of logins the server gets. */
  amount: number
}

async function compareFor({ password, hash, concurrency, amount }: RunArgs) {
  let started = 0
  let done = 0
  const worker = async () => {
    while (started < amount) {
      started += 1
      if (!(await bcrypt.compare(password, hash))) throw new Error('the hash does not match')
      done += 1
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { compares: done, seconds: (performance.now() - t0) / 1000 }
}

serveCommands({}, { ...lagHandlers(), run: (args) => compareFor(args as RunArgs) })
