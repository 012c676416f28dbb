// "Search messages" in the current room; a result shows where the message is in the log.
import type { ResultOf, Room } from '@insurge/client'
import { type Signal, useSignal } from '@preact/signals'
import { useRef } from 'preact/hooks'
import { attempt } from './alerts.js'
import { MessageTime } from './message.js'
import { client } from './session.js'

export type SearchResult = ResultOf<'searchMessages'>['results'][number]

export interface SearchState {
  query: Signal<string>
  results: Signal<SearchResult[] | null>
}

export function useSearch(): SearchState {
  return { query: useSignal(''), results: useSignal<SearchResult[] | null>(null) }
}

export function SearchBox(props: { sessionId: number; state: SearchState }) {
  const { query, results } = props.state
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const run = async () => {
    clearTimeout(timer.current)
    const q = query.value.trim()
    const api = client.value?.api
    if (!q || !api) {
      results.value = null
      return
    }
    const found = await attempt(() =>
      api.searchMessages({ query: { q, session_id: props.sessionId, limit: 50 } }),
    )
    if (found && query.value.trim() === q) results.value = found.results
  }
  return (
    <search class="search">
      <form
        onSubmit={(event) => {
          event.preventDefault()
          void run()
        }}
      >
        <input
          type="search"
          aria-label="Search messages"
          placeholder="Search messages"
          value={query.value}
          onInput={(event) => {
            query.value = event.currentTarget.value
            clearTimeout(timer.current)
            if (!query.value.trim()) results.value = null
            else timer.current = setTimeout(() => void run(), 400)
          }}
          onKeyDown={(event) => {
            if (event.key === 'Escape') {
              query.value = ''
              results.value = null
            }
          }}
        />
      </form>
    </search>
  )
}

export function SearchResults(props: { room: Room | null; state: SearchState }) {
  const { query, results } = props.state
  const found = results.value
  if (found === null) return null
  const close = () => {
    results.value = null
    query.value = ''
  }
  const show = async (result: SearchResult) => {
    const room = props.room
    if (!room) return
    while (room.hasOlder && (room.messages[0]?.seq ?? 0) > result.seq) {
      if ((await attempt(() => room.loadOlder(200))) === undefined) return
    }
    requestAnimationFrame(() => {
      const element = document.getElementById(`msg-${result.seq}`)
      if (!element) return
      element.scrollIntoView({ block: 'center' })
      element.classList.add('flash')
      setTimeout(() => element.classList.remove('flash'), 2_000)
    })
  }
  return (
    <section class="search-results" aria-label="Search results">
      <header class="search-results-header">
        <p>
          {found.length === 0
            ? `No messages match “${query.value.trim()}”.`
            : `${found.length} ${found.length === 1 ? 'message matches' : 'messages match'} “${query.value.trim()}”`}
        </p>
        <button type="button" class="small" onClick={close}>
          Close search
        </button>
      </header>
      <ul>
        {found.map((result) => (
          <li key={result.id}>
            <button type="button" class="result" onClick={() => void show(result)}>
              <span class="result-meta">
                <span class="author">{result.username}</span> <MessageTime iso={result.created_at} />
              </span>
              <span class="result-text">{result.content}</span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}
