import {
  Accounts,
  CreateAccount,
  GetAccount,
  GetBalance,
  ListAccounts,
  UpdateAccount,
} from "@txn/domain"
import * as Schema from "effect/Schema"
import { input, readProcedure, router, run, writeProcedure } from "../trpc.ts"

export const accountsRouter = router({
  create: writeProcedure.input(input(CreateAccount)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Accounts.use((a) => a.create(ctx.caller.userId, input)),
    ),
  ),
  get: readProcedure.input(input(GetAccount)).query(({ ctx, input }) =>
    run(
      ctx,
      Accounts.use((a) => a.get(ctx.caller.userId, input)),
    ),
  ),
  balance: readProcedure.input(input(GetBalance)).query(({ ctx, input }) =>
    run(
      ctx,
      Accounts.use((a) => a.balance(ctx.caller.userId, input)),
    ),
  ),
  update: writeProcedure.input(input(UpdateAccount)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Accounts.use((a) => a.update(ctx.caller.userId, input)),
    ),
  ),
  list: readProcedure.input(input(Schema.UndefinedOr(ListAccounts))).query(({ ctx, input }) =>
    run(
      ctx,
      Accounts.use((a) => a.list(ctx.caller.userId, input ?? {})),
    ),
  ),
})
