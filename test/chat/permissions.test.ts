// The permission matrix as data (src/chat/permissions.ts) against DESIGN.md section 4, cell by cell. No app.
import { describe, expect, test } from 'vitest'
import {
  assertCan,
  type ChatAction,
  can,
  canAssignRole,
  canRemove,
  rolesAllowed,
} from '../../src/chat/permissions.js'
import type { ParticipantRole } from '../../src/db/schema.js'
import { AppError } from '../../src/errors.js'

const yes = true
const no = false

const ROLES = ['owner', 'admin', 'member', 'viewer'] as const satisfies readonly ParticipantRole[]

// DESIGN.md section 4 (and section 7's moderation), row by row ("view session and messages" is view_session). A Record: a new
// ChatAction does not compile until it has its row here.
// biome-ignore format: the table reads like the one in DESIGN.md
const DESIGN_MATRIX: Record<ChatAction, readonly [boolean, boolean, boolean, boolean]> = {
  //                      owner admin member viewer
  view_session:        [  yes,  yes,  yes,   yes ],
  send_message:        [  yes,  yes,  yes,   no  ],
  update_session:      [  yes,  yes,  no,    no  ],
  delete_session:      [  yes,  no,   no,    no  ],
  invite_users:        [  yes,  yes,  no,    no  ],
  remove_participants: [  yes,  yes,  no,    no  ],
  change_roles:        [  yes,  yes,  no,    no  ],
  // DESIGN.md section 7: delete others' messages "by owner/admin as moderation".
  moderate_messages:   [  yes,  yes,  no,    no  ],
}

/** What `fn` throws, or undefined. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

const ACTIONS = Object.keys(DESIGN_MATRIX) as ChatAction[]

/** Every cell of the table: [action, role, allowed]. */
const CELLS = ACTIONS.flatMap((action) =>
  ROLES.map((role, column) => [action, role, DESIGN_MATRIX[action][column]] as const),
)

describe('can', () => {
  test('the table has every action of DESIGN.md (sections 4 and 7) and 32 cells', () => {
    expect(ACTIONS).toHaveLength(8)
    expect(CELLS).toHaveLength(32)
  })

  test.each(CELLS)('%s by %s is %s', (action, role, allowed) => {
    expect(can(role, action)).toBe(allowed)
  })

  test.each(ACTIONS)('%s by someone with no role (null) is never allowed', (action) => {
    expect(can(null, action)).toBe(false)
  })
})

describe('rolesAllowed', () => {
  test.each(ACTIONS)('%s: exactly the roles with "yes" in its row', (action) => {
    const expected = ROLES.filter((_, column) => DESIGN_MATRIX[action][column])
    const allowed = rolesAllowed(action)
    expect([...allowed].sort()).toEqual([...expected].sort())
  })

  test('returns a copy: changing it does not widen the matrix', () => {
    const allowed = rolesAllowed('delete_session')
    allowed.push('viewer')
    expect(rolesAllowed('delete_session')).toEqual(['owner'])
    expect(can('viewer', 'delete_session')).toBe(false)
  })
})

describe('assertCan', () => {
  test.each(CELLS)(
    '%s by %s (allowed: %s): throws forbidden exactly when not allowed',
    (action, role, allowed) => {
      if (allowed) {
        expect(() => assertCan(role, action)).not.toThrow()
        return
      }
      const thrown = thrownBy(() => assertCan(role, action))
      expect(thrown).toBeInstanceOf(AppError)
      expect(thrown).toMatchObject({ code: 'forbidden', detail: expect.stringMatching(/\S/) })
    },
  )

  test.each(ACTIONS)('%s by someone with no role (null) throws forbidden', (action) => {
    const thrown = thrownBy(() => assertCan(null, action))
    expect(thrown).toBeInstanceOf(AppError)
    expect(thrown).toMatchObject({ code: 'forbidden' })
  })
})

describe('canAssignRole (the footnote of "change roles")', () => {
  // Rows: the target's current role; columns: the role being given.
  // biome-ignore format: the tables read like the matrix
  const BY_ROLE: Record<ParticipantRole, Record<ParticipantRole, readonly [boolean, boolean, boolean, boolean]>> = {
    // The owner may give any role to anyone, owner included (a transfer).
    owner: {
      //        to: owner admin member viewer
      owner:  [     yes,  yes,  yes,   yes ],
      admin:  [     yes,  yes,  yes,   yes ],
      member: [     yes,  yes,  yes,   yes ],
      viewer: [     yes,  yes,  yes,   yes ],
    },
    // An admin never grants owner nor touches the owner; everyone else may become admin, member or viewer.
    admin: {
      //        to: owner admin member viewer
      owner:  [     no,   no,   no,    no  ],
      admin:  [     no,   yes,  yes,   yes ],
      member: [     no,   yes,  yes,   yes ],
      viewer: [     no,   yes,  yes,   yes ],
    },
    // Members and viewers change nobody's role.
    member: {
      //        to: owner admin member viewer
      owner:  [     no,   no,   no,    no  ],
      admin:  [     no,   no,   no,    no  ],
      member: [     no,   no,   no,    no  ],
      viewer: [     no,   no,   no,    no  ],
    },
    viewer: {
      //        to: owner admin member viewer
      owner:  [     no,   no,   no,    no  ],
      admin:  [     no,   no,   no,    no  ],
      member: [     no,   no,   no,    no  ],
      viewer: [     no,   no,   no,    no  ],
    },
  }
  const cases = ROLES.flatMap((actor) =>
    ROLES.flatMap((current) =>
      ROLES.map((next, column) => [actor, current, next, BY_ROLE[actor][current][column]] as const),
    ),
  )

  test('covers every actor, current role and new role', () => {
    expect(cases).toHaveLength(64)
  })

  test.each(cases)('%s changing %s to %s: %s', (actor, current, next, allowed) => {
    expect(canAssignRole(actor, current, next)).toBe(allowed)
  })
})

describe('canRemove', () => {
  // Rows: who removes; columns: the role of the one removed. Nobody removes the owner.
  // biome-ignore format: the table reads like the matrix
  const REMOVE: Record<ParticipantRole, readonly [boolean, boolean, boolean, boolean]> = {
    //   target: owner admin member viewer
    owner:  [    no,   yes,  yes,   yes ],
    admin:  [    no,   yes,  yes,   yes ],
    member: [    no,   no,   no,    no  ],
    viewer: [    no,   no,   no,    no  ],
  }
  const cases = ROLES.flatMap((actor) =>
    ROLES.map((target, column) => [actor, target, REMOVE[actor][column]] as const),
  )

  test.each(cases)('%s removing %s: %s', (actor, target, allowed) => {
    expect(canRemove(actor, target)).toBe(allowed)
  })
})
