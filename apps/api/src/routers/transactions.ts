import {
  CreateTransaction,
  GetTransaction,
  ListTransactions,
  Transactions,
  UpdateTransaction,
} from "@txn/domain"
import { Schema } from "effect"
import { input, procedure, router, run } from "../trpc.ts"

export const transactionsRouter = router({
  create: procedure.input(input(CreateTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.create(ctx.caller.userId, input)),
    ),
  ),
  get: procedure.input(input(GetTransaction)).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.get(ctx.caller.userId, input)),
    ),
  ),
  list: procedure.input(input(Schema.UndefinedOr(ListTransactions))).query(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.list(ctx.caller.userId, input ?? {})),
    ),
  ),
  update: procedure.input(input(UpdateTransaction)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transactions.use((t) => t.update(ctx.caller.userId, input)),
    ),
  ),
})
