// Ids for client_msg_id: random, from getRandomValues (randomUUID exists only on secure origins).

export function newClientMsgId(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  let id = ''
  for (const byte of bytes) id += byte.toString(16).padStart(2, '0')
  return id
}
