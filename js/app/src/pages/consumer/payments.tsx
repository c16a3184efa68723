// #/payments: a consumer's money in a paying market. The account on the market's ledger (its
// balance, what the market may take from it), the approval that lets the market take deposits
// and prices (`icrc2_approve`, the market as spender), and the statement: every payment of the
// consumer's leases with its ledger transfers (`payments_list`, a page at a time).
import { useEffect, useState } from 'preact/hooks';
import type { ApproveError, Currency, ExecutionPayment, PaymentPage, Session } from '../../api';
import { endpoint, ledgerFor } from '../../api';
import { ok } from '../../errors';
import { href } from '../../router';
import { Alert, Field, Loading, Notice, Page, opt, time, useAction, useLoad, variant } from '../../ui';
import { PURPOSE, SignInNote, currencyName, price, typedPrice } from './common';

/** A refusal of the ledger's as a sentence (the ICRC-2 `ApproveError`). */
export function approveError(error: ApproveError, currency: Currency): string {
  const amount = (n: bigint) => price(n, currency);
  if ('InsufficientFunds' in error) {
    return `Your account holds ${amount(error.InsufficientFunds.balance)}, and an approval costs the ledger's fee (${amount(opt(currency.fee) ?? 0n)}).`;
  }
  if ('AllowanceChanged' in error) {
    return `The market's allowance changed meanwhile (it is ${amount(error.AllowanceChanged.current_allowance)} now): look again and approve once more.`;
  }
  if ('BadFee' in error) return `The ledger asks a fee of ${amount(error.BadFee.expected_fee)}.`;
  if ('TemporarilyUnavailable' in error) return 'The ledger is busy; try again in a moment.';
  if ('GenericError' in error) return `The ledger refused: ${error.GenericError.message}.`;
  return `The ledger refused the approval (${variant(error)}).`;
}

interface Wallet {
  balance: bigint;
  allowance: bigint;
  expires?: bigint;
}

const accountOf = (who: Session) => ({ owner: who.principal, subaccount: [] as [] });
const market = () => ({ owner: endpoint().canisterId, subaccount: [] as [] });

/** The consumer's balance and the market's allowance, read from the ledger (public queries). */
async function wallet(who: Session, currency: Currency): Promise<Wallet> {
  const ledger = await ledgerFor('anonymous', currency.ledger);
  const [balance, allowance] = await Promise.all([
    ledger.icrc1_balance_of(accountOf(who)),
    ledger.icrc2_allowance({ account: accountOf(who), spender: market() }),
  ]);
  return { balance, allowance: allowance.allowance, expires: opt(allowance.expires_at) };
}

export function PaymentsPage({ who }: { who: Session }) {
  const policies = useLoad(async () => who.actor.policies(), []);
  const currency = policies.data && opt(policies.data.currency);
  const anonymous = who.kind === 'anonymous';
  const account = useLoad(
    async () => (currency && !anonymous ? wallet(who, currency) : undefined),
    [currency?.ledger.toText(), who.principal.toText()],
  );
  const [amount, setAmount] = useState('');

  const approve = useAction(async () => {
    if (!currency) throw new Error('This market takes no payments.');
    const wanted = typedPrice(amount, 'The amount', currency);
    const ledger = await ledgerFor(who, currency.ledger);
    // `expected_allowance`: an allowance someone changed meanwhile is refused, not overwritten.
    const reply = await ledger
      .icrc2_approve({
        spender: market(), amount: wanted, expected_allowance: account.data ? [account.data.allowance] : [],
        expires_at: [], fee: [], memo: [], from_subaccount: [], created_at_time: [],
      })
      .catch((e: unknown) => {
        // An Internet Identity sign-in from before the market had its ledger does not cover it.
        if (/target|delegation/i.test(String(e))) {
          throw new Error("Your sign-in does not cover the market's ledger: sign out and sign in again.");
        }
        throw e;
      });
    // Either way the account changed or was seen to differ: read it again.
    account.reload();
    if ('Err' in reply) throw new Error(approveError(reply.Err, currency));
    return wanted;
  });

  return (
    <Page
      title="Payments"
      intro="In a paying market you let the market take from your account on its ledger: a refundable deposit for every offer it holds for you, then the lease's price into an escrow that pays the provider when the lease is over and gives you back what you did not use."
    >
      {policies.loading && !policies.data && <Loading what="the market's currency" />}
      {policies.error && <Alert>{policies.error}</Alert>}
      {policies.data && !currency && <p>This market runs free: leases cost nothing and there is nothing to approve.</p>}
      {currency && anonymous && <SignInNote what="Your account is that of the identity you sign in with." />}
      {currency && !anonymous && (
        <>
          <section class="card" aria-labelledby="account-title">
            <h2 id="account-title">Your account</h2>
            <p>
              On the {opt(currency.symbol) ?? ''} ledger <code>{currency.ledger.toText()}</code>, as{' '}
              <code>{who.principal.toText()}</code>.
            </p>
            {account.error && <Alert>{account.error}</Alert>}
            {account.data ? (
              <dl>
                <dt>Balance</dt>
                <dd data-fact="Balance">{price(account.data.balance, currency)}</dd>
                <dt>The market may take</dt>
                <dd data-fact="Allowance">
                  {price(account.data.allowance, currency)}
                  {account.data.expires !== undefined ? ` until ${time(account.data.expires)}` : ''}
                </dd>
                <dt>Deposit per held offer</dt>
                <dd>{price(opt(policies.data!.hold_deposit) ?? 0n, currency)}</dd>
                <dt>Ledger fee per transfer</dt>
                <dd>{price(opt(currency.fee) ?? 0n, currency)}</dd>
              </dl>
            ) : (
              !account.error && <Loading what="your account" />
            )}
            <button type="button" disabled={account.loading} onClick={account.reload}>Refresh</button>
          </section>
          <form
            class="card"
            aria-label="Approve the market"
            onSubmit={(e) => {
              e.preventDefault();
              void approve.run();
            }}
          >
            <h2>Let the market take payments</h2>
            <Field
              label={`Amount (${currencyName(currency)})`}
              hint="replaces what the market may take now; cover the deposits, the prices and one ledger fee per transfer. The approval itself costs the ledger's fee."
            >
              {(id, hint) => (
                <input id={id} inputMode="decimal" value={amount} aria-describedby={hint}
                  onInput={(e) => setAmount((e.target as HTMLInputElement).value)} />
              )}
            </Field>
            <button type="submit" disabled={approve.busy}>Approve</button>
            {approve.error && <Alert>{approve.error}</Alert>}
            {approve.result !== undefined && (
              <Notice>The market may now take up to {price(approve.result, currency)} from your account.</Notice>
            )}
          </form>
          <Statement
            currency={currency}
            deps={[who.principal.toText()]}
            empty="No payment yet: your leases and held offers will show here."
            page={async (after) => ok(await who.actor.payments_list({
              role: { Consumer: null }, provider: [], after: after === undefined ? [] : [after], limit: [],
            }))}
          />
        </>
      )}
    </Page>
  );
}

/**
 * A statement (`payments_list`, a consumer's or a provider's): every payment with its ledger
 * transfers, `page(after)` read a page at a time.
 */
export function Statement(props: {
  currency: Currency;
  page: (after?: bigint) => Promise<PaymentPage>;
  /** What reloads it from the first page. */
  deps: unknown[];
  empty: string;
  /** Where a lease's link goes (the consumer's lease page by default). */
  leaseHref?: (id: bigint) => string;
  /** Each transfer's purpose in words, for whoever reads it (the consumer's by default). */
  purposes?: Record<string, string>;
}) {
  const purposes = props.purposes ?? PURPOSE;
  const leaseHref = props.leaseHref ?? ((id: bigint) => href('lease', id));
  const { currency } = props;
  const [payments, setPayments] = useState<ExecutionPayment[]>();
  const [next, setNext] = useState<bigint>();
  const load = useAction(async (after?: bigint, current: ExecutionPayment[] = []) => {
    const page = await props.page(after);
    setPayments([...current, ...page.payments]);
    setNext(opt(page.next));
  });
  useEffect(() => {
    void load.run();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, props.deps);
  return (
    <section aria-labelledby="statement-title">
      <h2 id="statement-title">Statement</h2>
      {load.error && <Alert>{load.error}</Alert>}
      {payments && payments.length === 0 && <p>{props.empty}</p>}
      {payments && payments.length > 0 && (
        <table class="statement">
          <thead>
            <tr>
              <th scope="col">Lease</th><th scope="col">State</th><th scope="col">What</th>
              <th scope="col">Amount</th><th scope="col">Ledger fee</th><th scope="col">Block</th>
            </tr>
          </thead>
          <tbody>
            {payments.flatMap(({ execution_id: id, payment }) =>
              [...payment.pulls, ...payment.transfers].map((move, i) => (
                <tr key={`${id}/${i}`}>
                  <td><a href={leaseHref(id)}>Lease {String(id)}</a></td>
                  <td>{variant(payment.state)}{payment.waived ? ' (owes nothing)' : ''}</td>
                  <td>{purposes[variant(move.purpose)] ?? variant(move.purpose)}</td>
                  <td>{price(move.amount, currency)}</td>
                  <td>{price(move.fee, currency)}</td>
                  <td>{opt(move.block)?.toString() ?? (move.done ? 'done' : 'pending')}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}
      {next !== undefined && (
        <button type="button" disabled={load.busy} onClick={() => void load.run(next, payments)}>
          Load more
        </button>
      )}
    </section>
  );
}
