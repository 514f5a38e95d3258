import { type Job, UnrecoverableError } from "bullmq"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"

type JobSchema = Schema.Top & { readonly DecodingServices: never }

// One decoder per schema, made on first use rather than once per job.
const decoders = new WeakMap<JobSchema, (input: unknown) => Result.Result<unknown, Error>>()

/** A job's payload as its schema says, or a failure that is not retried: retrying cannot fix it. */
export const decodeJob = <S extends JobSchema>(schema: S, job: Job): S["Type"] => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownResult(schema) as (input: unknown) => Result.Result<unknown, Error>
    decoders.set(schema, decode)
  }
  const payload = decode(job.data)
  if (Result.isFailure(payload)) {
    throw new UnrecoverableError(`Malformed ${job.name} payload: ${payload.failure.message}`)
  }
  return payload.success as S["Type"]
}
