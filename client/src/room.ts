// A room followed over the client's socket. `messages` holds a contiguous run of the room's messages
// in seq order, with no gap and no duplicate: a frame ahead of a gap waits while the gap is read over
// HTTP; a frame at or below the highest contiguous seq is a duplicate and dropped. Sends carry a
// client_msg_id and are sent again after every reconnect until the stored message is held: the
// server keeps the first, so each send is stored once and resolves once.
import type { Connection, RoomLink } from './connection.js'
import { Emitter } from './emitter.js'
import { ApiError } from './errors.js'
import type { PresenceFrame, RoomEventFrame, ServerFrame, TypingFrame } from './frames.js'
import { newClientMsgId } from './ids.js'
import { fullJitter, later } from './timers.js'
import type { Transport } from './transport.js'
import type { Message } from './types.js'

/** A reply the assistant is writing, as the deltas so far make it. */
export interface AssistantReply {
  /** The id of the message it answers. */
  replyTo: number
  text: string
  /** False while this client holds only later pieces of the reply (the text so far was not received). */
  complete: boolean
  /**
   * The tools it used for this reply so far, in order (searches of the room's history): each `running`,
   * then `done` with its `resultCount`. Missing, or partial, for a reply joined mid-way.
   */
  tools?: AssistantToolUse[]
}

/** One use of a tool by the assistant while it writes a reply (an `ai_tool` frame). */
export interface AssistantToolUse {
  name: string
  arguments: Record<string, unknown>
  status: 'running' | 'done'
  /** How many results it gave; null while running. */
  resultCount: number | null
}

export interface RoomEvents extends Record<string, unknown> {
  /** `messages` changed: new, older, edited, deleted, reacted to. */
  messages: readonly Message[]
  /** A new message at the end (live, replayed after a reconnect, or filled in after a gap). */
  message: Message
  /** The assistant's replies in progress changed. */
  assistant: readonly AssistantReply[]
  /** A reply failed; nothing was stored. */
  assistantError: { replyTo: number; detail: string }
  typing: TypingFrame
  presence: PresenceFrame
  /** Membership and room changes: participant_joined/left/removed, role_changed, session_updated/deleted, read. */
  event: RoomEventFrame
  /** Something this client asked of the room failed (a subscribe refused, typing not allowed…). */
  error: ApiError
  /** The room cannot be followed any more (left, removed, deleted): sends waiting are rejected. */
  ended: ApiError
}

export interface RoomOptions {
  /** Messages read when the room is opened (default 50). */
  pageSize?: number
  /** How long a frame ahead of a gap waits for the missing ones before they are read over HTTP (ms). */
  gapWaitMs?: number
  /**
   * How long a reply in progress may go without a word before it is given up (default 120,000 ms): a
   * server that dies mid-reply never ends it. The server ends its own replies within AI_TIMEOUT_MS.
   */
  assistantIdleMs?: number
}

/** A room followed over the client's socket (`client.room(id)`). */
export interface Room {
  readonly id: number
  /** The room's messages held, oldest first, in seq order, with no gap and no duplicate. */
  readonly messages: readonly Message[]
  /** False once the first message of the room is held. */
  readonly hasOlder: boolean
  /** Resolves once the newest page is read and the room is followed; rejects if it cannot be read. */
  readonly ready: Promise<void>
  /** The highest seq held with nothing missing below it. */
  readonly seq: number
  /** The assistant's replies being written now, oldest first. */
  readonly assistantReplies: readonly AssistantReply[]
  /** Listens to one of the room's events; returns a function that stops listening. */
  on<K extends keyof RoomEvents>(event: K, listener: (value: RoomEvents[K]) => void): () => void
  loadOlder(limit?: number): Promise<number>
  /**
   * Sends a message; resolves with it once it is stored and held in `messages`, exactly once across
   * reconnects. A message the server refuses (blank, too long, not allowed) rejects with an ApiError.
   */
  send(content: string): Promise<Message>
  setTyping(isTyping: boolean): boolean
  stopAssistant(): boolean
  /** Moves this person's read marker to the newest message held. */
  markRead(): Promise<void>
  /** Stops following the room; sends still waiting are rejected. */
  close(): void
}

/** What a message may be (the server's rules): some text that is not only spaces, up to 10,000 characters. */
const MAX_CONTENT = 10_000

interface PendingSend {
  clientMsgId: string
  content: string
  resolve: (message: Message) => void
  reject: (error: ApiError) => void
  /** Failed attempts the server called temporary (rate limited, unavailable). */
  failures: number
  retryTimer?: ReturnType<typeof setTimeout>
}

const STATUS_OF: Record<string, number> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid: 422,
  invalid_frame: 422,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
}
/** Error codes after which the same send may succeed later. */
const TEMPORARY = new Set(['rate_limited', 'unavailable', 'internal'])
const FILL_PAGE = 200
/** HTTP statuses after which the same read may succeed later (0: the server could not be reached). */
const PASSING = new Set([0, 502, 503, 504])

export class FollowedRoom implements Room, RoomLink {
  readonly messages: Message[] = []
  hasOlder = true
  readonly ready: Promise<void>

  private lastSeq = 0
  private loaded = false
  private closed = false
  private subscribing = false
  private filling = false
  private gapTimer: ReturnType<typeof setTimeout> | undefined
  private olderLoad: Promise<number> | null = null
  private lastReadSent = -1
  private notifyQueued = false
  private subscribedBefore = false
  private subscribeFailures = 0
  private subscribeTimer: ReturnType<typeof setTimeout> | undefined
  /** While the newest page is read again after a reconnect: the messages changed meanwhile by frames. */
  private changedDuringRefresh: Set<number> | undefined
  private readonly ahead = new Map<number, Message>()
  private readonly byId = new Map<number, Message>()
  private readonly pending = new Map<string, PendingSend>()
  /** Acknowledged sends whose message is not held yet: client_msg_id -> seq. */
  private readonly acked = new Map<string, number>()
  private readonly replies = new Map<number, AssistantReply>()
  /** Per reply in progress: when it is given up if nothing more is heard of it. */
  private readonly replyTimers = new Map<number, ReturnType<typeof setTimeout>>()
  private readonly events = new Emitter<RoomEvents>()
  private readonly pageSize: number
  private readonly gapWaitMs: number
  private readonly assistantIdleMs: number

  constructor(
    readonly id: number,
    private readonly transport: Transport,
    private readonly connection: Connection,
    private readonly forget: (room: FollowedRoom) => void,
    options: RoomOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 50
    this.gapWaitMs = options.gapWaitMs ?? 150
    this.assistantIdleMs = options.assistantIdleMs ?? 120_000
    this.ready = this.load()
    this.ready.catch(() => {})
  }

  on<K extends keyof RoomEvents>(event: K, listener: (value: RoomEvents[K]) => void): () => void {
    return this.events.on(event, listener)
  }

  get assistantReplies(): readonly AssistantReply[] {
    return [...this.replies.values()]
  }

  get seq(): number {
    return this.lastSeq
  }

  // ---- reading -------------------------------------------------------------------------------

  private async load(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const page = await this.page({ limit: this.pageSize })
        if (this.closed) return
        this.prepend(page, this.pageSize)
        this.lastSeq = page.at(-1)?.seq ?? 0
        this.loaded = true
        this.connection.follow(this)
        return
      } catch (error) {
        // A room this person cannot read is an answer; a server that cannot be reached, or a proxy or
        // server saying it cannot answer for now (502, 503, 504: a restart, a database away), is not.
        if (!(error instanceof ApiError) || !PASSING.has(error.status) || this.closed) {
          // Sends made before the room could be read fail with the same answer.
          this.shut(error instanceof ApiError ? error : new ApiError(0, 'failed', String(error)))
          throw error
        }
        await new Promise((resolve) => later(fullJitter(attempt, 500, 10_000), () => resolve(undefined)))
      }
    }
  }

  private page(query: { limit: number; before_seq?: number; after_seq?: number }): Promise<Message[]> {
    return this.transport.request<Message[]>({
      method: 'GET',
      path: `/api/v1/chat/sessions/${this.id}/messages`,
      query,
      auth: true,
    })
  }

  loadOlder(limit = this.pageSize): Promise<number> {
    this.olderLoad ??= this.readOlder(limit).finally(() => {
      this.olderLoad = null
    })
    return this.olderLoad
  }

  private async readOlder(limit: number): Promise<number> {
    await this.ready
    const first = this.messages[0]
    if (!this.hasOlder || !first) {
      this.hasOlder = false
      return 0
    }
    const page = await this.page({ limit, before_seq: first.seq })
    return this.prepend(page, limit)
  }

  private prepend(page: Message[], limit: number): number {
    const fresh = page.filter((message) => !this.byId.has(message.id))
    for (const message of fresh) this.byId.set(message.id, message)
    this.messages.unshift(...fresh)
    this.hasOlder = page.length === limit && (page[0]?.seq ?? 1) > 1
    if (fresh.length) this.notify()
    return fresh.length
  }

  // ---- the socket ----------------------------------------------------------------------------

  opened(): void {
    if (this.closed || !this.loaded) return
    this.subscribing = true
    this.connection.send({ type: 'subscribe', session_id: this.id, after_seq: this.lastSeq })
    // Resuming replays only newer messages: edits, deletions and reactions made to held ones while the
    // socket was down are read again from the newest page.
    if (this.subscribedBefore) void this.refreshNewest()
    this.subscribedBefore = true
    // Replies in progress are announced again to a new subscription (with their text so far).
    if (this.replies.size) {
      for (const replyTo of [...this.replies.keys()]) this.forgetReply(replyTo)
      this.events.emit('assistant', [])
    }
    for (const send of this.pending.values()) if (!send.retryTimer) this.transmit(send)
  }

  frame(frame: ServerFrame): void {
    if (this.closed) return
    switch (frame.type) {
      case 'system_message':
        this.subscribing = false
        this.subscribeFailures = 0
        return
      case 'chat_message':
        this.receive(messageOf(frame))
        return
      case 'message_updated':
        this.update(messageOf(frame))
        return
      case 'message_deleted': {
        const held = this.byId.get(frame.id)
        if (held) this.replace({ ...held, content: '', deleted_at: frame.timestamp, reactions: [] })
        return
      }
      case 'reaction_added':
      case 'reaction_removed':
        this.react(frame)
        return
      case 'ack':
        this.acknowledged(frame.client_msg_id, frame.seq)
        return
      case 'ai_start':
        // A resumed subscription announces the replies in progress again: one already held keeps its text.
        if (!this.replies.has(frame.reply_to) && !this.answered(frame.reply_to)) {
          this.setReply({ replyTo: frame.reply_to, text: '', complete: true })
        }
        return
      case 'ai_delta':
        this.delta(frame.reply_to, frame.offset, frame.delta)
        return
      case 'ai_tool':
        this.toolUse(frame.reply_to, {
          name: frame.name,
          arguments: frame.arguments,
          status: frame.status,
          resultCount: frame.result_count,
        })
        return
      case 'ai_error':
        this.replyFailed(frame.reply_to, frame.detail)
        return
      case 'typing':
        this.events.emit('typing', frame)
        return
      case 'presence':
        this.events.emit('presence', frame)
        return
      case 'error':
        this.failed(frame)
        return
      case 'participant_left':
      case 'participant_removed':
        this.events.emit('event', frame)
        if (frame.user_id === this.transport.userId) {
          this.end(
            new ApiError(
              403,
              'forbidden',
              frame.type === 'participant_left' ? 'You left this room' : 'You were removed from this room',
            ),
          )
        }
        return
      case 'session_deleted':
        this.events.emit('event', frame)
        this.end(new ApiError(404, 'not_found', 'This room was deleted'))
        return
      case 'participant_joined':
      case 'role_changed':
      case 'session_updated':
      case 'read':
        this.events.emit('event', frame)
        return
    }
  }

  private failed(frame: Extract<ServerFrame, { type: 'error' }>): void {
    const error = new ApiError(STATUS_OF[frame.code] ?? 400, frame.code, frame.detail)
    const send = frame.client_msg_id ? this.pending.get(frame.client_msg_id) : undefined
    if (send) {
      if (TEMPORARY.has(frame.code)) {
        send.failures += 1
        send.retryTimer = later(fullJitter(send.failures, 1_000, 30_000), () => {
          send.retryTimer = undefined
          this.transmit(send)
        })
      } else {
        this.pending.delete(send.clientMsgId)
        send.reject(error)
      }
      return
    }
    if (this.subscribing && (frame.code === 'forbidden' || frame.code === 'not_found')) {
      this.end(error)
      return
    }
    if (this.subscribing && TEMPORARY.has(frame.code)) {
      // The subscribe failed for now (the database was unavailable): without it no live frame comes.
      this.subscribeFailures += 1
      clearTimeout(this.subscribeTimer)
      this.subscribeTimer = later(fullJitter(this.subscribeFailures, 1_000, 30_000), () => {
        if (!this.closed && this.subscribing)
          this.connection.send({ type: 'subscribe', session_id: this.id, after_seq: this.lastSeq })
      })
      return
    }
    this.events.emit('error', error)
  }

  // ---- messages ------------------------------------------------------------------------------

  private receive(message: Message): void {
    if (message.seq <= this.lastSeq) return // a duplicate (a replay overlapping what is held)
    if (message.seq === this.lastSeq + 1) {
      this.append(message)
      this.drain()
      return
    }
    this.ahead.set(message.seq, message)
    this.scheduleFill()
  }

  private append(message: Message): void {
    this.messages.push(message)
    this.byId.set(message.id, message)
    this.lastSeq = message.seq
    if (message.role === 'assistant' && message.reply_to !== null && this.forgetReply(message.reply_to)) {
      this.events.emit('assistant', this.assistantReplies)
    }
    const clientMsgId = message.client_msg_id
    const send = clientMsgId !== null ? this.pending.get(clientMsgId) : undefined
    if (send && clientMsgId !== null && message.user_id === this.transport.userId) {
      this.pending.delete(clientMsgId)
      this.acked.delete(clientMsgId)
      clearTimeout(send.retryTimer)
      send.resolve(message)
    }
    this.events.emit('message', message)
    this.notify()
  }

  private drain(): void {
    for (let next = this.ahead.get(this.lastSeq + 1); next; next = this.ahead.get(this.lastSeq + 1)) {
      this.ahead.delete(next.seq)
      this.append(next)
    }
    for (const seq of this.ahead.keys()) if (seq <= this.lastSeq) this.ahead.delete(seq)
  }

  private acknowledged(clientMsgId: string, seq: number): void {
    if (!this.pending.has(clientMsgId)) return
    this.acked.set(clientMsgId, seq)
    // The message itself follows on the room's stream; if it is ahead of a gap, or its frame was lost
    // on the way, the fill brings it.
    if (seq > this.lastSeq) this.scheduleFill()
  }

  /** The highest seq known to exist: frames waiting ahead of a gap, and acknowledged sends. */
  private target(): number {
    let target = this.lastSeq
    for (const seq of this.ahead.keys()) target = Math.max(target, seq)
    for (const seq of this.acked.values()) target = Math.max(target, seq)
    return target
  }

  private scheduleFill(delay = this.gapWaitMs): void {
    if (this.gapTimer || this.filling || this.closed) return
    this.gapTimer = later(delay, () => {
      this.gapTimer = undefined
      void this.fill()
    })
  }

  /** Reads what is missing between the highest contiguous seq and the frames waiting ahead of it. */
  private async fill(): Promise<void> {
    this.filling = true
    try {
      while (!this.closed && this.target() > this.lastSeq) {
        const page = await this.page({ limit: FILL_PAGE, after_seq: this.lastSeq })
        if (!page.length) break
        for (const message of page) this.receive(message)
      }
    } catch {
      this.filling = false
      this.scheduleFill(1_000)
      return
    }
    this.filling = false
  }

  private update(message: Message): void {
    const held = this.byId.get(message.id)
    if (!held) {
      if (this.ahead.has(message.seq)) this.ahead.set(message.seq, message)
      return
    }
    // Frames say `me: false` for everyone: keep what this client knows of its own reactions.
    const mine = new Set(held.reactions.filter((r) => r.me).map((r) => r.emoji))
    this.replace({ ...message, reactions: message.reactions.map((r) => ({ ...r, me: mine.has(r.emoji) })) })
  }

  private react(frame: Extract<ServerFrame, { type: 'reaction_added' | 'reaction_removed' }>): void {
    const held = this.byId.get(frame.message_id)
    if (!held) return
    const byMe = frame.user_id === this.transport.userId
    const added = frame.type === 'reaction_added'
    const reactions = held.reactions.map((r) => ({ ...r }))
    const existing = reactions.find((r) => r.emoji === frame.emoji)
    if (existing) {
      existing.count += added ? 1 : -1
      if (byMe) existing.me = added
    } else if (added) reactions.push({ emoji: frame.emoji, count: 1, me: byMe })
    this.replace({ ...held, reactions: reactions.filter((r) => r.count > 0) })
  }

  /**
   * After a reconnect: the newest page read again, and each held message in it that changed while the
   * socket was down put in its place, unless a frame changed it meanwhile (the frame is newer).
   * Older held messages are not read again. A failure is left for the next reconnect.
   */
  private async refreshNewest(): Promise<void> {
    const changed = new Set<number>()
    this.changedDuringRefresh = changed
    try {
      const page = await this.page({ limit: this.pageSize })
      if (this.closed) return
      for (const message of page) {
        const held = this.byId.get(message.id)
        if (held && !changed.has(message.id) && differs(held, message)) this.replace(message)
      }
    } catch {
      // Not read this time: the held copies stay as they were until the next reconnect.
    } finally {
      if (this.changedDuringRefresh === changed) this.changedDuringRefresh = undefined
    }
  }

  /** Puts a changed copy of a held message in its place (each change is a new object). */
  private replace(message: Message): void {
    this.changedDuringRefresh?.add(message.id)
    const index = this.indexOf(message.seq)
    if (index < 0) return
    this.messages[index] = message
    this.byId.set(message.id, message)
    this.notify()
  }

  private indexOf(seq: number): number {
    let low = 0
    let high = this.messages.length - 1
    while (low <= high) {
      const middle = (low + high) >> 1
      const at = this.messages[middle]?.seq ?? 0
      if (at === seq) return middle
      if (at < seq) low = middle + 1
      else high = middle - 1
    }
    return -1
  }

  /** One `messages` event per turn of the event loop, however many messages a replay brought. */
  private notify(): void {
    if (this.notifyQueued) return
    this.notifyQueued = true
    queueMicrotask(() => {
      this.notifyQueued = false
      if (!this.closed) this.events.emit('messages', this.messages)
    })
  }

  /** A `done` replaces the `running` use of the same tool with the same arguments; anything else is added. */
  private toolUse(replyTo: number, use: AssistantToolUse): void {
    if (!this.replies.has(replyTo) && this.answered(replyTo)) return
    const reply = this.replies.get(replyTo) ?? { replyTo, text: '', complete: true }
    const tools = [...(reply.tools ?? [])]
    const same = JSON.stringify([use.name, use.arguments])
    const running = tools.findIndex(
      (t) => t.status === 'running' && JSON.stringify([t.name, t.arguments]) === same,
    )
    if (use.status === 'done' && running >= 0) tools[running] = use
    else tools.push(use)
    this.setReply({ ...reply, tools })
  }

  private delta(replyTo: number, offset: number, delta: string): void {
    const held = this.replies.get(replyTo)
    // A piece already held: a resumed reply's text so far (sent at offset 0) overlaps the live pieces.
    if (held && offset + delta.length <= held.text.length) return
    if (!held && this.answered(replyTo)) return
    const reply = held ?? { replyTo, text: '', complete: offset === 0 }
    if (offset <= reply.text.length) reply.text = reply.text.slice(0, offset) + delta
    else if (reply.text === '') reply.text = delta
    else reply.text += delta // a piece went missing: keep what came; the stored reply replaces it
    if (offset === 0) reply.complete = true
    this.setReply({ ...reply })
  }

  /** A reply in progress heard of (started, written to, searching): it is given up if then unheard of. */
  private setReply(reply: AssistantReply): void {
    this.replies.set(reply.replyTo, reply)
    clearTimeout(this.replyTimers.get(reply.replyTo))
    this.replyTimers.set(
      reply.replyTo,
      later(this.assistantIdleMs, () =>
        this.replyFailed(
          reply.replyTo,
          'The assistant’s reply was interrupted (nothing more was heard of it); ask again',
        ),
      ),
    )
    this.events.emit('assistant', this.assistantReplies)
  }

  /** Removes a reply in progress; true if there was one. */
  private forgetReply(replyTo: number): boolean {
    clearTimeout(this.replyTimers.get(replyTo))
    this.replyTimers.delete(replyTo)
    return this.replies.delete(replyTo)
  }

  private replyFailed(replyTo: number, detail: string): void {
    this.forgetReply(replyTo)
    this.events.emit('assistant', this.assistantReplies)
    this.events.emit('assistantError', { replyTo, detail })
  }

  /**
   * Whether the stored reply to `replyTo` is held: a reply's text so far may be read just before it was
   * stored, and must not show again after it. Looks back only to the message it answers.
   */
  private answered(replyTo: number): boolean {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const message = this.messages[i]
      if (message?.id === replyTo) return false
      if (message?.role === 'assistant' && message.reply_to === replyTo) return true
    }
    return false
  }

  // ---- writing -------------------------------------------------------------------------------

  /**
   * Across reconnects a send goes again with the same client_msg_id until its message is held, so it is
   * stored exactly once. What the server would refuse in any case is refused here without sending it.
   */
  send(content: string): Promise<Message> {
    if (this.closed) return Promise.reject(new ApiError(0, 'closed', 'This room is closed'))
    const problem = contentProblem(content)
    if (problem) return Promise.reject(new ApiError(422, 'invalid', problem))
    return new Promise<Message>((resolve, reject) => {
      const send: PendingSend = { clientMsgId: newClientMsgId(), content, resolve, reject, failures: 0 }
      this.pending.set(send.clientMsgId, send)
      if (this.loaded) this.transmit(send)
    })
  }

  private transmit(send: PendingSend): void {
    this.connection.send({
      type: 'chat_message',
      session_id: this.id,
      content: send.content,
      client_msg_id: send.clientMsgId,
    })
  }

  setTyping(isTyping: boolean): boolean {
    return this.connection.send({ type: 'typing', session_id: this.id, is_typing: isTyping })
  }

  stopAssistant(): boolean {
    return this.connection.send({ type: 'ai_stop', session_id: this.id })
  }

  async markRead(): Promise<void> {
    const seq = this.lastSeq
    if (seq <= this.lastReadSent) return
    await this.transport.request({
      method: 'POST',
      path: `/api/v1/chat/sessions/${this.id}/read`,
      body: { seq },
      auth: true,
    })
    this.lastReadSent = Math.max(this.lastReadSent, seq)
  }

  // ---- the end -------------------------------------------------------------------------------

  /** The room cannot be followed any more: sends waiting are rejected with `error`, and `ended` fires. */
  end(error: ApiError): void {
    if (this.closed) return
    this.shut(error)
    this.events.emit('ended', error)
  }

  close(): void {
    this.shut(new ApiError(0, 'closed', 'The room was closed before the message was stored'))
  }

  private shut(error: ApiError): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.gapTimer)
    clearTimeout(this.subscribeTimer)
    for (const timer of this.replyTimers.values()) clearTimeout(timer)
    this.replyTimers.clear()
    this.connection.unfollow(this)
    this.forget(this)
    for (const send of this.pending.values()) {
      clearTimeout(send.retryTimer)
      send.reject(error)
    }
    this.pending.clear()
  }
}

/** Why the server would refuse this content, or null: the same rules as its chat_message frame. */
function contentProblem(content: string): string | null {
  if (typeof content !== 'string') return 'A message must be text'
  if (!/\S/.test(content)) return 'A message must have some text that is not only spaces'
  // Counted in characters (code points), as the server counts: an emoji is one.
  if (content.length > MAX_CONTENT && [...content].length > MAX_CONTENT)
    return `A message can be at most ${MAX_CONTENT.toLocaleString('en')} characters long`
  return null
}

/** A chat_message or message_updated frame as a Message (without the frame's `type` and `timestamp`). */
function messageOf(frame: Extract<ServerFrame, { type: 'chat_message' | 'message_updated' }>): Message {
  const { type: _type, timestamp: _timestamp, ...message } = frame
  return message as Message
}

/** Whether the server's copy of a message says something the held one does not. */
function differs(held: Message, current: Message): boolean {
  return (
    held.content !== current.content ||
    held.edited_at !== current.edited_at ||
    held.deleted_at !== current.deleted_at ||
    JSON.stringify(held.reactions) !== JSON.stringify(current.reactions)
  )
}
