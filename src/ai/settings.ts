// A room's assistant settings (DESIGN section 10): read by its participants, changed by its owner and
// admins, used by the next reply. The mode is the room's `ai_mode` itself.
import { eq } from 'drizzle-orm'
import type { Actor } from '../auth/actor.js'
import { loadJoinedSession, loadVisibleSession, lockSession } from '../chat/access.js'
import { assertCan } from '../chat/permissions.js'
import { announceSessionUpdate } from '../chat/sessions.service.js'
import { type Config, roomModels } from '../config.js'
import type { Executor } from '../db/connect.js'
import { type AiMode, chatSessions, roomAssistants } from '../db/schema.js'
import type { Deps } from '../deps.js'
import { AppError } from '../errors.js'
import {
  type AssistantSettingsInput,
  type AssistantSettingsView,
  MAX_CONTEXT_MESSAGES,
} from './settings.schemas.js'

/** What the next reply in a room uses. */
export interface RoomAssistant {
  instructions: string
  model: string
  contextMessages: number
  toolsEnabled: boolean
}

/**
 * The room's settings with the server's defaults where it chose none. A model the server no longer
 * offers (AI_MODELS changed) falls back to the default rather than failing every reply.
 */
export async function loadRoomAssistant(
  db: Executor,
  config: Config,
  sessionId: number,
): Promise<RoomAssistant & { updatedAt: Date | null }> {
  const [row] = await db.select().from(roomAssistants).where(eq(roomAssistants.sessionId, sessionId))
  const models = roomModels(config)
  return {
    instructions: row?.instructions ?? '',
    model: row?.model && models.includes(row.model) ? row.model : (models[0] as string),
    contextMessages: row?.contextMessages ?? Math.min(config.AI_CONTEXT_MESSAGES, MAX_CONTEXT_MESSAGES),
    toolsEnabled: row?.toolsEnabled ?? false,
    updatedAt: row?.updatedAt ?? null,
  }
}

async function view(
  db: Executor,
  config: Config,
  sessionId: number,
  mode: AiMode,
  createdAt: Date,
): Promise<AssistantSettingsView> {
  const settings = await loadRoomAssistant(db, config, sessionId)
  return {
    mode,
    instructions: settings.instructions,
    model: settings.model,
    context_messages: settings.contextMessages,
    tools_enabled: settings.toolsEnabled,
    available_models: roomModels(config),
    updated_at: (settings.updatedAt ?? createdAt).toISOString(),
  }
}

export async function getAssistantSettings(
  deps: Pick<Deps, 'db' | 'config'>,
  actor: Actor,
  sessionId: number,
): Promise<AssistantSettingsView> {
  const { session } = await loadJoinedSession(deps.db, actor, sessionId)
  return view(deps.db, deps.config, sessionId, session.aiMode, session.createdAt)
}

export async function updateAssistantSettings(
  deps: Deps,
  actor: Actor,
  sessionId: number,
  patch: AssistantSettingsInput,
): Promise<AssistantSettingsView> {
  await deps.limits.hit('manage', actor.id)
  const settings = await deps.db.transaction(async (tx) => {
    await lockSession(tx, sessionId)
    const visible = await loadVisibleSession(tx, actor, sessionId)
    assertCan(visible.role, 'update_session')
    // Only after access: whoever may not change the room learns nothing from it, not even the models.
    const models = roomModels(deps.config)
    if (patch.model !== undefined && !models.includes(patch.model))
      throw new AppError(
        'invalid',
        `model must be one of the models this server offers: ${models.join(', ')}`,
      )
    const now = new Date()
    if (patch.mode !== undefined && patch.mode !== visible.session.aiMode)
      await tx
        .update(chatSessions)
        .set({ aiMode: patch.mode, updatedAt: now })
        .where(eq(chatSessions.id, sessionId))
    const changes = {
      instructions: patch.instructions,
      model: patch.model,
      contextMessages: patch.context_messages,
      toolsEnabled: patch.tools_enabled,
      updatedAt: now,
    }
    await tx
      .insert(roomAssistants)
      .values({ sessionId, ...changes })
      .onConflictDoUpdate({ target: roomAssistants.sessionId, set: changes })
    return view(tx, deps.config, sessionId, patch.mode ?? visible.session.aiMode, visible.session.createdAt)
  })
  await announceSessionUpdate(deps, actor, sessionId, { assistant: settings })
  return settings
}
