/** The rejection of a call that must fail; fails the test if the call succeeds. */
export const rejectionOf = async (call: Promise<unknown>): Promise<unknown> => {
  const outcome = await call.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )
  if (outcome.ok) throw new Error(`Expected a rejection, got ${JSON.stringify(outcome.value)}`)
  return outcome.error
}
