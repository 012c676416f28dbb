// The permission matrix of DESIGN.md, as data. Every role check in the chat feature goes through here.
import type { ParticipantRole } from '../db/schema.js'
import { AppError } from '../errors.js'

export type ChatAction =
  | 'view_session'
  | 'send_message'
  | 'update_session'
  | 'delete_session'
  | 'invite_users'
  | 'remove_participants'
  | 'change_roles'
  | 'moderate_messages'

// biome-ignore format: the table reads like the one in DESIGN.md
const MATRIX: Record<ChatAction, Record<ParticipantRole, boolean>> = {
  //                     owner        admin        member        viewer
  view_session:        { owner: true, admin: true,  member: true,  viewer: true  },
  send_message:        { owner: true, admin: true,  member: true,  viewer: false },
  update_session:      { owner: true, admin: true,  member: false, viewer: false },
  delete_session:      { owner: true, admin: false, member: false, viewer: false },
  invite_users:        { owner: true, admin: true,  member: false, viewer: false },
  remove_participants: { owner: true, admin: true,  member: false, viewer: false },
  change_roles:        { owner: true, admin: true,  member: false, viewer: false },
  // DESIGN section 7: deleting other people's messages, as moderation.
  moderate_messages:   { owner: true, admin: true,  member: false, viewer: false },
}

const DENIAL: Record<ChatAction, string> = {
  view_session: 'You cannot view this session',
  send_message: 'Your role in this session cannot send messages',
  update_session: 'Only the owner or an admin can update this session',
  delete_session: 'Only the owner can delete this session',
  invite_users: 'Only the owner or an admin can invite users',
  remove_participants: 'Only the owner or an admin can remove participants',
  change_roles: 'Only the owner or an admin can change roles',
  moderate_messages: 'Only the author, the owner or an admin can delete a message',
}

export function can(role: ParticipantRole | null, action: ChatAction): boolean {
  return role !== null && MATRIX[action][role]
}

/** Throws `forbidden` unless the role may take the action. */
export function assertCan(role: ParticipantRole | null, action: ChatAction): asserts role is ParticipantRole {
  if (!can(role, action)) throw new AppError('forbidden', DENIAL[action])
}

/** The roles allowed an action, for queries that check permission inside SQL. */
export function rolesAllowed(action: ChatAction): ParticipantRole[] {
  return (Object.keys(MATRIX[action]) as ParticipantRole[]).filter((role) => MATRIX[action][role])
}

/**
 * The matrix's footnote on "change roles": whether `actorRole` may give `target` (currently `currentRole`) the role `newRole`. Admins act on
 * everyone but the owner and never grant owner; only the owner grants owner (a transfer).
 */
export function canAssignRole(
  actorRole: ParticipantRole,
  currentRole: ParticipantRole,
  newRole: ParticipantRole,
): boolean {
  if (!can(actorRole, 'change_roles')) return false
  if (actorRole === 'owner') return true
  return currentRole !== 'owner' && newRole !== 'owner'
}

/** Whether `actorRole` may remove a participant whose role is `targetRole`. Nobody removes the owner. */
export function canRemove(actorRole: ParticipantRole, targetRole: ParticipantRole): boolean {
  return can(actorRole, 'remove_participants') && targetRole !== 'owner'
}
