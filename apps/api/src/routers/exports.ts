import { CreateExport, Exports, GetExport } from "@txn/domain"
import { input, readProcedure, router, run, writeProcedure } from "../trpc.ts"

export const exportsRouter = router({
  create: writeProcedure.input(input(CreateExport)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Exports.use((e) => e.create(ctx.caller.userId, input)),
    ),
  ),
  get: readProcedure.input(input(GetExport)).query(({ ctx, input }) =>
    run(
      ctx,
      Exports.use((e) => e.get(ctx.caller.userId, input)),
    ),
  ),
})
