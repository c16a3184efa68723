// Availability (`availability`): the free windows of one item, or of a SKU's items a page at a
// time, between two times: what a request could book, with each window's offer, price and terms.
// Asked as whoever is signed in: a private offer shows only to those it names.
import { useState } from 'preact/hooks';
import { session, type ItemAvailability } from '../api';
import { ok } from '../errors';
import { Alert, Field, Loading, nat64, opt, span, time, useAction } from '../ui';
import { price, type MarketCurrency } from './consumer/common';
import { localInput, nanos } from './provider/common';

const DAY_MS = 86_400_000;

type Form = Record<'item' | 'sku' | 'from' | 'to', string>;

/** `currency`: the market's, which the page around it has loaded. */
export function Availability(props: { sku?: string; currency: MarketCurrency }) {
  const { currency } = props;
  const now = Date.now();
  const [form, setForm] = useState<Form>({ item: '', sku: props.sku ?? '', from: localInput(now), to: localInput(now + 7 * DAY_MS) });
  const [asked, setAsked] = useState<Form>();
  const [items, setItems] = useState<ItemAvailability[]>([]);
  const [next, setNext] = useState<bigint>();
  const load = useAction(async (f: Form, after?: bigint) => {
    const item = f.item.trim() ? nat64(f.item, 'The item') : undefined;
    const sku = f.sku.trim();
    if (item === undefined && !sku) throw new Error('Give an item number or a SKU.');
    const page = ok(await (await session()).actor.availability({
      item_id: item === undefined ? [] : [item],
      sku: item === undefined ? [sku] : [],
      from_ns: nanos(f.from, 'From'),
      to_ns: nanos(f.to, 'To'),
      after: after === undefined ? [] : [after],
      limit: [20],
    }));
    setAsked(f);
    setItems((before) => (after === undefined ? page.items : [...before, ...page.items]));
    setNext(opt(page.next));
    return page;
  });
  const input = (name: keyof Form, label: string, hint?: string) => (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input id={id} name={`availability_${name}`} value={form[name]} spellcheck={false} aria-describedby={hintId}
          onInput={(e) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value })} />
      )}
    </Field>
  );
  return (
    <section aria-labelledby="availability">
      <h2 id="availability">Availability</h2>
      <p>When servers are free to lease: one item's free windows, or those of every item of a SKU.</p>
      <form
        aria-labelledby="availability"
        onSubmit={(e) => {
          e.preventDefault();
          void load.run(form);
        }}
      >
        <div class="grid">
          {input('item', 'Item', 'a number; or leave it empty and give a SKU')}
          {input('sku', 'SKU', 'e.g. 4D.large')}
          {input('from', 'From', 'YYYY-MM-DD HH:MM, your local time')}
          {input('to', 'To', 'at most 366 days after From')}
        </div>
        <button type="submit" disabled={load.busy}>
          Show free windows
        </button>
      </form>
      {load.busy && <Loading what="free windows" />}
      {load.error && <Alert>{load.error}</Alert>}
      {asked && !load.busy && items.length === 0 && <p role="status">No free time in that range.</p>}
      {items.length > 0 && (
        <table class="availability">
          <caption>Free windows{asked?.item.trim() ? ` of item ${asked.item.trim()}` : ` of ${asked?.sku.trim()}`}</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Free from</th>
              <th scope="col">Until</th>
              <th scope="col">Offer</th>
              <th scope="col">Price / hour</th>
              <th scope="col">Terms</th>
            </tr>
          </thead>
          <tbody>
            {items.flatMap((i) => [
              ...i.windows.map((w, n) => (
                <tr key={`${i.item_id}-${n}`} data-testid="free-window">
                  <th scope="row">
                    {i.item_id.toString()} <small>{i.sku}</small>
                  </th>
                  <td>{time(w.start_ns)}</td>
                  <td>{time(w.end_ns)}</td>
                  <td>{w.offer_id.toString()}</td>
                  <td>{price(w.price_per_hour, currency)}</td>
                  <td>
                    {[w.min_duration_seconds ? `shortest ${span(w.min_duration_seconds)}` : '', w.granularity_seconds ? `grid ${span(w.granularity_seconds)}` : '']
                      .filter(Boolean)
                      .join(', ') || '—'}
                  </td>
                </tr>
              )),
              ...(i.truncated
                ? [
                    <tr key={`${i.item_id}-more`}>
                      <td colSpan={6} class="muted">
                        Item {i.item_id.toString()} has more free windows: ask again from the last one's end.
                      </td>
                    </tr>,
                  ]
                : []),
            ])}
          </tbody>
        </table>
      )}
      {next !== undefined && asked && (
        <button type="button" class="secondary" disabled={load.busy} onClick={() => void load.run(asked, next)}>
          Load more items
        </button>
      )}
    </section>
  );
}
