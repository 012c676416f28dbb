// The room assistant settings' request and response schemas (DESIGN section 10).
import Type, { type Static } from 'typebox'
import { AiModeField } from '../chat/chat.schemas.js'

export const MAX_INSTRUCTIONS = 4000
export const MAX_CONTEXT_MESSAGES = 100

export const AssistantSettings = Type.Object(
  {
    mode: AiModeField,
    instructions: Type.String({
      maxLength: MAX_INSTRUCTIONS,
      description: 'The room’s own instructions to the assistant, given to it apart from the server’s',
    }),
    model: Type.String({ description: 'One of available_models' }),
    context_messages: Type.Integer({
      minimum: 1,
      maximum: MAX_CONTEXT_MESSAGES,
      description: 'How many of the room’s newest messages the assistant reads',
    }),
    tools_enabled: Type.Boolean({
      description: 'Whether the assistant may search the room’s whole history (search_room_history)',
    }),
    available_models: Type.Array(Type.String(), { description: 'The models this server offers (AI_MODELS)' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  {
    examples: [
      {
        mode: 'mention',
        instructions: 'Answer in French. Keep replies under five sentences.',
        model: 'gpt-4o-mini',
        context_messages: 20,
        tools_enabled: true,
        available_models: ['gpt-4o-mini', 'gpt-4o'],
        updated_at: '2026-12-03T12:00:00.000Z',
      },
    ],
  },
)

export const AssistantSettingsUpdate = Type.Object(
  {
    mode: Type.Optional(AiModeField),
    instructions: Type.Optional(Type.String({ maxLength: MAX_INSTRUCTIONS })),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    context_messages: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONTEXT_MESSAGES })),
    tools_enabled: Type.Optional(Type.Boolean()),
  },
  {
    description: 'Any of the fields; those left out keep their value.',
    examples: [{ instructions: 'Answer in French.', tools_enabled: true }],
  },
)

export type AssistantSettingsView = Static<typeof AssistantSettings>
export type AssistantSettingsInput = Static<typeof AssistantSettingsUpdate>
