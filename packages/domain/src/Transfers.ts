import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { AccountRepository } from "./AccountRepository.ts"
import {
  type BalanceLimitExceeded,
  CurrencyMismatch,
  type IdempotencyKeyReused,
  type InsufficientFunds,
  NotFound,
} from "./Errors.ts"
import { ensureReached } from "./Grant.ts"
import { IdempotencyStore, idempotent, type MaybeReplayed } from "./Idempotency.ts"
import { newTransactionId, newTransferId, type UserId } from "./Ids.ts"
import type { Transaction } from "./Transaction.ts"
import type { CreateTransfer, GetTransfer, Transfer } from "./Transfer.ts"
import { TransferRepository } from "./TransferRepository.ts"

/**
 * Transfer use cases, on behalf of one user, within the caller's `Grant`: a client token limited
 * to some accounts makes and sees only transfers between two of them.
 */
export class Transfers extends Context.Service<
  Transfers,
  {
    readonly create: (
      userId: UserId,
      input: CreateTransfer,
    ) => Effect.Effect<
      MaybeReplayed<Transfer>,
      NotFound | CurrencyMismatch | InsufficientFunds | BalanceLimitExceeded | IdempotencyKeyReused
    >
    readonly get: (userId: UserId, input: GetTransfer) => Effect.Effect<Transfer, NotFound>
  }
>()("@txn/domain/Transfers") {
  static readonly layer = Layer.effect(
    Transfers,
    Effect.gen(function* () {
      const accounts = yield* AccountRepository
      const transfers = yield* TransferRepository
      const idempotency = yield* IdempotencyStore

      /** The checks and the write of a transfer, without its idempotency. */
      const record = Effect.fn("Transfers.record")(function* (
        userId: UserId,
        input: CreateTransfer,
      ) {
        for (const id of [input.fromAccountId, input.toAccountId]) {
          const account = yield* accounts.findById(userId, id)
          if (Option.isNone(account)) return yield* NotFound.of("account", id)
          if (account.value.currency !== input.currency) {
            return yield* new CurrencyMismatch({
              message: `Account ${id} holds ${account.value.currency}; the transfer is in ${input.currency}`,
              accountId: id,
              accountCurrency: account.value.currency,
              currency: input.currency,
            })
          }
        }
        const stamp = new Date().toISOString()
        const transferId = newTransferId()
        const leg = (
          accountId: Transaction["accountId"],
          direction: Transaction["direction"],
        ): Transaction => ({
          id: newTransactionId(),
          accountId,
          userId,
          direction,
          amount: input.amount,
          currency: input.currency,
          status: "posted",
          description: input.description ?? null,
          category: "transfer",
          counterparty: null,
          reference: transferId,
          occurredAt: stamp,
          expiresAt: null,
          metadata: {},
          version: 1,
          reversalOf: null,
          reversedBy: null,
          transferId,
          createdAt: stamp,
          updatedAt: stamp,
        })
        const debit = leg(input.fromAccountId, "debit")
        const credit = leg(input.toAccountId, "credit")
        return yield* transfers.insert(
          {
            id: transferId,
            userId,
            fromAccountId: input.fromAccountId,
            toAccountId: input.toAccountId,
            amount: input.amount,
            currency: input.currency,
            description: input.description ?? null,
            debitTransactionId: debit.id,
            creditTransactionId: credit.id,
            createdAt: stamp,
          },
          debit,
          credit,
        )
      })

      return Transfers.of({
        create: Effect.fn("Transfers.create")(function* (userId, input) {
          yield* ensureReached(input.fromAccountId, input.toAccountId)
          return yield* idempotent(
            idempotency,
            userId,
            "transfers.create",
            input,
            record(userId, input),
          )
        }),
        get: Effect.fn("Transfers.get")(function* (userId, input) {
          const found = yield* transfers.findById(userId, input.id)
          if (Option.isNone(found)) return yield* NotFound.of("transfer", input.id)
          yield* ensureReached(found.value.fromAccountId, found.value.toAccountId).pipe(
            Effect.mapError(() => NotFound.of("transfer", input.id)),
          )
          return found.value
        }),
      })
    }),
  )
}
