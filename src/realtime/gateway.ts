// GET /ws: authenticates a socket (access token or single-use ticket), then turns client frames into
// calls of the same services HTTP uses, and lets the hub deliver room frames.

import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type {} from '@fastify/websocket'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { WebSocket } from 'ws'
import { type Actor, authenticate } from '../auth/actor.js'
import { redeemTicket } from '../auth/tickets.js'
import { loadJoinedSession } from '../chat/access.js'
import { sendMessage } from '../chat/messages.service.js'
import { requestAssistantStop, sendTyping } from '../chat/signals.service.js'
import type { ParticipantRole } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { routeLimit } from '../http/rate-limits.js'
import { type ClientFrame, frames, parseClientFrame } from './frames.js'
import { createInboundQueue } from './inbound.js'
import type { Connection, Hub } from './rooms.js'

const POLICY_VIOLATION = 1008

interface ConnectQuery {
  token?: string
  ticket?: string
  session_id?: string
  after_seq?: string
}

export function registerGateway(app: FastifyInstance, hub: Hub): void {
  let nextConnectionId = 1

  app.get(
    '/ws',
    { websocket: true, schema: { hide: true }, config: { rateLimit: routeLimit('wsConnect') } },
    (socket: WebSocket, request: FastifyRequest) => {
      // Closures that live as long as the socket keep nothing of the upgrade request: not the request
      // (its headers and URL, with the token), not its per-request child logger.
      const log = app.log
      releaseUpgrade(socket, request, log)
      // Handlers first, before any await (see @fastify/websocket): frames that arrive while the socket is
      // being authenticated and subscribed are held, within bounds, until it is.
      const inbound = createInboundQueue(socket, hub.inbound, (held) =>
        log.warn(held, 'closing a websocket that sent more than the server holds unread'),
      )
      socket.on('message', (data, isBinary) =>
        // A binary frame is refused without its payload: nothing of it is kept.
        inbound.push(isBinary ? '' : data.toString(), isBinary ? 0 : (data as Buffer).length),
      )
      // The socket may close at any point of the set-up below; the hub is told whenever that is.
      let connection: Connection | undefined
      const cleanUp = () => {
        inbound.close()
        if (!connection) return
        hub.unregister(connection).catch((error) => log.error({ err: error }, 'websocket cleanup failed'))
      }
      socket.on('close', cleanUp)

      hub.setUps
        .run(() => open(app.deps, socket, request))
        .then(async (opened) => {
          if (!opened || socket.readyState !== socket.OPEN) return
          const current: Connection = {
            id: nextConnectionId++,
            userId: opened.actor.id,
            username: opened.actor.username,
            socket,
            rooms: new Map(),
            alive: true,
          }
          connection = current
          socket.on('pong', () => {
            current.alive = true
          })
          await hub.register(current)
          const session = createFrameHandler(
            app.deps,
            hub,
            current,
            { id: opened.actor.id },
            log,
            opened.sessionId,
          )
          if (opened.sessionId === null) hub.sendTo(current, frames.system(null, 'Connected'))
          else {
            const ok = await session.follow(
              opened.sessionId,
              opened.afterSeq,
              `Connected to chat session ${opened.sessionId}`,
            )
            if (!ok) return
          }
          inbound.start(session.handle)
        })
        .catch((error) => {
          log.error({ err: error }, 'websocket open failed')
          socket.close(1011, 'Internal error')
        })
    },
  )
}

/**
 * @fastify/websocket leaves every socket holding its upgrade request for as long as it is open: the
 * ServerResponse it made for routing stays attached to the TCP socket, and the 'error' listener it adds
 * closes over Fastify's request and reply. Hours of an idle socket then keep the IncomingMessage, the
 * headers, the URL with the token, the request, the reply and a logger. Both are let go here; a socket
 * error is handled as the plugin's errorHandler in realtime.ts does (a client's protocol error: logged
 * quietly, socket terminated).
 */
function releaseUpgrade(socket: WebSocket, request: FastifyRequest, log: FastifyBaseLogger): void {
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null }
  tcp._httpMessage?.detachSocket(tcp)
  socket.removeAllListeners('error')
  socket.on('error', (error) => {
    log.info({ err: error }, 'websocket closed on a client error')
    socket.terminate()
  })
}

interface Opened {
  actor: Actor
  sessionId: number | null
  afterSeq: number | undefined
}

/** Checks origin, credentials and the query; closes the socket with 1008 and a reason when one fails. */
async function open(deps: Deps, socket: WebSocket, request: FastifyRequest): Promise<Opened | null> {
  const refuse = (reason: string) => {
    socket.close(POLICY_VIOLATION, reason)
    return null
  }
  const origin = request.headers.origin
  const allowed = deps.config.ALLOWED_ORIGINS
  if (origin !== undefined && !allowed.includes('*') && !allowed.includes(origin))
    return refuse('Origin not allowed')

  const query = request.query as ConnectQuery
  const sessionId = query.session_id === undefined ? null : positiveInt(query.session_id)
  const afterSeq = query.after_seq === undefined ? undefined : nonNegativeInt(query.after_seq)
  if (sessionId === undefined) return refuse('session_id must be a positive integer')
  if (afterSeq === null) return refuse('after_seq must be a non-negative integer')

  let actor: Actor
  try {
    if (query.ticket) actor = await redeemTicket(deps, query.ticket)
    else if (query.token) actor = await authenticate(deps, query.token)
    else return refuse('A token or ticket is required')
  } catch (error) {
    if (error instanceof AppError) return refuse(error.detail)
    throw error
  }
  return { actor, sessionId, afterSeq }
}

interface FrameHandler {
  /** Handles one text frame (the inbound queue calls it one frame at a time, in order); never rejects. */
  handle(text: string): Promise<void>
  /**
   * Subscribes the socket to a room it may read, greets it, then replays what it missed. Returns false
   * when it may not: on connect the socket is closed (1008), later it gets an error frame.
   */
  follow(
    sessionId: number,
    afterSeq: number | undefined,
    greeting: string,
    onConnect?: boolean,
  ): Promise<boolean>
}

function createFrameHandler(
  deps: Deps,
  hub: Hub,
  connection: Connection,
  /** Only the id: the socket does not keep the user row (its password hash, its dates) for hours. */
  actor: Pick<Actor, 'id'>,
  log: FastifyBaseLogger,
  /** The room of ?session_id=, where frames without a session_id go (as with the Python original). */
  defaultSessionId: number | null,
): FrameHandler {
  async function follow(
    sessionId: number,
    afterSeq: number | undefined,
    greeting: string,
    onConnect = true,
  ): Promise<boolean> {
    // The database work takes a turn (setups.ts); the replay below takes one per page it reads.
    const lastSeq = await hub.setUps.run(async () => {
      let role: ParticipantRole
      try {
        ;({ role } = await loadJoinedSession(deps.db, actor, sessionId))
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (onConnect) connection.socket.close(POLICY_VIOLATION, error.detail)
        else hub.sendTo(connection, frames.error(error.code, error.detail, { session_id: sessionId }))
        return null
      }
      return hub.subscribe(connection, sessionId, role, async () => {
        const { session } = await loadJoinedSession(deps.db, actor, sessionId)
        return session.lastSeq
      })
    })
    if (lastSeq === null) return false
    hub.sendTo(connection, frames.system(sessionId, greeting))
    await hub.replay(connection, sessionId, afterSeq ?? lastSeq)
    return true
  }

  async function dispatch(frame: ClientFrame): Promise<void> {
    switch (frame.type) {
      case 'ping':
        hub.sendTo(connection, frames.pong())
        return
      case 'chat_message': {
        const { message } = await sendMessage(deps, actor, frame.session_id, {
          content: frame.content,
          client_msg_id: frame.client_msg_id,
        })
        hub.sendTo(connection, frames.ack(message))
        return
      }
      case 'subscribe':
        await follow(
          frame.session_id,
          frame.after_seq,
          `Subscribed to chat session ${frame.session_id}`,
          false,
        )
        return
      case 'unsubscribe':
        await hub.unsubscribe(connection, frame.session_id)
        return
      case 'typing': {
        const subscription = connection.rooms.get(frame.session_id)
        if (!subscription) throw new AppError('forbidden', 'Subscribe to the session before sending typing')
        await sendTyping(
          deps,
          { id: actor.id, username: connection.username },
          frame.session_id,
          subscription.role,
          frame.is_typing,
        )
        return
      }
      case 'ai_stop':
        await requestAssistantStop(deps, actor, frame.session_id)
        return
    }
  }

  async function handle(text: string): Promise<void> {
    const parsed = parseClientFrame(text, defaultSessionId)
    if (!parsed.ok) {
      hub.sendTo(connection, frames.error(parsed.code, parsed.detail))
      return
    }
    const frame = parsed.frame
    try {
      await dispatch(frame)
    } catch (error) {
      if (!(error instanceof AppError)) throw error
      hub.sendTo(
        connection,
        frames.error(error.code, error.detail, {
          ...('session_id' in frame ? { session_id: frame.session_id } : {}),
          ...(frame.type === 'chat_message' && frame.client_msg_id
            ? { client_msg_id: frame.client_msg_id }
            : {}),
        }),
      )
    }
  }

  return {
    follow,
    handle: (text) =>
      handle(text).catch((error) => {
        log.error({ err: error }, 'websocket frame failed')
        hub.sendTo(connection, frames.error('internal', 'Internal error'))
      }),
  }
}

/** A room id: 1 to 2^31 - 1 (the column is an integer); anything else cannot name a room. */
function positiveInt(text: string): number | undefined {
  const value = nonNegativeInt(text)
  return value === null || value === 0 || value > 2_147_483_647 ? undefined : value
}

function nonNegativeInt(text: string): number | null {
  if (!/^\d{1,15}$/.test(text)) return null
  return Number(text)
}
