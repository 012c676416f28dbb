// The rooms the person is in, with unread counts and last messages: read again when something
// happens in one of them (each is followed over the client's one socket) and every 15 s otherwise.
import type { InsurgeClient, ResultOf } from '@insurge/client'
import { signal } from '@preact/signals'
import { showError } from './alerts.js'

export type RoomSummary = ResultOf<'listMySessions'>[number]

export const myRooms = signal<RoomSummary[]>([])
export const roomsLoaded = signal(false)

const POLL_MS = 15_000
/** Following costs a page of history per room: the most recently active ones are followed. */
const FOLLOW_MAX = 40

/** Keeps `myRooms` fresh for this client; returns the function that stops it. */
export function watchRooms(client: InsurgeClient): () => void {
  const followed = new Map<number, () => void>()
  let stopped = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | null = null
  let again = false

  const follow = (rooms: RoomSummary[]) => {
    const wanted = new Set(rooms.slice(0, FOLLOW_MAX).map((room) => room.id))
    for (const [id, unfollow] of followed) {
      if (!wanted.has(id)) {
        unfollow()
        followed.delete(id)
      }
    }
    for (const id of wanted) {
      if (followed.has(id)) continue
      const room = client.room(id)
      const offs = [
        room.on('message', () => schedule(300)),
        room.on('event', () => schedule(300)),
        room.on('ended', () => {
          followed.delete(id)
          schedule(0)
        }),
      ]
      followed.set(id, () => {
        for (const off of offs) off()
      })
    }
  }

  const load = async () => {
    try {
      const rooms = await client.api.listMySessions({ query: { limit: 100 } })
      if (stopped) return
      myRooms.value = rooms
      roomsLoaded.value = true
      follow(rooms)
    } catch (error) {
      if (!stopped) showError(error)
    }
  }

  const refresh = async () => {
    if (running) {
      again = true
      return running
    }
    running = load().finally(() => {
      running = null
    })
    await running
    if (again) {
      again = false
      await refresh()
    }
  }

  function schedule(delay: number) {
    clearTimeout(timer)
    timer = setTimeout(() => {
      void refresh().finally(() => {
        if (!stopped) schedule(POLL_MS)
      })
    }, delay)
  }

  refresher.current = refresh
  schedule(0)
  return () => {
    stopped = true
    clearTimeout(timer)
    for (const unfollow of followed.values()) unfollow()
    followed.clear()
    myRooms.value = []
    roomsLoaded.value = false
    refresher.current = async () => {}
  }
}

const refresher: { current: () => Promise<void> } = { current: async () => {} }

/** Reads the list again now (after creating, joining, leaving a room, or reading one). */
export const refreshRooms = (): Promise<void> => refresher.current()
