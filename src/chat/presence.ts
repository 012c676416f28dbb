// Who is online, as the chat feature asks it; the WebSocket hub is what knows.

export interface Presence {
  /** The ids of the users with a socket following the room, on any instance. */
  online(sessionId: number): Promise<ReadonlySet<number>>
}
