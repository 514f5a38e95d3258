import { formatMinorUnits } from "@txn/client"

/** `1234, "USD"` as `12.34 USD`, exactly, with a thin space between thousands groups. */
export const money = (amount: number, currency: string) => {
  const [whole = "", fraction] = formatMinorUnits(amount, currency).split(".")
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f")
  return `${grouped}${fraction === undefined ? "" : `.${fraction}`} ${currency}`
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" })

/** An ISO timestamp in the reader's time zone and language. */
export const when = (iso: string) => dateTime.format(new Date(iso))

/** A new idempotency key for one press of a button (a retry of that press reuses it). */
export const newKey = () => crypto.randomUUID()
