// The "Members" dialog: who is in the room and online; owners and admins invite, change roles and
// remove (as the permission matrix allows); anyone but the owner may leave.
import type { Participant } from '@insurge/client'
import { useSignal } from '@preact/signals'
import type { TargetedSubmitEvent } from 'preact'
import { attempt } from './alerts.js'
import { Dialog } from './dialogs.js'
import { Avatar } from './message.js'
import type { Role, RoomDetails } from './room-state.js'
import { refreshRooms } from './rooms.js'
import { navigate } from './route.js'
import { client } from './session.js'

const ROLES: Role[] = ['owner', 'admin', 'member', 'viewer']
const ROLE_LABEL: Record<Role, string> = {
  owner: 'Owner',
  admin: 'Admin',
  member: 'Member',
  viewer: 'Viewer',
}

/** The roles `actor` may give `target`, or none when `actor` may not change `target`'s role. */
function grantableRoles(actor: Role | null, target: Participant, myId: number | null): Role[] {
  if (target.user_id === myId || target.role === 'owner') return []
  if (actor === 'owner') return ROLES
  if (actor === 'admin') return ['admin', 'member', 'viewer']
  return []
}

interface MembersProps {
  details: RoomDetails
  participants: Participant[]
  onChanged: () => Promise<void>
  onClose: () => void
}

export function MembersDialog(props: MembersProps) {
  const { details } = props
  const api = client.value?.api
  const myId = client.value?.userId ?? null
  const myRole = details.my_role
  const manages = myRole === 'owner' || myRole === 'admin'
  const busy = useSignal(false)
  const id = details.id

  // `source` names the action: its success takes down what an earlier failure of it left up.
  const act = async (action: () => Promise<unknown>, source: string) => {
    busy.value = true
    const done = await attempt(action, source)
    busy.value = false
    if (done !== undefined) await props.onChanged()
    return done !== undefined
  }

  const invite = async (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = event.currentTarget
    const username = String(new FormData(form).get('username') ?? '').trim()
    if (!api || !username) return
    if (await act(() => api.inviteParticipant({ path: { id }, body: { username } }), 'invite')) form.reset()
  }

  const changeRole = (member: Participant, role: Role) => {
    if (!api || role === member.role) return
    if (role === 'owner' && !window.confirm(`Make ${member.username} the owner? You will become an admin.`)) {
      void props.onChanged()
      return
    }
    void act(
      () => api.changeParticipantRole({ path: { id, user_id: member.user_id }, body: { role } }),
      'role',
    )
  }

  const remove = (member: Participant) => {
    if (api) void act(() => api.removeParticipant({ path: { id, user_id: member.user_id } }), 'remove')
  }

  const leave = async () => {
    if (!api) return
    const left = await attempt(() => api.leaveSession({ path: { id } }))
    if (left === undefined) return
    props.onClose()
    await refreshRooms()
    navigate('#/')
  }

  const sorted = [...props.participants].sort(
    (a, b) =>
      Number(b.is_online) - Number(a.is_online) ||
      ROLES.indexOf(a.role) - ROLES.indexOf(b.role) ||
      a.username.localeCompare(b.username),
  )
  const online = props.participants.filter((p) => p.is_online).length
  const mayInvite = manages && details.session_type !== 'private'

  return (
    <Dialog title="Members" onClose={props.onClose} wide>
      <p class="muted">
        {props.participants.length} {props.participants.length === 1 ? 'member' : 'members'}, {online} online
      </p>
      <ul class="members">
        {sorted.map((member) => {
          const roles = grantableRoles(myRole, member, myId)
          const selectId = `role-${member.user_id}`
          return (
            <li key={member.user_id} class="member">
              <span class="member-avatar">
                <Avatar name={member.username} />
                <span class={member.is_online ? 'presence online' : 'presence'} aria-hidden="true" />
              </span>
              <span class="member-text">
                <span class="member-name">
                  {member.username}
                  {member.user_id === myId && <span class="muted"> (you)</span>}
                </span>
                <span class="muted small-text">
                  {member.is_online ? 'Online' : 'Offline'}
                  {roles.length === 0 && ` · ${ROLE_LABEL[member.role]}`}
                </span>
              </span>
              {roles.length > 0 && (
                <>
                  <label for={selectId} class="visually-hidden">
                    Role for {member.username}
                  </label>
                  <select
                    id={selectId}
                    value={member.role}
                    disabled={busy.value}
                    onChange={(event) => changeRole(member, event.currentTarget.value as Role)}
                  >
                    {roles.map((role) => (
                      <option key={role} value={role}>
                        {ROLE_LABEL[role]}
                      </option>
                    ))}
                  </select>
                  <button
                    type="button"
                    class="small danger"
                    disabled={busy.value}
                    aria-label={`Remove ${member.username}`}
                    onClick={() => remove(member)}
                  >
                    Remove
                  </button>
                </>
              )}
            </li>
          )
        })}
      </ul>
      {mayInvite && (
        <form class="invite" onSubmit={invite}>
          <div class="field grow">
            <label for="invite-username">Username</label>
            <input id="invite-username" name="username" autocomplete="off" required />
          </div>
          <button type="submit" class="primary" disabled={busy.value}>
            Invite
          </button>
        </form>
      )}
      {myRole && myRole !== 'owner' && (
        <div class="dialog-footer">
          <button type="button" class="danger" onClick={() => void leave()}>
            Leave room
          </button>
        </div>
      )}
    </Dialog>
  )
}
