export * from "./createTxnClient.ts"
export * from "./downloadExport.ts"
export * from "./verifyWebhook.ts"
