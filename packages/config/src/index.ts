export * from "./AppConfig.ts"
