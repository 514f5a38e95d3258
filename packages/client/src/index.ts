export * from "./createTxnClient.ts"
