// The app: the sign-in screen, or the sidebar and the main pane (a room, the public rooms, a welcome).
import { useEffect, useState } from 'preact/hooks'
import { AlertRegion } from './alert-region.js'
import { AuthScreen } from './auth.js'
import { BrowseRooms } from './browse.js'
import { readAssistantConfigured } from './catch-up.js'
import { focusComposerOrStart, startFocus } from './focus.js'
import { RoomView } from './room.js'
import { watchRooms } from './rooms.js'
import { roomGeneration, route } from './route.js'
import { client, reconnecting, restoreSession, restoring } from './session.js'
import { Sidebar } from './sidebar.js'

export function App() {
  useEffect(() => {
    void restoreSession()
  }, [])
  const current = client.value
  useEffect(() => (current ? watchRooms(current) : undefined), [current])
  useEffect(() => {
    if (current) void readAssistantConfigured(current.api)
  }, [current])

  return (
    <>
      <div role="status" class={reconnecting.value ? 'connection down' : 'connection'}>
        {reconnecting.value ? 'Reconnecting…' : ''}
      </div>
      <AlertRegion />
      {restoring.value ? null : current ? <Workspace /> : <AuthScreen />}
    </>
  )
}

/** The width under which the sidebar and the main pane are two screens (styles.css says the same). */
const PHONE = '(max-width: 480px)'

function usePhone(): boolean {
  const [phone, setPhone] = useState(() => matchMedia(PHONE).matches)
  useEffect(() => {
    const query = matchMedia(PHONE)
    const changed = () => setPhone(query.matches)
    query.addEventListener('change', changed)
    return () => query.removeEventListener('change', changed)
  }, [])
  return phone
}

function Workspace() {
  const view = route.value
  // Just signed up or logged in: the message box of the room on screen, else "New room".
  useEffect(() => {
    if (startFocus.take()) focusComposerOrStart()
  }, [])
  // On a phone the room list is a screen of its own, the first one: it is the page's main content then.
  const listScreen = usePhone() && view.view === 'home'
  return (
    <div class="workspace" data-view={view.view === 'home' ? 'list' : 'main'}>
      <Sidebar screen={listScreen} />
      {!listScreen && (
        <main class="main">
          {view.view === 'room' ? (
            <RoomView key={`${view.id}:${roomGeneration.value}`} id={view.id} />
          ) : view.view === 'browse' ? (
            <BrowseRooms />
          ) : (
            <Welcome />
          )}
        </main>
      )}
    </div>
  )
}

function Welcome() {
  return (
    <div class="welcome">
      <h1>Welcome to Insurge</h1>
      <p class="muted">
        Pick a room on the left, create one with “New room”, or join one from “Browse public rooms”. Mention{' '}
        <strong>@assistant</strong> in a room where the assistant is on to ask it something.
      </p>
    </div>
  )
}
