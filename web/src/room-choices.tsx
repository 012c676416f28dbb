// The choices a room is made with and changed to: its type and when the assistant answers.

export const ROOM_TYPES = [
  ['public', 'Public'],
  ['invite_only', 'Invite only'],
  ['private', 'Private'],
] as const

export const ASSISTANT_MODES = [
  ['off', 'Off'],
  ['mention', 'When mentioned'],
  ['always', 'Every message'],
] as const

/** The <option>s of a select, from [value, label] pairs. */
export function Options(props: { choices: readonly (readonly [string, string])[] }) {
  return (
    <>
      {props.choices.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </>
  )
}
