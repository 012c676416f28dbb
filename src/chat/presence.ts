// Who is online, as the chat feature asks it. The WebSocket gateway is what knows; until a socket is
// connected nobody is online.

export interface Presence {
  isOnline(sessionId: number, userId: number): boolean
}

/** The answer while no gateway is running: no sockets, so nobody is online. */
export const noSocketsPresence: Presence = { isOnline: () => false }
