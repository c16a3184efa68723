// Market delegation: the provider key signs that a principal may act for it in the market
// (register inventory, make offers, hand over credentials); the signed-in principal is the one
// delegated here, for good or for a number of days (the expiry is signed too). Revoking is signed
// the same way.
import type { Principal } from '@icp-sdk/core/principal';
import { useState } from 'preact/hooks';
import { endpoint, publicActor, type Session } from '../../api';
import { ok } from '../../errors';
import { Operation, delegationPayload, expiryInDays, nextSeq, payloadHash, sign } from '../../signing';
import { Alert, Field, Loading, Notice, time, useAction, useLoad } from '../../ui';
import { ProviderPage, pemInput, type ProviderKey } from './common';

export function DelegatePage(props: { who: Session }) {
  return (
    <ProviderPage
      title="Delegate"
      tab="delegate"
      who={props.who}
      intro="The market takes inventory, offers and credentials from principals your key delegated to: sign a delegation for the identity you are signed in with."
    >
      {(key) => <Delegates key={key.hex} provider={key} who={props.who} />}
    </ProviderPage>
  );
}

function Delegates(props: { provider: ProviderKey; who: Session }) {
  const { provider, who } = props;
  const delegation = useLoad(async () => ok(await (await publicActor()).market_delegation(pemInput(provider))), [provider.hex]);
  // Days until the delegation expires; empty: until revoked.
  const [days, setDays] = useState('');
  const change = useAction(async (principal: Principal, allow: boolean) => {
    const last = delegation.data?.seq ?? 0n;
    const seq = nextSeq(last);
    const expiresAtNs = allow && days.trim() !== '' ? expiryInDays(Number(days)) : undefined;
    const hash = payloadHash(delegationPayload(principal.toUint8Array(), allow, expiresAtNs));
    const signature = sign(provider.secret, endpoint().canisterId.toUint8Array(), Operation.Delegate, seq, hash);
    const expires_at_ns: [] | [bigint] = expiresAtNs === undefined ? [] : [expiresAtNs];
    const result = ok(await who.actor.market_delegate({ provider: { Raw: provider.publicKey }, principal, allow, seq, signature, expires_at_ns }));
    delegation.reload();
    return { principal: principal.toText(), allow, count: result.principals.length, expiresAtNs };
  });
  const expiring = new Map((delegation.data?.expiring ?? []).map((e) => [e.principal.toText(), e.expires_at_ns]));

  const me = who.kind === 'anonymous' ? undefined : who.principal;
  const principals = delegation.data?.principals ?? [];
  const delegated = me && principals.some((p) => p.toText() === me.toText());
  return (
    <>
      {delegation.loading && !delegation.data && <Loading what="your delegates" />}
      {delegation.error && <Alert>{delegation.error}</Alert>}
      {change.error && <Alert>{change.error}</Alert>}
      {change.result && !change.busy && (
        <Notice>
          {change.result.allow ? 'Delegated to' : 'Revoked'} <code>{change.result.principal}</code>
          {change.result.expiresAtNs !== undefined && <> until {time(change.result.expiresAtNs)}</>}: your provider has {change.result.count}{' '}
          delegate{change.result.count === 1 ? '' : 's'} now.
        </Notice>
      )}
      {!me && (
        <p class="notice" role="status">
          Sign in to delegate to the identity you are signed in with.
        </p>
      )}
      {me && !delegated && delegation.data && (
        <Field label="Expires after (days)" hint="optional: empty delegates until you revoke">
          {(id, hintId) => (
            <input id={id} name="expires_days" value={days} inputMode="numeric" aria-describedby={hintId}
              onInput={(e) => setDays((e.target as HTMLInputElement).value)} />
          )}
        </Field>
      )}
      {me && !delegated && delegation.data && (
        <div class="row">
          <p>
            You are signed in as <code>{me.toText()}</code>, not yet a delegate of this provider.
          </p>
          <button type="button" disabled={change.busy} onClick={() => change.run(me, true)}>
            Delegate to me
          </button>
        </div>
      )}
      {delegation.data && (
        <table class="delegates">
          <caption>
            Delegates of your provider ({principals.length}); last delegation sequence number {delegation.data.seq.toString()}
          </caption>
          <thead>
            <tr>
              <th scope="col">Principal</th>
              <th scope="col">Who</th>
              <th scope="col">Expires</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {principals.length === 0 && (
              <tr>
                <td colSpan={4}>No delegates yet.</td>
              </tr>
            )}
            {principals.map((p) => (
              <tr key={p.toText()}>
                <th scope="row">
                  <code>{p.toText()}</code>
                </th>
                <td>{me && p.toText() === me.toText() ? 'you (signed in)' : '—'}</td>
                <td>{expiring.has(p.toText()) ? time(expiring.get(p.toText())!) : 'when revoked'}</td>
                <td>
                  <button type="button" class="secondary" disabled={change.busy} onClick={() => change.run(p, false)}>
                    Revoke {p.toText().slice(0, 5)}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
