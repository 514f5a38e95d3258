import { type Account, createTxnClient, isTxnError, type Transaction } from "@txn/client"
import { useEffect, useState } from "react"

// The page is opened as /?api=<API url>&key=<API key>.
const params = new URLSearchParams(window.location.search)
const txn = createTxnClient({ url: params.get("api") ?? "", apiKey: params.get("key") ?? "" })

type Shown =
  | { state: "loading" }
  | { state: "done"; account: Account; transaction: Transaction; missing: string }
  | { state: "failed"; message: string }

const load = async (): Promise<Shown> => {
  const account = await txn.accounts.create.mutate({ name: "Browser wallet", currency: "EUR" })
  const transaction = await txn.transactions.create.mutate({
    accountId: account.id,
    direction: "credit",
    amount: 1250,
    currency: "EUR",
    description: "From the browser",
  })
  const read = await txn.transactions.get.query({ id: transaction.id })
  let missing = "found"
  try {
    await txn.transactions.get.query({ id: `txn_${"0".repeat(26)}` })
  } catch (error) {
    missing = isTxnError(error, "NotFound") ? `NotFound ${error.data.details?.resource}` : "other"
  }
  return { state: "done", account, transaction: read, missing }
}

function App() {
  const [shown, setShown] = useState<Shown>({ state: "loading" })
  useEffect(() => {
    load().then(setShown, (error: unknown) =>
      setShown({
        state: "failed",
        message: error instanceof Error ? error.message : String(error),
      }),
    )
  }, [])
  if (shown.state === "loading") return <p>Loading…</p>
  if (shown.state === "failed") return <p id="failed">{shown.message}</p>
  return (
    <main>
      <p id="account">
        {shown.account.name} ({shown.account.currency})
      </p>
      <p id="transaction">
        {shown.transaction.direction} {shown.transaction.amount} {shown.transaction.currency}{" "}
        {shown.transaction.status} "{shown.transaction.description}"
      </p>
      <p id="missing">{shown.missing}</p>
    </main>
  )
}

export default App
