import { currencyExponents as exponents } from "@txn/domain/currencyExponents"

/** Active ISO 4217 currencies the API accepts and their minor-unit exponents. */
export const currencyExponents: Readonly<Record<string, number>> = exponents

/**
 * Digits after the decimal point of one major unit of `currency`: 2 for USD (cents), 0 for JPY,
 * 3 for KWD; undefined for a code the API does not accept.
 */
export const exponentOf = (currency: string): number | undefined =>
  Object.hasOwn(currencyExponents, currency) ? currencyExponents[currency] : undefined

/**
 * An amount in minor units as its major-unit decimal, exactly: `formatMinorUnits(-1234, "USD")`
 * is `"-12.34"`, `formatMinorUnits(5, "KWD")` is `"0.005"`, `formatMinorUnits(1234, "JPY")` is
 * `"1234"`. Any safe integer, however large (no floating-point division).
 */
export const formatMinorUnits = (amount: number, currency: string): string => {
  if (!Number.isSafeInteger(amount))
    throw new RangeError(`Not a whole number of minor units: ${amount}`)
  const exponent = exponentOf(currency) ?? 2
  const digits = String(Math.abs(amount))
  const sign = amount < 0 ? "-" : ""
  if (exponent === 0) return `${sign}${digits}`
  const padded = digits.padStart(exponent + 1, "0")
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`
}

const majorUnits = /^([+-]?)(\d+)(?:\.(\d*))?$/

/**
 * A major-unit decimal as typed by a person (`"12.34"`, `"12"`, `"0.5"`) in minor units, exactly:
 * `parseMajorUnits("12.34", "USD")` is `1234`. Undefined when it is not a plain decimal, has more
 * decimals than the currency has (`"1.234"` in USD), or is beyond a safe integer of minor units.
 */
export const parseMajorUnits = (text: string, currency: string): number | undefined => {
  const exponent = exponentOf(currency)
  const match = majorUnits.exec(text.trim().replaceAll(/[\s_]/g, ""))
  if (exponent === undefined || match === null) return undefined
  const [, sign, whole = "", fraction = ""] = match
  if (fraction.length > exponent) return undefined
  const minor = BigInt(whole + fraction.padEnd(exponent, "0")) * (sign === "-" ? -1n : 1n)
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER)) {
    return undefined
  }
  return Number(minor)
}
