// The web app in a real browser (Debian's Chromium driven by playwright-core), against the real server
// on a real port and a fake OpenAI-compatible server on loopback. Two people, each in a browser
// context of their own: they sign up, one creates a room and invites the other, messages go both ways
// live, the assistant's reply streams into both and Stop works, one goes offline (his connection cut,
// then his browser's network) while the other sends and sees everything once when back, edits,
// deletions and reactions reach the other side, the owner gives the room's assistant instructions that
// a member sees but cannot change, and one back from elsewhere asks for a catch-up on what he missed.
// Every element is found by its accessible name (DESIGN.md section 11), never by a CSS class.
import AxeBuilder from '@axe-core/playwright'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { startTestApp, type TestApi } from '../../test/helpers/app.js'
import { type FakeOpenAI, startFakeOpenAI } from '../../test/helpers/fake-openai.js'
import { startTcpProxy, type TcpProxy } from '../../test/helpers/tcp-proxy.js'
import { until } from '../../test/helpers/until.js'
import {
  browserMissing,
  createRoom,
  launchChromium,
  logIn,
  messageLog,
  newPerson,
  type Person,
  sendWithEnter,
  signUp,
} from './browser.js'

const missing = browserMissing()
if (missing && process.env.REQUIRE_BROWSER)
  throw new Error(`The browser tests must run here, but: ${missing}`)
if (missing) console.warn(`The browser tests were not run: ${missing}.`)

const WAIT = { timeout: 15_000 }

/** Serious or critical accessibility violations axe-core finds on the page, as readable lines. */
async function seriousViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
}

/** Whether keyboard focus is on `locator`'s element (soon: focus moves after the next render). */
const focused = (locator: Locator) =>
  expect.poll(
    () =>
      locator.evaluate(
        (element) =>
          (element as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement === element,
      ),
    { timeout: 3_000 },
  )

/** The message (an article of the log) that shows `text`. */
const messageItem = (page: Page, text: string) =>
  messageLog(page).getByRole('article').filter({ hasText: text }).last()

describe.skipIf(missing)('the web app in a browser', () => {
  let api: TestApi
  let fake: FakeOpenAI
  let browser: Browser
  /** Bob reaches the server through a proxy that can take his network away. */
  let bobsNetwork: TcpProxy
  let adaContext: BrowserContext
  let bobContext: BrowserContext
  let ada: Page
  let bob: Page
  const adaPerson = newPerson('ada')
  const bobPerson = newPerson('bob')
  const title = `Launch plan ${Date.now().toString(36)}`

  beforeAll(async () => {
    // test/global-setup.ts has built the app.
    fake = await startFakeOpenAI()
    // Two models, so that a room's choice of model can be seen reaching the provider.
    api = await startTestApp({ env: { OPENAI_BASE_URL: fake.baseUrl, AI_MODELS: 'gpt-4o-mini,gpt-4o' } })
    bobsNetwork = await startTcpProxy(api.url)
    browser = await launchChromium()
    adaContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    bobContext = await browser.newContext({ viewport: { width: 1280, height: 800 } })
    ada = await adaContext.newPage()
    bob = await bobContext.newPage()
  }, 120_000)
  afterAll(async () => {
    await browser?.close()
    await bobsNetwork?.close()
    await api?.close()
    await fake?.close()
  })

  test('a browser asking for / gets the app; Ada signs up; the log-in screen passes axe', async () => {
    await ada.goto(`${api.url}/`)
    expect(new URL(ada.url()).pathname).toBe('/app/')
    expect(await seriousViolations(ada)).toEqual([])
    await signUp(ada, adaPerson)
    // Focus goes on from the sign-up form (gone) to the first sensible control, not the page's body.
    await focused(ada.getByRole('button', { name: 'New room' })).toBe(true)
  })

  test('signing up with what the server would refuse says why in a sentence; then Bob signs up', async () => {
    await bob.goto(`${bobsNetwork.url}/app/`)
    const username = bob.getByRole('textbox', { name: 'Username' })
    const password = bob.getByLabel('Password')
    const signUpButton = bob.getByRole('button', { name: 'Sign up' })
    const problem = () =>
      username.evaluate((input) => (input as { validationMessage: string }).validationMessage)
    await bob.getByRole('textbox', { name: 'Email' }).fill(bobPerson.email)
    await password.fill(bobPerson.password)
    // The server's rules for a username are the form's: the browser says what is wrong, nothing is sent.
    await username.fill('bo')
    await signUpButton.click()
    expect(await problem()).toMatch(/\b3\b.*characters/)
    await username.fill('bob smith')
    await signUpButton.click()
    expect(await problem()).not.toBe('')
    expect(await bob.getByRole('alert').count()).toBe(0)
    // 37 characters but 74 bytes: only the server can tell, and its sentence is what is shown.
    await username.fill(bobPerson.username)
    expect(await problem()).toBe('')
    await password.fill('é'.repeat(37))
    await signUpButton.click()
    await bob
      .getByRole('alert')
      .filter({ hasText: /^password must be at most 72 bytes long in UTF-8/ })
      .waitFor(WAIT)
    await signUp(bob, bobPerson)
  })

  test('a reload keeps the login; after logging out, logging in again brings the rooms back', async () => {
    await bob.reload()
    await bob.getByRole('navigation', { name: 'Rooms' }).waitFor(WAIT)
    await bob.getByRole('button', { name: 'Log out' }).click()
    await bob.getByRole('button', { name: 'Log in' }).waitFor(WAIT)
    await logIn(bob, bobPerson)
  })

  test('Ada creates an invite-only room and invites Bob, who finds it in his room list', async () => {
    // A title of spaces alone is refused with a sentence before anything is sent.
    await ada.getByRole('button', { name: 'New room' }).click()
    const newRoom = ada.getByRole('dialog', { name: 'New room' })
    await newRoom.getByRole('textbox', { name: 'Title' }).fill('   ')
    await newRoom.getByRole('button', { name: 'Create' }).click()
    await newRoom.getByRole('alert').filter({ hasText: 'A room needs a title' }).waitFor(WAIT)
    await newRoom.getByRole('button', { name: 'Dismiss' }).click()
    await ada.keyboard.press('Escape')
    await newRoom.waitFor({ state: 'detached', ...WAIT })
    await createRoom(ada, title, 'Invite only')
    // Focus is in the new room's message box, not back on "New room".
    await focused(ada.getByRole('textbox', { name: 'Message' })).toBe(true)
    await ada.getByRole('button', { name: 'Members' }).click()
    // Inviting herself fails with the server's sentence; inviting Bob then works and takes it down.
    const members = ada.getByRole('dialog', { name: 'Members' })
    await members.getByRole('textbox', { name: 'Username' }).fill(adaPerson.username)
    await members.getByRole('button', { name: 'Invite', exact: true }).click()
    await members.getByRole('alert').filter({ hasText: 'already a participant' }).waitFor(WAIT)
    await ada.getByRole('textbox', { name: 'Username' }).fill(bobPerson.username)
    await ada.getByRole('button', { name: 'Invite', exact: true }).click()
    await expect.poll(() => ada.getByText(bobPerson.username).count(), WAIT).toBeGreaterThan(0)
    expect(await ada.getByRole('alert').count()).toBe(0)
    expect(await seriousViolations(ada)).toEqual([]) // the Members dialog
    await ada.keyboard.press('Escape')
    // Bob's socket hears of the invitation: the room is listed at once.
    const link = bob.getByRole('navigation', { name: 'Rooms' }).getByRole('link', { name: new RegExp(title) })
    await link.waitFor(WAIT)
    await link.click()
    await bob.getByRole('heading', { name: title }).waitFor(WAIT)
  })

  test('messages go both ways live: Enter sends, and so does Send', async () => {
    await sendWithEnter(ada, 'Hello Bob, ready for the launch?')
    await messageLog(bob).getByText('Hello Bob, ready for the launch?').waitFor(WAIT)
    await bob.getByRole('textbox', { name: 'Message' }).fill('Ready when you are')
    await bob.getByRole('button', { name: 'Send' }).click()
    await messageLog(ada).getByText('Ready when you are').waitFor(WAIT)
    // Each message shows its author.
    await expect
      .poll(() => messageItem(ada, 'Ready when you are').textContent(), WAIT)
      .toContain(bobPerson.username)
  })

  test('the room screen passes axe, on a laptop and on a phone', async () => {
    expect(await seriousViolations(ada)).toEqual([])
    // Between a phone and a laptop (a tablet, half a screen, a laptop zoomed in) the room header
    // reflows (WCAG 1.4.10): no sideways scrolling, the room's title shows, "Members" is on screen.
    try {
      for (const width of [600, 800]) {
        await ada.setViewportSize({ width, height: 800 })
        expect(await ada.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true)
        const heading = await ada.getByRole('heading', { name: title }).boundingBox()
        expect(heading?.width ?? 0).toBeGreaterThan(0)
        const members = await ada.getByRole('button', { name: /^Members/ }).boundingBox()
        expect(members && members.x >= 0 && members.x + members.width <= width).toBe(true)
      }
    } finally {
      await ada.setViewportSize({ width: 1280, height: 800 })
    }
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true })
    try {
      const page = await phone.newPage()
      await page.goto(`${api.url}/app/`)
      await signUp(page, newPerson('phone'))
      // The room list, a phone's first screen, is the page's main content, under its one h1.
      await page.getByRole('main').getByRole('navigation', { name: 'Rooms' }).waitFor(WAIT)
      expect(await page.getByRole('heading', { level: 1 }).count()).toBe(1)
      const { violations } = await new AxeBuilder({ page })
        .withRules(['landmark-one-main', 'page-has-heading-one'])
        .analyze()
      expect(violations.map((v) => v.id)).toEqual([])
      await createRoom(page, 'On a phone', 'Public')
      await sendWithEnter(page, 'Small screens too')
      await messageLog(page).getByText('Small screens too').waitFor(WAIT)
      expect(await seriousViolations(page)).toEqual([])
    } finally {
      await phone.close()
    }
  })

  test('the assistant’s reply streams into both browsers with a Stop button, and Stop keeps what was written', async () => {
    fake.mode = { kind: 'answer', reply: 'Step one of the plan. '.repeat(200), chunkSize: 8, delayMs: 30 }
    await sendWithEnter(ada, '@assistant write the plan')
    const stop = ada.getByRole('button', { name: 'Stop' })
    await stop.waitFor(WAIT)
    await messageLog(bob)
      .getByText(/Step one of the plan/)
      .first()
      .waitFor(WAIT)
    await stop.click()
    await stop.waitFor({ state: 'detached', ...WAIT })
    await expect.poll(() => bob.getByRole('button', { name: 'Stop' }).count(), WAIT).toBe(0)
    // The stored reply is shorter than the whole answer: it was stopped.
    const stored = await messageItem(bob, 'Step one of the plan').textContent()
    expect(stored?.length ?? 0).toBeLessThan('Step one of the plan. '.length * 200)
  })

  test('Bob goes offline while Ada sends; he sees “Reconnecting…”, then every message once', async () => {
    bobsNetwork.target = 'http://127.0.0.1:9' // nothing listens there: every new connection fails
    bobsNetwork.cut()
    await bob.getByRole('status').filter({ hasText: 'Reconnecting…' }).waitFor(WAIT)
    for (const n of [1, 2, 3]) await sendWithEnter(ada, `While you were away ${n}`)
    await messageLog(ada).getByText('While you were away 3').waitFor(WAIT)
    bobsNetwork.target = api.url
    for (const n of [1, 2, 3]) await messageLog(bob).getByText(`While you were away ${n}`).waitFor(WAIT)
    await expect
      .poll(() => bob.getByRole('status').filter({ hasText: 'Reconnecting…' }).count(), WAIT)
      .toBe(0)
    for (const n of [1, 2, 3])
      expect(await messageLog(bob).getByText(`While you were away ${n}`).count()).toBe(1)
  })

  test('Bob’s browser loses its network: “Reconnecting…” within seconds, and back online he sees what Ada sent, once each and in order', async () => {
    const reconnecting = bob.getByRole('status').filter({ hasText: 'Reconnecting…' })
    const sent = [1, 2, 3].map((n) => `Sent while Bob was offline ${n}`)
    await bobContext.setOffline(true)
    try {
      // The window's offline event, not the pings' 50 s of silence.
      await reconnecting.waitFor({ timeout: 5_000 })
      // A reaction sent meanwhile cannot reach the server: the alert says so.
      const hello = messageItem(bob, 'Hello Bob, ready for the launch?')
      await hello.hover()
      await hello.getByRole('button', { name: 'Add reaction' }).click()
      await bob.getByRole('button', { name: 'React with 🎉' }).click()
      await bob.getByRole('alert').filter({ hasText: 'Could not reach the server' }).waitFor(WAIT)
      for (const text of sent) await sendWithEnter(ada, text)
      await messageLog(ada).getByText('Sent while Bob was offline 3').waitFor(WAIT)
    } finally {
      await bobContext.setOffline(false)
    }
    for (const text of sent) await messageLog(bob).getByText(text).waitFor(WAIT)
    await expect.poll(() => reconnecting.count(), WAIT).toBe(0)
    // Connected again, the alert is no longer true and goes (not 12 s later).
    await expect
      .poll(() => bob.getByRole('alert').filter({ hasText: 'Could not reach the server' }).count(), {
        timeout: 2_000,
      })
      .toBe(0)
    const shown = (await messageLog(bob).getByRole('article').allTextContents()).filter((text) =>
      text.includes('Sent while Bob was offline'),
    )
    expect(shown.map((text) => sent.findIndex((s) => text.includes(s)))).toEqual([0, 1, 2])
  })

  test('an edit, a deletion and a reaction by one appear on the other side', async () => {
    await sendWithEnter(ada, 'A typo in this mesage')
    await sendWithEnter(ada, 'Something to take back')
    await messageLog(bob).getByText('Something to take back').waitFor(WAIT)

    const typo = messageItem(ada, 'A typo in this mesage')
    await typo.hover()
    await typo.getByRole('button', { name: 'Edit' }).click()
    const editor = messageLog(ada).getByRole('textbox', { name: 'Edit message' })
    // Escape closes the editor, and focus is back on the message's Edit button; so after saving.
    await editor.press('Escape')
    await focused(typo.getByRole('button', { name: 'Edit' })).toBe(true)
    await ada.keyboard.press('Enter')
    await editor.fill('No typo in this message')
    await editor.press('Enter')
    await messageLog(bob).getByText('No typo in this message').waitFor(WAIT)
    await focused(messageItem(ada, 'No typo in this message').getByRole('button', { name: 'Edit' })).toBe(
      true,
    )

    const regret = messageItem(ada, 'Something to take back')
    await regret.hover()
    ada.once('dialog', (dialog) => void dialog.accept())
    await regret.getByRole('button', { name: 'Delete' }).click()
    const confirm = ada.getByRole('dialog').getByRole('button', { name: 'Delete' })
    if (await confirm.count()) await confirm.click()
    await expect.poll(() => messageLog(bob).getByText('Something to take back').count(), WAIT).toBe(0)
    await focused(ada.getByRole('textbox', { name: 'Message' })).toBe(true)

    const fixed = messageItem(bob, 'No typo in this message')
    await fixed.hover()
    // Escape closes the picker, and focus is back on "Add reaction", where Enter opens it again.
    await fixed.getByRole('button', { name: 'Add reaction' }).click()
    await focused(bob.getByRole('button', { name: 'React with 👍' })).toBe(true)
    await bob.keyboard.press('Escape')
    await focused(fixed.getByRole('button', { name: 'Add reaction' })).toBe(true)
    await bob.keyboard.press('Enter')
    await bob.getByRole('button', { name: 'React with 👍' }).click()
    await messageItem(ada, 'No typo in this message').getByRole('button', { name: '👍 1' }).waitFor(WAIT)
  })

  test('Bob browses public rooms and joins one; Ada finds a message by search; a viewer cannot write', async () => {
    const lobby = `Lobby ${Date.now().toString(36)}`
    await createRoom(ada, lobby, 'Public')
    await sendWithEnter(ada, 'Welcome to the quarterly lobby')
    await messageLog(ada).getByText('Welcome to the quarterly lobby').waitFor(WAIT)

    await bob
      .getByRole('button', { name: 'Browse public rooms' })
      .or(bob.getByRole('link', { name: 'Browse public rooms' }))
      .click()
    const listing = bob.getByRole('listitem').filter({ hasText: lobby })
    await listing.getByRole('button', { name: 'Join' }).click()
    await bob.getByRole('heading', { name: lobby }).waitFor(WAIT)
    await messageLog(bob).getByText('Welcome to the quarterly lobby').waitFor(WAIT)

    await ada.getByRole('searchbox', { name: 'Search messages' }).fill('quarterly')
    await ada.getByRole('searchbox', { name: 'Search messages' }).press('Enter')
    const results = ada.getByRole('region', { name: 'Search results' })
    await results
      .getByText(/quarterly/)
      .first()
      .waitFor(WAIT)

    await ada.getByRole('button', { name: 'Members' }).click()
    await ada.getByRole('combobox', { name: `Role for ${bobPerson.username}` }).selectOption('viewer')
    await bob.getByText(/can read this room but not write/).waitFor(WAIT)
    expect(await bob.getByRole('textbox', { name: 'Message' }).count()).toBe(0)
    await ada.keyboard.press('Escape')
  })

  test('messages in a room Bob is not looking at show as “N unread” on its link, gone once he opens it', async () => {
    const rooms = bob.getByRole('navigation', { name: 'Rooms' })
    await ada
      .getByRole('navigation', { name: 'Rooms' })
      .getByRole('link', { name: new RegExp(title) })
      .click()
    await ada.getByRole('heading', { name: title }).waitFor(WAIT)
    await sendWithEnter(ada, 'Unread one')
    await sendWithEnter(ada, 'Unread two')
    await rooms.getByRole('link', { name: `${title} 2 unread` }).waitFor(WAIT)
    await rooms.getByRole('link', { name: `${title} 2 unread` }).click()
    await messageLog(bob).getByText('Unread two').waitFor(WAIT)
    await rooms.getByRole('link', { name: title, exact: true }).waitFor(WAIT)
  })

  test('Ada gives the room’s assistant instructions and its history; Bob sees them live but cannot change them; the next reply follows them', async () => {
    await ada.getByRole('button', { name: 'Assistant settings' }).click()
    const settings = ada.getByRole('dialog', { name: 'Assistant settings' })
    const instructions = settings.getByRole('textbox', { name: 'Instructions' })
    await instructions.waitFor(WAIT)
    await settings.getByText(/^Used today: [\d,]+ (of [\d,]+ tokens|tokens, no daily limit)$/).waitFor(WAIT)
    expect(await seriousViolations(ada)).toEqual([]) // the Assistant settings dialog

    // Bob, a member, reads the same settings and cannot change them.
    await bob.getByRole('button', { name: 'Assistant settings' }).click()
    const bobsView = bob.getByRole('dialog', { name: 'Assistant settings' })
    const bobsInstructions = bobsView.getByRole('textbox', { name: 'Instructions' })
    await bobsInstructions.waitFor(WAIT)
    expect(await bobsInstructions.isDisabled()).toBe(true)
    expect(await bobsView.getByRole('checkbox', { name: 'Search the room’s history' }).isDisabled()).toBe(
      true,
    )
    expect(await bobsView.getByRole('button', { name: 'Save' }).count()).toBe(0)

    await instructions.fill('Answer like a ship’s captain.')
    await settings.getByText('29 of 4,000 characters').waitFor(WAIT)
    await settings.getByRole('checkbox', { name: 'Search the room’s history' }).check()
    await settings.getByRole('combobox', { name: 'Model' }).selectOption('gpt-4o')
    await settings.getByRole('spinbutton', { name: 'Context messages' }).fill('30')
    await settings.getByRole('button', { name: 'Save' }).click()
    await settings.waitFor({ state: 'detached', ...WAIT })

    // Bob's open view follows the change (session_updated carries the new settings).
    await expect.poll(() => bobsInstructions.inputValue(), WAIT).toBe('Answer like a ship’s captain.')
    expect(await bobsView.getByRole('checkbox', { name: 'Search the room’s history' }).isChecked()).toBe(true)
    expect(await bobsView.getByRole('combobox', { name: 'Model' }).inputValue()).toBe('gpt-4o')
    await bob.keyboard.press('Escape')

    // The next reply is asked of the chosen model, with the room's instructions and the search tool.
    // It searches the room first (shown while it writes), then answers slowly enough to be seen.
    fake.mode = (request) =>
      request.messages.some((m) => m.role === 'tool')
        ? { kind: 'answer', reply: 'Aye, the launch sails on Monday.', chunkSize: 2, delayMs: 60 }
        : { kind: 'tools', calls: [{ name: 'search_room_history', arguments: '{"query":"launch"}' }] }
    const asked = fake.requests.length
    await sendWithEnter(ada, '@assistant when do we launch?')
    await messageLog(bob)
      .getByText(/^Searched the room’s history for “launch”: \d+ messages? found$/)
      .waitFor(WAIT)
    const reply = messageItem(bob, 'Aye, the launch sails on Monday.')
    await reply.waitFor(WAIT)
    const request = fake.requests
      .slice(asked)
      .find((r) => r.messages.at(-1)?.content.includes('when do we launch'))
    expect(request?.model).toBe('gpt-4o')
    expect(request?.messages.map((m) => m.content)).toContain(
      '<room_instructions>\n"Answer like a ship’s captain."\n</room_instructions>',
    )
    expect(request?.tools?.map((t) => t.function.name)).toContain('search_room_history')
    // Its cost shows beside it, the model on hover.
    const cost = reply.getByText(/^[\d,]+ tokens$/)
    await cost.waitFor(WAIT)
    expect(await cost.getAttribute('title')).toMatch(/^gpt-4o: /)
  })

  test('Bob, back from another room, asks for a catch-up: a summary of what he missed, then the server’s sentence when the model fails', async () => {
    const rooms = bob.getByRole('navigation', { name: 'Rooms' })
    await rooms.getByRole('link', { name: /^Lobby / }).click()
    const missed = ['The venue moved to Hall B', 'Doors open at nine', 'Bring the banners']
    for (const text of missed) await sendWithEnter(ada, text)
    await rooms.getByRole('link', { name: `${title} 3 unread` }).click()
    await messageLog(bob).getByText('Bring the banners').waitFor(WAIT)

    const summary = 'ada moved the venue to Hall B; doors open at nine.'
    fake.mode = { kind: 'answer', reply: summary, delayMs: 80 }
    const asked = fake.requests.length
    await bob.getByRole('button', { name: 'Catch up' }).click()
    const dialog = bob.getByRole('dialog', { name: 'Catch-up' })
    await dialog.getByRole('status').filter({ hasText: 'Summarizing…' }).waitFor(WAIT)
    // Shown as it is written: the text appears with its first piece, a part of the summary.
    const firstShown = (await dialog.getByRole('region', { name: 'Summary' }).textContent(WAIT)) ?? ''
    expect(firstShown.length).toBeGreaterThan(0)
    expect(firstShown.length).toBeLessThan(summary.length)
    expect(summary.startsWith(firstShown)).toBe(true)
    await dialog.getByText(summary).waitFor(WAIT)
    await dialog.getByRole('status').filter({ hasText: 'Summary of 3 messages' }).waitFor(WAIT)
    // The model read what came after Bob's read marker as it was when he opened the room, nothing older.
    const prompt = fake.requests.slice(asked).map((r) => r.messages.at(-1)?.content ?? '')
    expect(prompt).toHaveLength(1)
    for (const text of missed) expect(prompt[0]).toContain(text)
    expect(prompt[0]).not.toContain('when do we launch')
    expect(await seriousViolations(bob)).toEqual([]) // the Catch-up dialog
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })

    fake.mode = { kind: 'fail', status: 500 }
    await bob.getByRole('button', { name: 'Catch up' }).click()
    await dialog
      .getByRole('alert')
      .filter({ hasText: 'The assistant could not summarize the room' })
      .waitFor(WAIT)
    await dialog.getByRole('button', { name: 'Close' }).click()

    // Closed while the model is still writing: the request ends, and the server stops asking the model.
    fake.mode = { kind: 'hang' }
    const before = fake.requests.length
    await bob.getByRole('button', { name: 'Catch up' }).click()
    await dialog.getByRole('status').filter({ hasText: 'Summarizing…' }).waitFor(WAIT)
    await until(() => fake.requests.length > before && fake.inFlight > 0, 'the model is asked')
    await dialog.getByRole('button', { name: 'Close' }).click()
    await dialog.waitFor({ state: 'detached', ...WAIT })
    await until(() => fake.inFlight === 0, 'the request to the model is closed')
  })
})

export type { Person }
