import type { ServerResponse } from "node:http"
import { type DomainError, Forbidden, MethodNotAllowed } from "@txn/domain"
import { sendRefusal } from "./admission.ts"
import { anonymousRefusal, type Caller, credentialName } from "./context.ts"
import { restDoor } from "./rest/errors.ts"

/**
 * What the REST routes that stream rather than answer JSON (export downloads, live changes) share
 * once the front door has admitted a request.
 */

/** A refusal in REST's error shape, as every other REST answer gives it. */
export const sendRestError = (response: ServerResponse, requestId: string, error: DomainError) =>
  sendRefusal(response, restDoor, error, requestId)

/**
 * The caller as a user holding the read scope, calling with GET: otherwise the refusal, as the
 * HttpApi routes would answer it (401 without a key, 403 for the admin token or a key without the
 * scope, 405 for another method, with Allow set on `response`).
 */
export const readingUser = (
  caller: Caller,
  method: string | undefined,
  response: ServerResponse,
  what: string,
): Extract<Caller, { readonly kind: "user" }> | DomainError => {
  if (caller.kind === "admin") {
    return new Forbidden({
      message: "The admin token cannot act as a user; use an API key",
      requiredScope: "read",
    })
  }
  if (caller.kind !== "user") return anonymousRefusal(caller)
  if (!caller.scopes.includes("read")) {
    return new Forbidden({
      message: `This ${credentialName(caller)} lacks the read scope`,
      requiredScope: "read",
    })
  }
  if (method !== "GET") {
    response.setHeader("allow", "GET")
    return new MethodNotAllowed({ message: `${what} answer GET, not ${method}`, allowed: ["GET"] })
  }
  return caller
}
