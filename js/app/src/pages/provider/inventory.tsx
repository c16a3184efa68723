// Inventory and offers: register the provider's servers (items) and offer them for a window at
// an hourly price. The calls come from the signed-in principal, which must be a delegate.
import { useState } from 'preact/hooks';
import { Principal } from '@icp-sdk/core/principal';
import { publicActor, type ItemPage, type Item, type Offer, type OfferTerms, type Session } from '../../api';
import { ok } from '../../errors';
import { Alert, Field, Loading, Notice, gb, inNat64, memory, nat32, nat64, opt, termsText, time, useAction, useLoad } from '../../ui';
import { ProviderPage, caseOf, localInput, nanos, pemInput, type ProviderKey } from './common';
import { currencyName, price, typedPrice, useCurrency, type MarketCurrency } from '../consumer/common';

const DAY_MS = 86_400_000;

type ItemForm = Record<
  'resource_type' | 'resource_uuid' | 'sku' | 'offering_key' | 'cores' | 'memory_gib' | 'storage_gb' | 'gpus'
  | 'resource_class' | 'routable_ips' | 'labels',
  string
>;
const ITEM: ItemForm = {
  resource_type: 'ironic_node', resource_uuid: '', sku: '', offering_key: '', cores: '', memory_gib: '',
  storage_gb: '', gpus: '0', resource_class: '', routable_ips: '1', labels: '',
};

type OfferForm = Record<'item' | 'start' | 'end' | 'price' | 'properties' | 'min_minutes' | 'grid_minutes' | 'private_to' | 'private_projects', string>;
const OFFER_TERMS = { min_minutes: '', grid_minutes: '', private_to: '', private_projects: '' };

/** Minutes typed for a term (empty: none) as seconds. */
function minutes(text: string, what: string): [] | [bigint] {
  if (!text.trim()) return [];
  return [inNat64(nat64(text, what) * 60n, `${what} is too long.`)];
}

/** The terms typed in the offer form; every field empty is the defaults. */
export function termsOf(form: Pick<OfferForm, 'min_minutes' | 'grid_minutes' | 'private_to' | 'private_projects'>): [] | [OfferTerms] {
  const principals = form.private_to.split(/[\s,]+/).filter(Boolean).map((text) => {
    try {
      return Principal.fromText(text);
    } catch {
      throw new Error(`"${text}" is not a principal.`);
    }
  });
  const projects = form.private_projects.split(/[\s,]+/).filter(Boolean).map((text) => nat64(text, 'A project number'));
  const terms: OfferTerms = {
    min_duration_seconds: minutes(form.min_minutes, 'The shortest lease'),
    granularity_seconds: minutes(form.grid_minutes, 'The grid'),
    visible_to: principals.length ? [principals] : [],
    visible_to_projects: projects.length ? [BigUint64Array.from(projects)] : [],
  };
  const none = !terms.min_duration_seconds.length && !terms.granularity_seconds.length && !terms.visible_to.length
    && !terms.visible_to_projects.length;
  return none ? [] : [terms];
}

export function InventoryPage(props: { who: Session }) {
  return (
    <ProviderPage
      title="Inventory"
      tab="inventory"
      who={props.who}
      needsSignIn
      intro="Register your servers as items, then offer each for a window at an hourly price (US dollars). You act through your delegation: you must be signed in as a delegate."
    >
      {(key) => <Inventory key={key.hex} provider={key} who={props.who} />}
    </ProviderPage>
  );
}

function Inventory(props: { provider: ProviderKey; who: Session }) {
  const { provider, who } = props;
  const items = useLoad(async () => {
    const actor = await publicActor();
    const list: Item[] = [];
    let after: [] | [bigint] = [];
    // A call examines at most 1000 items: follow `next` (bounded, a console page).
    for (let page = 0; page < 20; page++) {
      const reply: ItemPage = ok(await actor.inventory_list({ provider: [pemInput(provider)], sku: [], status: [], after, limit: [200] }));
      list.push(...reply.items);
      if (!reply.next.length) break;
      after = reply.next;
    }
    return list;
  }, [provider.hex]);
  // As the signed-in delegate: private offers show only to their provider's delegates and the principals they name.
  const offers = useLoad(async () => {
    return ok(await who.actor.offers_list({ provider: [pemInput(provider)], status: [], after: [], item_id: [], limit: [200] })).offers;
  }, [provider.hex, who.principal.toText()]);

  const [item, setItem] = useState<ItemForm>(ITEM);
  const register = useAction(async () => {
    const attributes = {
      cores: nat32(item.cores, 'Cores'),
      memory_mb: inNat64(nat64(item.memory_gib, 'Memory') * 1024n, 'The memory is too large.'),
      storage_gb: nat64(item.storage_gb, 'Storage'),
      gpus: nat32(item.gpus, 'GPUs'),
      resource_class: item.resource_class.trim(),
      routable_ips: nat32(item.routable_ips, 'Routable IPs'),
      labels: item.labels.split(',').map((l) => l.trim()).filter(Boolean),
    };
    if (!item.resource_uuid.trim()) throw new Error('Give the resource UUID (the Ironic node UUID or name).');
    const [made] = ok(await who.actor.inventory_register({
      provider: pemInput(provider),
      items: [{
        resource_type: item.resource_type.trim(),
        resource_uuid: item.resource_uuid.trim(),
        sku: item.sku.trim(),
        attributes,
        offering_key: item.offering_key.trim() ? [item.offering_key.trim()] : [],
      }],
    }));
    items.reload();
    setItem(ITEM);
    setOffer((o) => ({ ...o, item: made.id.toString() }));
    return made;
  });

  const currency = useCurrency();
  const now = Date.now();
  const [offer, setOffer] = useState<OfferForm>({ item: '', start: localInput(now), end: localInput(now + 30 * DAY_MS), price: '', properties: '', ...OFFER_TERMS });
  const create = useAction(async (): Promise<Offer> => {
    if (!offer.item) throw new Error('Choose the item to offer.');
    const properties = offer.properties
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .map((line) => {
        const at = line.indexOf('=');
        if (at < 1) throw new Error(`Write each property as key=value (got "${line}").`);
        return { key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() };
      });
    const made = ok(await who.actor.offer_create({
      provider: pemInput(provider),
      item_id: BigInt(offer.item),
      start_ns: nanos(offer.start, 'The start'),
      end_ns: nanos(offer.end, 'The end'),
      price_per_hour: typedPrice(offer.price, 'The price per hour', currency),
      properties,
      terms: termsOf(offer),
    }));
    offers.reload();
    return made;
  });

  const itemInput = (name: keyof ItemForm, label: string, hint?: string, numeric = false) => (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input id={id} name={name} value={item[name]} inputMode={numeric ? 'numeric' : undefined} aria-describedby={hintId}
          onInput={(e) => setItem({ ...item, [name]: (e.target as HTMLInputElement).value })} />
      )}
    </Field>
  );

  return (
    <>
      <h2 id="register">Register an item</h2>
      <form
        aria-labelledby="register"
        onSubmit={(e) => {
          e.preventDefault();
          register.setResult(undefined);
          void register.run();
        }}
      >
        <div class="grid">
          {itemInput('resource_type', 'Resource type', 'e.g. ironic_node')}
          {itemInput('resource_uuid', 'Resource UUID', 'the Ironic node UUID or name')}
          {itemInput('sku', 'SKU', '[tier 1–4][type A–E].[size], e.g. 4D.large')}
          {itemInput('offering_key', 'Catalog offering key', 'optional: the offering it is an instance of')}
          {itemInput('cores', 'Cores', undefined, true)}
          {itemInput('memory_gib', 'Memory (GiB)', undefined, true)}
          {itemInput('storage_gb', 'Storage (GB)', undefined, true)}
          {itemInput('gpus', 'GPUs', undefined, true)}
          {itemInput('resource_class', 'Resource class', 'e.g. baremetal.large')}
          {itemInput('routable_ips', 'Routable IPs', undefined, true)}
          {itemInput('labels', 'Labels', 'optional, separated by commas')}
        </div>
        <button type="submit" disabled={register.busy}>
          Register item
        </button>
      </form>
      {register.error && <Alert>{register.error}</Alert>}
      {register.result && !register.busy && (
        <Notice>
          Registered item {register.result.id.toString()} ({register.result.sku}, {register.result.resource_uuid}): {caseOf(register.result.status)}.
        </Notice>
      )}

      {items.loading && !items.data && <Loading what="your items" />}
      {items.error && <Alert>{items.error}</Alert>}
      {items.data && <Items items={items.data} />}

      <h2 id="offer">Offer an item</h2>
      <form
        aria-labelledby="offer"
        onSubmit={(e) => {
          e.preventDefault();
          create.setResult(undefined);
          void create.run();
        }}
      >
        <div class="grid">
          <Field label="Item">
            {(id) => (
              <select id={id} value={offer.item} onChange={(e) => setOffer({ ...offer, item: (e.target as HTMLSelectElement).value })}>
                <option value="">Choose an item</option>
                {(items.data ?? []).map((i) => (
                  <option key={i.id.toString()} value={i.id.toString()}>
                    Item {i.id.toString()}: {i.sku}, {i.resource_uuid}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Start" hint="YYYY-MM-DD HH:MM, your local time">
            {(id, hint) => (
              <input id={id} value={offer.start} spellcheck={false} aria-describedby={hint}
                onInput={(e) => setOffer({ ...offer, start: (e.target as HTMLInputElement).value })} />
            )}
          </Field>
          <Field label="End" hint="YYYY-MM-DD HH:MM; at most 366 days after the start">
            {(id, hint) => (
              <input id={id} value={offer.end} spellcheck={false} aria-describedby={hint}
                onInput={(e) => setOffer({ ...offer, end: (e.target as HTMLInputElement).value })} />
            )}
          </Field>
          <Field label={`Price per hour (${currencyName(currency)})`} hint="e.g. 2.50">
            {(id, hint) => (
              <input id={id} inputMode="decimal" value={offer.price} aria-describedby={hint}
                onInput={(e) => setOffer({ ...offer, price: (e.target as HTMLInputElement).value })} />
            )}
          </Field>
        </div>
        <fieldset>
          <legend>Terms (optional)</legend>
          <div class="grid">
            <Field label="Shortest lease (minutes)" hint="empty: any lease of a minute or more">
              {(id, hint) => (
                <input id={id} name="min_minutes" inputMode="numeric" value={offer.min_minutes} aria-describedby={hint}
                  onInput={(e) => setOffer({ ...offer, min_minutes: (e.target as HTMLInputElement).value })} />
              )}
            </Field>
            <Field label="Grid (minutes)" hint="leases start and end on this step from the offer's start; empty: none">
              {(id, hint) => (
                <input id={id} name="grid_minutes" inputMode="numeric" value={offer.grid_minutes} aria-describedby={hint}
                  onInput={(e) => setOffer({ ...offer, grid_minutes: (e.target as HTMLInputElement).value })} />
              )}
            </Field>
          </div>
          <Field label="Private to" hint="optional: principals, separated by spaces or commas, who alone may see and lease it (at most 32)">
            {(id, hint) => (
              <textarea id={id} name="private_to" rows={2} value={offer.private_to} aria-describedby={hint} spellcheck={false}
                onInput={(e) => setOffer({ ...offer, private_to: (e.target as HTMLTextAreaElement).value })} />
            )}
          </Field>
          <Field label="Projects" hint="optional: project numbers, separated by spaces or commas, whose members may see and lease it too (at most 8)">
            {(id, hint) => (
              <input id={id} name="private_projects" inputMode="numeric" value={offer.private_projects} aria-describedby={hint}
                onInput={(e) => setOffer({ ...offer, private_projects: (e.target as HTMLInputElement).value })} />
            )}
          </Field>
        </fieldset>
        <Field label="Properties" hint="optional, one key=value a line, e.g. region=rotterdam">
          {(id, hint) => (
            <textarea id={id} rows={3} value={offer.properties} aria-describedby={hint}
              onInput={(e) => setOffer({ ...offer, properties: (e.target as HTMLTextAreaElement).value })} />
          )}
        </Field>
        <button type="submit" disabled={create.busy}>
          Create offer
        </button>
      </form>
      {create.error && <Alert>{create.error}</Alert>}
      {create.result && !create.busy && (
        <Notice>
          Offer {create.result.id.toString()} is open: item {create.result.item_id.toString()} at {price(create.result.price_per_hour, currency)} an hour.
        </Notice>
      )}
      {offers.error && <Alert>{offers.error}</Alert>}
      {offers.data && <Offers offers={offers.data} currency={currency} />}
    </>
  );
}

function Items(props: { items: Item[] }) {
  if (props.items.length === 0) return <p>No items registered yet.</p>;
  return (
    <table class="items">
      <caption>Your items ({props.items.length})</caption>
      <thead>
        <tr>
          <th scope="col">Item</th>
          <th scope="col">Resource</th>
          <th scope="col">SKU</th>
          <th scope="col">Status</th>
          <th scope="col">Cores</th>
          <th scope="col">Memory</th>
          <th scope="col">Storage</th>
          <th scope="col">GPUs</th>
          <th scope="col">Class</th>
          <th scope="col">IPs</th>
          <th scope="col">Lease</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((i) => (
          <tr key={i.id.toString()}>
            <th scope="row">{i.id.toString()}</th>
            <td>
              {i.resource_type} <code>{i.resource_uuid}</code>
            </td>
            <td>{i.sku}</td>
            <td>{caseOf(i.status)}</td>
            <td>{i.attributes.cores}</td>
            <td>{memory(i.attributes.memory_mb)}</td>
            <td>{gb(i.attributes.storage_gb)}</td>
            <td>{i.attributes.gpus}</td>
            <td>{i.attributes.resource_class || '—'}</td>
            <td>{i.attributes.routable_ips}</td>
            <td>{opt(i.lease_id)?.toString() ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Offers(props: { offers: Offer[]; currency: MarketCurrency }) {
  if (props.offers.length === 0) return <p>No offers yet.</p>;
  return (
    <table class="offers">
      <caption>Your offers ({props.offers.length})</caption>
      <thead>
        <tr>
          <th scope="col">Offer</th>
          <th scope="col">Item</th>
          <th scope="col">From</th>
          <th scope="col">Until</th>
          <th scope="col">Price / hour</th>
          <th scope="col">Status</th>
          <th scope="col">Terms</th>
          <th scope="col">Properties</th>
        </tr>
      </thead>
      <tbody>
        {props.offers.map((o) => (
          <tr key={o.id.toString()}>
            <th scope="row">{o.id.toString()}</th>
            <td>
              {o.item_id.toString()} <code>{o.resource_uuid}</code>
            </td>
            <td>{time(o.start_ns)}</td>
            <td>{time(o.end_ns)}</td>
            <td>{price(o.price_per_hour, props.currency)}</td>
            <td>{caseOf(o.status)}</td>
            <td>{termsText(o)}</td>
            <td>{o.properties.map((p) => `${p.key}=${p.value}`).join(', ') || '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
