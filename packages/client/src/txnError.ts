import { TRPCClientError } from "@trpc/client"
import type { AppRouter, ErrorDetails, ErrorShape } from "./generated/AppRouter.ts"

/** Any error a call of the client rejects with: an API error, or a network failure without data. */
export type TxnClientError = TRPCClientError<AppRouter>

/** Every tag an API error carries: `NotFound`, `ValidationError`, `VersionConflict`, ... */
export type TxnErrorTag = ErrorShape["data"]["tag"]

/** An API error's data, its `details` typed by its tag. */
export type TxnErrorData<Tag extends TxnErrorTag = TxnErrorTag> = Tag extends TxnErrorTag
  ? Omit<ErrorShape["data"], "tag" | "details"> & {
      readonly tag: Tag
      /**
       * The fields the error names (ids, versions, limits). Errors raised by the API's HTTP layer
       * rather than its domain (an unknown procedure, a body too large) may come without them.
       */
      readonly details?: Tag extends keyof ErrorDetails ? ErrorDetails[Tag] : undefined
    }
  : never

/** An API error of the given tag(s), as `isTxnError` narrows it. */
export type TxnError<Tag extends TxnErrorTag = TxnErrorTag> = Omit<TxnClientError, "data"> & {
  readonly data: TxnErrorData<Tag>
}

/** The error's tag (`NotFound`, `ValidationError`, ...), or undefined if it is not an API error. */
export const errorTag = (error: unknown): TxnErrorTag | undefined =>
  error instanceof TRPCClientError ? (error as TxnClientError).data?.tag : undefined

/**
 * Narrows an unknown error to an API error with the given tag, its `data.details` typed for that
 * tag. A tag the API does not have is a compile error.
 */
export const isTxnError = <const Tag extends TxnErrorTag>(
  error: unknown,
  tag: Tag,
): error is TxnError<Tag> => errorTag(error) === tag
