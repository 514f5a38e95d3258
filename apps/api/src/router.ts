import { accountsRouter } from "./routers/accounts.ts"
import { transactionsRouter } from "./routers/transactions.ts"
import { router } from "./trpc.ts"

export const appRouter = router({
  accounts: accountsRouter,
  transactions: transactionsRouter,
})

export type AppRouter = typeof appRouter
