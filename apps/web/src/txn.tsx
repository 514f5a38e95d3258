import { QueryClient, QueryClientProvider } from "@tanstack/react-query"
import { createTxnClient, isTxnError, type TxnClient } from "@txn/client"
import { createContext, type ReactNode, useContext, useMemo } from "react"

/**
 * The signed-in session: the typed client, made with the key or client token the person gave.
 * The credential lives only in this memory: not in the bundle, localStorage or a cookie, so a
 * reload signs out.
 */
export interface Session {
  readonly client: TxnClient
  /** The key or token itself, for requests outside tRPC (an export's download). */
  readonly secret: string
  /** What was signed in with, as a person reads it: "API key" or "client token". */
  readonly credential: "API key" | "client token"
  readonly signOut: () => void
}

const SessionContext = createContext<Session | undefined>(undefined)

/** The API is the page's own origin: the dashboard is served by it (or by Vite, which proxies). */
export const makeClient = (secret: string) =>
  createTxnClient({
    url: window.location.origin,
    ...(secret.startsWith("txnct_") ? { token: secret } : { apiKey: secret }),
  })

export const SessionProvider = (props: {
  readonly secret: string
  readonly signOut: () => void
  readonly children: ReactNode
}) => {
  const session = useMemo<Session>(
    () => ({
      client: makeClient(props.secret),
      secret: props.secret,
      credential: props.secret.startsWith("txnct_") ? "client token" : "API key",
      signOut: props.signOut,
    }),
    [props.secret, props.signOut],
  )
  const queries = useMemo(
    () =>
      new QueryClient({
        defaultOptions: {
          queries: {
            staleTime: 5_000,
            // The client retries what is worth retrying already; a refusal is an answer.
            retry: false,
            refetchOnWindowFocus: false,
          },
        },
      }),
    [],
  )
  return (
    <SessionContext.Provider value={session}>
      <QueryClientProvider client={queries}>{props.children}</QueryClientProvider>
    </SessionContext.Provider>
  )
}

/** The signed-in session; only inside SessionProvider. */
export const useSession = (): Session => {
  const session = useContext(SessionContext)
  if (session === undefined) throw new Error("useSession outside SessionProvider")
  return session
}

/** The typed client of the signed-in session (`txn.accounts.list.query(...)`). */
export const useTxn = (): TxnClient => useSession().client

export { isTxnError }
