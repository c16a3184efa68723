// Leases on the provider's items (executions_list with role Provider), each with its phase; a
// lease's page with its provisioning (provision_status of the item's resource) and the form
// that seals credentials to the lessee's key (crypto_box, sealed.ts) and sets them on the lease.
import { useState } from 'preact/hooks';
import { publicActor, type ExecutionPage, type Execution, type Session } from '../../api';
import { describe, ok } from '../../errors';
import { href } from '../../router';
import { MAX_PLAINTEXT_BYTES, seal } from '../../sealed';
import { toHex } from '../../signing';
import { Alert, Field, Loading, Notice, inNat64, nat64, opt, span, time, useAction, useLoad } from '../../ui';
import { Confirm } from '../consumer/lease';
import { ProviderPage, caseOf, pemInput, type ProviderKey } from './common';
import { price, useCurrency } from '../consumer/common';

export function LeasesPage(props: { who: Session; id?: string }) {
  return (
    <ProviderPage
      title={props.id ? `Lease ${props.id}` : 'Leases'}
      tab="leases"
      who={props.who}
      needsSignIn
      intro={props.id ? undefined : 'Offers taken from your items and the leases they became, newest first. Open one to see its provisioning and to hand its lessee the credentials.'}
    >
      {(key) => (props.id ? <LeaseDetail key={props.id} id={props.id} provider={key} who={props.who} /> : <Leases key={key.hex} provider={key} who={props.who} />)}
    </ProviderPage>
  );
}

function Leases(props: { provider: ProviderKey; who: Session }) {
  const { provider, who } = props;
  const currency = useCurrency();
  const leases = useLoad(async () => {
    const list: Execution[] = [];
    let after: [] | [bigint] = [];
    for (let page = 0; page < 20; page++) {
      const reply: ExecutionPage = ok(await who.actor.executions_list({ provider: [pemInput(provider)], role: { Provider: null }, phase: [], after, limit: [100] }));
      list.push(...reply.executions);
      if (!reply.next.length) break;
      after = reply.next;
    }
    return list.sort((a, b) => (a.id < b.id ? 1 : -1));
  }, [provider.hex, who.principal.toText()]);
  return (
    <>
      <div class="row">
        <button type="button" class="secondary" onClick={leases.reload} disabled={leases.loading}>
          Refresh
        </button>
      </div>
      {leases.loading && <Loading what="the leases" />}
      {leases.error && <Alert>{leases.error}</Alert>}
      {leases.data && leases.data.length === 0 && <p>No offer of yours has been taken yet.</p>}
      {leases.data && leases.data.length > 0 && (
        <table class="leases">
          <caption>Leases and offers on your items ({leases.data.length})</caption>
          <thead>
            <tr>
              <th scope="col">Lease</th>
              <th scope="col">Phase</th>
              <th scope="col">Item</th>
              <th scope="col">SKU</th>
              <th scope="col">Consumer</th>
              <th scope="col">From</th>
              <th scope="col">Until</th>
              <th scope="col">Price / hour</th>
              <th scope="col">Credentials</th>
            </tr>
          </thead>
          <tbody>
            {leases.data.map((e) => (
              <tr key={e.id.toString()}>
                <th scope="row">
                  <a href={href('provider', 'leases', e.id)}>Lease {e.id.toString()}</a>
                </th>
                <td data-testid="phase">{caseOf(e.phase)}</td>
                <td>
                  {e.item_id.toString()} <code>{e.resource_uuid}</code>
                </td>
                <td>{e.sku}</td>
                <td>
                  <code title={e.consumer.toText()}>{e.consumer.toText().slice(0, 11)}…</code>
                </td>
                <td>{time(e.start_ns)}</td>
                <td>{time(e.end_ns)}</td>
                <td>{price(e.price_per_hour, currency)}</td>
                <td>{e.consumer_meta.length ? 'Sealed' : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function LeaseDetail(props: { id: string; provider: ProviderKey; who: Session }) {
  const { provider, who } = props;
  const currency = useCurrency();
  const lease = useLoad(async () => {
    const execution = ok(await who.actor.execution_get(nat64(props.id, 'A lease number')));
    // The lessee, the provider's delegates and controllers see a server's operation.
    const status = await who.actor.provision_status(execution.resource_uuid);
    if ('Err' in status && !('ServerNotFound' in status.Err)) throw new Error(describe(status.Err));
    return { execution, provision: 'Ok' in status ? status.Ok : undefined };
  }, [props.id, who.principal.toText()]);
  const [text, setText] = useState('');
  const send = useAction(async () => {
    const execution = lease.data?.execution;
    if (!execution) throw new Error('The lease is not loaded.');
    const key = opt(execution.lessee_key);
    if (!key) throw new Error('The lessee has not given a key yet: credentials can be sealed once the offer is accepted.');
    if (!text) throw new Error('Type the credentials to seal.');
    const sealed = seal(text, Uint8Array.from(key));
    const updated = ok(await who.actor.lease_set_consumer_meta({ provider: pemInput(provider), execution_id: execution.id, sealed }));
    setText('');
    lease.reload();
    return updated;
  });

  // What the last call returned, until a reload brings something newer.
  const loaded = lease.data?.execution;
  const e = send.result && (!loaded || send.result.updated_at_ns >= loaded.updated_at_ns) ? send.result : loaded;
  const p = lease.data?.provision;
  return (
    <>
      <p>
        <a href={href('provider', 'leases')}>Back to the leases</a>{' '}
        <button type="button" class="secondary" onClick={lease.reload} disabled={lease.loading}>
          Refresh
        </button>
      </p>
      {lease.loading && !lease.data && <Loading what="the lease" />}
      {lease.error && <Alert>{lease.error}</Alert>}
      {e && (
        <dl class="cells lease">
          <div>
            <dt>Phase</dt>
            <dd data-testid="phase">{caseOf(e.phase)}</dd>
          </div>
          <div>
            <dt>Item</dt>
            <dd>
              {e.item_id.toString()} ({e.resource_type} <code>{e.resource_uuid}</code>)
            </dd>
          </div>
          <div>
            <dt>SKU</dt>
            <dd>{e.sku}</dd>
          </div>
          <div>
            <dt>Consumer</dt>
            <dd>
              <code>{e.consumer.toText()}</code>
            </dd>
          </div>
          <div>
            <dt>Window</dt>
            <dd>
              {time(e.start_ns)} to {time(e.end_ns)}
            </dd>
          </div>
          <div>
            <dt>Price</dt>
            <dd>
              {price(e.price_per_hour, currency)} an hour, {price(e.total_price, currency)} in all
            </dd>
          </div>
          <div>
            <dt>Image</dt>
            <dd>{e.image || '—'}</dd>
          </div>
          <div>
            <dt>Lessee key</dt>
            <dd>
              <code data-testid="lessee-key">{opt(e.lessee_key) ? toHex(Uint8Array.from(opt(e.lessee_key)!)) : 'not given yet'}</code>
            </dd>
          </div>
          <div>
            <dt>Credentials</dt>
            <dd data-testid="credentials">{e.consumer_meta.length ? 'Sealed to the lessee and set' : 'Not set yet'}</dd>
          </div>
          {opt(e.reclaim) && (
            <div>
              <dt>Reclaimed</dt>
              <dd data-testid="reclaimed">
                ends {time(opt(e.reclaim)!.ends_at_ns)} (notice given {time(opt(e.reclaim)!.noticed_at_ns)}): {opt(e.reclaim)!.reason}
              </dd>
            </div>
          )}
          {opt(e.reason) && (
            <div>
              <dt>Reason</dt>
              <dd>{opt(e.reason)}</dd>
            </div>
          )}
        </dl>
      )}
      {e && (
        <section aria-labelledby="provisioning">
          <h2 id="provisioning">Provisioning</h2>
          {p ? (
            <dl class="cells" data-testid="provisioning">
              <div>
                <dt>Operation</dt>
                <dd>{caseOf(p.kind)} of {p.server_id}</dd>
              </div>
              <div>
                <dt>Status</dt>
                <dd>{caseOf(p.status)}</dd>
              </div>
              <div>
                <dt>Ironic state</dt>
                <dd>{p.provision_state || '—'}</dd>
              </div>
              <div>
                <dt>Progress</dt>
                <dd>{opt(p.progress_percent) !== undefined ? `${opt(p.progress_percent)}%` : '—'}</dd>
              </div>
              <div>
                <dt>For lease</dt>
                <dd>{opt(p.execution_id)?.toString() ?? '—'}</dd>
              </div>
              <div>
                <dt>Message</dt>
                <dd>{p.message || '—'}</dd>
              </div>
            </dl>
          ) : (
            <p>Nothing has been provisioned on this server yet.</p>
          )}
        </section>
      )}
      {e && RECLAIMABLE.includes(caseOf(e.phase)) && !opt(e.reclaim) && (
        <Reclaim execution={e} provider={provider} who={who} done={lease.reload} />
      )}
      {e && (
        <section aria-labelledby="credentials">
          <h2 id="credentials">Credentials for the lessee</h2>
          <p>
            What you type is sealed in this browser to the lessee's key (only the lessee can open it; the canister cannot read it), then set on the lease.
          </p>
          <form
            onSubmit={(ev) => {
              ev.preventDefault();
              send.setResult(undefined);
              void send.run();
            }}
          >
            <Field label="Credentials" hint={`e.g. an SSH login or a password; at most ${MAX_PLAINTEXT_BYTES} bytes`}>
              {(id, hint) => (
                <textarea id={id} rows={4} spellcheck={false} value={text} aria-describedby={hint}
                  onInput={(ev) => setText((ev.target as HTMLTextAreaElement).value)} />
              )}
            </Field>
            <button type="submit" disabled={send.busy || !opt(e.lessee_key)}>
              Seal and send
            </button>
          </form>
          {send.error && <Alert>{send.error}</Alert>}
          {send.result && !send.busy && <Notice>Credentials sealed to the lessee's key and set on lease {send.result.id.toString()}.</Notice>}
        </section>
      )}
    </>
  );
}

/** Phases in which the provider may still take its server back. */
const RECLAIMABLE = ['Accepted', 'Waiting', 'Preparing', 'Available'];

/** Takes the leased item back with notice (`lease_reclaim`), after a confirmation. */
function Reclaim(props: { execution: Execution; provider: ProviderKey; who: Session; done: () => void }) {
  const { execution: e, provider, who } = props;
  const policies = useLoad(async () => (await publicActor()).policies(), []);
  const least = opt(policies.data?.reclaim_notice_seconds ?? []) ?? 3600n;
  const [hours, setHours] = useState('');
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState(false);
  const notice = (): [] | [bigint] => {
    const text = hours.trim();
    if (!text) return [];
    if (!/^\d+(\.\d+)?$/.test(text)) throw new Error('The notice must be a number of hours such as 2 or 0.5.');
    return [inNat64(BigInt(Math.round(Number(text) * 3600)), 'The notice is too long.')];
  };
  const reclaim = useAction(async () => {
    const updated = ok(await who.actor.lease_reclaim({ provider: pemInput(provider), execution_id: e.id, notice_seconds: notice(), reason: reason.trim() }));
    setAsking(false);
    props.done();
    return updated;
  });
  const ask = useAction(async () => {
    notice();
    if (!reason.trim()) throw new Error('Give the lessee a reason: they see it at once.');
    setAsking(true);
  });
  return (
    <section aria-labelledby="reclaim">
      <h2 id="reclaim">Reclaim this server</h2>
      <p>The lease ends after the notice you give (at least {span(least)}); its lessee sees the notice and your reason at once.</p>
      <form
        onSubmit={(ev) => {
          ev.preventDefault();
          void ask.run();
        }}
      >
        <div class="grid">
          <Field label="Notice (hours)" hint={`empty: the least, ${span(least)}`}>
            {(id, hint) => (
              <input id={id} name="notice_hours" inputMode="decimal" value={hours} aria-describedby={hint}
                onInput={(ev) => setHours((ev.target as HTMLInputElement).value)} />
            )}
          </Field>
          <Field label="Reason" hint="shown to the lessee, e.g. hardware maintenance">
            {(id, hint) => (
              <input id={id} name="reclaim_reason" value={reason} aria-describedby={hint}
                onInput={(ev) => setReason((ev.target as HTMLInputElement).value)} />
            )}
          </Field>
        </div>
        <button type="submit" disabled={reclaim.busy || asking}>
          Reclaim…
        </button>
      </form>
      {asking && (
        <Confirm
          question={`Reclaim lease ${e.id.toString()}? It ends ${hours.trim() ? `in ${hours.trim()} hours` : `after ${span(least)}`} and cannot be undone.`}
          yes="Yes, reclaim"
          onYes={() => void reclaim.run()}
          onNo={() => setAsking(false)}
          busy={reclaim.busy}
        />
      )}
      {ask.error && <Alert>{ask.error}</Alert>}
      {reclaim.error && <Alert>{reclaim.error}</Alert>}
      {reclaim.result && !reclaim.busy && opt(reclaim.result.reclaim) && (
        <Notice>Lease {reclaim.result.id.toString()} ends at {time(opt(reclaim.result.reclaim)!.ends_at_ns)}.</Notice>
      )}
    </section>
  );
}
