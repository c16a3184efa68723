// What every provider page shares: the provider keys kept in this browser (IndexedDB, never
// sent anywhere), the key in use, the sub-navigation, and small form helpers.
import type { ComponentChildren } from 'preact';
import type { ProviderKeyInput, Session } from '../../api';
import { keystore } from '../../keystore';
import { href } from '../../router';
import { pemOf, publicKeyOf, toHex } from '../../signing';
import { Alert, Loading, Page, inNat64, useLoad } from '../../ui';

const KEY = 'provider/key/';
const CURRENT = 'provider/current';
const SEQ = 'provider/seq/';

export interface ProviderKey {
  secret: Uint8Array;
  publicKey: Uint8Array;
  /** The public key in hex: the key's name in this browser. */
  hex: string;
  pem: string;
}

const described = (secret: Uint8Array): ProviderKey => {
  const publicKey = publicKeyOf(secret);
  return { secret, publicKey, hex: toHex(publicKey), pem: pemOf(publicKey) };
};

export const providerKeys = {
  /** Every provider key in this browser, the one in use first. */
  async all(): Promise<{ current?: ProviderKey; others: ProviderKey[] }> {
    const currentHex = await keystore.get<string>(CURRENT);
    const keys: ProviderKey[] = [];
    for (const name of await keystore.names(KEY)) {
      const secret = await keystore.get<Uint8Array>(name);
      if (secret) keys.push(described(Uint8Array.from(secret)));
    }
    const current = keys.find((k) => k.hex === currentHex);
    return { current, others: keys.filter((k) => k !== current) };
  },
  async current(): Promise<ProviderKey | undefined> {
    return (await this.all()).current;
  },
  /** Keeps `secret` and makes it the key in use. */
  async add(secret: Uint8Array): Promise<ProviderKey> {
    const key = described(secret);
    await keystore.set(KEY + key.hex, secret);
    await keystore.set(CURRENT, key.hex);
    return key;
  },
  use: (hex: string) => keystore.set(CURRENT, hex),
  async forget(hex: string) {
    await keystore.delete(KEY + hex);
    if ((await keystore.get<string>(CURRENT)) === hex) await keystore.delete(CURRENT);
  },
  /** The last catalog sequence number this browser signed with the key. */
  async lastSeq(hex: string): Promise<bigint> {
    return BigInt((await keystore.get<string>(SEQ + hex)) ?? '0');
  },
  setLastSeq: (hex: string, seq: bigint) => keystore.set(SEQ + hex, seq.toString()),
};

export const pemInput = (key: ProviderKey): ProviderKeyInput => ({ Pem: key.pem });

const TABS: [string, string][] = [
  ['', 'Key'],
  ['catalog', 'Catalog'],
  ['delegate', 'Delegate'],
  ['inventory', 'Inventory'],
  ['leases', 'Leases'],
  ['payouts', 'Payouts'],
];

export function SubNav(props: { current: string }) {
  return (
    <nav aria-label="Provider console" class="subnav">
      <ul>
        {TABS.map(([part, label]) => (
          <li key={part}>
            <a href={part ? href('provider', part) : href('provider')} aria-current={props.current === part ? 'page' : undefined}>
              {label}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

/**
 * A provider page: the sub-navigation, then `children(key)` once the key in use is loaded; a
 * page that needs a key says where to make one.
 */
export function ProviderPage(props: {
  title: string;
  tab: string;
  intro?: ComponentChildren;
  who: Session;
  /** The market methods need a signed-in delegate. */
  needsSignIn?: boolean;
  children: (key: ProviderKey) => ComponentChildren;
}) {
  const { data, error, loading } = useLoad(() => providerKeys.current(), []);
  return (
    <Page title={props.title} intro={props.intro}>
      <SubNav current={props.tab} />
      {loading && <Loading what="your provider key" />}
      {error && <Alert>{error}</Alert>}
      {!loading && !error && !data && (
        <p role="status" class="notice">
          This browser has no provider key yet. <a href={href('provider')}>Create or import one</a> first.
        </p>
      )}
      {data && props.needsSignIn && props.who.kind === 'anonymous' && (
        <p role="status" class="notice">
          Sign in first: the market takes these calls from a principal your key delegated to (see{' '}
          <a href={href('provider', 'delegate')}>Delegate</a>).
        </p>
      )}
      {data && !(props.needsSignIn && props.who.kind === 'anonymous') && props.children(data)}
    </Page>
  );
}


/** A local date and time typed as "YYYY-MM-DD HH:MM" as nanoseconds since the epoch. */
export function nanos(value: string, what: string): bigint {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})$/.exec(value.trim());
  const ms = m ? new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]).getTime() : NaN;
  if (Number.isNaN(ms)) throw new Error(`${what} must be a date and time such as 2030-01-31 14:00.`);
  return inNat64(BigInt(ms) * 1_000_000n, `${what} must be between 1970 and 2554.`);
}

/** A time as "YYYY-MM-DD HH:MM", in local time, to the minute. */
export function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A phase or status variant in words: `{ Available: null }` → "Available". */
export const caseOf = (value: object) => Object.keys(value)[0].replace(/([a-z])([A-Z])/g, '$1 $2');
