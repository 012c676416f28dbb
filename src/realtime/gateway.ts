// GET /ws: authenticates a socket (access token or single-use ticket), then turns client frames into
// calls of the same services HTTP uses, and lets the hub deliver room frames.
// An idle socket is most of what the instance holds, so what it keeps is counted: its listeners and
// frame handling are functions made once per instance (`this` is the socket), and its own state is
// the inbound queue attached to it and the Connection the hub knows it by. Nothing of the upgrade
// request (headers, the URL with its token, Fastify's request and reply, a child logger) outlives the
// set-up.

import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type {} from '@fastify/websocket'
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify'
import type { RawData, WebSocket } from 'ws'
import { type Actor, authenticate } from '../auth/actor.js'
import { redeemTicket } from '../auth/tickets.js'
import { loadJoinedSession } from '../chat/access.js'
import { sendMessage } from '../chat/messages.service.js'
import { requestAssistantStop, sendTyping } from '../chat/signals.service.js'
import type { ParticipantRole } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import { isUnreachable } from '../http/errors.js'
import { routeLimit } from '../http/rate-limits.js'
import { NO_ROOMS, subscriptionOf } from './connections.js'
import { type ClientFrame, errorContextOf, frames, parseClientFrame } from './frames.js'
import { createInbound, type InboundQueue } from './inbound.js'
import type { Connection, Hub } from './rooms.js'

const POLICY_VIOLATION = 1008

/** What the set-up needs of the upgrade request, copied out of it so that the request can go. */
interface ConnectRequest {
  origin: string | undefined
  /** The Host the client asked for: an Origin on the same host is the server's own web app. */
  host: string | undefined
  token?: string
  ticket?: string
  session_id?: string
  after_seq?: string
}

/** The socket's inbound queue, attached to the socket: the shared listeners find its state there. */
const QUEUE = Symbol('insurge.inbound')
type QueuedSocket = WebSocket & { [QUEUE]: InboundQueue<Connection> }
const queueOf = (socket: WebSocket) => (socket as QueuedSocket)[QUEUE]

export function registerGateway(app: FastifyInstance, hub: Hub): void {
  const log = app.log
  const handler = createFrameHandler(app, hub, log)
  const inbound = createInbound<Connection>(hub.inbound, handler.handle, (held) =>
    log.warn(held, 'closing a websocket that sent more than the server holds unread'),
  )

  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    // A binary frame is refused without its payload: nothing of it is kept.
    inbound.push(queueOf(this), isBinary ? '' : data.toString(), isBinary ? 0 : (data as Buffer).length)
  }
  function onPong(this: WebSocket): void {
    const connection = queueOf(this).target
    if (connection) connection.alive = true
  }
  // A client's protocol error (an oversized or malformed frame) is the client's: ws has already closed
  // the socket with the right code, so it is logged quietly, as the plugin's errorHandler does.
  function onError(this: WebSocket, error: Error): void {
    log.info({ err: error }, 'websocket closed on a client error')
    this.terminate()
  }
  // The socket may close at any point of the set-up; the hub is told whenever that is.
  function onClose(this: WebSocket): void {
    const queue = queueOf(this)
    inbound.close(queue)
    if (!queue.target) return
    hub.unregister(queue.target).catch((error) => log.error({ err: error }, 'websocket cleanup failed'))
  }

  async function setUp(queue: InboundQueue<Connection>, connect: ConnectRequest): Promise<void> {
    const { socket } = queue
    try {
      const opened = await hub.setUps.run(() => open(app.deps, socket, connect))
      if (!opened || socket.readyState !== socket.OPEN) return
      const connection: Connection = {
        userId: opened.actor.id,
        username: opened.actor.username,
        socket,
        rooms: NO_ROOMS,
        alive: true,
        defaultSessionId: opened.sessionId,
      }
      queue.target = connection
      await hub.register(connection)
      if (opened.sessionId === null) hub.sendTo(connection, frames.system(null, 'Connected'))
      else {
        const greeting = `Connected to chat session ${opened.sessionId}`
        if (!(await handler.follow(connection, opened.sessionId, opened.afterSeq, greeting))) return
      }
      inbound.start(queue)
    } catch (error) {
      log.error({ err: error }, 'websocket open failed')
      socket.close(1011, 'Internal error')
    }
  }

  app.get(
    '/ws',
    { websocket: true, schema: { hide: true }, config: { rateLimit: routeLimit('wsConnect') } },
    (socket: WebSocket, request: FastifyRequest) => {
      releaseUpgrade(request)
      socket.removeAllListeners('error')
      socket.on('error', onError)
      const queue = inbound.open(socket)
      ;(socket as QueuedSocket)[QUEUE] = queue
      // Listeners first, before any await (see @fastify/websocket): frames that arrive while the socket
      // is being authenticated and subscribed are held, within bounds, until it is.
      socket.on('message', onMessage)
      socket.on('pong', onPong)
      socket.on('close', onClose)
      void setUp(queue, readConnect(request))
    },
  )
}

/**
 * @fastify/websocket leaves the ServerResponse it made for routing attached to the TCP socket, which
 * would keep the upgrade request for as long as the socket is open; the 'error' listener it adds
 * closes over Fastify's request and reply, so the route replaces it (onError above).
 */
function releaseUpgrade(request: FastifyRequest): void {
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null }
  tcp._httpMessage?.detachSocket(tcp)
}

function readConnect(request: FastifyRequest): ConnectRequest {
  const query = request.query as Omit<ConnectRequest, 'origin' | 'host'>
  return {
    origin: request.headers.origin,
    host: request.headers.host,
    token: query.token,
    ticket: query.ticket,
    session_id: query.session_id,
    after_seq: query.after_seq,
  }
}

interface Opened {
  actor: Actor
  sessionId: number | null
  afterSeq: number | undefined
}

/** Checks origin, credentials and the query; closes the socket with 1008 and a reason when one fails. */
async function open(deps: Deps, socket: WebSocket, connect: ConnectRequest): Promise<Opened | null> {
  const refuse = (reason: string) => {
    socket.close(POLICY_VIOLATION, reason)
    return null
  }
  if (!originAllowed(connect, deps.config.ALLOWED_ORIGINS)) return refuse('Origin not allowed')

  const sessionId = connect.session_id === undefined ? null : positiveInt(connect.session_id)
  const afterSeq = connect.after_seq === undefined ? undefined : nonNegativeInt(connect.after_seq)
  if (sessionId === undefined) return refuse('session_id must be a positive integer')
  if (afterSeq === null) return refuse('after_seq must be a non-negative integer')

  let actor: Actor
  try {
    if (connect.ticket) actor = await redeemTicket(deps, connect.ticket)
    else if (connect.token) actor = await authenticate(deps, connect.token)
    else return refuse('A token or ticket is required')
  } catch (error) {
    if (error instanceof AppError) return refuse(error.detail)
    throw error
  }
  return { actor, sessionId, afterSeq }
}

interface FrameHandler {
  /** Handles one text frame of a socket (its inbound queue calls it one at a time, in order); never rejects. */
  handle(connection: Connection, text: string): Promise<void>
  /**
   * Subscribes the socket to a room it may read, greets it, then replays what it missed. Returns false
   * when it may not: on connect the socket is closed (1008), later it gets an error frame.
   */
  follow(
    connection: Connection,
    sessionId: number,
    afterSeq: number | undefined,
    greeting: string,
    onConnect?: boolean,
  ): Promise<boolean>
}

/**
 * One handler for every socket of the instance. The services get only the user's id as actor: a socket
 * does not keep the user row (its password hash, its dates) for hours.
 */
function createFrameHandler(app: FastifyInstance, hub: Hub, log: FastifyBaseLogger): FrameHandler {
  async function follow(
    connection: Connection,
    sessionId: number,
    afterSeq: number | undefined,
    greeting: string,
    onConnect = true,
  ): Promise<boolean> {
    const actor = { id: connection.userId }
    const { db } = app.deps
    // The database work takes a turn (setups.ts); the replay below takes one per page it reads.
    const lastSeq = await hub.setUps.run(async () => {
      let role: ParticipantRole
      try {
        ;({ role } = await loadJoinedSession(db, actor, sessionId))
      } catch (error) {
        if (!(error instanceof AppError)) throw error
        if (onConnect) connection.socket.close(POLICY_VIOLATION, error.detail)
        else hub.sendTo(connection, frames.error(error.code, error.detail, { session_id: sessionId }))
        return null
      }
      return hub.subscribe(connection, sessionId, role, async () => {
        const { session } = await loadJoinedSession(db, actor, sessionId)
        return session.lastSeq
      })
    })
    if (lastSeq === null) return false
    hub.sendTo(connection, frames.system(sessionId, greeting))
    await hub.replay(connection, sessionId, afterSeq ?? lastSeq)
    return true
  }

  async function dispatch(connection: Connection, frame: ClientFrame): Promise<void> {
    const { deps } = app
    const actor = { id: connection.userId }
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
          connection,
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
        const subscription = subscriptionOf(connection, frame.session_id)
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

  async function handle(connection: Connection, text: string): Promise<void> {
    const parsed = parseClientFrame(text, connection.defaultSessionId)
    if (!parsed.ok) {
      hub.sendTo(connection, frames.error(parsed.code, parsed.detail, parsed.context))
      return
    }
    const frame = parsed.frame
    try {
      await dispatch(connection, frame)
    } catch (error) {
      // Every failure names the frame's room and send, so that a client can retry that send or subscribe.
      const context = errorContextOf(frame)
      if (error instanceof AppError) {
        hub.sendTo(connection, frames.error(error.code, error.detail, context))
      } else if (isUnreachable(error)) {
        log.warn({ err: error }, 'database unavailable for a websocket frame')
        hub.sendTo(
          connection,
          frames.error('unavailable', 'The database is unavailable; try again shortly', context),
        )
      } else {
        log.error({ err: error }, 'websocket frame failed')
        hub.sendTo(connection, frames.error('internal', 'Internal error', context))
      }
    }
  }

  return {
    follow,
    handle: (connection, text) =>
      handle(connection, text).catch((error) => {
        log.error({ err: error }, 'websocket frame failed')
        hub.sendTo(connection, frames.error('internal', 'Internal error'))
      }),
  }
}

/**
 * No Origin (not a browser), one of ALLOWED_ORIGINS, or the server's own origin: the web app it serves
 * at /app/ connects from the same host it asks for, wherever the server is deployed.
 */
function originAllowed({ origin, host }: ConnectRequest, allowed: string[]): boolean {
  if (origin === undefined || allowed.includes('*') || allowed.includes(origin)) return true
  try {
    return host !== undefined && new URL(origin).host === host
  } catch {
    return false
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
