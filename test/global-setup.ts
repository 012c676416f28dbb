// Runs once before any test file: builds the web app when its sources changed (as `npm start` does),
// so that the files that serve it or drive it in a browser never build it at the same time.
import { buildWeb } from '../scripts/build-web.js'

export default async function setup(): Promise<void> {
  await buildWeb()
}
