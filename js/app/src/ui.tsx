// Small shared pieces: page frame, form fields, alerts, formatting, and a hook for calls.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { failure } from './errors';

export function Page(props: { title: string; intro?: ComponentChildren; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${props.title} · Compute Marketplace`;
  }, [props.title]);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{props.title}</h1>
      {props.intro && <p class="intro">{props.intro}</p>}
      {props.children}
    </section>
  );
}

/** A problem, announced to screen readers. */
export function Alert(props: { children: ComponentChildren }) {
  return (
    <p role="alert" class="alert">
      {props.children}
    </p>
  );
}

/** Something done, announced politely. */
export function Notice(props: { children: ComponentChildren }) {
  return (
    <p role="status" class="notice">
      {props.children}
    </p>
  );
}

export function Loading(props: { what?: string }) {
  return (
    <p role="status" class="loading">
      Loading{props.what ? ` ${props.what}` : ''}…
    </p>
  );
}

let ids = 0;
/** A labelled input; `hint` is read after the label. */
export function Field(props: {
  label: string;
  hint?: string;
  children: (id: string, describedBy?: string) => ComponentChildren;
}) {
  const [id] = useState(() => `f${++ids}`);
  const hintId = props.hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.children(id, hintId)}
      {props.hint && (
        <small id={hintId} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}

/**
 * Runs `load` when `deps` change; `reload()` runs it again. `error` is a sentence, never raw
 * Candid (`load` throws `Error(describe(…))` for typed errors, see errors.ok).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (e) => live && setState({ error: failure(e), loading: false }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

/** A button's action: busy while it runs, its error as a sentence. */
export function useAction<A extends unknown[], T>(act: (...args: A) => Promise<T>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<T>();
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      const value = await act(...args);
      setResult(value);
      return value;
    } catch (e) {
      setError(failure(e));
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, result, setResult };
}

// --- numbers typed in forms ---
// Candid fails to encode a nat32 or nat64 out of range with a message nobody can act on, so
// what a person types is range-checked first and an error says what to fix.

const NAT32_MAX = 2n ** 32n - 1n;
export const NAT64_MAX = 2n ** 64n - 1n;

function natural(text: string, what: string, max: bigint): bigint {
  const t = text.trim();
  if (!/^\d+$/.test(t) || BigInt(t) > max) throw new Error(`${what} must be a whole number up to ${max}.`);
  return BigInt(t);
}

/** A whole number typed for a nat32 (cores, GPUs, counts, limits), or an Error saying what to fix. */
export const nat32 = (text: string, what: string): number => Number(natural(text, what, NAT32_MAX));
/** A whole number typed for a nat64 (ids, seconds, prices, memory, storage), or an Error saying what to fix. */
export const nat64 = (text: string, what: string): bigint => natural(text, what, NAT64_MAX);
/** `value`, worked out from what was typed, if a nat64 holds it; else an Error saying `sentence`. */
export function inNat64(value: bigint, sentence: string): bigint {
  if (value < 0n || value > NAT64_MAX) throw new Error(sentence);
  return value;
}

// --- formatting ---

export const opt = <T,>(value: [] | [T]): T | undefined => (value.length ? value[0] : undefined);

/** Hundredths of a currency unit. */
export const money = (minor: bigint, currency: string) =>
  `${(Number(minor) / 100).toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

/** An amount in a ledger's base units, with its symbol: 1500000 at 6 decimals → "1.50 ckUSDC". */
export function tokens(amount: bigint, decimals: number, symbol: string): string {
  const scale = 10n ** BigInt(decimals);
  const whole = amount / scale;
  const fraction = (amount % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  const shown = fraction.length >= 2 ? fraction : fraction.padEnd(Math.min(2, decimals), '0');
  return `${whole.toLocaleString('en')}${shown ? `.${shown}` : ''} ${symbol}`;
}

/**
 * An amount typed in a ledger's whole units ("0.6") as base units (60000000 at 8 decimals), or
 * an Error saying what to fix.
 */
export function units(text: string, decimals: number, what: string): bigint {
  const t = text.trim();
  const match = /^(\d+)(?:\.(\d+))?$/.exec(t);
  if (!match) throw new Error(`${what} must be a number such as 0.5.`);
  const [, whole, typed = ''] = match;
  const fraction = typed.replace(/0+$/, '');
  if (fraction.length > decimals) throw new Error(`${what} has at most ${decimals} decimals.`);
  return inNat64(BigInt(whole + fraction.padEnd(decimals, '0')), `${what} is too large.`);
}

export const gb = (value: bigint) => (value >= 1000n ? `${Number(value) / 1000} TB` : `${value} GB`);
export const memory = (mb: bigint) => (mb >= 1024n ? `${Number(mb) / 1024} GiB` : `${mb} MiB`);

/** Nanoseconds since the epoch as a local date and time. */
export const time = (ns: bigint) =>
  new Date(Number(ns / 1_000_000n)).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });

/** A variant's case name: `{ Available: null }` → "Available". */
export const variant = (value: object) => Object.keys(value)[0];

export const hex = (bytes: Uint8Array | number[]) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export const fromHex = (text: string): Uint8Array => {
  const clean = text.trim().replace(/^0x/, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error('Not hexadecimal.');
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
};

/** An offer's terms in words: "shortest 2 h, grid 30 min, private (2)"; "—" for the defaults. */
export function termsText(offer: { terms: [] | [import('./api').OfferTerms] }): string {
  const terms = opt(offer.terms);
  if (!terms) return '—';
  const parts: string[] = [];
  const min = opt(terms.min_duration_seconds);
  const grid = opt(terms.granularity_seconds);
  const to = opt(terms.visible_to);
  if (min) parts.push(`shortest ${span(min)}`);
  if (grid) parts.push(`grid ${span(grid)}`);
  const projects = opt(terms.visible_to_projects);
  if (to) parts.push(`private (${to.length} principal${to.length === 1 ? '' : 's'})`);
  if (projects) parts.push(`private to project${projects.length === 1 ? '' : 's'} ${projects.join(', ')}`);
  return parts.join(', ') || '—';
}

/** Seconds in words: "90 min", "2 h", "1 d 3 h". */
export function span(seconds: bigint): string {
  const s = Number(seconds);
  if (s % 86_400 === 0) return `${s / 86_400} d`;
  if (s % 3_600 === 0 && s >= 3_600) return `${s / 3_600} h`;
  if (s % 60 === 0) return `${s / 60} min`;
  return `${s} s`;
}
