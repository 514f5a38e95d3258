import type { IncomingHttpHeaders } from "node:http"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as HttpBody from "effect/http/HttpBody"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpEffect from "effect/http/HttpEffect"
import type * as HttpMethod from "effect/http/HttpMethod"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpServerError from "effect/http/HttpServerError"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import type { AppContext } from "../context.ts"
import { TxnApi } from "./api.ts"
import { handlersLayer } from "./handlers.ts"
import { RestCall } from "./middleware.ts"

/** The OpenAPI 3.1 document of the REST API, as `/openapi.json` serves it. */
export const openApiDocument = () => OpenApi.fromApi(TxnApi)

/** An admitted REST request: its method, path and query as sent, headers and body (read already). */
export interface RestRequest {
  readonly method: HttpMethod.HttpMethod
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string | undefined
}

/** Where the REST door hands each answer back to the front, which writes it. */
class Reply extends Context.Service<
  Reply,
  (answer: HttpServerResponse.HttpServerResponse) => void
>()("@txn/api/rest/Reply") {}

/** An answer as Node writes it: its JSON (or text) body whole, or none. */
export interface RestAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | undefined
}

const answerOf = async (answer: HttpServerResponse.HttpServerResponse): Promise<RestAnswer> => {
  const { body, status, headers } = answer
  if (body._tag === "Empty") return { status, headers, body: undefined }
  if (body._tag === "Uint8Array") {
    return { status, headers: { "content-type": body.contentType, ...headers }, body: body.body }
  }
  // No operation answers another kind of body; should one, its Fetch form is read whole.
  const web = HttpServerResponse.toWeb(answer)
  return {
    status: web.status,
    headers: Object.fromEntries(web.headers),
    body: new Uint8Array(await web.arrayBuffer()),
  }
}

/**
 * The REST door: Effect's HttpApi router over the app's use cases, which the front calls once it
 * has admitted a request (authenticated, counted, body read), with that request's scope. The
 * request reaches HttpApi as Effect's own request value and its answer comes back as Effect's
 * response, with no Fetch request or response made in between. The app's services come from its
 * runtime, built once.
 */
export const makeRest = async (app: AppContext) => {
  const services = await app.runtime.context()
  // The app's services are the routes' base, merged once; only the RestCall, the request and
  // where to reply come with each request (merging every service into each request's context
  // would cost more than routing).
  const routes = HttpApiBuilder.layer(TxnApi).pipe(
    Layer.provide(handlersLayer),
    Layer.provide(HttpServer.layerServices),
    Layer.provideMerge(Layer.succeedContext(services)),
    Layer.provideMerge(HttpRouter.layer),
  ) as Layer.Layer<HttpRouter.HttpRouter>
  const scope = Scope.makeUnsafe()
  const base = await Effect.runPromise(Layer.buildWithScope(routes, scope))
  const answering = HttpEffect.toHandled(
    Context.get(base, HttpRouter.HttpRouter).asHttpEffect(),
    (_request, answer) => Reply.useSync((reply) => reply(answer)),
  )
  return {
    /**
     * Answers `request` for `call`. `abandon` stops the work when the client has gone (the
     * answer is then a 499 no one reads).
     */
    serve: (request: RestRequest, call: RestCall["Service"]) => {
      let reply: (answer: HttpServerResponse.HttpServerResponse) => void = () => undefined
      const answered = new Promise<HttpServerResponse.HttpServerResponse>((resolve) => {
        reply = resolve
      })
      const serverRequest = HttpServerRequest.fromClientRequest(
        HttpClientRequest.make(request.method)(`http://api${request.url}`, {
          headers: request.headers as Record<string, string>,
          ...(request.body === undefined
            ? {}
            : { body: HttpBody.text(request.body, "application/json") }),
        }),
      )
      const context = base.pipe(
        Context.add(RestCall, call),
        Context.add(Reply, reply),
        Context.add(HttpServerRequest.HttpServerRequest, serverRequest),
      )
      const fiber = Effect.runForkWith(context)(answering)
      return {
        answer: answered.then(answerOf),
        abandon: () => {
          if (fiber.pollUnsafe() === undefined) {
            fiber.interruptUnsafe(undefined, HttpServerError.ClientAbort.annotation)
          }
        },
      }
    },
    dispose: () => Effect.runPromise(Scope.close(scope, Exit.void)),
  }
}

export type Rest = Awaited<ReturnType<typeof makeRest>>

/**
 * `/docs`: Scalar's interactive reference of the REST API, its script served by the API itself
 * (inside `effect`), so it works offline. Built on the first visit: the script is 3 MB.
 */
export const makeDocs = () => {
  let docs: Promise<(request: Request) => Promise<Response>> | undefined
  return (request: Request) => {
    docs ??= import("effect/http-api/HttpApiScalar").then(
      (HttpApiScalar) =>
        HttpRouter.toWebHandler(
          HttpApiScalar.layer(TxnApi, {
            path: "/docs",
            scalar: {
              withDefaultFonts: false,
              authentication: { preferredSecurityScheme: "bearer" },
            },
          }).pipe(Layer.provide(HttpServer.layerServices)),
          { disableLogger: true },
        ).handler,
    )
    return docs.then((handler) => handler(request))
  }
}
