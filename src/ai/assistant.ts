// The assistant in the room: decides when to answer, reads the room's newest messages, streams the
// reply to the room as it is written, and stores it as a message. Runs on the instance that stored the
// triggering message (domain events are local), so exactly one instance answers each message.
import type { MessageView } from '../chat/chat.schemas.js'
import { listMessagesBefore, storeAssistantReply } from '../chat/messages.service.js'
import type { AiUsage } from '../db/schema.js'
import type { Deps } from '../deps.js'
import type { DomainEvent } from '../events.js'
import type { Bus } from '../realtime/bus.js'
import { buildTurns, mentionsAssistant, systemPrompt } from './prompt.js'
import { type AiProvider, type ChatTurn, type ToolCall, ToolsRefusedError } from './provider.js'
import type { Holds, WindowCounter } from './quota.js'
import { createReplyText, type ReplyText } from './reply-text.js'
import { loadRoomAssistant } from './settings.js'
import { HELD_PER_USER, HELD_REFUSAL, type Slots, userHoldKey } from './slots.js'
import { MAX_TOOL_ROUNDS, ROOM_TOOLS, runTool, toolArguments } from './tools.js'
import { createMeter, type Meter, settleUsage, type UsageBook } from './usage.js'

export interface Assistant {
  /** Aborts every generation of this instance without storing anything (shutdown). */
  close(): Promise<void>
}

type AssistantDeps = Pick<Deps, 'db' | 'config' | 'events'>
type RoomSettings = Extract<DomainEvent, { type: 'message_created' }>['room']

interface Generation {
  sessionId: number
  replyTo: number
  controller: AbortController
  /**
   * Why it was aborted: a stop keeps the partial reply, and so does a reply that reached
   * AI_MAX_REPLY_CHARS (`full`); a timeout or shutdown does not.
   */
  reason?: 'stopped' | 'full' | 'timeout' | 'shutdown'
}

export interface AssistantOptions {
  deps: AssistantDeps
  provider: AiProvider | undefined
  bus: Bus
  quota: WindowCounter
  /** Each user's replies and catch-ups running or waiting, across instances when Redis is configured. */
  holds: Holds
  /** The instance's AI_CONCURRENCY slots, shared with catch-ups. */
  slots: Slots
  usage: UsageBook
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void }
}

const STOP_CHANNEL = 'ai:stop'
const QUOTA_WINDOW_MS = 60_000

export async function createAssistant({
  deps,
  provider,
  bus,
  quota,
  holds,
  slots,
  usage,
  log,
}: AssistantOptions): Promise<Assistant> {
  const { config } = deps
  const running = new Set<Generation>()
  // Aborted at shutdown: replies still waiting for a slot leave the line.
  const closing = new AbortController()
  let closed = false

  const fail = (sessionId: number, replyTo: number, detail: string) =>
    deps.events.emit({ type: 'ai_failed', sessionId, replyTo, detail })

  async function considerMessage(message: MessageView, room: RoomSettings): Promise<void> {
    if (!provider || closed || message.role !== 'user' || message.user_id === null) return
    if (room.aiMode === 'off') return
    if (room.aiMode === 'mention' && !mentionsAssistant(message.content)) return
    // A hold is taken atomically (in Redis across instances): a burst of one user's messages cannot all pass.
    const userId = message.user_id
    const holdKey = userHoldKey(userId)
    if (!(await holds.take(holdKey, HELD_PER_USER))) {
      fail(message.session_id, message.id, HELD_REFUSAL)
      return
    }
    try {
      const hits = await quota.hit(`ai:user:${userId}`, QUOTA_WINDOW_MS)
      if (hits > config.AI_REPLIES_PER_MINUTE) {
        fail(
          message.session_id,
          message.id,
          `The assistant answers at most ${config.AI_REPLIES_PER_MINUTE} messages per minute per user; try again in a minute`,
        )
        return
      }
      const slot = slots.acquire(closing.signal)
      if (!slot) {
        fail(message.session_id, message.id, 'The assistant is busy; try again shortly')
        return
      }
      const release = await slot.catch(() => undefined)
      if (!release) return // shutting down
      try {
        if (!closed) await generate(message, userId, room.title)
      } finally {
        release()
      }
    } finally {
      await holds.release(holdKey)
    }
  }

  async function generate(trigger: MessageView, userId: number, roomTitle: string): Promise<void> {
    const generation: Generation = {
      sessionId: trigger.session_id,
      replyTo: trigger.id,
      controller: new AbortController(),
    }
    running.add(generation)
    const timer = setTimeout(() => abort(generation, 'timeout'), config.AI_TIMEOUT_MS)
    const reply = createReplyText(config.AI_MAX_REPLY_CHARS, (delta, offset) =>
      deps.events.emit({
        type: 'ai_delta',
        sessionId: trigger.session_id,
        replyTo: trigger.id,
        delta,
        offset,
      }),
    )
    const meter = createMeter()
    let model = config.OPENAI_MODEL
    let tried = false
    // Charged before the reply is stored, so that once a client sees the reply, the usage counts it.
    let settled = false
    const settle = async () => {
      if (!tried || settled) return
      settled = true
      await settleUsage({ events: deps.events, book: usage, log }, userId, trigger.session_id, model, meter)
    }
    try {
      // The budgets are checked before any provider call: over one, the provider is not asked at all.
      const refusal = await usage.refusal(userId, trigger.session_id)
      if (refusal) {
        fail(trigger.session_id, trigger.id, refusal)
        return
      }
      const settings = await loadRoomAssistant(deps.db, config, trigger.session_id)
      model = settings.model
      deps.events.emit({ type: 'ai_started', sessionId: trigger.session_id, replyTo: trigger.id })
      const history = await listMessagesBefore(
        deps.db,
        trigger.session_id,
        trigger.seq + 1,
        settings.contextMessages,
      )
      const turns = buildTurns(
        systemPrompt(config.AI_SYSTEM_PROMPT, roomTitle),
        settings.instructions,
        history,
      )
      tried = true
      await converse(generation, turns, settings.toolsEnabled, model, reply, meter)
      // Every piece reaches the room before the stored reply, or the ai_error, does.
      reply.flush()
      await settle()
      await finish(generation, reply.text, meter.usage(model))
    } catch (error) {
      reply.flush()
      await settle()
      if (generation.reason === 'stopped' || generation.reason === 'full')
        await finish(generation, reply.text, meter.usage(model))
      else if (generation.reason === 'timeout') {
        fail(trigger.session_id, trigger.id, `The assistant did not answer within ${config.AI_TIMEOUT_MS} ms`)
      } else if (generation.reason === 'shutdown') {
        fail(trigger.session_id, trigger.id, 'The server is shutting down; ask again in a moment')
      } else {
        log.warn({ err: error, sessionId: trigger.session_id }, 'assistant reply failed')
        fail(trigger.session_id, trigger.id, 'The assistant could not answer; try again')
      }
    } finally {
      clearTimeout(timer)
      running.delete(generation)
      await settle()
    }
  }

  /**
   * Asks the model, and, while it asks for tools (at most MAX_TOOL_ROUNDS rounds), runs them in this room
   * and asks again with their results; the request after the last round offers no tools, so it answers.
   * A provider that refuses tools is asked again without them.
   */
  async function converse(
    generation: Generation,
    turns: ChatTurn[],
    toolsEnabled: boolean,
    model: string,
    reply: ReplyText,
    meter: Meter,
  ): Promise<void> {
    let tools = toolsEnabled && provider ? ROOM_TOOLS : undefined
    for (let round = 0; ; round += 1) {
      const offered = round < MAX_TOOL_ROUNDS ? tools : undefined
      let calls: ToolCall[] | undefined
      let said = ''
      const request = meter.request(turns)
      try {
        for await (const part of provider?.stream({
          model,
          turns,
          tools: offered,
          signal: generation.controller.signal,
        }) ?? []) {
          if (part.type === 'usage') request.reported(part.usage)
          else if (part.type === 'tool_calls') calls = part.calls
          else {
            meter.firstText()
            said += part.text
            if (reply.append(part.text)) continue
            // The generation stops at AI_MAX_REPLY_CHARS and what was written is stored (DESIGN section 9):
            // a provider that ignores max_tokens is not read, nor paid for, any further.
            abort(generation, 'full')
            break
          }
        }
      } catch (error) {
        if (!(error instanceof ToolsRefusedError)) throw error
        log.warn({ err: error }, 'the provider refused tools; asking again without them')
        tools = undefined
        round -= 1
        continue
      } finally {
        request.wrote(said + (calls ?? []).map((call) => call.name + call.arguments).join(''))
      }
      if (!calls || !offered || generation.reason) return
      turns.push({ role: 'assistant', content: said, tool_calls: calls })
      for (const call of calls) {
        const { sessionId, replyTo } = generation
        const shown = { type: 'ai_tool', sessionId, replyTo, name: call.name } as const
        deps.events.emit({ ...shown, arguments: toolArguments(call), resultCount: null })
        const run = await runTool(deps.db, sessionId, call)
        deps.events.emit({ ...shown, arguments: run.arguments, resultCount: run.resultCount })
        turns.push({ role: 'tool', tool_call_id: call.id, content: run.content })
      }
    }
  }

  /** Stores the reply (or what a stop left of it) with what it cost; an empty one is reported instead. */
  async function finish(generation: Generation, reply: string, cost: AiUsage): Promise<void> {
    const { sessionId, replyTo } = generation
    if (reply.trim() === '') {
      // Either way the room learns that this reply is over.
      fail(
        sessionId,
        replyTo,
        generation.reason === 'stopped'
          ? 'Stopped before the assistant wrote anything'
          : 'The assistant returned an empty reply',
      )
      return
    }
    await storeAssistantReply(deps, sessionId, replyTo, reply, cost)
  }

  function abort(generation: Generation, reason: NonNullable<Generation['reason']>): void {
    generation.reason ??= reason
    generation.controller.abort()
  }

  await bus.subscribe(STOP_CHANNEL, (payload) => {
    const sessionId = Number(payload)
    for (const generation of running) if (generation.sessionId === sessionId) abort(generation, 'stopped')
  })

  deps.events.subscribe((event: DomainEvent) => {
    // A stop asked on any instance reaches the one writing the reply: what was written so far is kept.
    if (event.type === 'ai_stop_requested') bus.publish(STOP_CHANNEL, String(event.sessionId))
    if (event.type !== 'message_created') return
    considerMessage(event.message, event.room).catch((error) => {
      log.error({ err: error, sessionId: event.sessionId }, 'assistant failed')
      fail(event.sessionId, event.message.id, 'The assistant could not answer; try again')
    })
  })

  return {
    async close() {
      closed = true
      for (const generation of running) abort(generation, 'shutdown')
      closing.abort()
      await bus.unsubscribe(STOP_CHANNEL)
    },
  }
}
