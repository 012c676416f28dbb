// A TCP proxy on loopback between a client and the server: a real network element a test can break.
// It cuts every connection at once (a network drop: the client sees the socket close without a close
// frame), points new connections at another server (a restart on a new port, another instance), and
// can swallow or repeat chosen WebSocket frames from server to client (a gap in seq, a duplicate).
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

export interface TcpProxy {
  /** `http://127.0.0.1:<port>`: give it to the client as the server's address. */
  url: string
  /** Where new connections go (an `http://host:port` URL). */
  target: string
  /** Destroys every open connection, both ways. */
  cut(): void
  /** Server-to-client text frames for which `drop` returns true are not delivered (until `drop` is cleared). */
  drop: ((text: string) => boolean) | null
  /** How many frames `drop` swallowed. */
  dropped: number
  /** Server-to-client text frames for which `repeat` returns true are delivered twice. */
  repeat: ((text: string) => boolean) | null
  /** How many frames `repeat` delivered twice. */
  repeated: number
  close(): Promise<void>
}

/** `raw`: bytes pass as they are both ways (not HTTP: a database connection); `drop`/`repeat` do nothing. */
export async function startTcpProxy(target: string, { raw = false } = {}): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  const proxy: TcpProxy = {
    url: '',
    target,
    drop: null,
    dropped: 0,
    repeat: null,
    repeated: 0,
    cut() {
      for (const [client, upstream] of pairs) {
        client.destroy()
        upstream.destroy()
      }
      pairs.clear()
    },
    close: () => {
      proxy.cut()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }

  const server: Server = createServer((client) => {
    const { hostname, port } = new URL(proxy.target)
    const upstream = tcpConnect({ host: hostname, port: Number(port) })
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const end = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
    client.pipe(upstream)
    if (raw) upstream.pipe(client)
    else upstream.on('data', serverToClient(proxy, client))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address === 'string') throw new Error('proxy is not listening on a TCP port')
  proxy.url = `http://127.0.0.1:${address.port}`
  return proxy
}

/**
 * Passes the server's bytes to the client. After a `101 Switching Protocols` answer they are WebSocket
 * frames (unmasked, not compressed: the server offers no permessage-deflate), read one by one so that
 * `proxy.drop` can hold some back.
 */
function serverToClient(proxy: TcpProxy, client: Socket): (chunk: Buffer) => void {
  let mode: 'head' | 'http' | 'websocket' = 'head'
  let head: Buffer = Buffer.alloc(0)
  let pending: Buffer = Buffer.alloc(0)
  return (chunk) => {
    if (mode === 'http') {
      client.write(chunk)
      return
    }
    if (mode === 'head') {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      if (!head.subarray(0, 12).toString('latin1').includes(' 101')) {
        mode = 'http' // a plain HTTP answer: everything passes through from now on
        client.write(head)
        return
      }
      mode = 'websocket'
      client.write(head.subarray(0, end + 4))
      pending = head.subarray(end + 4)
    } else pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    let offset = 0
    while (pending.length - offset >= 2) {
      const second = pending[offset + 1] ?? 0
      let length = second & 0x7f
      let header = 2
      if (length === 126) {
        if (pending.length - offset < 4) break
        length = pending.readUInt16BE(offset + 2)
        header = 4
      } else if (length === 127) {
        if (pending.length - offset < 10) break
        length = Number(pending.readBigUInt64BE(offset + 2))
        header = 10
      }
      if (second & 0x80) header += 4
      if (pending.length - offset < header + length) break
      const frame = pending.subarray(offset, offset + header + length)
      const isText = ((pending[offset] ?? 0) & 0x0f) === 1
      const text = isText && (proxy.drop || proxy.repeat) ? frame.subarray(header).toString('utf8') : ''
      if (text && proxy.drop?.(text)) proxy.dropped += 1
      else {
        client.write(frame)
        if (text && proxy.repeat?.(text)) {
          client.write(frame)
          proxy.repeated += 1
        }
      }
      offset += header + length
    }
    pending = pending.subarray(offset)
  }
}
