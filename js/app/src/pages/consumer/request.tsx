// #/request: what a consumer needs, when and for how long, at most what price → the market
// answers YES with offers held for a while (each with Accept) or NO with its reasons.
import { useState } from 'preact/hooks';
import type { Execution, Message, OffersetView, Policies, ResourceRequest, Session } from '../../api';
import { ok } from '../../errors';
import { go, type Route } from '../../router';
import { newLesseeKey } from '../../sealed';
import { Alert, Field, Loading, Notice, Page, inNat64, nat32, nat64, opt, time, useAction, useLoad, variant } from '../../ui';
import {
  SignInNote, currencyName, currencyOf, duration, hardware, perHour, price, spanOf, typedPrice, window_,
  type MarketCurrency,
} from './common';

type Form = Record<
  | 'cores' | 'memory_gb' | 'storage_gb' | 'gpus' | 'sku' | 'resource_class' | 'start'
  | 'hours' | 'max_price' | 'image' | 'offers' | 'project' | 'alternatives',
  string
> & { asap: boolean };

const some = <T,>(value: T | undefined): [] | [T] => (value === undefined ? [] : [value]);
const text = (value: string) => some(value.trim() || undefined);

/** An optional number: empty means "any". */
const optional = <T,>(value: string, what: string, parse: (text: string, what: string) => T): T | undefined =>
  value.trim() ? parse(value, what) : undefined;

function decimal(value: string, what: string, example: string): number | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const n = Number(v);
  if (!/^\d*\.?\d+$/.test(v) || !Number.isFinite(n)) throw new Error(`${what} must be a number such as ${example}.`);
  return n;
}

/**
 * The form as a `ResourceRequest`, or an Error whose message says what to fix. The highest
 * price is typed in the market's currency (`currency`: a paying market's ledger) or in US
 * dollars.
 */
export function toRequest(form: Form, currency: MarketCurrency): ResourceRequest {
  const hours = decimal(form.hours, 'The duration', '2 or 0.5');
  if (hours === undefined || hours <= 0) throw new Error('Say how many hours you need the server for.');
  const image = form.image.trim();
  if (!image) throw new Error('Name the image to install, such as ubuntu-24.04.');
  let start: bigint | undefined;
  if (!form.asap) {
    if (!form.start) throw new Error('Choose when the lease starts, or tick "As soon as possible".');
    const ms = new Date(form.start).getTime();
    if (!Number.isFinite(ms)) throw new Error('The start is not a date and time.');
    start = inNat64(BigInt(ms) * 1_000_000n, 'The start must be a date between 1970 and 2554.');
  }
  const memoryGb = decimal(form.memory_gb, 'Memory', '64');
  // Worked out from decimals, so checked after: a nat64 of MiB and of seconds.
  const memoryMb = memoryGb === undefined ? undefined : inNat64(BigInt(Math.ceil(memoryGb * 1024)), 'The memory is too large.');
  const seconds = inNat64(BigInt(Math.round(hours * 3600)), 'The duration is too long.');
  const maxPrice = optional(form.max_price, 'The highest price', (t, what) => typedPrice(t, what, currency));
  return {
    sku: text(form.sku),
    resource_class: text(form.resource_class),
    min_cores: some(optional(form.cores, 'Cores', nat32)),
    min_memory_mb: some(memoryMb),
    min_storage_gb: some(optional(form.storage_gb, 'Storage', nat64)),
    min_gpus: some(optional(form.gpus, 'GPUs', nat32)),
    start_ns: some(start),
    duration_seconds: seconds,
    max_price_per_hour: some(maxPrice),
    image,
    offers: some(optional(form.offers, 'The number of offers', nat32)),
    project: text(form.project),
    // Only with a start: without one every offer starts as soon as its item is free.
    alternative_starts: form.asap ? [] : some(optional(form.alternatives, 'Alternative starts', nat32)),
  };
}

export function RequestPage({ route, who }: { route: Route; who: Session }) {
  const [form, setForm] = useState<Form>(() => ({
    cores: '', memory_gb: '', storage_gb: '', gpus: '', sku: route.query.get('sku') ?? '',
    resource_class: '', start: '', asap: true, hours: '2', max_price: '', image: '', offers: '3',
    project: '', alternatives: '',
  }));
  const policies = useLoad(async () => who.actor.policies(), []);
  const anonymous = who.kind === 'anonymous';

  const request = useAction(async (f: Form) => {
    if (anonymous) throw new Error('Sign in first (the button at the top of the page): offers are held for a signed-in consumer.');
    const arg = toRequest(f, currencyOf(policies.data));
    return ok(await who.actor.offerset_request(arg));
  });

  const set = (name: keyof Form) => (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value });
  const input = (
    name: Exclude<keyof Form, 'asap'>, label: string, hint?: string,
    mode?: 'numeric' | 'decimal', type: 'text' | 'datetime-local' = 'text',
  ) => (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input
          id={id}
          name={name}
          type={type as 'text'}
          inputMode={mode}
          value={form[name]}
          aria-describedby={hintId}
          onInput={set(name)}
        />
      )}
    </Field>
  );

  const allowed = policies.data?.allowed_images ?? [];
  const maxLease = policies.data?.max_lease_seconds;

  return (
    <Page
      title="Request servers"
      intro="Say what you need, when and for how long: the market answers with offers it holds for you for a few minutes, cheapest first, or says why nothing matches."
    >
      {anonymous && <SignInNote what="You can fill in the form, but only a signed-in consumer may request offers." />}
      <form
        class="request"
        aria-label="Request"
        onSubmit={(e) => {
          e.preventDefault();
          void request.run(form);
        }}
      >
        <fieldset>
          <legend>What you need</legend>
          <div class="grid">
            {input('cores', 'At least cores', undefined, 'numeric')}
            {input('memory_gb', 'At least memory (GiB)', undefined, 'decimal')}
            {input('storage_gb', 'At least storage (GB)', undefined, 'numeric')}
            {input('gpus', 'At least GPUs', undefined, 'numeric')}
            {input('sku', 'SKU', 'e.g. 4D.large; empty for any')}
            {input('resource_class', 'Resource class', 'e.g. baremetal.large; empty for any')}
          </div>
        </fieldset>
        <fieldset>
          <legend>When</legend>
          <div class="grid">
            <label class="check">
              <input
                type="checkbox"
                name="asap"
                checked={form.asap}
                onChange={(e) => setForm({ ...form, asap: (e.target as HTMLInputElement).checked })}
              />
              As soon as possible
            </label>
            {!form.asap && input('start', 'Start', 'your local time', undefined, 'datetime-local')}
            {!form.asap && input('alternatives', 'Alternative starts', 'how many offers may start at the nearest other free time of their server when it is booked then; empty: none', 'numeric')}
            {input('hours', 'Duration (hours)', maxLease ? `at most ${duration(maxLease)}` : undefined, 'decimal')}
          </div>
        </fieldset>
        <fieldset>
          <legend>Terms</legend>
          <div class="grid">
            {input('max_price', `Highest price per hour (${currencyName(currencyOf(policies.data))})`, 'e.g. 2.50; empty for any price', 'decimal')}
            {input('image', 'Image', allowed.length ? `one of: ${allowed.join(', ')}` : 'e.g. ubuntu-24.04')}
            {input('offers', 'How many offers at most', undefined, 'numeric')}
            {input('project', 'Project', 'optional; your principal when empty')}
          </div>
        </fieldset>
        <button type="submit" disabled={request.busy}>
          Request offers
        </button>
      </form>
      {request.busy && <Loading what="offers" />}
      {request.error && <Alert>{request.error}</Alert>}
      {request.result && <Answer view={request.result} who={who} policies={policies.data} />}
    </Page>
  );
}

function Answer({ view, who, policies }: { view: OffersetView; who: Session; policies?: Policies }) {
  const { offerset } = view;
  // Held offers only: one whose deposit the ledger refused is rejected (a message says so).
  const offers = view.offers.filter((e) => 'Offered' in e.phase);
  const currency = policies && opt(policies.currency);
  const deposit = policies && currency ? opt(policies.hold_deposit) : undefined;
  const accept = useAction(async (execution: Execution) => {
    const key = await newLesseeKey(execution.id);
    ok(await who.actor.execution_accept({ execution_id: execution.id, lessee_key: [key], lessee_key_hex: [] }));
    go('lease', execution.id);
  });
  const yes = 'Yes' in offerset.result && offers.length > 0;
  return (
    <section aria-labelledby="answer">
      <h2 id="answer">{yes ? 'Offers' : 'No offer'}</h2>
      {yes ? (
        <>
          <Notice>
            {offers.length} offer{offers.length === 1 ? '' : 's'} for request {String(offerset.id)}, held for you until{' '}
            {time(offerset.expires_at_ns)}. Accepting one makes it your lease and releases the others.
            {deposit !== undefined && deposit > 0n && (
              <>
                {' '}
                Each held offer took a deposit of {price(deposit, currency)} into its escrow: the accepted one counts it
                toward its price, the others give it back (less the ledger's fee).
              </>
            )}
          </Notice>
          <table class="offers">
            <caption>Offers for request {String(offerset.id)}, cheapest first</caption>
            <thead>
              <tr>
                <th scope="col">Offer</th>
                <th scope="col">SKU</th>
                <th scope="col">Server</th>
                <th scope="col">Window</th>
                <th scope="col">Price per hour</th>
                <th scope="col">Total</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {offers.map((e) => (
                <tr key={String(e.id)}>
                  <th scope="row">
                    Offer {String(e.id)} <small>item {String(e.item_id)}</small>
                  </th>
                  <td>{e.sku}</td>
                  <td>{hardware(e.attributes)}</td>
                  <td>
                    {window_(e.start_ns, e.end_ns)} <small>({spanOf(e.start_ns, e.end_ns)})</small>
                  </td>
                  <td>{price(e.price_per_hour, currency)}</td>
                  <td>{price(e.total_price, currency)}</td>
                  <td>
                    <button type="button" onClick={() => accept.run(e)} disabled={accept.busy}>
                      Accept<span class="visually-hidden"> offer {String(e.id)}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {accept.busy && <p role="status">Accepting: making a key for your credentials and taking the offer…</p>}
          {accept.error && <Alert>{accept.error}</Alert>}
        </>
      ) : (
        <p role="status">Nothing matches request {String(offerset.id)}. What the market checked:</p>
      )}
      {offerset.messages.length > 0 && <Messages messages={offerset.messages} />}
      {!yes && opt(offerset.request.max_price_per_hour) !== undefined && (
        <p class="muted">
          You asked for at most {perHour(opt(offerset.request.max_price_per_hour)!, currency)} for{' '}
          {duration(offerset.request.duration_seconds)}; loosen a condition and request again.
        </p>
      )}
    </section>
  );
}

const LEVELS: Record<string, string> = { Fail: 'Fail', Error: 'Error', Warn: 'Warning', Info: 'Info', Debug: 'Debug' };

function Messages({ messages }: { messages: Message[] }) {
  return (
    <ul class="messages" aria-label="The market's messages">
      {messages.map((m, i) => {
        const level = variant(m.level);
        return (
          <li key={i}>
            <span class={`level level-${level.toLowerCase()}`}>{LEVELS[level] ?? level}:</span> {m.text}
          </li>
        );
      })}
    </ul>
  );
}
