import { accountsRouter } from "./routers/accounts.ts"
import { adminRouter } from "./routers/admin.ts"
import { exportsRouter } from "./routers/exports.ts"
import { tokensRouter } from "./routers/tokens.ts"
import { transactionsRouter } from "./routers/transactions.ts"
import { transfersRouter } from "./routers/transfers.ts"
import { webhooksRouter } from "./routers/webhooks.ts"
import { router } from "./trpc.ts"

export const appRouter = router({
  accounts: accountsRouter,
  transactions: transactionsRouter,
  transfers: transfersRouter,
  webhooks: webhooksRouter,
  exports: exportsRouter,
  tokens: tokensRouter,
  admin: adminRouter,
})

export type AppRouter = typeof appRouter
