// Takes the README's screenshots of the web app (docs/screenshots/*.png) on a laptop and a phone-sized
// window: the app on a fresh in-memory server, two people talking, the assistant (a fake OpenAI-compatible
// server on loopback) writing its reply. `npm run screenshots` (needs Chromium: see web/test/browser.ts).
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { startTestApp } from '../test/helpers/app.js'
import { startFakeOpenAI } from '../test/helpers/fake-openai.js'
import {
  browserMissing,
  createRoom,
  launchChromium,
  messageLog,
  newPerson,
  sendWithEnter,
  signUp,
} from '../web/test/browser.js'
import { buildWeb } from './build-web.js'

const OUT = fileURLToPath(new URL('../docs/screenshots/', import.meta.url))
const LAPTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }
const REPLY =
  'Here is where things stand: the beta opens Monday, the pricing page still needs review, and Grace owns the launch post. ' +
  'Two open questions remain: whether to include the mobile app, and who answers support tickets in the first week.'

const missing = browserMissing()
if (missing) {
  process.stderr.write(`Cannot take screenshots: ${missing}\n`)
  process.exit(1)
}

await buildWeb()
await mkdir(OUT, { recursive: true })
const fake = await startFakeOpenAI()
const api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl } })
const browser = await launchChromium()
try {
  const shot = (page: Page, name: string) => page.screenshot({ path: `${OUT}${name}.png` })
  const ada = await (await browser.newContext({ viewport: LAPTOP, deviceScaleFactor: 1 })).newPage()
  const grace = await (
    await browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true })
  ).newPage()
  const adaPerson = { ...newPerson('ada'), username: 'ada' }
  const gracePerson = { ...newPerson('grace'), username: 'grace' }

  await ada.goto(`${api.url}/app/`)
  await shot(ada, 'laptop-sign-up')
  await signUp(ada, adaPerson)
  await grace.goto(`${api.url}/app/`)
  await signUp(grace, gracePerson)

  for (const title of ['Design review', 'Random']) await createRoom(ada, title, 'Public')
  await createRoom(ada, 'Launch plan', 'Invite only')
  await ada.getByRole('button', { name: 'Members' }).click()
  await ada.getByRole('textbox', { name: 'Username' }).fill('grace')
  await ada.getByRole('button', { name: 'Invite', exact: true }).click()
  await ada.getByText('grace').first().waitFor()
  await shot(ada, 'laptop-members')
  await ada.keyboard.press('Escape')

  await sendWithEnter(ada, 'Morning! Where are we with the launch?')
  await grace.reload()
  await grace.getByRole('link', { name: /Launch plan/ }).click()
  await grace.getByRole('heading', { name: 'Launch plan' }).waitFor()
  await sendWithEnter(grace, 'Beta opens Monday. Pricing page still needs a review.')
  await sendWithEnter(ada, 'I can take the pricing page today.')
  await messageLog(grace).getByText('I can take the pricing page today.').waitFor()

  fake.mode = { kind: 'answer', reply: REPLY, chunkSize: 4, delayMs: 60 }
  await sendWithEnter(ada, '@assistant summarize where we are')
  await ada.getByRole('button', { name: 'Stop' }).waitFor()
  await new Promise((resolve) => setTimeout(resolve, 1_800))
  await shot(ada, 'laptop-room-assistant')
  await shot(grace, 'phone-room-assistant')
  // The reply is stored (the Stop button goes) before the last two.
  await ada.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached', timeout: 30_000 })
  await grace.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached', timeout: 30_000 })
  await shot(ada, 'laptop-room')
  await shot(grace, 'phone-room')
  process.stdout.write(`screenshots written to ${OUT}\n`)
} finally {
  await browser.close()
  await api.close()
  await fake.close()
}
