// The connection to the marketplace canister: which canister and endpoint, who signs, and an
// actor (agent-js) for the generated bindings.
//
// The canister serves this app, so by default the API is the page's own origin: on
// `mkt serve` (http://<id>.localhost:PORT) or on the IC (https://<id>.icp0.io), whose
// boundary nodes answer /api there too. `?canisterId=` names the canister where the host does
// not, and `?api=` points at another endpoint (a dev server beside `mkt serve`); both only on a
// local host or a custom domain, so a link cannot point <id>.icp0.io's keys at another canister.

import { Actor, AnonymousIdentity, HttpAgent, type ActorSubclass, type Identity } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { AuthClient } from '@icp-sdk/auth/client';
import { idlFactory } from '../../src/declarations/marketplace.did.js';
import type { _SERVICE } from '../../src/declarations/marketplace.did';
import { idlFactory as ledgerIdl } from '../../src/declarations/ledger.did.js';
import type { _SERVICE as _LEDGER, ApproveError, Allowance } from '../../src/declarations/ledger.did';
import { keystore } from './keystore';

export type Service = ActorSubclass<_SERVICE>;
/** An ICRC-1/ICRC-2 ledger: the app calls only the standards' methods, so any such ledger. */
export type Ledger = ActorSubclass<_LEDGER>;
export type { ApproveError, Allowance };
export type * from '../../src/declarations/marketplace.did';

export interface Endpoint {
  canisterId: Principal;
  host: string;
  /** A local endpoint (`mkt serve`, a local replica): fetch its root key, sign in with a dev key. */
  local: boolean;
}

const LOCAL_HOSTS = /(^|\.)localhost$|^127\.0\.0\.1$|^\[::1\]$/;

const isPrincipal = (text: string) => {
  try {
    Principal.fromText(text);
    return true;
  } catch {
    return false;
  }
};

export function endpoint(location: Location = window.location): Endpoint {
  const fromHost = location.hostname.split('.')[0];
  // Where the host names a canister (<id>.icp0.io) it wins: the query cannot redirect the app.
  const honoured = LOCAL_HOSTS.test(location.hostname) || !isPrincipal(fromHost);
  const params = new URLSearchParams(honoured ? location.search : '');
  const text = params.get('canisterId') ?? fromHost;
  let canisterId: Principal;
  try {
    canisterId = Principal.fromText(text);
  } catch {
    throw new Error(`Cannot tell which canister to talk to: open the app at https://<canister id>.icp0.io or add ?canisterId=<canister id> (got "${text}").`);
  }
  const host = params.get('api') ?? location.origin;
  const local = LOCAL_HOSTS.test(new URL(host).hostname);
  return { canisterId, host, local };
}

/**
 * On a raw domain (<id>.raw.icp0.io, <id>.raw.localhost) responses are not verified, so the app
 * must not run there with the keys it keeps in IndexedDB: goes to the same URL without `raw.`.
 * True when it left (the caller then does nothing else).
 */
export function leaveRawDomain(location: Location = window.location): boolean {
  const labels = location.hostname.split('.');
  if (labels[1] !== 'raw') return false;
  const url = new URL(location.href);
  url.hostname = [labels[0], ...labels.slice(2)].join('.');
  location.replace(url.href);
  return true;
}

export type SignIn = 'anonymous' | 'dev-key' | 'internet-identity';

export interface Session {
  identity: Identity;
  principal: Principal;
  kind: SignIn;
  actor: Service;
}

const DEV_KEY = 'identity/dev';
const SIGNED_OUT = 'identity/signed-out';
const EIGHT_HOURS_NS = 8n * 3600n * 1_000_000_000n;

let current: Session | undefined;
const listeners = new Set<(session: Session) => void>();
// Keyed by the identity object, not its principal: after signing out and in again the new
// identity (a new II delegation) gets a new agent, never one holding the old one.
const agents = new WeakMap<Identity, Promise<HttpAgent>>();
// One anonymous identity, so the public actor is made once.
const ANONYMOUS = new AnonymousIdentity();

function agentFor(identity: Identity, at: Endpoint): Promise<HttpAgent> {
  let agent = agents.get(identity);
  if (!agent) {
    agent = HttpAgent.create({ host: at.host, identity, shouldFetchRootKey: at.local });
    agents.set(identity, agent);
    agent.catch(() => agents.delete(identity));
  }
  return agent;
}

async function actorFor(identity: Identity, at: Endpoint): Promise<Service> {
  const agent = await agentFor(identity, at);
  return Actor.createActor<_SERVICE>(idlFactory, { agent, canisterId: at.canisterId });
}

/**
 * The market's ledger (`policies.currency.ledger`) as `who` signs (approvals), or anonymously
 * (balances and allowances are public, and a sign-in older than the ledger may not cover it).
 */
export async function ledgerFor(who: Session | 'anonymous', ledger: Principal): Promise<Ledger> {
  const agent = await agentFor(who === 'anonymous' ? ANONYMOUS : who.identity, endpoint());
  return Actor.createActor<_LEDGER>(ledgerIdl, { agent, canisterId: ledger });
}

/**
 * The market's ledger, asked for when the app starts, so that signing in with Internet
 * Identity can name it among the delegation's targets without waiting for a query: the sign-in
 * window must open straight from the click, or a popup blocker stops it.
 */
let knownLedger: Principal | undefined;
function learnLedger() {
  publicActor()
    .then((market) => market.policies())
    .then((policies) => {
      knownLedger = policies.currency[0]?.ledger;
    })
    .catch(() => undefined);
}

let client: AuthClient | undefined;
/**
 * The page's one AuthClient. No idle manager: its default signs out and reloads the page after
 * 10 idle minutes, losing what was typed; the delegation expires after 8 hours anyway.
 */
const auth = () => (client ??= new AuthClient({ idleOptions: { disableIdle: true } }));

async function become(identity: Identity, kind: SignIn): Promise<Session> {
  const actor = await actorFor(identity, endpoint());
  current = { identity, principal: identity.getPrincipal(), kind, actor };
  for (const listener of listeners) listener(current);
  return current;
}

/** The session now: anonymous until someone signs in. */
export async function session(): Promise<Session> {
  if (current) return current;
  const at = endpoint();
  if (!at.local) learnLedger();
  if (at.local) {
    const stored = await keystore.get<string>(DEV_KEY);
    if (stored && !(await keystore.get<boolean>(SIGNED_OUT))) {
      return become(Ed25519KeyIdentity.fromJSON(stored), 'dev-key');
    }
  } else {
    // Internet Identity (id.ai, the client's default provider), session kept in IndexedDB.
    if (auth().isAuthenticated()) return become(await auth().getIdentity(), 'internet-identity');
  }
  return become(ANONYMOUS, 'anonymous');
}

export function onSession(listener: (session: Session) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Signs in: a dev key kept in this browser on a local endpoint, Internet Identity on the IC. */
export async function signIn(): Promise<Session> {
  const at = endpoint();
  if (at.local) {
    let stored = await keystore.get<string>(DEV_KEY);
    if (!stored) {
      stored = JSON.stringify(Ed25519KeyIdentity.generate().toJSON());
      await keystore.set(DEV_KEY, stored);
    }
    await keystore.delete(SIGNED_OUT);
    return become(Ed25519KeyIdentity.fromJSON(stored), 'dev-key');
  }
  // The delegation may sign for the market and for its ledger (approvals), nothing else.
  const targets = knownLedger ? [at.canisterId, knownLedger] : [at.canisterId];
  try {
    const identity = await auth().signIn({ maxTimeToLive: EIGHT_HOURS_NS, targets });
    return become(identity, 'internet-identity');
  } catch (e) {
    throw new Error(`Internet Identity did not sign you in: ${e instanceof Error ? e.message : e}`);
  }
}

export async function signOut(): Promise<Session> {
  // The dev key stays (it may be a provider's delegate); only the choice to use it goes.
  if (endpoint().local) await keystore.set(SIGNED_OUT, true);
  else await auth().signOut();
  return become(ANONYMOUS, 'anonymous');
}

/**
 * The market as `identity` signs, besides the session: a provider's own key, for the calls the
 * market takes only from the key itself (`provider_payout_set`).
 */
export function marketAs(identity: Identity): Promise<Service> {
  return actorFor(identity, endpoint());
}

/** The anonymous actor, for public queries whoever is signed in. */
export function publicActor(): Promise<Service> {
  return actorFor(ANONYMOUS, endpoint());
}
