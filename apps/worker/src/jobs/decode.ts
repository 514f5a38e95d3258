import { type Job, UnrecoverableError } from "bullmq"
import { Result, Schema } from "effect"

/** A job's payload as its schema says, or a failure that is not retried: retrying cannot fix it. */
export const decodeJob = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  job: Job,
): S["Type"] => {
  const payload = Schema.decodeUnknownResult(schema)(job.data)
  if (Result.isFailure(payload)) {
    throw new UnrecoverableError(`Malformed ${job.name} payload: ${payload.failure.message}`)
  }
  return payload.success
}
