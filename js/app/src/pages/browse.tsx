// Browse: full-text search with every filter of `offerings_search`, price order, cursor
// paging ("Load more"), and an offering's detail (all 35 cells of its catalog row).
import Papa from 'papaparse';
import { useState } from 'preact/hooks';
import { publicActor, type Filters, type OfferingView, type SearchQuery } from '../api';
import { describe, ok } from '../errors';
import { href, type Route } from '../router';
import { Alert, Field, Loading, Page, gb, inNat64, memory, money, nat32, nat64, opt, useLoad, variant } from '../ui';

// The serverhunter columns, in the canonical order of every catalog row.
export const COLUMNS = [
  'Offer Name', 'Description', 'Unique Internal identifier', 'Product page URL', 'Currency',
  'Monthly price', 'Setup fee', 'Visibility', 'Product Type', 'Virtualization type',
  'Billing interval', 'Stock', 'Processor Brand', 'Processor Amount', 'Processor Cores',
  'Processor Speed', 'Processor Name', 'Memory Error Correction', 'Memory Type', 'Memory Amount',
  'Hard Disk Drive Amount', 'Total Hard Disk Drive Capacity', 'Solid State Disk Amount',
  'Total Solid State Disk Capacity', 'Unmetered', 'Uplink speed', 'Traffic', 'Datacenter Country',
  'Datacenter City', 'Datacenter Coordinates', 'Features', 'Operating Systems', 'Control Panel',
  'GPU Name', 'Payment Methods',
];

const PRODUCT_TYPES = ['Vps', 'Dedicated', 'Cloud', 'Managed'] as const;
const VIRTUALIZATIONS = ['None', 'Kvm', 'Vmware', 'Xen', 'HyperV', 'OpenVz', 'Lxc'] as const;
const BILLINGS = ['Hourly', 'Daily', 'Monthly', 'Quarterly', 'Yearly'] as const;
const STOCKS = ['InStock', 'Limited', 'OutOfStock'] as const;

/** The form as typed: every field text, empty meaning "any". */
type Form = Record<
  | 'text' | 'currency' | 'min_price' | 'max_price' | 'country' | 'city' | 'product_type'
  | 'virtualization' | 'billing' | 'stock' | 'min_cores' | 'min_memory_gb' | 'min_ssd_gb'
  | 'min_hdd_gb' | 'gpu' | 'gpu_name' | 'os' | 'feature' | 'unmetered' | 'sort' | 'limit',
  string
>;

const EMPTY: Form = {
  text: '', currency: '', min_price: '', max_price: '', country: '', city: '', product_type: '',
  virtualization: '', billing: '', stock: '', min_cores: '', min_memory_gb: '', min_ssd_gb: '',
  min_hdd_gb: '', gpu: '', gpu_name: '', os: '', feature: '', unmetered: '', sort: 'PriceAsc',
  limit: '20',
};

const some = <T,>(value: T | undefined): [] | [T] => (value === undefined ? [] : [value]);
const text = (value: string) => some(value.trim() || undefined);
/** A nat64 filter typed in `scale`s (GB for MiB), empty meaning "any". */
const count = (value: string, what: string, scale = 1n): bigint | undefined => {
  if (!value.trim()) return undefined;
  return inNat64(nat64(value, what) * scale, `${what} is too large.`);
};
const cents = (value: string, what: string): bigint | undefined => {
  if (!value.trim()) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what} must be a price such as 49.90.`);
  return inNat64(BigInt(Math.round(n * 100)), `${what} is too high.`);
};
const tag = <T extends string>(value: string) => (value ? ({ [value]: null } as unknown as Record<T, null>) : undefined);

/** The form as a `SearchQuery`, or a sentence saying what to fix. */
export function toQuery(form: Form, cursor?: string): SearchQuery {
  const min = cents(form.min_price, 'The lowest price');
  const max = cents(form.max_price, 'The highest price');
  if ((min !== undefined || max !== undefined) && !form.currency.trim()) {
    throw new Error('Choose a currency to filter by price (prices in different currencies do not compare).');
  }
  const filters: Filters = {
    price: form.currency.trim() ? [{ currency: form.currency.trim(), min_minor: some(min), max_minor: some(max) }] : [],
    country: text(form.country),
    city: text(form.city),
    product_type: some(tag(form.product_type)) as Filters['product_type'],
    virtualization: some(tag(form.virtualization)) as Filters['virtualization'],
    billing: some(tag(form.billing)) as Filters['billing'],
    stock: some(tag(form.stock)) as Filters['stock'],
    min_cores: some(form.min_cores.trim() ? nat32(form.min_cores, 'Cores') : undefined),
    min_memory_mb: some(count(form.min_memory_gb, 'Memory', 1024n)),
    min_ssd_gb: some(count(form.min_ssd_gb, 'SSD')),
    min_hdd_gb: some(count(form.min_hdd_gb, 'HDD')),
    gpu: form.gpu_name.trim()
      ? [{ Name: form.gpu_name.trim() }]
      : form.gpu
        ? [{ Present: form.gpu === 'yes' }]
        : [],
    os: text(form.os),
    feature: text(form.feature),
    unmetered: form.unmetered ? [form.unmetered === 'yes'] : [],
  };
  return {
    text: text(form.text),
    filters: [filters],
    sort: [form.sort === 'PriceDesc' ? { PriceDesc: null } : { PriceAsc: null }],
    cursor: some(cursor),
    limit: [Number(form.limit) || 20],
    format: [{ Records: null }],
  };
}

interface Row {
  view: OfferingView;
  provider: string;
}

export function Browse(_props: { route: Route }) {
  const [form, setForm] = useState<Form>(EMPTY);
  const [rows, setRows] = useState<Row[]>();
  const [next, setNext] = useState<string>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const search = async (more: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const query = toQuery(form, more ? next : undefined);
      const page = ok(await (await publicActor()).offerings_search(query));
      if (!('Records' in page.offerings)) throw new Error('The canister answered in another format.');
      const records = page.offerings.Records;
      const found = records.offerings.map((view) => ({ view, provider: records.providers[view.provider] ?? '' }));
      setRows(more ? [...(rows ?? []), ...found] : found);
      setNext(opt(page.next_cursor));
    } catch (e) {
      setError(e instanceof Error ? e.message : describe(e));
    } finally {
      setBusy(false);
    }
  };

  const input = (name: keyof Form, label: string, hint?: string, type: 'text' | 'number' | 'search' = 'text') => (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input
          id={id}
          name={name}
          type={type as 'text'}
          inputMode={type === 'number' ? 'numeric' : undefined}
          value={form[name]}
          aria-describedby={hintId}
          onInput={(e) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })}
        />
      )}
    </Field>
  );
  const choice = (name: keyof Form, label: string, options: readonly (string | [string, string])[], any = 'Any') => (
    <Field label={label}>
      {(id) => (
        <select id={id} name={name} value={form[name]} onChange={(e) => setForm({ ...form, [name]: (e.target as HTMLSelectElement).value })}>
          {any && <option value="">{any}</option>}
          {options.map((o) => {
            const [value, shown] = Array.isArray(o) ? o : [o, o.replace(/([a-z])([A-Z])/g, '$1 $2')];
            return (
              <option key={value} value={value}>
                {shown}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );

  return (
    <Page title="Search servers" intro="Every provider's signed catalog, searched exactly. Words must all appear; filters must all hold.">
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search(false);
        }}
      >
        <div class="searchbar">
          {input('text', 'Search', 'e.g. "epyc nvme" or "xeon rotterdam"', 'search')}
          <button type="submit" disabled={busy}>
            Search
          </button>
        </div>
        <details>
          <summary>Filters</summary>
          <div class="grid">
            {input('currency', 'Currency', 'ISO code, e.g. EUR; needed for price bounds')}
            {input('min_price', 'Lowest monthly price', undefined, 'number')}
            {input('max_price', 'Highest monthly price', undefined, 'number')}
            {input('country', 'Country', 'two letters, e.g. NL')}
            {input('city', 'City')}
            {choice('product_type', 'Product type', PRODUCT_TYPES)}
            {choice('virtualization', 'Virtualization', VIRTUALIZATIONS)}
            {choice('billing', 'Billing', BILLINGS)}
            {choice('stock', 'Stock', STOCKS)}
            {input('min_cores', 'At least cores', undefined, 'number')}
            {input('min_memory_gb', 'At least memory (GiB)', undefined, 'number')}
            {input('min_ssd_gb', 'At least SSD (GB)', undefined, 'number')}
            {input('min_hdd_gb', 'At least HDD (GB)', undefined, 'number')}
            {choice('gpu', 'GPU', [['yes', 'With a GPU'], ['no', 'Without a GPU']])}
            {input('gpu_name', 'GPU name contains', 'e.g. rtx 40')}
            {input('os', 'Operating system', 'e.g. debian')}
            {input('feature', 'Feature', 'e.g. native ipv6')}
            {choice('unmetered', 'Unmetered traffic', [['yes', 'Unmetered'], ['no', 'Metered']])}
          </div>
        </details>
        <div class="row">
          {choice('sort', 'Order', [['PriceAsc', 'Cheapest first'], ['PriceDesc', 'Dearest first']], '')}
          {choice('limit', 'Per page', ['2', '10', '20', '50', '100', '200'], '')}
          <button type="button" onClick={() => search(false)} disabled={busy || rows === undefined}>
            Refresh
          </button>
        </div>
      </form>
      {error && <Alert>{error}</Alert>}
      {busy && <Loading what="offerings" />}
      {rows && <Results rows={rows} />}
      {next && (
        <button type="button" class="more" onClick={() => search(true)} disabled={busy}>
          Load more
        </button>
      )}
    </Page>
  );
}

function Results({ rows }: { rows: Row[] }) {
  if (rows.length === 0) return <p role="status">No offering matches. Loosen a filter or change the words.</p>;
  return (
    <table class="results">
      <caption>
        {rows.length} offering{rows.length === 1 ? '' : 's'} shown
      </caption>
      <thead>
        <tr>
          <th scope="col">Offering</th>
          <th scope="col">Price / month</th>
          <th scope="col">Cores</th>
          <th scope="col">Memory</th>
          <th scope="col">Storage</th>
          <th scope="col">GPU</th>
          <th scope="col">Where</th>
          <th scope="col">Stock</th>
          <th scope="col">Provider</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ view, provider }) => (
          <tr key={`${provider}/${view.key}`}>
            <th scope="row">
              <a href={href('offering', provider, view.key)}>{view.name}</a>
              <small> {view.key}</small>
            </th>
            <td>{money(view.price_minor, view.currency)}</td>
            <td>{view.total_cores}</td>
            <td>{memory(view.memory_mb)}</td>
            <td>
              {view.ssd_gb > 0n && `${gb(view.ssd_gb)} SSD`} {view.hdd_gb > 0n && `${gb(view.hdd_gb)} HDD`}
            </td>
            <td>{opt(view.gpu_name) ?? '—'}</td>
            <td>
              {view.city} ({view.country})
            </td>
            <td>{variant(view.stock).replace(/([a-z])([A-Z])/g, '$1 $2')}</td>
            <td>
              <code title={provider}>{fingerprint(provider)}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** A provider's PEM, shortened to what tells providers apart. */
export function fingerprint(pem: string) {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
  return body.slice(-12);
}

export function OfferingDetail(props: { provider?: string; offeringKey?: string }) {
  const { data, error, loading } = useLoad(async () => {
    if (!props.provider || !props.offeringKey) throw new Error('This link names no offering.');
    const records = ok(
      await (await publicActor()).offering_get({ provider: { Pem: props.provider }, key: props.offeringKey }),
    );
    const view = records.offerings[0];
    if (!view) throw new Error('The offering is gone.');
    const cells = Papa.parse<string[]>(view.csv_row.trimEnd(), { header: false }).data[0] ?? [];
    return { view, cells };
  }, [props.provider, props.offeringKey]);
  return (
    <Page title={data ? data.view.name : 'Offering'}>
      <p>
        <a href="#/search">Back to search</a>
      </p>
      {loading && <Loading what="the offering" />}
      {error && <Alert>{error}</Alert>}
      {data && (
        <dl class="cells">
          {COLUMNS.map((column, i) => (
            <div key={column}>
              <dt>{column}</dt>
              <dd>{data.cells[i] || '—'}</dd>
            </div>
          ))}
          <div>
            <dt>Provider key</dt>
            <dd>
              <code>{fingerprint(props.provider ?? '')}</code>
            </dd>
          </div>
        </dl>
      )}
    </Page>
  );
}
