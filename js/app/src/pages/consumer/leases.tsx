// #/leases: the signed-in consumer's executions (`executions_list`, role Consumer), a page at a
// time ("Load more" follows `next`), each linking to its lease page.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Execution, ExecutionsListArg, Phase, Session } from '../../api';
import { failure, ok } from '../../errors';
import { href } from '../../router';
import { Alert, Field, Loading, Page, opt } from '../../ui';
import { PHASES, SignInNote, phaseOf, price, spanOf, useCurrency, window_, type PhaseName } from './common';

/** Offers that never became leases: hidden unless asked for. */
const NOT_LEASES: PhaseName[] = ['Offered', 'Rejected', 'Expired'];

export function LeasesPage({ who }: { who: Session }) {
  const [show, setShow] = useState('leases');
  const [limit, setLimit] = useState('20');
  const [rows, setRows] = useState<Execution[]>();
  const [next, setNext] = useState<bigint>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const anonymous = who.kind === 'anonymous';
  // Only the latest load's answer is shown (a filter changed while one was under way).
  const latest = useRef(0);

  const load = async (after?: bigint, current: Execution[] = []) => {
    const mine = ++latest.current;
    setBusy(true);
    setError(undefined);
    try {
      const arg: ExecutionsListArg = {
        after: after === undefined ? [] : [after],
        provider: [],
        role: { Consumer: null },
        limit: [Number(limit)],
        phase: PHASES.includes(show as PhaseName) ? [{ [show]: null } as unknown as Phase] : [],
      };
      const page = ok(await who.actor.executions_list(arg));
      if (mine !== latest.current) return;
      const found = page.executions.filter((e) => show !== 'leases' || !NOT_LEASES.includes(phaseOf(e.phase)));
      setRows([...current, ...found]);
      setNext(opt(page.next));
    } catch (e) {
      if (mine === latest.current) setError(failure(e));
    } finally {
      if (mine === latest.current) setBusy(false);
    }
  };

  useEffect(() => {
    if (anonymous) {
      latest.current++;
      setRows(undefined);
      setNext(undefined);
      return;
    }
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [who.principal.toText(), show, limit]);

  return (
    <Page title="My leases" intro="Your leases and the offers you were made, newest last. Open one to follow it, end it or read its credentials.">
      {anonymous ? (
        <SignInNote what="Your leases are those of the identity you sign in with." />
      ) : (
        <>
          <div class="row">
            <Field label="Show">
              {(id) => (
                <select id={id} value={show} onChange={(e) => setShow((e.target as HTMLSelectElement).value)}>
                  <option value="leases">Leases (accepted offers)</option>
                  <option value="all">Everything, offers included</option>
                  {PHASES.map((p) => (
                    <option key={p} value={p}>
                      Only {p.toLowerCase()}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Per page">
              {(id) => (
                <select id={id} value={limit} onChange={(e) => setLimit((e.target as HTMLSelectElement).value)}>
                  {['2', '10', '20', '50', '100'].map((n) => (
                    <option key={n} value={n}>
                      {n}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <button type="button" onClick={() => load()} disabled={busy}>
              Refresh
            </button>
          </div>
          {error && <Alert>{error}</Alert>}
          {busy && <Loading what="your leases" />}
          {rows && <Table rows={rows} more={next !== undefined} />}
          {next !== undefined && (
            <button type="button" class="more" onClick={() => load(next, rows)} disabled={busy}>
              Load more
            </button>
          )}
        </>
      )}
    </Page>
  );
}

function Table({ rows, more }: { rows: Execution[]; more: boolean }) {
  const currency = useCurrency();
  if (rows.length === 0) {
    return (
      <p role="status">
        {more ? 'None on this page: load more to look further.' : 'Nothing here yet. '}
        {!more && <a href="#/request">Request a server</a>}
      </p>
    );
  }
  return (
    <table class="leases">
      <caption>
        {rows.length} shown{more ? ', more to load' : ''}
      </caption>
      <thead>
        <tr>
          <th scope="col">Lease</th>
          <th scope="col">SKU</th>
          <th scope="col">Phase</th>
          <th scope="col">Window</th>
          <th scope="col">Price per hour</th>
          <th scope="col">Total</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((e) => (
          <tr key={String(e.id)}>
            <th scope="row">
              <a href={href('lease', e.id)}>Lease {String(e.id)}</a>
            </th>
            <td>{e.sku}</td>
            <td>{phaseOf(e.phase)}</td>
            <td>
              {window_(e.start_ns, e.end_ns)} <small>({spanOf(e.start_ns, e.end_ns)})</small>
            </td>
            <td>{price(e.price_per_hour, currency)}</td>
            <td>{price(e.total_price, currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
