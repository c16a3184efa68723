// The app's frame: header with navigation and sign-in, and the page the hash names.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { endpoint, leaveRawDomain, onSession, session, signIn, signOut, type Session } from './api';
import { failure } from './errors';
import { Alert } from './ui';
import { useRoute, type Route } from './router';
import { Browse, OfferingDetail } from './pages/browse';
import { Products } from './pages/products';
import { consumerPage } from './pages/consumer';
import { providerPage } from './pages/provider';
import './style.css';

function page(route: Route, who: Session) {
  const [first = 'search', ...rest] = route.parts;
  switch (first) {
    case 'search':
      return <Browse route={route} />;
    case 'offering':
      return <OfferingDetail provider={rest[0]} offeringKey={rest[1]} />;
    case 'products':
      return <Products />;
    case 'provider':
      return providerPage(rest, route, who);
    default:
      return consumerPage(first, rest, route, who) ?? <Alert>There is no page at #{route.parts.join('/')}.</Alert>;
  }
}

const NAV: [string, string][] = [
  ['#/search', 'Search'],
  ['#/products', 'Products'],
  ['#/request', 'Request'],
  ['#/leases', 'My leases'],
  ['#/projects', 'My projects'],
  ['#/payments', 'Payments'],
  ['#/provider', 'Provider'],
];

function App() {
  const route = useRoute();
  const [who, setWho] = useState<Session>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    // An error about the last session says nothing about the new one.
    const off = onSession((s) => {
      setError(undefined);
      setWho(s);
    });
    session().then(setWho, (e) => setError(failure(e)));
    return off;
  }, []);
  // A new page takes the focus, so screen readers read it; the first page keeps the browser's.
  const loaded = useRef(false);
  useEffect(() => {
    if (loaded.current) document.getElementById('main')?.focus();
    loaded.current = true;
  }, [route]);
  const current = route.parts[0] === 'lease' ? '#/leases' : `#/${route.parts[0] ?? 'search'}`;
  const act = (work: () => Promise<unknown>) => {
    setError(undefined);
    return work().catch((e) => setError(failure(e)));
  };
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header>
        <strong class="brand">Compute Marketplace</strong>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([target, label]) => (
              <li key={target}>
                <a href={target} aria-current={current === target ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {who && who.kind !== 'anonymous' ? (
            <>
              <span title={who.principal.toText()} data-testid="principal">
                {who.kind === 'dev-key' ? 'Dev key ' : ''}
                {who.principal.toText().slice(0, 11)}…
              </span>
              <button type="button" onClick={() => act(signOut)}>
                Sign out
              </button>
            </>
          ) : (
            <button type="button" onClick={() => act(signIn)} disabled={!who}>
              {endpoint().local ? 'Sign in (dev key)' : 'Sign in with Internet Identity'}
            </button>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {error && <Alert>{error}</Alert>}
        {who ? page(route, who) : <p role="status">Connecting to the canister…</p>}
      </main>
      <footer>
        Canister <code>{safeCanister()}</code> · served certified by the canister itself
      </footer>
    </>
  );
}

function safeCanister() {
  try {
    return endpoint().canisterId.toText();
  } catch {
    return 'unknown';
  }
}

// Before anything else: nothing may run on an unverified raw domain.
if (!leaveRawDomain()) render(<App />, document.getElementById('app')!);
