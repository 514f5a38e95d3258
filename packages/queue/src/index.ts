export * as BullHoldScheduler from "./BullHoldScheduler.ts"
export * from "./QueueBackend.ts"
export * from "./Queues.ts"
