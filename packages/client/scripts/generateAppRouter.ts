/**
 * Writes `src/generated/AppRouter.ts`: the API router's type, every procedure's input and output
 * printed structurally (plain objects, unions, literals, arrays; Effect brands reduced to their
 * base type), expressed with @trpc/server's public type helpers. The published client's
 * declarations carry these types, so a consumer's `tsc` gets full inference without reading any
 * file of the server, Effect or the database layer.
 *
 * `npm run generate -w @txn/client` rewrites the file; `--check` only says whether it is current
 * (test/generatedAppRouter.test.ts runs the same comparison).
 */
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const packageDir = join(dirname(fileURLToPath(import.meta.url)), "..")
export const generatedPath = join(packageDir, "src/generated/AppRouter.ts")

/** What the generator reads: the live router, its error shape, and each domain error's fields. */
const probeSource = `
import type { AppRouter } from "@txn/api/router"
import type * as Domain from "@txn/domain"
export type Probe = {
  record: AppRouter["_def"]["record"]
  errorShape: AppRouter["_def"]["_config"]["$types"]["errorShape"]
  details: {
    [T in Exclude<Domain.DomainErrorTag, "ValidationError">]: Omit<ConstructorParameters<(typeof Domain)[T]>[0], "message" | "_tag">
  }
}
`

/** Internal to the compiler, but stable for years: whether a property is readonly. */
const compilerInternals = ts as unknown as {
  getCheckFlags(symbol: ts.Symbol): number
  CheckFlags: { Readonly: number }
}

class Printer {
  readonly #checker: ts.TypeChecker
  readonly #undefinedType: ts.Type
  readonly #seen: Array<ts.Type> = []
  /** Object types the domain names: printed once, as an alias, and referred to by name. */
  readonly #names: ReadonlyMap<ts.Type, string>
  /** The named types referred to so far, in order of first use. */
  readonly used = new Map<string, ts.Type>()

  constructor(checker: ts.TypeChecker, names: ReadonlyMap<ts.Type, string>) {
    this.#checker = checker
    this.#undefinedType = checker.getUndefinedType()
    this.#names = names
  }

  /** The declaration of a named type, printed structurally. */
  declare(name: string, type: ts.Type): string {
    return `export type ${name} = ${this.#print(type, "")}`
  }

  print(type: ts.Type, indent: string): string {
    const name = this.#names.get(type)
    if (name !== undefined) {
      if (!this.used.has(name)) this.used.set(name, type)
      return name
    }
    if (this.#seen.includes(type)) {
      throw new Error(`Recursive type ${this.#checker.typeToString(type)}: cannot inline it`)
    }
    this.#seen.push(type)
    try {
      return this.#print(type, indent)
    } finally {
      this.#seen.pop()
    }
  }

  #print(type: ts.Type, indent: string): string {
    const f = type.flags
    if (f & ts.TypeFlags.Any) throw new Error("`any` in the router's types: type it first")
    if (f & ts.TypeFlags.Unknown) return "unknown"
    if (f & ts.TypeFlags.Never) return "never"
    if (f & ts.TypeFlags.Void) return "void"
    if (f & ts.TypeFlags.Undefined) return "undefined"
    if (f & ts.TypeFlags.Null) return "null"
    if (f & ts.TypeFlags.String) return "string"
    if (f & ts.TypeFlags.Number) return "number"
    if (f & ts.TypeFlags.BigInt) return "bigint"
    if (f & ts.TypeFlags.Boolean) return "boolean"
    if (f & ts.TypeFlags.BooleanLiteral) return this.#checker.typeToString(type)
    if (type.isStringLiteral()) return JSON.stringify(type.value)
    if (type.isNumberLiteral()) return String(type.value)
    if (type.isUnion()) return this.#union(type.types, indent)
    if (type.isIntersection()) return this.#intersection(type, indent)
    if (f & ts.TypeFlags.Object) return this.#object(type as ts.ObjectType, indent)
    throw new Error(`Cannot inline ${this.#checker.typeToString(type)}`)
  }

  #union(members: ReadonlyArray<ts.Type>, indent: string): string {
    const printed: Array<string> = []
    const booleans = members.filter((m) => m.flags & ts.TypeFlags.BooleanLiteral)
    for (const member of members) {
      if (member.flags & ts.TypeFlags.BooleanLiteral && booleans.length === 2) {
        if (!printed.includes("boolean")) printed.push("boolean")
        continue
      }
      const text = this.print(member, indent)
      printed.push(member.isIntersection() && text.includes(" & ") ? `(${text})` : text)
    }
    // Sorted: the checker orders a union's members as it happened to create their types, which
    // can differ from one run to the next, and the file must come out the same every time.
    return [...new Set(printed)].sort().join(" | ")
  }

  /** Effect's brand (`{ "~effect/Brand": { AccountId: "AccountId" } }`) or a symbol-keyed one. */
  #isBrand(type: ts.Type): boolean {
    if (!(type.flags & ts.TypeFlags.Object)) return false
    const properties = this.#checker.getPropertiesOfType(type)
    return (
      properties.length > 0 &&
      properties.every(
        (p) => p.name === "~effect/Brand" || p.escapedName.toString().startsWith("__@"),
      ) &&
      this.#checker.getIndexInfosOfType(type).length === 0
    )
  }

  #intersection(type: ts.IntersectionType, indent: string): string {
    const kept = type.types.filter((member) => !this.#isBrand(member))
    if (kept.length === 0)
      throw new Error(`A brand without a base: ${this.#checker.typeToString(type)}`)
    const printed = kept.map((member) => {
      const text = this.print(member, indent)
      return member.isUnion() ? `(${text})` : text
    })
    return printed.join(" & ")
  }

  #object(type: ts.ObjectType, indent: string): string {
    const checker = this.#checker
    // Clients read only what it yields; its return and next types (`any` by default) are left
    // out, so older lib typings with one type parameter read it too.
    if (["AsyncGenerator", "AsyncIterable"].includes(type.symbol?.name ?? "")) {
      const [yielded] = checker.getTypeArguments(type as ts.TypeReference)
      return `AsyncIterable<${this.print(yielded!, indent)}>`
    }
    if (checker.isArrayType(type)) {
      const [element] = checker.getTypeArguments(type as ts.TypeReference)
      const name = type.symbol?.name === "ReadonlyArray" ? "ReadonlyArray" : "Array"
      return `${name}<${this.print(element!, indent)}>`
    }
    if (checker.isTupleType(type)) {
      const reference = type as ts.TupleTypeReference
      const flags = reference.target.elementFlags
      const elements = checker.getTypeArguments(reference).map((element, i) => {
        const text = this.print(element, indent)
        const flag = flags[i] ?? ts.ElementFlags.Required
        if (flag & ts.ElementFlags.Rest) return `...Array<${text}>`
        return flag & ts.ElementFlags.Optional ? `${text}?` : text
      })
      return `${reference.target.readonly ? "readonly " : ""}[${elements.join(", ")}]`
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      throw new Error(`A function in the router's data: ${checker.typeToString(type)}`)
    }
    const inner = `${indent}  `
    const lines: Array<string> = []
    for (const info of checker.getIndexInfosOfType(type)) {
      const key = this.print(info.keyType, inner)
      lines.push(
        `${inner}${info.isReadonly ? "readonly " : ""}[key: ${key}]: ${this.print(info.type, inner)}`,
      )
    }
    for (const property of checker.getPropertiesOfType(type)) {
      const name = property.getName()
      if (name.startsWith("__@")) throw new Error(`A symbol-keyed property: ${name}`)
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0
      let propertyType = checker.getTypeOfSymbol(property)
      // With exactOptionalPropertyTypes the optionality's own `undefined` is a separate
      // "missing" type: drop it, keep an `undefined` the schema allows explicitly.
      if (optional && propertyType.isUnion()) {
        const members = propertyType.types.filter(
          (m) => !(m.flags & ts.TypeFlags.Undefined) || m === this.#undefinedType,
        )
        lines.push(
          `${inner}${this.#readonly(property) ? "readonly " : ""}${key(name)}?: ${this.#union(members, inner)}`,
        )
        continue
      }
      if (
        optional &&
        propertyType.flags & ts.TypeFlags.Undefined &&
        propertyType !== this.#undefinedType
      ) {
        propertyType = checker.getNeverType()
      }
      lines.push(
        `${inner}${this.#readonly(property) ? "readonly " : ""}${key(name)}${optional ? "?" : ""}: ${this.print(propertyType, inner)}`,
      )
    }
    // Biome refuses `{}`, which would also take any primitive.
    return lines.length === 0 ? "Record<string, never>" : `{\n${lines.join("\n")}\n${indent}}`
  }

  #readonly(property: ts.Symbol): boolean {
    if (compilerInternals.getCheckFlags(property) & compilerInternals.CheckFlags.Readonly)
      return true
    return (property.declarations ?? []).some(
      (declaration) => ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly,
    )
  }
}

const key = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name))

const propertyType = (checker: ts.TypeChecker, type: ts.Type, name: string): ts.Type => {
  const property = checker.getPropertyOfType(type, name)
  if (property === undefined) throw new Error(`No ${name} in ${checker.typeToString(type)}`)
  return checker.getTypeOfSymbol(property)
}

/** The generated module's text, from the router as the monorepo's sources define it now. */
export const generateAppRouter = (): string => {
  const configPath = join(packageDir, "tsconfig.json")
  const config = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"))
      },
    },
  )
  if (config === undefined) throw new Error(`Cannot read ${configPath}`)
  const options = { ...config.options, exactOptionalPropertyTypes: true, noEmit: true }
  const probePath = join(packageDir, "src/generated/.probe.ts")
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile.bind(host)
  host.getSourceFile = (fileName, language, ...rest) =>
    fileName === probePath
      ? ts.createSourceFile(fileName, probeSource, language)
      : getSourceFile(fileName, language, ...rest)
  const fileExists = host.fileExists.bind(host)
  host.fileExists = (fileName) => fileName === probePath || fileExists(fileName)
  const program = ts.createProgram({ rootNames: [probePath], options, host })
  const errors = ts.getPreEmitDiagnostics(program, program.getSourceFile(probePath))
  if (errors.length > 0) {
    throw new Error(ts.formatDiagnostics(errors, { ...host, getNewLine: () => "\n" }))
  }
  const checker = program.getTypeChecker()
  const probeFile = program.getSourceFile(probePath)!
  const probeNode = probeFile.statements.find(ts.isTypeAliasDeclaration)!
  const probe = checker.getTypeFromTypeNode(probeNode.type)
  const domain = probeFile.statements
    .filter(ts.isImportDeclaration)
    .map((declaration) => checker.getSymbolAtLocation(declaration.moduleSpecifier))
    .find((symbol) => symbol?.name.includes("domain"))
  if (domain === undefined) throw new Error("Cannot find @txn/domain's exports")
  const names = new Map<ts.Type, string>()
  for (const exported of checker.getExportsOfModule(domain)) {
    const symbol =
      exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported
    if (!(symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) continue
    const type = checker.getDeclaredTypeOfSymbol(symbol)
    const isPlainObject =
      type.flags & ts.TypeFlags.Object &&
      !checker.isArrayType(type) &&
      !checker.isTupleType(type) &&
      type.getCallSignatures().length === 0 &&
      type.getConstructSignatures().length === 0
    if (isPlainObject && !names.has(type)) names.set(type, exported.name)
  }
  const printer = new Printer(checker, names)

  /** The mutations whose input takes an `idempotencyKey`: the creates a client may retry. */
  const idempotentCreates: Array<string> = []
  const record = (type: ts.Type, indent: string, path: ReadonlyArray<string>): string => {
    const inner = `${indent}  `
    const lines = checker.getPropertiesOfType(type).map((entry) => {
      const value = checker.getTypeOfSymbol(entry)
      const def = checker.getPropertyOfType(value, "_def")
      const at = [...path, entry.name]
      if (def === undefined) return `${inner}${key(entry.name)}: ${record(value, inner, at)}`
      const defType = checker.getTypeOfSymbol(def)
      if (checker.getPropertyOfType(defType, "procedure") === undefined) {
        // A nested router: its record holds the procedures.
        return `${inner}${key(entry.name)}: ${record(propertyType(checker, defType, "record"), inner, at)}`
      }
      const kind = checker.typeToString(propertyType(checker, defType, "type"))
      const helper = {
        '"query"': "TRPCQueryProcedure",
        '"mutation"': "TRPCMutationProcedure",
        '"subscription"': "TRPCSubscriptionProcedure",
      }[kind]
      if (helper === undefined) throw new Error(`Procedure ${entry.name} is a ${kind}`)
      const types = propertyType(checker, defType, "$types")
      const input = propertyType(checker, types, "input")
      const takesKey = (input.isUnion() ? input.types : [input]).some(
        (member) => checker.getPropertyOfType(member, "idempotencyKey") !== undefined,
      )
      if (helper === "TRPCMutationProcedure" && takesKey) idempotentCreates.push(at.join("."))
      const more = `${inner}  `
      return [
        `${inner}${key(entry.name)}: ${helper}<{`,
        `${more}input: ${printer.print(input, more)}`,
        `${more}output: ${printer.print(propertyType(checker, types, "output"), more)}`,
        `${more}meta: object`,
        `${inner}}>`,
      ].join("\n")
    })
    return `{\n${lines.join("\n")}\n${indent}}`
  }

  const errorShape = printer.print(propertyType(checker, probe, "errorShape"), "")
  const details = printer.print(propertyType(checker, probe, "details"), "")
  const router = record(propertyType(checker, probe, "record"), "  ", [])
  const declarations: Array<string> = []
  for (let i = 0; i < printer.used.size; i++) {
    const [name, type] = [...printer.used][i]!
    declarations.push(printer.declare(name, type))
  }
  const text = `// Generated by scripts/generateAppRouter.ts from apps/api/src/router.ts: do not edit.
// \`npm run generate -w @txn/client\` rewrites it; test/generatedAppRouter.test.ts fails when it is stale.
import type {
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from "@trpc/server"

/** The shape of every error the API answers, as its error formatter makes it. */
export type ErrorShape = ${errorShape}

/** What \`data.details\` holds for each error tag the API raises with details. */
export type ErrorDetails = ${details}

/** The API's router: every procedure with its input and output, as the server types them. */
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: ErrorShape; transformer: false },
  ${router}
>

/** The creates that take an idempotency key: the client may retry them with one. */
export const idempotentCreates: ReadonlyArray<string> = ${JSON.stringify(idempotentCreates)}

${declarations.join("\n\n")}
`
  return format(text)
}

/** The text as `npm run lint` wants it. */
const format = (text: string): string => {
  const biome = join(packageDir, "../../node_modules/.bin/biome")
  const result = spawnSync(biome, ["format", `--stdin-file-path=${generatedPath}`], {
    input: text,
    encoding: "utf8",
  })
  if (result.status !== 0) throw new Error(`biome format failed: ${result.stderr}`)
  return result.stdout
}

if (import.meta.main) {
  const text = generateAppRouter()
  const current = (() => {
    try {
      return readFileSync(generatedPath, "utf8")
    } catch {
      return undefined
    }
  })()
  if (process.argv.includes("--check")) {
    if (current !== text) {
      console.error(`${generatedPath} is stale: run npm run generate -w @txn/client`)
      process.exit(1)
    }
  } else if (current !== text) {
    writeFileSync(generatedPath, text)
    console.log(`Wrote ${generatedPath}`)
  }
}
