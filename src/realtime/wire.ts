// What travels on the bus: a small routing header, a newline, then the frame exactly as sockets get it.
// The frame is serialized once by the publisher; receivers slice it out and send the same bytes to every socket.
import type { ParticipantRole } from '../db/schema.js'

export interface RoutingHeader {
  /** The seq of a chat_message frame: receivers deliver these in order, without gaps or duplicates. */
  s?: number
  /** A user whose sockets do not get the frame (typing goes to the others only). */
  x?: number
  /** A user whose sockets leave the room once the frame is delivered (left, removed). */
  drop?: number
  /** A presence frame, of this user: behind a replay only the latest one per user is kept. */
  p?: number
  /** The room is gone: every socket leaves it once the frame is delivered. */
  end?: 1
  /** A participant's new role, which decides what their sockets may still do. */
  role?: [number, ParticipantRole]
  /** User channel: close that user's sockets (1008) with this reason. */
  close?: string
  /** User channel: the user's new username, which their sockets' typing and presence frames carry. */
  name?: string
  /**
   * User channel: the frame is for that user's sockets that do not follow this room (yet): a
   * `participant_joined` telling them they were added to a room, so a client can list it at once.
   */
  outside?: number
}

export function encode(header: RoutingHeader, frame?: object): string {
  return `${JSON.stringify(header)}\n${frame ? JSON.stringify(frame) : ''}`
}

export function decode(payload: string): { header: RoutingHeader; frame: string } {
  const split = payload.indexOf('\n')
  return { header: JSON.parse(payload.slice(0, split)) as RoutingHeader, frame: payload.slice(split + 1) }
}
