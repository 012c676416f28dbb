// Debian's Chromium driven by playwright-core (never Playwright's own browser download), for the web
// app's end-to-end tests and the README's screenshots.
import { existsSync } from 'node:fs'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** Why the browser tests cannot run here, or null when they can. */
export function browserMissing(): string | null {
  return existsSync(CHROMIUM_PATH)
    ? null
    : `Chromium not found at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export interface Person {
  email: string
  username: string
  password: string
}

let people = 0
export function newPerson(name: string): Person {
  const tag = `${Date.now().toString(36)}${(people++).toString(36)}`
  return { email: `${name}-${tag}@example.com`, username: `${name}_${tag}`, password: `password-${tag}` }
}

/** Signs up in the app open on `page` (the sign-up form is what a newcomer sees first). */
export async function signUp(page: Page, person: Person): Promise<void> {
  const username = page.getByRole('textbox', { name: 'Username' })
  // The log-in card offers a "Sign up" button that switches to the sign-up card.
  if (!(await username.isVisible())) await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByRole('textbox', { name: 'Email' }).fill(person.email)
  await username.fill(person.username)
  await page.getByLabel('Password').fill(person.password)
  await page.getByRole('button', { name: 'Sign up' }).click()
  await page.getByRole('navigation', { name: 'Rooms' }).waitFor()
}

export async function logIn(page: Page, person: Person): Promise<void> {
  // The sign-up card (with "Username") offers a "Log in" button that switches to the log-in card.
  if (await page.getByRole('textbox', { name: 'Username' }).isVisible()) {
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('textbox', { name: 'Username' }).waitFor({ state: 'detached' })
  }
  await page.getByRole('textbox', { name: 'Email' }).fill(person.email)
  await page.getByLabel('Password').fill(person.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('navigation', { name: 'Rooms' }).waitFor()
}

/** Creates a room from the "New room" dialog and waits for it to open. */
export async function createRoom(
  page: Page,
  title: string,
  type: 'Public' | 'Invite only' | 'Private',
): Promise<void> {
  await page.getByRole('button', { name: 'New room' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('textbox', { name: 'Title' }).fill(title)
  const typeSelect = dialog.getByRole('combobox', { name: 'Type' })
  if (await typeSelect.count()) await typeSelect.selectOption({ label: type })
  else await dialog.getByRole('radio', { name: type }).check()
  await dialog.getByRole('button', { name: 'Create' }).click()
  await page.getByRole('heading', { name: title }).waitFor()
}

/** The message log of the room open on `page`. */
export const messageLog = (page: Page) => page.getByRole('log', { name: 'Messages' })

/** Types `text` into the composer and sends it with Enter. */
export async function sendWithEnter(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' })
  await box.fill(text)
  await box.press('Enter')
}
