import { accountsRouter } from "./routers/accounts.ts"
import { adminRouter } from "./routers/admin.ts"
import { transactionsRouter } from "./routers/transactions.ts"
import { router } from "./trpc.ts"

export const appRouter = router({
  accounts: accountsRouter,
  transactions: transactionsRouter,
  admin: adminRouter,
})

export type AppRouter = typeof appRouter
