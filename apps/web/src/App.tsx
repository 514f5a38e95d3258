import { lazy, Suspense, useCallback, useState } from "react"
import { Link, Redirect, Route, Router, Switch, useLocation } from "wouter"
import { SignIn } from "./SignIn.tsx"
import { SessionProvider, useSession } from "./txn.tsx"

const Accounts = lazy(() => import("./screens/Accounts.tsx"))
const Transactions = lazy(() => import("./screens/Transactions.tsx"))
const Summary = lazy(() => import("./screens/Summary.tsx"))
const Exports = lazy(() => import("./screens/Exports.tsx"))
const Webhooks = lazy(() => import("./screens/Webhooks.tsx"))

const screens = [
  { path: "/accounts", label: "Accounts", Screen: Accounts },
  { path: "/transactions", label: "Transactions", Screen: Transactions },
  { path: "/summary", label: "Summary", Screen: Summary },
  { path: "/exports", label: "Exports", Screen: Exports },
  { path: "/webhooks", label: "Webhooks", Screen: Webhooks },
] as const

const NavLink = (props: { readonly path: string; readonly label: string }) => {
  const [location] = useLocation()
  const active = location === props.path || location.startsWith(`${props.path}/`)
  return (
    <Link
      href={props.path}
      className={active ? "active" : undefined}
      aria-current={active ? "page" : undefined}
    >
      {props.label}
    </Link>
  )
}

const Shell = () => {
  const { credential, signOut } = useSession()
  return (
    <div className="shell">
      <header>
        <span className="brand">txn</span>
        <nav aria-label="Screens">
          {screens.map(({ path, label }) => (
            <NavLink key={path} path={path} label={label} />
          ))}
        </nav>
        <span className="who">Signed in with an {credential}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        <Suspense fallback={<p aria-busy="true">Loading…</p>}>
          <Switch>
            {screens.map(({ path, Screen }) => (
              <Route key={path} path={path} nest>
                <Screen />
              </Route>
            ))}
            <Route>
              <Redirect to="/accounts" replace />
            </Route>
          </Switch>
        </Suspense>
      </main>
    </div>
  )
}

/** Signed out: the sign-in form. Signed in: the screens, under /app. */
export const App = () => {
  const [secret, setSecret] = useState<string | undefined>()
  const signOut = useCallback(() => setSecret(undefined), [])
  return (
    <Router base="/app">
      {secret === undefined ? (
        <SignIn onSignedIn={setSecret} />
      ) : (
        <SessionProvider secret={secret} signOut={signOut}>
          <Shell />
        </SessionProvider>
      )}
    </Router>
  )
}
