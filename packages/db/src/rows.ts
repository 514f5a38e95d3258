/** Values as the driver returns them: timestamptz as Date, bigint as bigint. */
export const iso = (value: Date): string => value.toISOString()

export const isoOrNull = (value: Date | null): string | null => (value === null ? null : iso(value))

/** Amounts are checked in the database to be at most 2^53-1, so the conversion is exact. */
export const toNumber = (value: bigint | number | string): number => Number(value)

/** Turns user text into a LIKE pattern that matches it literally. */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, "\\$&")}%`
