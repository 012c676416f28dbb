// POST /chat/sessions/{id}/catch-up: the summary as JSON, or, asked with `Accept: text/event-stream`, as
// server-sent events while the model writes it.
import { PassThrough } from 'node:stream'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import { SessionParams } from '../chat/chat.schemas.js'
import { AppError } from '../errors.js'
import { bearerSecurity, errorResponses } from '../http/schemas.js'
import { type PreparedCatchUp, prepareCatchUp } from './catch-up.js'
import { CatchUpBody, CatchUpResult } from './catch-up.schemas.js'

const DESCRIPTION = `Summarizes, for the caller alone, the messages of the room after \`after_seq\` (default: the
caller's \`last_read_seq\`): at most the newest 500 and 100,000 characters of them, deleted ones skipped.
Nothing is stored or broadcast; the tokens count against the caller's and the room's daily budgets (429 naming the budget when one is spent,
checked before and again after waiting for the model). A user holds at most 2 assistant replies and catch-ups together running or waiting:
beyond that, 429 with a sentence saying so (Retry-After: 5 seconds).
Nothing unread: \`message_count: 0\`, \`text: ""\`, \`usage: null\`, \`from_seq\` = after_seq + 1, \`to_seq\` =
after_seq, and no model is asked. 503 when the assistant is not configured, is busy (it waits for one of the
AI_CONCURRENCY slots the room replies also take, in a bounded line), fails or times out.

With \`Accept: text/event-stream\` the answer is 200 \`text/event-stream\` instead, each event as
\`event: <name>\\ndata: <JSON>\\n\\n\`: \`start {from_seq, to_seq, message_count}\`, then \`delta {text}\` as the
model writes (the deltas add up to the final text), then \`done {text, usage}\` or \`error {detail}\`, after
which the stream ends. Refusals (401, 403, 404, 422, 429, 503) come before the stream, as JSON with their
status. Closing the connection stops the model.`

export const catchUpRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.addHook('onRequest', app.requireActor)
  const model = { provider: app.deps.provider, log: app.log }
  // Catch-ups in progress, each with its answer sent: stopped at shutdown rather than keeping the server
  // open until they finish.
  const running = new Map<AbortController, Promise<void>>()
  app.addHook('preClose', async () => {
    for (const controller of running.keys())
      controller.abort('The server is shutting down; ask again in a moment')
    // Answered before the server closes: a keep-alive connection still answering when it closes stays
    // open after, and the server's close waits for it.
    await Promise.all(running.values())
  })

  /**
   * Aborted when the request is over: the client went away before the answer was complete, the server
   * shuts down, or the answer was sent (which gives back the hold and slot of a catch-up that was
   * prepared and, after some failure, never summarized).
   */
  function cancellation(reply: FastifyReply): AbortSignal {
    const controller = new AbortController()
    const over = new Promise<void>((resolve) => {
      reply.raw.on('close', () => {
        running.delete(controller)
        controller.abort(reply.raw.writableFinished ? 'The answer was sent' : 'The client went away')
        resolve()
      })
    })
    running.set(controller, over)
    return controller.signal
  }

  app.post(
    '/chat/sessions/:id/catch-up',
    {
      schema: {
        tags: ['assistant'],
        security: bearerSecurity,
        operationId: 'catchUp',
        summary: 'A summary of what the caller has not read in the room, for them alone (JSON or SSE)',
        description: DESCRIPTION,
        params: SessionParams,
        body: CatchUpBody,
        response: { 200: CatchUpResult, ...errorResponses(401, 403, 404, 422, 429, 503) },
      },
      // Every field is optional, so no body at all means the same as `{}`.
      preValidation: async (req) => {
        req.body ??= {}
      },
    },
    async (req, reply) => {
      const signal = cancellation(reply)
      const catchUp = await prepareCatchUp(app.deps, model, req.actor, req.params.id, req.body, signal)
      const { from_seq, to_seq, message_count } = catchUp
      if (req.headers.accept?.includes('text/event-stream')) return streamEvents(reply, catchUp, signal)
      const summary = await catchUp.summarize({ signal })
      return { text: summary.text, from_seq, to_seq, message_count, usage: summary.usage }
    },
  )

  /** Sends `start` at once, `delta`s as the model writes, then `done` or `error`, and ends the stream. */
  function streamEvents(reply: FastifyReply, catchUp: PreparedCatchUp, signal: AbortSignal): FastifyReply {
    const events = new PassThrough()
    // A write after the client went away has nowhere to go: it is dropped, not an error.
    events.on('error', () => {})
    const write = (event: string, data: object) => {
      if (!events.writableEnded && !events.destroyed)
        events.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const { from_seq, to_seq, message_count } = catchUp
    write('start', { from_seq, to_seq, message_count })
    catchUp
      .summarize({ signal, onText: (text) => write('delta', { text }) })
      .then(
        (summary) => write('done', summary),
        (error: unknown) => {
          if (!(error instanceof AppError)) app.log.error({ err: error }, 'catch-up failed')
          const detail = error instanceof AppError ? error.detail : 'The catch-up failed; try again'
          write('error', { detail })
        },
      )
      .finally(() => events.end())
    return (
      reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        // Proxies (nginx) would otherwise hold the events back until the answer is complete.
        .header('x-accel-buffering', 'no')
        .send(events)
    )
  }
}
