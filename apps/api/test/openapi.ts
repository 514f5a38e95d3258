import { Ajv2020 } from "ajv/dist/2020.js"
import { expect } from "vitest"
import type { Json } from "./harness.ts"

// biome-ignore lint/suspicious/noExplicitAny: the document is untyped JSON, walked by path
type Document = any

/**
 * Checks REST answers against the OpenAPI document the API serves: the operation of the method
 * and path must exist, document the status, and its schema must accept the body and headers.
 */
export const makeDocumentCheck = (document: Document) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true })
  ajv.addSchema({ $id: "doc", components: document.components ?? {} })
  const routes = Object.keys(document.paths).map((template) => ({
    template,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }))
  /** Local `#/components/...` references made to point into the registered document. */
  const rebase = (schema: unknown): unknown =>
    JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', '"$ref":"doc#/'))
  const validators = new Map<string, ReturnType<typeof ajv.compile>>()
  const validatorOf = (key: string, schema: unknown) => {
    let validate = validators.get(key)
    if (validate === undefined) {
      validate = ajv.compile(rebase(schema) as object)
      validators.set(key, validate)
    }
    return validate
  }

  return (method: string, url: string, status: number, headers: Headers, body: Json) => {
    const path = new URL(url, "http://api").pathname
    const route = routes.find(({ pattern }) => pattern.test(path))
    expect(route, `${method} ${path} is in the document`).toBeDefined()
    const operation = document.paths[route!.template][method.toLowerCase()]
    expect(operation, `${method} ${route!.template} is in the document`).toBeDefined()
    const answer = operation.responses[String(status)]
    expect(answer, `${method} ${route!.template} documents ${status}`).toBeDefined()
    const key = `${method} ${route!.template} ${status}`
    const schema = answer.content?.["application/json"]?.schema
    if (schema === undefined) {
      expect(body, `${key} has no body`).toBeUndefined()
    } else {
      const validate = validatorOf(key, schema)
      expect(validate(body), `${key}: ${ajv.errorsText(validate.errors)}`).toBe(true)
    }
    for (const [name, header] of Object.entries<Json>(answer.headers ?? {})) {
      const value = headers.get(name)
      if (value === null) {
        expect(header.required ?? false, `${key} sends required header ${name}`).toBe(false)
        continue
      }
      const validate = validatorOf(`${key} header ${name}`, header.schema ?? {})
      expect(validate(value), `${key} header ${name}: ${ajv.errorsText(validate.errors)}`).toBe(
        true,
      )
    }
  }
}
