import * as Context from "effect/Context"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as HttpApiBuilder from "effect/http-api/HttpApiBuilder"
import * as OpenApi from "effect/http-api/OpenApi"
import * as Layer from "effect/Layer"
import type { AppContext } from "../context.ts"
import { TxnApi } from "./api.ts"
import { handlersLayer, RestCall } from "./handlers.ts"

/** The OpenAPI 3.1 document of the REST API, as `/openapi.json` serves it. */
export const openApiDocument = () => OpenApi.fromApi(TxnApi)

/**
 * The REST door: Effect's HttpApi router over the app's use cases, as a Fetch handler the front
 * calls once it has admitted a request (authenticated, counted, body read), with that request's
 * scope. The app's services come from its runtime, built once.
 */
export const makeRest = async (app: AppContext) => {
  const services = await app.runtime.context()
  // The app's services are the handler's base, merged once; only the RestCall comes with each
  // request (merging every service into each request's context would cost more than routing).
  const routes = HttpApiBuilder.layer(TxnApi).pipe(
    Layer.provide(handlersLayer),
    Layer.provide(HttpServer.layerServices),
    Layer.provideMerge(Layer.succeedContext(services)),
  ) as Layer.Layer<never, never, HttpRouter.HttpRouter>
  const { handler, dispose } = HttpRouter.toWebHandler(routes, { disableLogger: true })
  return {
    serve: (request: Request, call: RestCall["Service"]) =>
      handler(request, Context.make(RestCall, call) as Context.Context<never>),
    dispose,
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
