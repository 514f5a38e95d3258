// A plain script using the packed client: the same file runs on Node, Deno and Bun. It creates an
// account and a transaction, reads the transaction back and prints what it got as JSON.
import { createTxnClient, errorTag, verifyWebhook } from "@txn/client"

const env = globalThis.Deno === undefined ? process.env : globalThis.Deno.env.toObject()
const txn = createTxnClient({ url: env.TXN_URL, token: async () => env.TXN_API_KEY })

const account = await txn.accounts.create.mutate({ name: "Script", currency: "USD" })
const created = await txn.transactions.create.mutate({
  accountId: account.id,
  direction: "credit",
  amount: 725,
  currency: "USD",
  description: "From a script",
})
const read = await txn.transactions.get.query({ id: created.id })
const missing = await txn.accounts.get.query({ id: `acc_${"0".repeat(26)}` }).catch(errorTag)
const webhook = await verifyWebhook({ payload: "{}", signature: "t=1,v1=00", secret: "s" }).catch(
  (error) => error.name,
)
console.log(JSON.stringify({ account, read, missing, webhook }))
