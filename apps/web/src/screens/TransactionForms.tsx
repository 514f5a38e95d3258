import { useMutation, useQueryClient } from "@tanstack/react-query"
import { type Account, parseMajorUnits, type RouterInputs, type Transaction } from "@txn/client"
import { type FormEvent, useId, useState } from "react"
import { describeError } from "../errors.ts"
import { AmountField, SelectField, TextField } from "../fields.tsx"
import { money, newKey } from "../format.ts"
import { useTxn } from "../txn.tsx"
import { afterChange } from "./transactionData.ts"
import { decimalsHint, fromLocalInput } from "./transactionFilters.ts"

type CreateInput = RouterInputs["transactions"]["create"]
type TransferInput = RouterInputs["transfers"]["create"]

/** A person's amount in minor units of `currency`, or what to tell them about it. */
export const readAmount = (
  text: string,
  currency: string,
): { readonly amount: number } | { readonly problem: string } => {
  if (text.trim() === "") return { problem: "Enter an amount." }
  const amount = parseMajorUnits(text, currency)
  if (amount === undefined) {
    return { problem: `Enter an amount in ${currency}${decimalsHint(currency)}.` }
  }
  if (amount <= 0) return { problem: "Enter an amount greater than 0." }
  return { amount }
}

/** The chosen account, or the first one while none is chosen. */
const chosenAccount = (accounts: ReadonlyArray<Account>, id: string, skip?: string) =>
  accounts.find((account) => account.id === id) ??
  accounts.find((account) => account.id !== skip) ??
  accounts[0]

type Kind = "credit" | "debit" | "hold"

/**
 * A new transaction: a credit or a debit, posted at once, or a hold (a pending debit, released
 * when it is voided or when its expiry passes). One idempotency key per press of the button.
 */
export const NewTransactionForm = (props: {
  readonly accounts: ReadonlyArray<Account>
  readonly onCreated: (transaction: Transaction) => void
}) => {
  const txn = useTxn()
  const queries = useQueryClient()
  const id = useId()
  const [accountId, setAccountId] = useState("")
  const [kind, setKind] = useState<Kind>("credit")
  const [amount, setAmount] = useState("")
  const [description, setDescription] = useState("")
  const [category, setCategory] = useState("")
  const [expires, setExpires] = useState("")
  const [amountProblem, setAmountProblem] = useState<string | undefined>()
  const [expiresProblem, setExpiresProblem] = useState<string | undefined>()
  const [created, setCreated] = useState<string | undefined>()

  const account = chosenAccount(props.accounts, accountId)
  const currency = account?.currency ?? "USD"

  const create = useMutation({
    mutationFn: (input: CreateInput) => txn.transactions.create.mutate(input),
    onSuccess: async (transaction) => {
      setCreated(`Created ${transaction.id}`)
      setAmount("")
      setDescription("")
      setCategory("")
      setExpires("")
      props.onCreated(transaction)
      await afterChange(queries, transaction)
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setCreated(undefined)
    if (account === undefined) return
    const read = readAmount(amount, currency)
    setAmountProblem("problem" in read ? read.problem : undefined)
    let expiresAt: string | undefined
    if (kind === "hold" && expires !== "") {
      expiresAt = fromLocalInput(expires)
      if (expiresAt === undefined) {
        setExpiresProblem("Enter a date and time.")
        return
      }
      if (Date.parse(expiresAt) <= Date.now()) {
        setExpiresProblem("Pick a time in the future.")
        return
      }
    }
    setExpiresProblem(undefined)
    if ("problem" in read) return
    create.mutate({
      idempotencyKey: newKey(),
      accountId: account.id,
      currency: account.currency,
      direction: kind === "credit" ? "credit" : "debit",
      amount: read.amount,
      // A hold is a pending debit (only a pending transaction may carry an expiry).
      status: kind === "hold" ? "pending" : "posted",
      ...(description.trim() === "" ? {} : { description }),
      ...(category.trim() === "" ? {} : { category }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    })
  }

  const field = (name: string) => `${id}-${name}`
  return (
    <form aria-label="New transaction" className="txn-form panel" onSubmit={submit} noValidate>
      <h2>New transaction</h2>
      {props.accounts.length === 0 ? (
        <p className="hint">Create an account first (on the Accounts screen).</p>
      ) : null}
      <div className="row">
        <SelectField
          id={id}
          name="account"
          label="Account"
          value={account?.id ?? ""}
          onChange={setAccountId}
        >
          {props.accounts.map((option) => (
            <option key={option.id} value={option.id}>
              {option.name}
            </option>
          ))}
        </SelectField>
        <SelectField
          id={id}
          name="type"
          label="Type"
          value={kind}
          describedBy={field("type-hint")}
          onChange={(value) => setKind(value as Kind)}
        >
          <option value="credit">Credit</option>
          <option value="debit">Debit</option>
          <option value="hold">Hold</option>
        </SelectField>
        <AmountField
          id={id}
          currency={currency}
          value={amount}
          onChange={setAmount}
          problem={amountProblem}
        />
        {kind === "hold" ? (
          <div className="field">
            <label htmlFor={field("expires")}>Hold expires</label>
            <input
              id={field("expires")}
              type="datetime-local"
              value={expires}
              aria-invalid={expiresProblem === undefined ? undefined : true}
              aria-describedby={`${field("expires-hint")} ${field("expires-problem")}`}
              onChange={(event) => setExpires(event.target.value)}
            />
            <span id={field("expires-hint")} className="hint">
              Optional: voided by itself then
            </span>
            <span id={field("expires-problem")} className="txn-field-error">
              {expiresProblem ?? ""}
            </span>
          </div>
        ) : null}
      </div>
      <p id={field("type-hint")} className="hint">
        Credit adds money and Debit takes it out, both posted at once; Hold sets money aside as a
        pending debit until it is posted, voided or expires.
      </p>
      <div className="row">
        <TextField
          id={id}
          name="description"
          label="Description"
          className="txn-grow"
          maxLength={1000}
          value={description}
          onChange={setDescription}
        />
        <TextField
          id={id}
          name="category"
          label="Category"
          maxLength={100}
          value={category}
          onChange={setCategory}
        />
        <button type="submit" disabled={create.isPending || account === undefined}>
          Create transaction
        </button>
      </div>
      {create.isError ? (
        <p role="alert" className="error">
          {describeError(create.error, currency)}
        </p>
      ) : null}
      <p role="status" className="success">
        {created ?? ""}
      </p>
    </form>
  )
}

/** Money between two accounts of one currency: a debit and a credit, recorded together. */
export const TransferForm = (props: {
  readonly accounts: ReadonlyArray<Account>
  readonly onTransferred: (legs: ReadonlyArray<Transaction>) => void
}) => {
  const txn = useTxn()
  const queries = useQueryClient()
  const id = useId()
  const [fromId, setFromId] = useState("")
  const [toId, setToId] = useState("")
  const [amount, setAmount] = useState("")
  const [description, setDescription] = useState("")
  const [amountProblem, setAmountProblem] = useState<string | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const [done, setDone] = useState<string | undefined>()

  const from = chosenAccount(props.accounts, fromId)
  const to = chosenAccount(props.accounts, toId, from?.id)
  const currency = from?.currency ?? "USD"

  const transfer = useMutation({
    mutationFn: (input: TransferInput) => txn.transfers.create.mutate(input),
    onSuccess: async (made) => {
      setDone(`Transferred ${money(made.amount, made.currency)}`)
      setAmount("")
      setDescription("")
      await queries.invalidateQueries({ refetchType: "none" })
      // Its two legs, as rows now (live changes would bring them too).
      const legs = await Promise.allSettled(
        [made.debitTransactionId, made.creditTransactionId].map((leg) =>
          txn.transactions.get.query({ id: leg }),
        ),
      )
      props.onTransferred(legs.flatMap((leg) => (leg.status === "fulfilled" ? [leg.value] : [])))
    },
  })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setDone(undefined)
    if (from === undefined || to === undefined) return
    const read = readAmount(amount, currency)
    setAmountProblem("problem" in read ? read.problem : undefined)
    if (from.id === to.id) {
      setProblem("Choose two different accounts.")
      return
    }
    if (from.currency !== to.currency) {
      setProblem(
        `${from.name} holds ${from.currency} and ${to.name} holds ${to.currency}: a transfer stays in one currency.`,
      )
      return
    }
    setProblem(undefined)
    if ("problem" in read) return
    transfer.mutate({
      idempotencyKey: newKey(),
      fromAccountId: from.id,
      toAccountId: to.id,
      amount: read.amount,
      currency: from.currency,
      ...(description.trim() === "" ? {} : { description }),
    })
  }

  const options = props.accounts.map((option) => (
    <option key={option.id} value={option.id}>
      {option.name}
    </option>
  ))
  return (
    <form aria-label="Transfer" className="txn-form panel" onSubmit={submit} noValidate>
      <h2>Transfer</h2>
      {props.accounts.length < 2 ? (
        <p className="hint">A transfer needs two accounts of the same currency.</p>
      ) : null}
      <div className="row">
        <SelectField
          id={id}
          name="from"
          label="From account"
          value={from?.id ?? ""}
          onChange={setFromId}
        >
          {options}
        </SelectField>
        <SelectField id={id} name="to" label="To account" value={to?.id ?? ""} onChange={setToId}>
          {options}
        </SelectField>
        <AmountField
          id={id}
          currency={currency}
          value={amount}
          onChange={setAmount}
          problem={amountProblem}
        />
        <TextField
          id={id}
          name="description"
          label="Description"
          className="txn-grow"
          maxLength={1000}
          value={description}
          onChange={setDescription}
        />
        <button type="submit" disabled={transfer.isPending || props.accounts.length < 2}>
          Transfer
        </button>
      </div>
      {problem === undefined ? null : (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {transfer.isError ? (
        <p role="alert" className="error">
          {describeError(transfer.error, currency)}
        </p>
      ) : null}
      <p role="status" className="success">
        {done ?? ""}
      </p>
    </form>
  )
}
