// Where keyboard focus goes when what had it goes away (a closed dialog, a new room, a login), so that
// it never drops to the page's body.

/** The id of the message box (composer.tsx). */
export const COMPOSER_ID = 'composer-box'
/** The id of the sidebar's "New room" button (sidebar.tsx). */
export const NEW_ROOM_ID = 'new-room'

/** A wish to move focus once something is next shown: made by `want()`, answered once by `take()`. */
function focusWish(): { want(): void; take(): boolean } {
  let wanted = false
  return {
    want: () => {
      wanted = true
    },
    take: () => {
      const was = wanted
      wanted = false
      return was
    },
  }
}

/** The message box takes focus when it is next shown (a room just created). */
export const composerFocus = focusWish()
/** After signing up or logging in, the workspace's first sensible control takes focus when shown. */
export const startFocus = focusWish()

/** Focuses the message box if one is on screen, else the first sensible control ("New room"). */
export function focusComposerOrStart(): void {
  const target = document.getElementById(COMPOSER_ID) ?? document.getElementById(NEW_ROOM_ID)
  target?.focus()
}
