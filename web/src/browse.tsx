// The public rooms, each with "Join" (or "Open" when already in it).
import type { ResultOf } from '@insurge/client'
import { useSignal } from '@preact/signals'
import { useEffect } from 'preact/hooks'
import { attempt } from './alerts.js'
import { BackLink } from './room-header.js'
import { myRooms, refreshRooms } from './rooms.js'
import { navigate, roomHref } from './route.js'
import { client } from './session.js'

type PublicRoom = ResultOf<'listPublicSessions'>['sessions'][number]

export function BrowseRooms() {
  const rooms = useSignal<PublicRoom[] | null>(null)
  const search = useSignal('')
  const api = client.value?.api

  useEffect(() => {
    if (!api) return
    let cancelled = false
    const timer = setTimeout(async () => {
      const q = search.value.trim()
      const page = await attempt(() =>
        api.listPublicSessions({ query: { limit: 100, ...(q ? { search: q } : {}) } }),
      )
      if (page && !cancelled) rooms.value = page.sessions
    }, 200)
    return () => {
      cancelled = true
      clearTimeout(timer)
    }
  }, [api, search.value])

  const join = async (room: PublicRoom) => {
    if (!api) return
    const joined = await attempt(() => api.joinSession({ path: { id: room.id } }))
    if (!joined) return
    await refreshRooms()
    navigate(roomHref(room.id))
  }

  const mine = new Set(myRooms.value.map((room) => room.id))
  return (
    <section class="browse" aria-labelledby="browse-title">
      <header class="pane-header">
        <BackLink />
        <h1 id="browse-title">Public rooms</h1>
      </header>
      <div class="browse-body">
        <input
          type="search"
          class="browse-search"
          aria-label="Filter public rooms"
          placeholder="Filter by title or description"
          value={search.value}
          onInput={(event) => {
            search.value = event.currentTarget.value
          }}
        />
        {rooms.value === null ? (
          <p class="muted">Loading…</p>
        ) : rooms.value.length === 0 ? (
          <p class="muted">No public rooms{search.value.trim() ? ' match' : ' yet'}.</p>
        ) : (
          <ul class="public-list">
            {rooms.value.map((room) => (
              <li key={room.id} class="public-room">
                <div class="public-text">
                  <span class="public-title" id={`public-${room.id}`}>
                    {room.title}
                  </span>
                  <span class="muted small-text">
                    {room.description ? `${room.description} · ` : ''}
                    {room.participant_count} {room.participant_count === 1 ? 'member' : 'members'} · by{' '}
                    {room.owner_username}
                  </span>
                </div>
                {mine.has(room.id) ? (
                  <a class="button" href={roomHref(room.id)} aria-describedby={`public-${room.id}`}>
                    Open
                  </a>
                ) : (
                  <button
                    type="button"
                    class="primary"
                    aria-describedby={`public-${room.id}`}
                    onClick={() => void join(room)}
                  >
                    Join
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  )
}
