/**
 * Example answers for the OpenAPI document, one per kind of record, consistent with each other
 * (the transaction is on the account, the transfer's legs are transactions). A test checks each
 * example against the schema it illustrates.
 */
const at = "2026-03-01T09:30:00.000Z"
const later = "2026-03-01T09:45:00.000Z"
const userId = "usr_0k4m8q2w6e0r4t8y2u6i0o4p8a"
const accountId = "acc_7w3k9d2m4q8x1v6b5n0z2c4f7h"
const transactionId = "txn_5c8v1b4n7m0q3w6e9r2t5y8u1i"

export const account = {
  id: accountId,
  userId,
  name: "Wallet",
  currency: "EUR",
  allowNegative: false,
  metadata: { owner: "alice" },
  createdAt: at,
  updatedAt: at,
}

export const transaction = {
  id: transactionId,
  accountId,
  userId,
  direction: "debit",
  amount: 350,
  currency: "EUR",
  status: "posted",
  description: "Coffee",
  category: "food",
  counterparty: null,
  reference: null,
  occurredAt: at,
  expiresAt: null,
  metadata: {},
  version: 1,
  reversalOf: null,
  reversedBy: null,
  transferId: null,
  createdAt: at,
  updatedAt: at,
}

export const page = <A>(item: A) => ({ items: [item], nextCursor: null, hasMore: false })

export const balance = {
  accountId,
  currency: "EUR",
  posted: 9650,
  pending: 9650,
  available: 9650,
  asOf: null,
}

export const event = {
  seq: 42,
  transactionId,
  version: 1,
  kind: "created",
  actor: "key_3h6j9k2l5z8x1c4v7b0n3m6q9w",
  changes: { amount: { from: null, to: 350 }, status: { from: null, to: "posted" } },
  at,
}

export const summary = {
  groupBy: "category",
  occurredFrom: "2026-03-01T00:00:00Z",
  occurredTo: "2026-04-01T00:00:00Z",
  groups: [
    { key: "food", currency: "EUR", credits: 0, debits: 350, net: -350, count: 1 },
    { key: null, currency: "EUR", credits: 10000, debits: 0, net: 10000, count: 1 },
  ],
}

export const transfer = {
  id: "trf_2n5b8v1c4x7z0l3k6j9h2g5f8d",
  userId,
  fromAccountId: accountId,
  toAccountId: "acc_2p5r8t1y4u7i0o3a6s9d2f5g8h",
  amount: 2500,
  currency: "EUR",
  description: "Savings",
  debitTransactionId: "txn_8u1i4o7p0a3s6d9f2g5h8j1k4l",
  creditTransactionId: "txn_9i2o5p8a1s4d7f0g3h6j9k2l5z",
  createdAt: at,
}

export const webhook = {
  id: "whk_4f7g0h3j6k9l2z5x8c1v4b7n0m",
  url: "https://example.com/txn-events",
  description: null,
  eventTypes: ["transaction.created", "transaction.posted"],
  status: "active",
  disabledReason: null,
  failingSince: null,
  createdAt: at,
  updatedAt: at,
}

export const delivery = {
  id: "dlv_6y9u2i5o8p1a4s7d0f3g6h9j2k",
  webhookId: webhook.id,
  eventId: "evt_1q4w7e0r3t6y9u2i5o8p1a4s7d",
  eventType: "transaction.created",
  status: "delivered",
  attempts: 1,
  lastStatusCode: 200,
  lastError: null,
  nextAttemptAt: null,
  deliveredAt: later,
  createdAt: at,
  log: [{ attempt: 1, at, statusCode: 200, error: null, durationMs: 84 }],
}

export const exported = {
  id: "exp_3d6f9g2h5j8k1l4z7x0c3v6b9n",
  status: "completed",
  filters: { accountId },
  totalRows: 1200,
  rowsWritten: 1200,
  progress: 1,
  bytes: 98304,
  error: null,
  createdAt: at,
  startedAt: at,
  completedAt: later,
  expiresAt: "2026-03-08T09:30:00.000Z",
  downloadUrl: "/v1/exports/exp_3d6f9g2h5j8k1l4z7x0c3v6b9n/download",
}

export const user = { id: userId, name: "Alice", createdAt: at }

export const apiKey = {
  id: "key_3h6j9k2l5z8x1c4v7b0n3m6q9w",
  userId,
  name: "laptop",
  scopes: ["read", "write"],
  createdAt: at,
  lastUsedAt: later,
  revokedAt: null,
}

export const clientToken = {
  token: "txnct_Vb7nQ2xL9pK4sD8fH1jM6rT3wY0cE5gA9uI2oZ7kX4q",
  expiresAt: later,
  scopes: ["read"],
  accountIds: [accountId],
}
