import { tracked } from "@trpc/server"
import {
  CreateManyTransactions,
  CreateTransaction,
  GetTransaction,
  ListChanges,
  ListTransactions,
  LiveChanges,
  ReverseTransaction,
  SummarizeTransactions,
  TransactionHistory,
  Transactions,
  TransitionTransaction,
  UpdateTransaction,
} from "@txn/domain"
import * as Schema from "effect/Schema"
import { endRefusal, openLive } from "../live.ts"
import { input, readProcedure, refusal, router, run, writeProcedure } from "../trpc.ts"

export const transactionsRouter = router({
  create: writeProcedure.input(input(CreateTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.create(ctx.caller.userId, input)),
    ),
  ),
  createMany: writeProcedure.input(input(CreateManyTransactions)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.createMany(ctx.caller.userId, input)),
    ),
  ),
  get: readProcedure.input(input(GetTransaction)).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.get(ctx.caller.userId, input)),
    ),
  ),
  list: readProcedure.input(input(Schema.UndefinedOr(ListTransactions))).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.list(ctx.caller.userId, input ?? {})),
    ),
  ),
  summary: readProcedure.input(input(SummarizeTransactions)).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.summary(ctx.caller.userId, input)),
    ),
  ),
  history: readProcedure.input(input(TransactionHistory)).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.history(ctx.caller.userId, input)),
    ),
  ),
  changes: readProcedure.input(input(Schema.UndefinedOr(ListChanges))).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.changes(ctx.caller.userId, input ?? {})),
    ),
  ),
  /**
   * The caller's transaction changes as they happen (one account's, if given), over SSE: each
   * event is tracked by its id, so a client that reconnects resumes after the last one it got.
   */
  live: readProcedure
    .input(input(Schema.UndefinedOr(LiveChanges)))
    // Opened before tRPC answers, so `connected` (the client's onStarted) comes after the
    // stream's starting point is fixed.
    .subscription(async ({ ctx, input, signal }) => {
      const opened = await openLive(ctx, ctx, input ?? {}, signal ?? new AbortController().signal)
      if ("refused" in opened) throw refusal(opened.refused)
      return (async function* () {
        for (;;) {
          const next = await opened.events.next()
          if (next.done === true) {
            const end = endRefusal(next.value)
            if (end !== undefined) throw refusal(end)
            return
          }
          yield tracked(next.value.id, next.value.change)
        }
      })()
    }),
  post: writeProcedure.input(input(TransitionTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.post(ctx.caller.userId, input)),
    ),
  ),
  void: writeProcedure.input(input(TransitionTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.void(ctx.caller.userId, input)),
    ),
  ),
  reverse: writeProcedure.input(input(ReverseTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.reverse(ctx.caller.userId, input)),
    ),
  ),
  update: writeProcedure.input(input(UpdateTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.update(ctx.caller.userId, input)),
    ),
  ),
})
