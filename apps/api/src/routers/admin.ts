import { Access, CreateApiKey, CreateUser, ListApiKeys, RevokeApiKey } from "@txn/domain"
import { adminProcedure, input, router, run } from "../trpc.ts"

/** Users and API keys, for the admin token only. The same tasks: `npm run txn -- --help`. */
export const adminRouter = router({
  users: router({
    create: adminProcedure.input(input(CreateUser)).mutation(({ ctx, input }) =>
      run(
        ctx,
        Access.use((a) => a.createUser(input)),
      ),
    ),
  }),
  apiKeys: router({
    /** The answer holds the secret; it is shown this once and never stored. */
    create: adminProcedure.input(input(CreateApiKey)).mutation(({ ctx, input }) =>
      run(
        ctx,
        Access.use((a) => a.createApiKey(input)),
      ),
    ),
    revoke: adminProcedure.input(input(RevokeApiKey)).mutation(({ ctx, input }) =>
      run(
        ctx,
        Access.use((a) => a.revokeApiKey(input)),
      ),
    ),
    list: adminProcedure.input(input(ListApiKeys)).query(({ ctx, input }) =>
      run(
        ctx,
        Access.use((a) => a.listApiKeys(input)),
      ),
    ),
  }),
})
