import { type FormEvent, useState } from "react"
import { describeError } from "./errors.ts"
import { makeClient } from "./txn.tsx"

/**
 * Sign in with an API key (`npm start` prints the demo one) or a client token: checked against
 * the API before it is accepted, and kept only in this page's memory.
 */
export const SignIn = (props: { readonly onSignedIn: (secret: string) => void }) => {
  const [secret, setSecret] = useState("")
  const [error, setError] = useState<string | undefined>()
  const [checking, setChecking] = useState(false)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const given = secret.trim()
    if (given === "") {
      setError("Paste an API key or a client token.")
      return
    }
    setChecking(true)
    setError(undefined)
    try {
      await makeClient(given).accounts.list.query({ limit: 1 })
      props.onSignedIn(given)
    } catch (caught) {
      setError(describeError(caught))
    } finally {
      setChecking(false)
    }
  }
  return (
    <main className="sign-in">
      <h1>txn dashboard</h1>
      <form onSubmit={submit} aria-describedby="sign-in-help">
        <label htmlFor="secret">API key or client token</label>
        <input
          id="secret"
          name="secret"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={secret}
          onChange={(event) => setSecret(event.target.value)}
        />
        <p id="sign-in-help" className="hint">
          <code>npm start</code> prints a demo key. It stays in this tab's memory only: reloading
          the page signs you out.
        </p>
        <button type="submit" disabled={checking}>
          {checking ? "Checking…" : "Sign in"}
        </button>
        {error === undefined ? null : (
          <p role="alert" className="error">
            {error}
          </p>
        )}
      </form>
    </main>
  )
}
