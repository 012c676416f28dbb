// The room's header: back (on a phone), title, what kind of room it is, search, "Catch up" (when the
// server has an assistant), the assistant's settings, the room's settings (owners and admins), "Members".
import type { Room } from '@insurge/client'
import { assistantConfigured } from './catch-up.js'
import type { RoomDetails } from './room-state.js'
import { SearchBox, type SearchState } from './search.js'

export function BackLink() {
  return (
    <a href="#/" class="back">
      <span aria-hidden="true">‹</span>
      <span class="visually-hidden">Back to rooms</span>
    </a>
  )
}

const TYPE_LABEL = { public: 'Public', invite_only: 'Invite only', private: 'Private' } as const
const AI_LABEL = {
  off: 'Assistant off',
  mention: 'Assistant answers @assistant',
  always: 'Assistant answers every message',
} as const

interface HeaderProps {
  id: number
  room: Room | null
  details: RoomDetails | null
  memberCount: number
  search: SearchState
  onMembers: () => void
  onSettings: () => void
  onAssistant: () => void
  onCatchUp: () => void
}

export function RoomHeader(props: HeaderProps) {
  const { details } = props
  return (
    <header class="pane-header room-header">
      <BackLink />
      <div class="room-heading">
        <h1 id="room-title">{details?.title ?? 'Loading…'}</h1>
        {details && (
          <p class="room-info">
            {TYPE_LABEL[details.session_type]} · {AI_LABEL[details.ai_mode]}
            {details.description ? ` · ${details.description}` : ''}
          </p>
        )}
      </div>
      <SearchBox sessionId={props.id} state={props.search} />
      {details?.my_role && assistantConfigured.value && (
        <button type="button" class="catch-up-button" onClick={props.onCatchUp}>
          Catch up
        </button>
      )}
      {details?.my_role && (
        <button
          type="button"
          class="icon assistant-button"
          title="Assistant settings"
          onClick={props.onAssistant}
        >
          <span aria-hidden="true">✦</span>
          <span class="visually-hidden">Assistant settings</span>
        </button>
      )}
      {(details?.my_role === 'owner' || details?.my_role === 'admin') && (
        <button type="button" class="settings-button" onClick={props.onSettings}>
          Settings
        </button>
      )}
      <button type="button" class="members-button" onClick={props.onMembers} disabled={!details}>
        Members{' '}
        <span class="count" aria-hidden="true">
          {props.memberCount || ''}
        </span>
      </button>
    </header>
  )
}
