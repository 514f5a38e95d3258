import { Access, CreateClientToken } from "@txn/domain"
import { input, router, run, writeProcedure } from "../trpc.ts"

/** Client tokens for browsers, minted by a server with its secret API key. */
export const tokensRouter = router({
  /** The answer holds the token; it is shown this once and never stored. */
  create: writeProcedure.input(input(CreateClientToken)).mutation(({ ctx, input }) =>
    run(
      ctx,
      Access.use((a) => a.createClientToken(ctx.caller, input)),
    ),
  ),
})
