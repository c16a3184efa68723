// The SKU view (`products`): every SKU of registered inventory, how many items are free now,
// how many can be leased at once, and the lowest open price.
import { publicActor } from '../api';
import { Alert, Loading, Page, opt, useLoad } from '../ui';
import { Availability } from './availability';
import { price, useCurrency, type MarketCurrency } from './consumer/common';

const lowest = (amount: bigint | undefined, currency: MarketCurrency) =>
  amount === undefined ? '—' : price(amount, currency);

export function Products() {
  const currency = useCurrency();
  const { data, error, loading, reload } = useLoad(async () => (await publicActor()).products(), []);
  return (
    <Page title="Products" intro="Bare-metal servers registered by providers, grouped by SKU.">
      <button type="button" onClick={reload}>
        Refresh
      </button>
      {loading && <Loading what="products" />}
      {error && <Alert>{error}</Alert>}
      {data && data.length === 0 && <p role="status">No inventory is registered yet.</p>}
      {data && data.length > 0 && (
        <table>
          <caption>{data.length} SKUs</caption>
          <thead>
            <tr>
              <th scope="col">SKU</th>
              <th scope="col">Kind</th>
              <th scope="col">Size</th>
              <th scope="col">Tier</th>
              <th scope="col">Items</th>
              <th scope="col">Available</th>
              <th scope="col">Leasable now</th>
              <th scope="col">From (per hour)</th>
            </tr>
          </thead>
          <tbody>
            {data.map((p) => (
              <tr key={p.sku}>
                <th scope="row">
                  <a href={`#/request?sku=${encodeURIComponent(p.sku)}`}>{p.sku}</a>
                </th>
                <td>{p.kind_name}</td>
                <td>{p.size}</td>
                <td>{p.tier_name}</td>
                <td>{p.total}</td>
                <td>{p.available}</td>
                <td>{p.leasable_now}</td>
                <td>{lowest(opt(p.min_price_per_hour), currency)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Availability currency={currency} />
    </Page>
  );
}
