// What the consumer pages share: phases as words, prices, windows, a polling hook, the
// sign-in note.
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Actor as Who, Attributes, Currency, Phase, Policies, Session } from '../../api';
import { failure } from '../../errors';
import { publicActor } from '../../api';
import { gb, memory, money, nat64, opt, time, tokens, units, useLoad, variant } from '../../ui';

type Cases<T> = T extends unknown ? keyof T : never;
/** A phase's name: "Available", "Completed", … */
export type PhaseName = Cases<Phase> & string;

/** Every phase, in the order a lease normally goes through them, then the other endings. */
export const PHASES: PhaseName[] = [
  'Offered', 'Accepted', 'Waiting', 'Preparing', 'Available', 'Releasing', 'Completed',
  'Cancelled', 'Failed', 'Rejected', 'Expired',
];
/** Phases a lease never leaves. */
export const FINAL: PhaseName[] = ['Completed', 'Cancelled', 'Failed', 'Rejected', 'Expired'];

export const phaseOf = (phase: Phase) => variant(phase) as PhaseName;

/** "AVAILABLE" (the audit log's spelling) → "Available". */
export const phaseWord = (name: string) => name.charAt(0).toUpperCase() + name.slice(1).toLowerCase();

/** A transfer's purpose as the consumer reads it (a lease's payment, the statement). */
export const PURPOSE: Record<string, string> = {
  Price: 'Paid into escrow',
  Extension: 'Extension paid into escrow',
  Refund: 'Refunded to you',
  Payout: 'Paid to the provider',
  MarketFee: "The market's fee",
  Deposit: "The hold's deposit, paid into escrow",
};

/** Prices are hundredths of a US dollar. */
export const usd = (minor: bigint) => money(minor, 'USD');

/**
 * The market's currency: its ledger's in a paying market, `null` in a free one (prices in US
 * dollars), `undefined` while not known yet.
 */
export type MarketCurrency = Currency | null | undefined;

/** A price as the market counts it: the ledger's units with its symbol, or US dollars. */
export function price(amount: bigint, currency?: MarketCurrency): string {
  if (!currency) return usd(amount);
  const decimals = opt(currency.decimals);
  // A ledger that has not described itself yet: its base units, never mistaken for dollars.
  return decimals === undefined ? `${amount} base units` : tokens(amount, decimals, opt(currency.symbol) ?? 'tokens');
}
export const perHour = (minor: bigint, currency?: MarketCurrency) => `${price(minor, currency)} an hour`;

/** The market's currency, read once per page (`undefined` until it is known). */
export function useCurrency(): MarketCurrency {
  const policies = useLoad(async () => (await publicActor()).policies(), []);
  return policies.data && (opt(policies.data.currency) ?? null);
}

/** `policies.currency` as a `MarketCurrency`. */
export const currencyOf = (policies?: Policies): MarketCurrency => policies && (opt(policies.currency) ?? null);

/** What prices are typed in: the ledger's symbol in a paying market, else US dollars. */
export function currencyName(currency: MarketCurrency): string {
  if (!currency) return 'USD';
  return opt(currency.decimals) === undefined ? 'base units' : (opt(currency.symbol) ?? 'tokens');
}

/**
 * A price typed as "2.50": the ledger's base units in a paying market, else hundredths of a
 * dollar; refused while the market's currency is not known, rather than read at a wrong scale.
 */
export function typedPrice(text: string, what: string, currency: MarketCurrency): bigint {
  if (currency === undefined) throw new Error("The market's currency is still loading: try again in a moment.");
  if (currency === null) return units(text, 2, what);
  const decimals = opt(currency.decimals);
  // A ledger whose decimals are not known yet: a whole number of its base units.
  return decimals === undefined ? nat64(text, what) : units(text, decimals, what);
}

export const window_ = (start: bigint, end: bigint) => `${time(start)} – ${time(end)}`;

const NS_PER_SECOND = 1_000_000_000n;
export const NS_PER_HOUR = 3600n * NS_PER_SECOND;

/** A duration in seconds as words: "2 hours", "90 minutes", "3 days 4 hours". */
export function duration(seconds: bigint): string {
  const s = Number(seconds);
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (s < 3600) return plural(Math.round(s / 60), 'minute');
  const days = Math.floor(s / 86400);
  const hours = Math.round((s % 86400) / 3600);
  if (days === 0) return plural(Math.round(s / 360) / 10, 'hour');
  return hours ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
}

export const spanOf = (start: bigint, end: bigint) => duration((end - start) / NS_PER_SECOND);

export function hardware(a: Attributes): string {
  const parts = [`${a.cores} cores`, memory(a.memory_mb), `${gb(a.storage_gb)} storage`];
  if (a.gpus > 0) parts.push(`${a.gpus} GPU${a.gpus === 1 ? '' : 's'}`);
  if (a.resource_class) parts.push(a.resource_class);
  return parts.join(', ');
}

/** Who made an audited change, from the consumer's point of view. */
export function whoDid(actor: Who, me: Session): string {
  if ('Canister' in actor) return 'The market (on its timer)';
  if ('Consumer' in actor) return actor.Consumer.toText() === me.principal.toText() ? 'You' : `Consumer ${short(actor.Consumer.toText())}`;
  if ('Controller' in actor) return 'A market operator';
  return `The provider (delegate ${short(actor.Provider.principal.toText())})`;
}

export const short = (text: string) => (text.length > 14 ? `${text.slice(0, 11)}…` : text);

/**
 * While `enabled`, runs `load` now and again `everyMs` after each answer, until unmounted (or
 * `deps` change) or an answer is `done`. A failed round keeps the last data and says why;
 * `refresh()` runs a round at once (a round under way is dropped).
 */
export function usePoll<T>(
  enabled: boolean, load: () => Promise<T>, everyMs: number, deps: unknown[], done?: (data: T) => boolean,
) {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!enabled) return undefined;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const round = async () => {
      try {
        const data = await load();
        if (live) setState({ data });
        if (done?.(data)) return;
      } catch (e) {
        if (live) setState((s) => ({ data: s.data, error: failure(e) }));
      }
      if (live) timer = setTimeout(round, everyMs);
    };
    void round();
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [enabled, ...deps, tick]);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, refresh };
}

/** Said on a page whose calls need a signed-in caller. */
export function SignInNote(props: { what: string }) {
  return (
    <p role="status" class="notice">
      You are not signed in. {props.what} Use the sign-in button at the top of the page first.
    </p>
  );
}
