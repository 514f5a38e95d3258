import { readFileSync } from "node:fs"
import type {
  AnyTRPCProcedure,
  AnyTRPCRouter,
  inferProcedureOutput,
  inferRouterError,
  inferRouterInputs,
} from "@trpc/server"
import type { AppRouter as LiveAppRouter } from "@txn/api/router"
import { describe, expect, expectTypeOf, it } from "vitest"
import { generateAppRouter, generatedPath } from "../scripts/generateAppRouter.ts"
import type { AppRouter } from "../src/index.ts"

/**
 * The live router's types with Effect's brands reduced to their base type, as the generator
 * prints them, and intersections flattened on both sides so that only structure is compared.
 */
type Plain<T> = T extends string & { readonly "~effect/Brand": unknown }
  ? string
  : T extends number & { readonly "~effect/Brand": unknown }
    ? number
    : T extends ReadonlyArray<infer E>
      ? T extends Array<E>
        ? Array<Plain<E>>
        : ReadonlyArray<Plain<E>>
      : T extends AsyncIterable<infer Y>
        ? AsyncIterable<Plain<Y>>
        : T extends object
          ? { [K in keyof T]: Plain<T[K]> }
          : T

/**
 * Each procedure's output as its resolver returns it, before tRPC's `Serialize`: that keeps a
 * plain JSON type as it is but rebuilds a branded one without `readonly`, which would hide
 * the comparison.
 */
type Outputs<Record> = {
  [K in keyof Record]: Record[K] extends AnyTRPCProcedure
    ? inferProcedureOutput<Record[K]>
    : Outputs<Record[K]>
}
type RawOutputs<Router extends AnyTRPCRouter> = Outputs<Router["_def"]["record"]>

describe("the router types the package carries (src/generated/AppRouter.ts)", () => {
  it("are what the generator makes of apps/api's router now (else: npm run generate -w @txn/client)", () => {
    expect(readFileSync(generatedPath, "utf8")).toBe(generateAppRouter())
  })

  // Checked by `npm run typecheck`: the generated router infers the same inputs, outputs and
  // error shape as the live one, procedure by procedure.
  it("infer every procedure's input and output, and the error shape, as the live router does", () => {
    expectTypeOf<Plain<inferRouterInputs<AppRouter>>>().toEqualTypeOf<
      Plain<inferRouterInputs<LiveAppRouter>>
    >()
    expectTypeOf<Plain<RawOutputs<AppRouter>>>().toEqualTypeOf<Plain<RawOutputs<LiveAppRouter>>>()
    expectTypeOf<Plain<inferRouterError<AppRouter>>>().toEqualTypeOf<
      Plain<inferRouterError<LiveAppRouter>>
    >()
  })
})
