// Hash routes (the server serves /app/ as static files): #/ , #/rooms/<id>, #/browse.
import { signal } from '@preact/signals'

export type Route = { view: 'home' } | { view: 'room'; id: number } | { view: 'browse' }

function parse(hash: string): Route {
  const room = /^#\/rooms\/(\d+)$/.exec(hash)
  if (room?.[1]) return { view: 'room', id: Number(room[1]) }
  if (hash === '#/browse') return { view: 'browse' }
  return { view: 'home' }
}

export const route = signal<Route>(parse(location.hash))
window.addEventListener('hashchange', () => {
  route.value = parse(location.hash)
})

/** Bumped to open the current room afresh (after joining it from its own page). */
export const roomGeneration = signal(0)

export const roomHref = (id: number): string => `#/rooms/${id}`

export function navigate(hash: string): void {
  if (location.hash === hash) route.value = parse(hash)
  else location.hash = hash
}
