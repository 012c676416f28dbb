// Takes the README's screenshots of the web app (docs/screenshots/*.png) on a laptop and a phone-sized
// window: the app on a fresh in-memory server, two people talking, the assistant (a fake OpenAI-compatible
// server on loopback) writing its reply, the New room dialog, the public rooms to browse, and the room
// list a phone opens on. `npm run screenshots` (needs Chromium: see web/test/browser.ts).
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { API, startTestApp } from '../test/helpers/app.js'
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

  // Others' public rooms, so that browsing shows some to join.
  for (const [username, title, description] of [
    ['lin', 'Book club', 'This month: The Left Hand of Darkness'],
    ['omar', 'Hiring', 'Open roles, referrals and interview loops'],
  ] as const) {
    const owner = await api.signUp({ username })
    const created = await api.post(
      `${API}/chat/sessions`,
      { title, description, session_type: 'public' },
      owner.token,
    )
    if (!created.ok) throw new Error(`Could not create ${title}: ${await created.text()}`)
  }

  for (const [title, first] of [
    ['Design review', 'The onboarding mockups are up for comments.'],
    ['Random', 'The coffee machine on the third floor works again.'],
  ] as const) {
    await createRoom(ada, title, 'Public')
    await sendWithEnter(ada, first)
    await messageLog(ada).getByText(first).waitFor()
  }
  // The New room dialog, filled in, before it creates the room.
  await ada.getByRole('button', { name: 'New room' }).click()
  const newRoom = ada.getByRole('dialog', { name: 'New room' })
  await newRoom.getByRole('textbox', { name: 'Title' }).fill('Launch plan')
  await newRoom.getByRole('combobox', { name: 'Type' }).selectOption({ label: 'Invite only' })
  await shot(ada, 'laptop-new-room')
  await newRoom.getByRole('button', { name: 'Create' }).click()
  await ada.getByRole('heading', { name: 'Launch plan' }).waitFor()
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
  // The reply is stored (the Stop button goes) before the next two.
  await ada.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached', timeout: 30_000 })
  await grace.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached', timeout: 30_000 })
  await shot(ada, 'laptop-room')
  await shot(grace, 'phone-room')

  // The public rooms: Join for the others' rooms, Open for one's own.
  await ada.getByRole('link', { name: 'Browse public rooms' }).click()
  await ada.getByRole('button', { name: 'Join' }).first().waitFor()
  await shot(ada, 'laptop-browse')
  await grace.getByRole('link', { name: 'Back to rooms' }).click()
  await grace.getByRole('link', { name: 'Browse public rooms' }).click()
  await grace.getByRole('button', { name: 'Join' }).first().waitFor()
  await shot(grace, 'phone-browse')
  // Grace joins one, and Ada writes in the other room while Grace is away from it.
  await grace
    .getByRole('listitem')
    .filter({ hasText: 'Design review' })
    .getByRole('button', { name: 'Join' })
    .click()
  await grace.getByRole('heading', { name: 'Design review' }).waitFor()
  await ada
    .getByRole('navigation', { name: 'Rooms' })
    .getByRole('link', { name: /^Launch plan/ })
    .click()
  await sendWithEnter(ada, 'Pricing page reviewed: two typos, fixed.')
  await sendWithEnter(ada, 'Grace, can you post the beta announcement?')
  // The room list, the screen a phone opens on.
  await grace.getByRole('link', { name: 'Back to rooms' }).click()
  await grace
    .getByRole('navigation', { name: 'Rooms' })
    .getByRole('link', { name: 'Launch plan 2 unread' })
    .waitFor()
  await shot(grace, 'phone-rooms')
  process.stdout.write(`screenshots written to ${OUT}\n`)
} finally {
  await browser.close()
  await api.close()
  await fake.close()
}
