// Payouts: where the market pays the provider when a paid lease is over (`provider_payout`), the
// account the provider names (`provider_payout_set`, which the market takes only from the
// provider's key itself: the browser signs it with the key it keeps, as that key's principal),
// and the provider's statement (`payments_list` as its delegate).
import { useState } from 'preact/hooks';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { marketAs, publicActor, type Account, type Session } from '../../api';
import { ok } from '../../errors';
import { href } from '../../router';
import { Alert, Field, Loading, Notice, fromHex, hex, opt, useAction, useLoad } from '../../ui';
import { useCurrency } from '../consumer/common';
import { Statement } from '../consumer/payments';
import { ProviderPage, pemInput, type ProviderKey } from './common';

/** A transfer's purpose as the provider reads it. */
const PURPOSES: Record<string, string> = {
  Price: "The consumer's payment, into escrow",
  Extension: "The consumer's extension, into escrow",
  Deposit: "The hold's deposit, into escrow",
  Refund: 'Refunded to the consumer',
  Payout: 'Paid to you',
  MarketFee: "The market's fee",
};

export function PayoutsPage(props: { who: Session }) {
  return (
    <ProviderPage
      title="Payouts"
      tab="payouts"
      who={props.who}
      intro="When a paid lease is over, the market pays you its price, less the market's fee, from the lease's escrow: to the account you name here, or else to your key's own principal."
    >
      {(key) => <Payouts key={key.hex} provider={key} who={props.who} />}
    </ProviderPage>
  );
}

/** `owner` and an optional subaccount (64 hex digits) as an ICRC-1 account. */
function accountOf(owner: string, subaccount: string): Account {
  let principal: Principal;
  try {
    principal = Principal.fromText(owner.trim());
  } catch {
    throw new Error(`"${owner.trim()}" is not a principal.`);
  }
  const bytes = subaccount.trim() ? fromHex(subaccount) : undefined;
  if (bytes && bytes.length !== 32) throw new Error('A subaccount is 32 bytes: 64 hexadecimal digits.');
  return { owner: principal, subaccount: bytes ? [bytes] : [] };
}

const shown = (account: Account) => {
  const sub = opt(account.subaccount);
  return sub ? `${account.owner.toText()}, subaccount ${hex(sub)}` : account.owner.toText();
};

function Payouts({ provider, who }: { provider: ProviderKey; who: Session }) {
  const currency = useCurrency();
  const payout = useLoad(async () => ok(await (await publicActor()).provider_payout(pemInput(provider))), [provider.hex]);
  // The statement is read as a delegate of the provider.
  const delegation = useLoad(async () => ok(await (await publicActor()).market_delegation(pemInput(provider))), [provider.hex]);
  const delegate = who.kind !== 'anonymous'
    && delegation.data?.principals.some((p) => p.toText() === who.principal.toText());
  const [owner, setOwner] = useState('');
  const [subaccount, setSubaccount] = useState('');
  // Signed by the provider key itself: delegates may not redirect the provider's money.
  const set = useAction(async (named: boolean) => {
    const account = named ? accountOf(owner, subaccount) : undefined;
    const market = await marketAs(Ed25519KeyIdentity.fromSecretKey(provider.secret));
    const result = ok(await market.provider_payout_set({ provider: pemInput(provider), account: account ? [account] : [] }));
    payout.reload();
    return result;
  });
  return (
    <>
      {currency === null && <p>This market runs free: nothing is paid to providers.</p>}
      {payout.loading && !payout.data && <Loading what="your payout account" />}
      {payout.error && <Alert>{payout.error}</Alert>}
      {payout.data && (
        <section class="card" aria-labelledby="payout-title">
          <h2 id="payout-title">Paid to</h2>
          <p data-fact="Payout account">
            <code>{shown(payout.data.account)}</code>
          </p>
          <p>{payout.data.named ? 'The account your key named.' : "Your key's own principal: you named no account."}</p>
        </section>
      )}
      <form
        class="card"
        aria-label="Name the payout account"
        onSubmit={(e) => {
          e.preventDefault();
          void set.run(true);
        }}
      >
        <h2>Name the payout account</h2>
        <p>Signed with your provider key in this browser. A new key (rotation or recovery) forgets it.</p>
        <Field label="Owner (principal)">
          {(id) => <input id={id} value={owner} spellcheck={false} onInput={(e) => setOwner((e.target as HTMLInputElement).value)} />}
        </Field>
        <Field label="Subaccount" hint="optional: 64 hexadecimal digits">
          {(id, hint) => (
            <input id={id} value={subaccount} spellcheck={false} aria-describedby={hint}
              onInput={(e) => setSubaccount((e.target as HTMLInputElement).value)} />
          )}
        </Field>
        <button type="submit" disabled={set.busy}>Name this account</button>{' '}
        {payout.data?.named && (
          <button type="button" disabled={set.busy} onClick={() => void set.run(false)}>
            Back to my key's principal
          </button>
        )}
        {set.error && <Alert>{set.error}</Alert>}
        {set.result && !set.busy && <Notice>From now on you are paid to {shown(set.result.account)}.</Notice>}
      </form>
      {currency && delegate && (
        <Statement
          currency={currency}
          deps={[provider.hex, who.principal.toText()]}
          empty="No paid lease of yours yet."
          leaseHref={(id) => href('provider', 'leases', id)}
          purposes={PURPOSES}
          page={async (after) => ok(await who.actor.payments_list({
            role: { Provider: null }, provider: [pemInput(provider)], after: after === undefined ? [] : [after], limit: [],
          }))}
        />
      )}
      {currency && delegation.data && !delegate && (
        <p role="status" class="notice">
          Your statement is read by one of your delegates: sign in and <a href={href('provider', 'delegate')}>delegate</a> to
          yourself first.
        </p>
      )}
    </>
  );
}
