import * as Schema from "effect/Schema"
import { Currency, exponentOf } from "./Currency.ts"

/** A positive whole number of minor units (cents), exactly representable in a JS number. */
export const Amount = Schema.Number.pipe(
  Schema.check(
    Schema.isInt({ message: "Expected a whole number of minor units (an integer)" }),
    Schema.isGreaterThan(0, { message: "Expected an amount greater than 0" }),
    Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER, {
      message: `Expected an amount of at most ${Number.MAX_SAFE_INTEGER}`,
    }),
  ),
)
export type Amount = typeof Amount.Type

export const Money = Schema.Struct({ amount: Amount, currency: Currency })
export type Money = typeof Money.Type

/** `formatMinorUnits({ amount: 1234, currency: "USD" })` is `"12.34"`; JPY has no decimals. */
export const formatMinorUnits = (money: Money): string => {
  const exponent = exponentOf(money.currency)
  if (exponent === 0) return String(money.amount)
  const digits = String(money.amount).padStart(exponent + 1, "0")
  return `${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`
}
