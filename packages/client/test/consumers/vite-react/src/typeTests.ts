/**
 * Compiled by the app's `tsc -b` and never run: each `@ts-expect-error` must meet an error, so
 * this file stops compiling if the client's types ever degrade to `any`.
 */
import { createTxnClient, isTxnError, type RouterOutputs } from "@txn/client"

const txn = createTxnClient({ url: "http://127.0.0.1:3000", token: async () => "token" })
const credit = { accountId: "acc_1", direction: "credit", amount: 10, currency: "EUR" } as const

export const inputs = () => [
  txn.transactions.create.mutate(credit),
  // @ts-expect-error: no such field
  txn.transactions.create.mutate({ ...credit, colour: "red" }),
  // @ts-expect-error: amounts are numbers of minor units
  txn.transactions.create.mutate({ ...credit, amount: "10" }),
  // @ts-expect-error: ids are strings
  txn.transactions.get.query({ id: 12 }),
  // @ts-expect-error: the id is required
  txn.accounts.get.query({}),
  // @ts-expect-error: there is no such procedure
  txn.transactions.remove.mutate({ id: "t" }),
]

export const outputs = async () => {
  const tx = await txn.transactions.get.query({ id: "txn_1" })
  const amount: number = tx.amount
  const status: "pending" | "posted" | "voided" | "reversed" = tx.status
  const description: string | null = tx.description
  // @ts-expect-error: an amount is a number
  const wrong: string = tx.amount
  const page: RouterOutputs["transactions"]["list"] = await txn.transactions.list.query()
  const ids: ReadonlyArray<string> = page.items.map((item) => item.id)
  return [amount, status, description, wrong, ids]
}

export const errors = (error: unknown) => {
  if (isTxnError(error, "VersionConflict")) {
    const current: number | undefined = error.data.details?.currentVersion
    // @ts-expect-error: a VersionConflict's details name no account
    const account: string | undefined = error.data.details?.accountId
    return [current, account]
  }
  // @ts-expect-error: not an error tag of the API
  return isTxnError(error, "NotAnErrorTag")
}
