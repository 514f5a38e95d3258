import {
  type Account,
  createTxnClient,
  isTxnError,
  type LiveChange,
  type Transaction,
} from "@txn/client"
import { useEffect, useState } from "react"

// The page is opened as /?api=<API url>&account=<account id>. Its server (the page's own origin)
// mints a client token for it at /api/txn-token with the secret key, which never reaches the page.
const params = new URLSearchParams(window.location.search)
const txn = createTxnClient({
  url: params.get("api") ?? "",
  token: async () => (await fetch("/api/txn-token")).text(),
})
const accountId = params.get("account") ?? ""

type Shown =
  | { state: "loading" }
  | {
      state: "done"
      account: Account
      transaction: Transaction
      missing: string
      forbidden: string
      live: string
    }
  | { state: "failed"; message: string }

/** The first change the live stream brings, once it is open: `onOpen` runs then. */
const firstLiveChange = (onOpen: () => void) =>
  new Promise<Pick<LiveChange, "transactionId" | "kind">>((resolve, reject) => {
    const subscription = txn.transactions.live.subscribe(
      { accountId },
      {
        onStarted: onOpen,
        onData: (event) => {
          subscription.unsubscribe()
          resolve(event.data)
        },
        onError: reject,
      },
    )
  })

const load = async (): Promise<Shown> => {
  let opened!: () => void
  const open = new Promise<void>((resolve) => {
    opened = resolve
  })
  const live = firstLiveChange(() => opened())
  await open
  const account = await txn.accounts.get.query({ id: accountId })
  const transaction = await txn.transactions.create.mutate({
    accountId,
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
  // A token limited to one account cannot open others.
  let forbidden = "allowed"
  try {
    await txn.accounts.create.mutate({ name: "Another", currency: "EUR" })
  } catch (error) {
    forbidden = isTxnError(error, "Forbidden") ? "Forbidden" : "other"
  }
  const change = await live
  const same = change.transactionId === transaction.id ? "this transaction" : change.transactionId
  return {
    state: "done",
    account,
    transaction: read,
    missing,
    forbidden,
    live: `${change.kind} ${same}`,
  }
}

// Once per page load, whatever React does with effects (StrictMode runs them twice in development).
const loaded = load()

function App() {
  const [shown, setShown] = useState<Shown>({ state: "loading" })
  useEffect(() => {
    loaded.then(setShown, (error: unknown) =>
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
      <p id="forbidden">{shown.forbidden}</p>
      <p id="live">{shown.live}</p>
    </main>
  )
}

export default App
