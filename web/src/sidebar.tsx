// The left sidebar: the person, "New room", "Browse public rooms" and the rooms they are in.
import { useSignal } from '@preact/signals'
import { NewRoomDialog } from './dialogs.js'
import { NEW_ROOM_ID } from './focus.js'
import { myRooms, type RoomSummary, roomsLoaded } from './rooms.js'
import { roomHref, route } from './route.js'
import { logOut, me } from './session.js'

/**
 * Beside the main pane, a complementary landmark; on a phone's first screen, where it is all there is,
 * the page's main landmark with the brand as its heading.
 */
export function Sidebar(props: { screen?: boolean }) {
  const creating = useSignal(false)
  const current = route.value
  const Landmark = props.screen ? 'main' : 'aside'
  const Brand = props.screen ? 'h1' : 'div'
  return (
    <Landmark class="sidebar" aria-label={props.screen ? undefined : 'Your rooms'}>
      <div class="sidebar-top">
        <Brand class="brand small">
          <span class="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Insurge
        </Brand>
        <div class="me">
          <span class="avatar" aria-hidden="true">
            {me.value?.username.slice(0, 1).toUpperCase()}
          </span>
          <span class="me-name">{me.value?.username}</span>
          <button type="button" class="ghost small" onClick={() => void logOut()}>
            Log out
          </button>
        </div>
      </div>
      <div class="sidebar-actions">
        <button
          type="button"
          id={NEW_ROOM_ID}
          class="primary wide"
          onClick={() => {
            creating.value = true
          }}
        >
          New room
        </button>
        <a
          class="button ghost wide"
          href="#/browse"
          aria-current={current.view === 'browse' ? 'page' : undefined}
        >
          Browse public rooms
        </a>
      </div>
      <nav aria-label="Rooms" class="room-nav">
        {roomsLoaded.value && myRooms.value.length === 0 && (
          <p class="muted empty">No rooms yet: create one or browse the public ones.</p>
        )}
        <ul>
          {myRooms.value.map((room) => (
            <li key={room.id}>
              <RoomLink room={room} current={current.view === 'room' && current.id === room.id} />
            </li>
          ))}
        </ul>
      </nav>
      {creating.value && (
        <NewRoomDialog
          onClose={() => {
            creating.value = false
          }}
        />
      )}
    </Landmark>
  )
}

const TYPE_ICON = { public: '#', invite_only: '◎', private: '●' } as const

function RoomLink(props: { room: RoomSummary; current: boolean }) {
  const { room } = props
  const last = room.last_message
  const unread = room.unread_count
  return (
    <a
      href={roomHref(room.id)}
      class={`room-link${props.current ? ' current' : ''}${unread ? ' unread' : ''}`}
      aria-current={props.current ? 'page' : undefined}
      aria-label={unread > 0 ? `${room.title} ${unread} unread` : room.title}
      aria-describedby={`room-preview-${room.id}`}
    >
      <span class="room-icon" aria-hidden="true">
        {TYPE_ICON[room.session_type]}
      </span>
      <span class="room-text">
        <span class="room-title">{room.title}</span>
        <span class="room-preview" id={`room-preview-${room.id}`}>
          {last ? `${last.username}: ${last.content}` : 'No messages yet'}
        </span>
      </span>
      {unread > 0 && (
        <span class="badge" aria-hidden="true">
          {unread}
        </span>
      )}
    </a>
  )
}
