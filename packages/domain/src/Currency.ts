import * as Schema from "effect/Schema"
import { currencyExponents } from "./currencyExponents.ts"

export { currencyExponents }

export const Currency = Schema.String.pipe(
  Schema.check(
    Schema.makeFilter(
      (code: string) =>
        Object.hasOwn(currencyExponents, code) ||
        "Expected an ISO 4217 currency code in upper case, such as USD",
    ),
  ),
  Schema.brand("Currency"),
)
export type Currency = typeof Currency.Type

/** Digits after the decimal point of one major unit: 2 for USD (cents), 0 for JPY, 3 for KWD. */
export const exponentOf = (currency: Currency): number => currencyExponents[currency] ?? 2
