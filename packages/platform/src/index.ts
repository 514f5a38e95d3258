export * from "./AppLayer.ts"
export * from "./Log.ts"
