export * from "./AccessLayer.ts"
export * from "./AppLayer.ts"
export * from "./AppProcess.ts"
export * from "./Log.ts"
