import { useEffect, useRef, useState } from "react"
import { describeError } from "../errors.ts"
import { useTxn } from "../txn.tsx"
import type { LiveEvent } from "./liveFetchQueue.ts"

/** Where the live stream is: opening, receiving, or getting back after a drop. */
export type LiveState = "connecting" | "live" | "reconnecting"

/** How long to wait before opening a stream again after it ended with an error. */
const reopenAfterMs = 3_000

/**
 * Follows `transactions.live` (one account's changes when `accountId` is given) while mounted,
 * calling `onChange` with each change; resumes after the last event it got when the stream drops
 * or ends with an error, and unsubscribes on unmount or when the account changes.
 */
export const useLiveChanges = (
  accountId: string | undefined,
  onChange: (change: LiveEvent) => void,
): { readonly state: LiveState; readonly problem: string | undefined } => {
  const txn = useTxn()
  const [state, setState] = useState<LiveState>("connecting")
  const [problem, setProblem] = useState<string | undefined>()
  const handler = useRef(onChange)
  useEffect(() => {
    handler.current = onChange
  }, [onChange])

  useEffect(() => {
    let stopped = false
    let lastEventId: string | undefined
    let subscription: { unsubscribe: () => void } | undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const open = () => {
      if (stopped) return
      subscription = txn.transactions.live.subscribe(
        {
          ...(accountId === undefined ? {} : { accountId }),
          ...(lastEventId === undefined ? {} : { lastEventId }),
        },
        {
          onStarted: () => {
            if (stopped) return
            setState("live")
            setProblem(undefined)
          },
          onConnectionStateChange: (connection) => {
            if (stopped) return
            if (connection.state === "pending") {
              setState("live")
              setProblem(undefined)
            } else if (connection.state === "connecting") {
              setState((previous) =>
                connection.error !== null || previous !== "connecting" ? "reconnecting" : previous,
              )
            }
          },
          onData: ({ id, data }) => {
            lastEventId = id
            handler.current(data)
          },
          onError: (error) => {
            if (stopped) return
            setState("reconnecting")
            setProblem(describeError(error))
            subscription = undefined
            timer = setTimeout(open, reopenAfterMs)
          },
        },
      )
    }
    setState("connecting")
    setProblem(undefined)
    open()
    return () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      subscription?.unsubscribe()
    }
  }, [txn, accountId])

  return { state, problem }
}
