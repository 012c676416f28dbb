// Races on the real API: many requests at once (Promise.all), then the state they leave behind.
// On PostgreSQL these requests really run in parallel; on PGlite they interleave at every await.
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { API, startTestApp, type TestApi, type TestResponse, type TestUser } from '../helpers/app.js'
import { createRoom, invite, roomWithRoles, send } from '../helpers/chat.js'

let api: TestApi
beforeAll(async () => {
  // Rate limits off (the setting meant for load tests): these tests fire dozens of requests at once.
  api = await startTestApp({ env: { RATE_LIMITS: 'off' } })
})
afterAll(() => api.close())

interface Message {
  id: number
  seq: number
  user_id: number
  content: string
  client_msg_id: string | null
}

interface Participant {
  id: number
  user_id: number
  role: string
}

const room = (id: number, rest = '') => `${API}/chat/sessions/${id}${rest}`
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const signUpMany = (n: number) => Promise.all(Array.from({ length: n }, () => api.signUp()))
const countOf = (values: number[], value: number) => values.filter((v) => v === value).length

function post(roomId: number, body: unknown, user: TestUser) {
  return api.post(room(roomId, '/messages'), body, user.token)
}

async function bodies<T>(responses: TestResponse[]): Promise<T[]> {
  return Promise.all(responses.map((r) => r.json() as Promise<T>))
}

async function history(roomId: number, user: TestUser): Promise<Message[]> {
  const res = await api.get(room(roomId, '/messages?limit=200'), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function detail(roomId: number, user: TestUser) {
  const res = await api.get(room(roomId), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

async function participants(roomId: number, user: TestUser): Promise<Participant[]> {
  const res = await api.get(room(roomId, '/participants'), user.token)
  expect(res.status).toBe(200)
  return res.json()
}

/** Checks every answer of a burst of sends was a new message and that seqs are exactly 1..n. */
async function expectGaplessBurst(
  roomId: number,
  responses: TestResponse[],
  reader: TestUser,
  nextSender: TestUser = reader,
) {
  const n = responses.length
  expect(responses.map((r) => r.status)).toEqual(Array(n).fill(201))
  const sent = await bodies<Message>(responses)
  expect(new Set(sent.map((m) => m.id)).size).toBe(n)
  expect(sent.map((m) => m.seq).sort((a, b) => a - b)).toEqual(range(1, n))

  const stored = await history(roomId, reader)
  expect(stored.map((m) => m.seq)).toEqual(range(1, n))
  // What each sender was told is what was stored.
  const byId = new Map(sent.map((m) => [m.id, m]))
  for (const message of stored) expect(message).toEqual(byId.get(message.id))
  expect((await detail(roomId, reader)).message_count).toBe(n)
  // The counter kept up: the next message follows without a gap.
  expect((await send(api, roomId, nextSender, 'after the burst')).seq).toBe(n + 1)
}

describe('parallel sends', () => {
  test('30 sends from six members at once: 30 distinct 201s with seqs exactly 1..30', async () => {
    const r = await roomWithRoles(api, 'public')
    const extra = await signUpMany(3)
    for (const user of extra) await invite(api, r.id, r.owner, user)
    const senders = [r.owner, r.admin, r.member, ...extra]
    const responses = await Promise.all(
      range(1, 30).map((n) => {
        const sender = senders[n % senders.length] as TestUser
        return post(r.id, { content: `from ${sender.username} #${n}` }, sender)
      }),
    )
    await expectGaplessBurst(r.id, responses, r.viewer, r.member)
    // Each member's messages carry that member.
    const burst = (await history(r.id, r.viewer)).filter((m) => m.seq <= 30)
    for (const sender of senders) expect(burst.filter((m) => m.user_id === sender.id)).toHaveLength(5)
  })

  test('30 sends from one user at once: 30 distinct 201s with seqs exactly 1..30', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner)
    const responses = await Promise.all(range(1, 30).map((n) => post(id, { content: `#${n}` }, owner)))
    await expectGaplessBurst(id, responses, owner)
    const contents = (await history(id, owner)).slice(0, 30).map((m) => m.content)
    expect(contents.sort()).toEqual(
      range(1, 30)
        .map((n) => `#${n}`)
        .sort(),
    )
  })

  test('bursts into two rooms at once keep two separate counters', async () => {
    const owner = await api.signUp()
    const a = await createRoom(api, owner)
    const b = await createRoom(api, owner)
    const responses = await Promise.all(
      range(1, 30).map((n) => post(n % 2 ? a.id : b.id, { content: `#${n}` }, owner)),
    )
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201))
    const sent = await bodies<Message & { session_id: number }>(responses)
    for (const roomId of [a.id, b.id]) {
      const seqs = sent.filter((m) => m.session_id === roomId).map((m) => m.seq)
      expect(seqs.sort((x, y) => x - y)).toEqual(range(1, 15))
      expect((await history(roomId, owner)).map((m) => m.seq)).toEqual(range(1, 15))
    }
  })

  test('the same client_msg_id from one user, ten times at once: one message, one 201, nine 200', async () => {
    const r = await roomWithRoles(api, 'public')
    const responses = await Promise.all(
      range(1, 10).map((n) => post(r.id, { content: `attempt ${n}`, client_msg_id: 'once' }, r.member)),
    )
    const statuses = responses.map((res) => res.status)
    expect(countOf(statuses, 201)).toBe(1)
    expect(countOf(statuses, 200)).toBe(9)
    const answers = await bodies<Message>(responses)
    const created = answers[statuses.indexOf(201)] as Message
    expect(created).toMatchObject({ seq: 1, client_msg_id: 'once', user_id: r.member.id })
    for (const answer of answers) expect(answer).toEqual(created)

    expect(await history(r.id, r.owner)).toEqual([created])
    expect((await detail(r.id, r.owner)).message_count).toBe(1)
    expect((await send(api, r.id, r.member, 'next')).seq).toBe(2)
  })

  test('the same client_msg_id from five users, four times each at once: one message per user', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner)
    const members = await signUpMany(4)
    for (const user of members) await invite(api, id, owner, user)
    const users = [owner, ...members]
    const tries = users.flatMap((user) => range(1, 4).map(() => user))
    const responses = await Promise.all(
      tries.map((user) => post(id, { content: 'hi', client_msg_id: 'x' }, user)),
    )
    const answers = await bodies<Message>(responses)
    for (const user of users) {
      const mine = responses.flatMap((res, i) =>
        tries[i] === user ? [{ status: res.status, m: answers[i] }] : [],
      )
      expect(mine.map((a) => a.status).sort()).toEqual([200, 200, 200, 201])
      expect(new Set(mine.map((a) => a.m?.id)).size).toBe(1)
      expect(mine[0]?.m?.user_id).toBe(user.id)
    }
    const stored = await history(id, owner)
    expect(stored.map((m) => m.seq)).toEqual(range(1, 5))
    expect(new Set(stored.map((m) => m.user_id))).toEqual(new Set(users.map((u) => u.id)))
    expect((await send(api, id, owner, 'next')).seq).toBe(6)
  })

  test('retries and new messages mixed at once: still gapless, one message per client_msg_id', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner)
    // Ten distinct client_msg_ids, each sent three times, all at once.
    const bodiesToSend = range(1, 30).map((n) => ({ content: `c${n % 10}`, client_msg_id: `id-${n % 10}` }))
    const responses = await Promise.all(bodiesToSend.map((body) => post(id, body, owner)))
    const statuses = responses.map((r) => r.status)
    expect(countOf(statuses, 201)).toBe(10)
    expect(countOf(statuses, 200)).toBe(20)
    const stored = await history(id, owner)
    expect(stored.map((m) => m.seq)).toEqual(range(1, 10))
    expect(new Set(stored.map((m) => m.client_msg_id)).size).toBe(10)
    expect((await detail(id, owner)).message_count).toBe(10)
  })
})

describe('parallel joins and invites at the limit', () => {
  test('12 users join a room with 4 free seats at once: 4 get 200, 8 get 409', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'public', max_participants: 5 })
    const joiners = await signUpMany(12)
    const responses = await Promise.all(joiners.map((u) => api.post(room(id, '/join'), {}, u.token)))
    const statuses = responses.map((r) => r.status)
    expect(countOf(statuses, 200)).toBe(4)
    expect(countOf(statuses, 409)).toBe(8)
    const answers = await bodies<{ code?: string }>(responses)
    for (const [i, answer] of answers.entries()) {
      if (statuses[i] === 409) expect(answer).toMatchObject({ code: 'conflict' })
    }

    const winners = joiners.filter((_, i) => statuses[i] === 200).map((u) => u.id)
    expect((await detail(id, owner)).participant_count).toBe(5)
    const listed = await participants(id, owner)
    expect(listed).toHaveLength(5)
    expect(listed.map((p) => p.user_id).sort()).toEqual([owner.id, ...winners].sort())
    // The losers really are out.
    const loser = joiners.find((_, i) => statuses[i] === 409) as TestUser
    expect((await api.get(room(id, '/messages'), loser.token)).status).toBe(403)
  })

  test('the owner invites 12 users into 4 free seats at once: 4 get 201, 8 get 409', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'invite_only', max_participants: 5 })
    const invitees = await signUpMany(12)
    const responses = await Promise.all(
      invitees.map((u) => api.post(room(id, '/invite'), { user_id: u.id }, owner.token)),
    )
    const statuses = responses.map((r) => r.status)
    expect(countOf(statuses, 201)).toBe(4)
    expect(countOf(statuses, 409)).toBe(8)
    const winners = invitees.filter((_, i) => statuses[i] === 201).map((u) => u.id)
    expect((await detail(id, owner)).participant_count).toBe(5)
    const listed = await participants(id, owner)
    expect(listed.map((p) => p.user_id).sort()).toEqual([owner.id, ...winners].sort())
  })

  test('the owner and an admin invite six users each into 3 free seats at once: 3 get in', async () => {
    const owner = await api.signUp()
    const admin = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'invite_only', max_participants: 5 })
    await invite(api, id, owner, admin, 'admin')
    const invitees = await signUpMany(12)
    const responses = await Promise.all(
      invitees.map((u, i) => api.post(room(id, '/invite'), { user_id: u.id }, (i % 2 ? owner : admin).token)),
    )
    const statuses = responses.map((r) => r.status)
    expect(countOf(statuses, 201)).toBe(3)
    expect(countOf(statuses, 409)).toBe(9)
    expect((await detail(id, owner)).participant_count).toBe(5)
    expect(await participants(id, owner)).toHaveLength(5)
  })

  test('joins and invites racing for the same 3 seats: exactly 3 get in', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'public', max_participants: 4 })
    const users = await signUpMany(12)
    const responses = await Promise.all(
      users.map((u, i) =>
        i % 2
          ? api.post(room(id, '/join'), {}, u.token)
          : api.post(room(id, '/invite'), { user_id: u.id }, owner.token),
      ),
    )
    const statuses = responses.map((r) => r.status)
    expect(countOf(statuses, 200) + countOf(statuses, 201)).toBe(3)
    expect(countOf(statuses, 409)).toBe(9)
    expect((await detail(id, owner)).participant_count).toBe(4)
    expect(await participants(id, owner)).toHaveLength(4)
  })

  test('the same user joining twice at once: both 200, one participant row', async () => {
    const owner = await api.signUp()
    const user = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'public' })
    const responses = await Promise.all([
      api.post(room(id, '/join'), {}, user.token),
      api.post(room(id, '/join'), {}, user.token),
    ])
    expect(responses.map((r) => r.status)).toEqual([200, 200])
    const [first, second] = await bodies<{ participant_id: number; participant: Participant }>(responses)
    expect(first?.participant_id).toBe(second?.participant_id)
    expect(first?.participant).toMatchObject({ user_id: user.id, role: 'member' })
    const listed = await participants(id, owner)
    expect(listed.filter((p) => p.user_id === user.id)).toHaveLength(1)
    expect(listed).toHaveLength(2)
    expect((await detail(id, owner)).participant_count).toBe(2)
  })

  test('the same user joining six times at once into the last seat: all 200, one row, not 409', async () => {
    const owner = await api.signUp()
    const user = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'public', max_participants: 2 })
    const responses = await Promise.all(range(1, 6).map(() => api.post(room(id, '/join'), {}, user.token)))
    expect(responses.map((r) => r.status)).toEqual(Array(6).fill(200))
    expect(await participants(id, owner)).toHaveLength(2)
    expect((await detail(id, owner)).participant_count).toBe(2)
  })

  test('leaves and joins at once: participant_count always equals the participants listed', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'public', max_participants: 5 })
    const inside = await signUpMany(4)
    for (const u of inside) expect((await api.post(room(id, '/join'), {}, u.token)).status).toBe(200)
    const outside = await signUpMany(6)
    const responses = await Promise.all([
      ...inside.map((u) => api.post(room(id, '/leave'), {}, u.token)),
      ...outside.map((u) => api.post(room(id, '/join'), {}, u.token)),
    ])
    const statuses = responses.map((r) => r.status)
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200])
    const joined = countOf(statuses.slice(4), 200)
    expect(joined + countOf(statuses.slice(4), 409)).toBe(6)
    // Every leave frees a seat, but a join may run before it: between 0 and 4 of the 6 joins get in.
    expect(joined).toBeLessThanOrEqual(4)
    const listed = await participants(id, owner)
    expect(listed).toHaveLength(1 + joined)
    expect((await detail(id, owner)).participant_count).toBe(listed.length)
  })

  /** Races `enter` against the owner making the room private; the room must never end private with a guest. */
  async function privateRace(
    sessionType: 'public' | 'invite_only',
    refused: number,
    enter: (id: number, owner: TestUser, guest: TestUser) => Promise<TestResponse>,
  ) {
    const races = await Promise.all(
      range(1, 8).map(async () => {
        const [owner, guest] = (await signUpMany(2)) as [TestUser, TestUser]
        const { id } = await createRoom(api, owner, { session_type: sessionType })
        const [update, entry] = await Promise.all([
          api.put(room(id), { session_type: 'private' }, owner.token),
          enter(id, owner, guest),
        ])
        return { id, owner, update, entry }
      }),
    )
    for (const { id, owner, update, entry } of races) {
      const session = await detail(id, owner)
      const outcome = {
        update: update.status,
        entry: entry.status < 300 ? 'in' : entry.status,
        type: session.session_type,
        count: session.participant_count,
      }
      // Whichever runs first: either the guest got in and the room could not become private (409),
      // or the room became private and the guest was kept out.
      if (outcome.entry === 'in')
        expect(outcome).toEqual({ update: 409, entry: 'in', type: sessionType, count: 2 })
      else expect(outcome).toEqual({ update: 200, entry: refused, type: 'private', count: 1 })
      expect(session.participants).toHaveLength(session.participant_count)
    }
  }

  test('a join racing the owner making the public room private: never a private room with a guest', async () => {
    // Refused join: a private room the caller is not in is 404.
    await privateRace('public', 404, (id, _, guest) => api.post(room(id, '/join'), {}, guest.token))
  })

  test('an invite racing the owner making the room private: never a private room with a guest', async () => {
    // Refused invite: inviting into a private room is 403.
    await privateRace('invite_only', 403, (id, owner, guest) =>
      api.post(room(id, '/invite'), { user_id: guest.id }, owner.token),
    )
  })
})

describe('parallel ownership changes', () => {
  /** Exactly one participant is owner, and the session's owner_id names them; returns that owner's id. */
  async function expectOneOwner(roomId: number, reader: TestUser): Promise<number> {
    const session = await detail(roomId, reader)
    const owners = (session.participants as Participant[]).filter((p) => p.role === 'owner')
    expect(owners).toHaveLength(1)
    expect(owners[0]?.user_id).toBe(session.owner_id)
    const listed = (await participants(roomId, reader)).filter((p) => p.role === 'owner')
    expect(listed.map((p) => p.user_id)).toEqual([session.owner_id])
    return session.owner_id
  }

  async function transferRace() {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'invite_only' })
    const members = await signUpMany(5)
    for (const u of members) await invite(api, id, owner, u)
    const responses = await Promise.all(
      members.map((u) => api.put(room(id, `/participants/${u.id}/role`), { role: 'owner' }, owner.token)),
    )
    return { id, owner, members, responses }
  }

  test('the owner grants owner to 5 members at once: exactly one transfer, the rest 403', async () => {
    // Several rooms at once, for more interleavings.
    const races = await Promise.all(range(1, 3).map(() => transferRace()))
    for (const { id, owner, members, responses } of races) {
      const statuses = responses.map((r) => r.status)
      expect(countOf(statuses, 200)).toBe(1)
      expect(countOf(statuses, 403)).toBe(4)
      const answers = await bodies<Participant & { code?: string }>(responses)
      const winnerIndex = statuses.indexOf(200)
      const winner = members[winnerIndex] as TestUser
      expect(answers[winnerIndex]).toMatchObject({ user_id: winner.id, role: 'owner' })
      for (const [i, answer] of answers.entries()) {
        if (i !== winnerIndex) expect(answer).toMatchObject({ code: 'forbidden' })
      }

      expect(await expectOneOwner(id, owner)).toBe(winner.id)
      const session = await detail(id, owner)
      expect(session).toMatchObject({
        owner_id: winner.id,
        owner_username: winner.username,
        my_role: 'admin',
      })
      const roles = new Map(session.participants.map((p: Participant) => [p.user_id, p.role]))
      expect(roles.get(owner.id)).toBe('admin')
      for (const m of members) expect(roles.get(m.id)).toBe(m === winner ? 'owner' : 'member')
    }
  })

  test('the owner transfers to X while an admin makes X a viewer: still exactly one owner, X', async () => {
    const races = await Promise.all(
      range(1, 4).map(async () => {
        const r = await roomWithRoles(api, 'invite_only')
        const [transfer, demote] = await Promise.all([
          api.put(room(r.id, `/participants/${r.member.id}/role`), { role: 'owner' }, r.owner.token),
          api.put(room(r.id, `/participants/${r.member.id}/role`), { role: 'viewer' }, r.admin.token),
        ])
        return { r, transfer, demote }
      }),
    )
    for (const { r, transfer, demote } of races) {
      // Whichever runs first, the owner may make X owner; the admin may not touch X once X is owner.
      expect(transfer.status).toBe(200)
      expect([200, 403]).toContain(demote.status)
      expect(await expectOneOwner(r.id, r.viewer)).toBe(r.member.id)
      const roles = new Map((await participants(r.id, r.viewer)).map((p) => [p.user_id, p.role]))
      expect(roles.get(r.owner.id)).toBe('admin')
      expect(roles.get(r.member.id)).toBe('owner')
    }
  })

  test('the owner transfers to X while an admin demotes the owner: still exactly one owner', async () => {
    const races = await Promise.all(
      range(1, 4).map(async () => {
        const r = await roomWithRoles(api, 'invite_only')
        const responses = await Promise.all([
          api.put(room(r.id, `/participants/${r.member.id}/role`), { role: 'owner' }, r.owner.token),
          api.put(room(r.id, `/participants/${r.owner.id}/role`), { role: 'member' }, r.admin.token),
        ])
        return { r, responses }
      }),
    )
    for (const { r, responses } of races) {
      const [transfer, demote] = responses.map((res) => res.status)
      expect(transfer).toBe(200)
      // Before the transfer the target is the owner, after it the admin may demote an admin.
      expect([200, 403]).toContain(demote)
      expect(await expectOneOwner(r.id, r.viewer)).toBe(r.member.id)
    }
  })

  test('the owner transfers to X while X leaves: X either left (404) or is the owner and still in (409)', async () => {
    const races = await Promise.all(
      range(1, 8).map(async () => {
        const r = await roomWithRoles(api, 'invite_only')
        const [transfer, leave] = await Promise.all([
          api.put(room(r.id, `/participants/${r.member.id}/role`), { role: 'owner' }, r.owner.token),
          api.post(room(r.id, '/leave'), {}, r.member.token),
        ])
        return { r, transfer, leave }
      }),
    )
    for (const { r, transfer, leave } of races) {
      const owner = await expectOneOwner(r.id, r.viewer)
      const stillIn = (await participants(r.id, r.viewer)).some((p) => p.user_id === r.member.id)
      const outcome = { transfer: transfer.status, leave: leave.status, owner, stillIn }
      // The owner cannot leave: a leave that answers 200 must have taken X out of the room.
      if (stillIn) expect(outcome).toEqual({ transfer: 200, leave: 409, owner: r.member.id, stillIn: true })
      else expect(outcome).toEqual({ transfer: 404, leave: 200, owner: r.owner.id, stillIn: false })
    }
  })

  test('a chain of transfers, each new owner racing the old one, ends with one owner', async () => {
    const owner = await api.signUp()
    const { id } = await createRoom(api, owner, { session_type: 'invite_only' })
    const members = await signUpMany(4)
    for (const u of members) await invite(api, id, owner, u)
    const [a, b, c] = members as [TestUser, TestUser, TestUser, TestUser]
    expect(
      (await api.put(room(id, `/participants/${a.id}/role`), { role: 'owner' }, owner.token)).status,
    ).toBe(200)
    // The new owner and the old one (now admin) both try to hand ownership on.
    const responses = await Promise.all([
      api.put(room(id, `/participants/${b.id}/role`), { role: 'owner' }, a.token),
      api.put(room(id, `/participants/${c.id}/role`), { role: 'owner' }, owner.token),
    ])
    expect(responses.map((r) => r.status)).toEqual([200, 403])
    expect(await expectOneOwner(id, owner)).toBe(b.id)
  })
})
