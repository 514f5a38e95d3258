import * as Schema from "effect/Schema"

const idPattern = (prefix: string) =>
  Schema.String.pipe(
    Schema.check(
      Schema.isPattern(new RegExp(`^${prefix}_[0-9a-z]{26}$`), {
        message: `Expected an id of the form ${prefix}_ followed by 26 lower-case letters or digits`,
      }),
    ),
  )

export const UserId = idPattern("usr").pipe(Schema.brand("UserId"))
export type UserId = typeof UserId.Type
export const AccountId = idPattern("acc").pipe(Schema.brand("AccountId"))
export type AccountId = typeof AccountId.Type
export const TransactionId = idPattern("txn").pipe(Schema.brand("TransactionId"))
export type TransactionId = typeof TransactionId.Type
export const TransferId = idPattern("trf").pipe(Schema.brand("TransferId"))
export type TransferId = typeof TransferId.Type
export const WebhookId = idPattern("whk").pipe(Schema.brand("WebhookId"))
export type WebhookId = typeof WebhookId.Type
export const ExportId = idPattern("exp").pipe(Schema.brand("ExportId"))
export type ExportId = typeof ExportId.Type
export const ApiKeyId = idPattern("key").pipe(Schema.brand("ApiKeyId"))
export type ApiKeyId = typeof ApiKeyId.Type
export const ClientTokenId = idPattern("ctk").pipe(Schema.brand("ClientTokenId"))
export type ClientTokenId = typeof ClientTokenId.Type

const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"

const idBytes = 26

/**
 * Random bytes drawn from the system's CSPRNG for many ids at once (a batch of a thousand
 * transactions makes a thousand ids); each byte is used once.
 */
const pool = new Uint8Array(idBytes * 256)
let used = pool.length

/**
 * 26 base-36 characters from 26 random bytes: about 134 bits of entropy, so ids cannot be guessed
 * or enumerated. The modulo bias (256 % 36) leaves well over 128 bits.
 */
export const makeId = <
  Prefix extends "usr" | "acc" | "txn" | "trf" | "key" | "ctk" | "whk" | "exp",
>(
  prefix: Prefix,
): string => {
  if (used === pool.length) {
    crypto.getRandomValues(pool)
    used = 0
  }
  let body = ""
  for (let i = used; i < used + idBytes; i++) body += alphabet[(pool[i] as number) % 36]
  used += idBytes
  return `${prefix}_${body}`
}

export const newUserId = (): UserId => makeId("usr") as UserId
export const newAccountId = (): AccountId => makeId("acc") as AccountId
export const newTransactionId = (): TransactionId => makeId("txn") as TransactionId
export const newApiKeyId = (): ApiKeyId => makeId("key") as ApiKeyId
export const newClientTokenId = (): ClientTokenId => makeId("ctk") as ClientTokenId
export const newTransferId = (): TransferId => makeId("trf") as TransferId
export const newExportId = (): ExportId => makeId("exp") as ExportId
export const newWebhookId = (): WebhookId => makeId("whk") as WebhookId
