import { CreateTransfer, GetTransfer, Transfers } from "@txn/domain"
import { input, readProcedure, router, run, writeProcedure } from "../trpc.ts"

export const transfersRouter = router({
  create: writeProcedure.input(input(CreateTransfer)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Transfers.use((t) => t.create(ctx.caller.userId, input)),
    ),
  ),
  get: readProcedure.input(input(GetTransfer)).query(({ ctx, input }) =>
    run(
      ctx,
      Transfers.use((t) => t.get(ctx.caller.userId, input)),
    ),
  ),
})
