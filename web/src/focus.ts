// Where keyboard focus goes when what had it goes away (a closed dialog, a new room, a login), so that
// it never drops to the page's body.

/** The id of the message box (composer.tsx). */
export const COMPOSER_ID = 'composer-box'
/** The id of the sidebar's "New room" button (sidebar.tsx). */
export const NEW_ROOM_ID = 'new-room'

let composerWanted = false

/** Focuses the message box when it is next shown (a room just created, a login). */
export function focusComposerWhenShown(): void {
  composerWanted = true
}

/** Whether the message box, just shown, should take focus (asked once). */
export function takeComposerFocus(): boolean {
  const wanted = composerWanted
  composerWanted = false
  return wanted
}

/** Focuses the message box if one is on screen, else the first sensible control ("New room"). */
export function focusComposerOrStart(): void {
  const target = document.getElementById(COMPOSER_ID) ?? document.getElementById(NEW_ROOM_ID)
  target?.focus()
}

let startWanted = false

/** After signing up or logging in, the workspace's first sensible control takes focus when shown. */
export function focusStartWhenShown(): void {
  startWanted = true
}

/** Whether the workspace, just shown, should move focus (asked once). */
export function takeStartFocus(): boolean {
  const wanted = startWanted
  startWanted = false
  return wanted
}
