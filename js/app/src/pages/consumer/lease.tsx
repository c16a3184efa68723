// #/lease/<id>: one lease as its consumer sees it, refreshed every 3 s while the page is open:
// details, the phases it went through (from its audit trail), what may be done now (cancel
// before it starts, extend, end early), its credentials opened here with the lessee key this
// browser keeps, the server's provisioning, and the audit trail.
import { useEffect, useRef, useState } from 'preact/hooks';
import type {
  AuditEntry, AuditPage, Contract, Currency, Execution, LedgerTransfer, Payment as PaymentRecord, ProvisionStatus,
  SealedBox, Service, Session,
} from '../../api';
import { describe, failure, ok } from '../../errors';
import { newLesseeKey, lesseeKeys, open } from '../../sealed';
import { Alert, Field, Loading, NAT64_MAX, Notice, Page, hex, nat64, opt, time, useAction, variant } from '../../ui';
import { fingerprint } from '../browse';
import {
  FINAL, NS_PER_HOUR, PURPOSE, SignInNote, usePoll, hardware, perHour, phaseOf, phaseWord, price, spanOf, whoDid, type PhaseName,
} from './common';

const POLL_MS = 3000;

interface View {
  execution: Execution;
  audit: AuditEntry[];
  contract?: Contract;
  provision: { status?: ProvisionStatus; note?: string };
  /** The ledger prices are in, when the market takes payments. */
  currency?: Currency;
  /** Its escrow and ledger transfers, when it was paid. */
  payment?: PaymentRecord;
}

/** The audit trail of the execution, every page of it (at most 1000 entries). */
async function trail(actor: Service, id: bigint): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let after: [] | [bigint] = [];
  for (let page = 0; page < 10; page++) {
    const reply: AuditPage = ok(await actor.audit_log({ entity: [{ Execution: id }], after, from_ns: [], to_ns: [], limit: [100] }));
    entries.push(...reply.entries);
    const next: bigint | undefined = opt(reply.next);
    if (next === undefined || reply.entries.length === 0) break;
    after = [next];
  }
  return entries;
}

/** Phases in which the lease's server has (or had) a provisioning operation. */
const PROVISIONED: PhaseName[] = ['Preparing', 'Available', 'Releasing', 'Completed', 'Failed', 'Cancelled'];

async function provisioning(actor: Service, e: Execution): Promise<View['provision']> {
  if (!PROVISIONED.includes(phaseOf(e.phase))) {
    return { note: 'The server is provisioned when the lease starts.' };
  }
  try {
    const reply = await actor.provision_status(e.resource_uuid);
    if ('Ok' in reply) {
      if (opt(reply.Ok.execution_id) === e.id) return { status: reply.Ok };
      return { note: 'The server is busy with an operation for someone else now; this lease has none to show.' };
    }
    const err = variant(reply.Err);
    if (err === 'NotAuthorized' || err === 'ServerNotFound') {
      return { note: 'No provisioning operation of this lease is on record.' };
    }
    return { note: describe(reply.Err) };
  } catch (error) {
    return { note: `The provisioning status could not be read: ${failure(error)}` };
  }
}

async function load(actor: Service, id: bigint): Promise<View> {
  const execution = ok(await actor.execution_get(id));
  const phase = phaseOf(execution.phase);
  const [audit, contract, provision, policies, payment] = await Promise.all([
    trail(actor, id),
    ['Offered', 'Rejected', 'Expired'].includes(phase)
      ? Promise.resolve(undefined)
      : actor.contract_get(id).then((r) => ('Ok' in r ? r.Ok : undefined), () => undefined),
    provisioning(actor, execution),
    actor.policies(),
    actor.execution_payment(id).then((r) => ('Ok' in r ? opt(r.Ok) : undefined), () => undefined),
  ]);
  return { execution, audit, contract, provision, currency: opt(policies.currency), payment };
}

/** The lease's statement: its escrow and every ledger transfer, with its block. */
function Payment({ view }: { view: View }) {
  const payment = view.payment;
  if (!payment) return null;
  const moves: LedgerTransfer[] = [...payment.pulls, ...payment.transfers];
  const state = variant(payment.state);
  return (
    <section aria-labelledby="payment-title">
      <h2 id="payment-title">Payment</h2>
      <p data-payment-state={state}>
        {state === 'Settled'
          ? 'Settled: every transfer below is done.'
          : state === 'Funded'
            ? 'The price is held in escrow by the market until the lease is over.'
            : state === 'Pulling'
              ? 'Your payment is on its way to the ledger.'
              : 'Transfers out of the escrow are on their way.'}
        {payment.waived ? ' This lease owes nothing: everything goes back to you.' : ''}
      </p>
      <table>
        <thead>
          <tr><th scope="col">What</th><th scope="col">Amount</th><th scope="col">Ledger fee</th><th scope="col">Block</th></tr>
        </thead>
        <tbody>
          {moves.map((m, i) => (
            <tr key={i}>
              <td>{PURPOSE[variant(m.purpose)] ?? variant(m.purpose)}</td>
              <td>{price(m.amount, view.currency)}</td>
              <td>{price(m.fee, view.currency)}</td>
              <td>{opt(m.block)?.toString() ?? (m.done ? 'done' : 'pending')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The lease number the route names, if it is one (a nat64). */
function leaseNumber(id: string | undefined): bigint | undefined {
  try {
    return id === undefined ? undefined : nat64(id, 'A lease number');
  } catch {
    return undefined;
  }
}

export function LeasePage({ id, who }: { id?: string; who: Session }) {
  const number = leaseNumber(id);
  const valid = number !== undefined;
  const anonymous = who.kind === 'anonymous';
  const executionId = number ?? 0n;
  // A lease in a final phase never changes again: stop asking.
  const { data, error, refresh } = usePoll(
    !anonymous && valid, () => load(who.actor, executionId), POLL_MS, [],
    (view) => FINAL.includes(phaseOf(view.execution.phase)),
  );
  const title = valid ? `Lease ${id}` : 'Lease';
  return (
    <Page title={title}>
      <p>
        <a href="#/leases">All my leases</a>
      </p>
      {!valid ? (
        <Alert>This link names no lease: a lease's number is a whole number up to {String(NAT64_MAX)}, such as #/lease/3.</Alert>
      ) : anonymous ? (
        <SignInNote what="A lease is shown to its consumer only." />
      ) : !data ? (
        error ? <Alert>{error}</Alert> : <Loading what={`lease ${id}`} />
      ) : (
        <>
          {error && (
            <p role="status" class="muted">
              Could not refresh just now ({error}); trying again.
            </p>
          )}
          <Lease view={data} who={who} refresh={refresh} />
        </>
      )}
    </Page>
  );
}

function Lease({ view, who, refresh }: { view: View; who: Session; refresh: () => void }) {
  const { execution: e } = view;
  const phase = phaseOf(e.phase);
  const reason = opt(e.reason);
  return (
    <>
      <p role="status" class="phase-now">
        Lease {String(e.id)} is <strong>{phase.toLowerCase()}</strong> since {time(e.phase_since_ns)}
        {reason ? `: ${reason}` : '.'}
      </p>
      <ReclaimNotice execution={e} />
      <h2 id="progress">Progress</h2>
      <Timeline view={view} />
      <h2>Details</h2>
      <Details view={view} />
      <Payment view={view} />
      <h2>Actions</h2>
      <Actions execution={e} who={who} refresh={refresh} currency={view.currency} />
      <h2>Credentials</h2>
      <Credentials execution={e} />
      <h2>Provisioning</h2>
      <Provisioning provision={view.provision} />
      <h2>Audit trail</h2>
      <Audit entries={view.audit} who={who} id={e.id} />
    </>
  );
}

/** The provider's notice that it takes the server back, while it runs and after it ended. */
export function ReclaimNotice({ execution: e }: { execution: Execution }) {
  const reclaim = opt(e.reclaim);
  if (!reclaim) return null;
  const over = FINAL.includes(phaseOf(e.phase)) || phaseOf(e.phase) === 'Releasing';
  return (
    <div class="reclaim" role={over ? 'status' : 'alert'}>
      <p>
        <strong>
          {over
            ? `Your provider reclaimed this server, to end at ${time(reclaim.ends_at_ns)}, reason: ${reclaim.reason || 'none given'}.`
            : `Your provider reclaims this server: it ends at ${time(reclaim.ends_at_ns)}, reason: ${reclaim.reason || 'none given'}.`}
        </strong>
      </p>
      <p class="muted">
        Notice given {time(reclaim.noticed_at_ns)}.{over ? '' : ' Copy what you need off the server before it ends.'}
      </p>
    </div>
  );
}

/** The usual way through, for the phases still to come. */
const PATH = ['OFFERED', 'ACCEPTED', 'PREPARING', 'AVAILABLE', 'RELEASING', 'COMPLETED'];

function Timeline({ view }: { view: View }) {
  const { execution: e, audit } = view;
  const reached: { name: string; at: bigint }[] = [];
  for (const entry of audit) {
    if (entry.to && reached[reached.length - 1]?.name !== entry.to) reached.push({ name: entry.to, at: entry.at_ns });
  }
  const current = phaseOf(e.phase).toUpperCase();
  if (reached[reached.length - 1]?.name !== current) reached.push({ name: current, at: e.phase_since_ns });
  const final = FINAL.includes(phaseOf(e.phase));
  const from = PATH.indexOf(current === 'WAITING' ? 'ACCEPTED' : current);
  const upcoming = final || from < 0 ? [] : PATH.slice(from + 1);
  return (
    <ol class="timeline" aria-labelledby="progress">
      {reached.map((step, i) => {
        const now = i === reached.length - 1;
        return (
          <li key={`${step.name}-${i}`} aria-current={now ? 'step' : undefined}>
            {phaseWord(step.name)}
            <span class="when">
              {now ? (final ? ` (final, ${time(step.at)})` : ` (now, since ${time(step.at)})`) : ` (${time(step.at)})`}
            </span>
          </li>
        );
      })}
      {upcoming.map((name) => (
        <li key={name} class="upcoming">
          {phaseWord(name)}
          <span class="when"> (to come)</span>
        </li>
      ))}
    </ol>
  );
}

function Details({ view }: { view: View }) {
  const { execution: e, contract } = view;
  const phase = phaseOf(e.phase);
  const facts: [string, string][] = [
    ['Phase', phase],
    ['SKU', e.sku],
    ['Server', hardware(e.attributes)],
    ['Resource', `${e.resource_type} ${e.resource_uuid} (item ${e.item_id})`],
    ['Image', e.image],
    ['Project', e.project || '—'],
    ['Starts', time(e.start_ns)],
    ['Ends', time(e.end_ns)],
    ['Duration', spanOf(e.start_ns, e.end_ns)],
    ['Price per hour', price(e.price_per_hour, view.currency)],
    ['Total price', price(e.total_price, view.currency)],
  ];
  if (phase === 'Offered') facts.push(['Held for you until', time(e.expires_at_ns)]);
  if (contract) facts.push(['Contract', `${variant(contract.status)} (offer ${contract.offer_id})`]);
  const key = opt(e.lessee_key);
  facts.push(['Your lessee key', key ? `${hex(key).slice(0, 16)}…` : 'none yet (given when you accept)']);
  facts.push(['Provider', fingerprint(e.provider_pem)]);
  return (
    <dl class="facts">
      {facts.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd data-fact={term}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

type Kind = 'cancel' | 'extend' | 'end';

function Actions({
  execution: e,
  who,
  refresh,
  currency,
}: {
  execution: Execution;
  who: Session;
  refresh: () => void;
  currency?: Currency;
}) {
  const phase = phaseOf(e.phase);
  const [confirming, setConfirming] = useState<Kind>();
  const [hours, setHours] = useState('1');
  const [reason, setReason] = useState('');
  // What the last action did, shown while the lease stays in the phase it left it in.
  const [did, setDid] = useState<{ text: string; phase: PhaseName }>();
  const done = did && did.phase === phase ? did.text : undefined;

  const canCancel = phase === 'Accepted' || phase === 'Waiting';
  const canExtend = canCancel || phase === 'Preparing' || phase === 'Available';
  const canEnd = phase === 'Preparing' || phase === 'Available';

  const extraHours = Number(hours);
  const extraSeconds = /^\d*\.?\d+$/.test(hours.trim()) && Number.isFinite(extraHours) ? Math.round(extraHours * 3600) : 0;
  const newEnd = e.end_ns + BigInt(extraSeconds) * (NS_PER_HOUR / 3600n);
  // The new end is a nat64 of nanoseconds: say so rather than fail to encode.
  const extendProblem =
    extraSeconds <= 0
      ? 'Say by how many hours to extend, such as 1 or 0.5.'
      : newEnd > NAT64_MAX
        ? 'That is too many hours: the lease cannot end that far in the future.'
        : undefined;

  const act = useAction(async (kind: Kind | 'accept') => {
    setDid(undefined);
    let said: string;
    let now: Execution;
    if (kind === 'cancel') {
      now = ok(await who.actor.execution_cancel({ execution_id: e.id, reason: reason.trim() }));
      said = `Lease ${e.id} is cancelled.`;
    } else if (kind === 'extend') {
      if (extendProblem) throw new Error(extendProblem);
      now = ok(await who.actor.lease_extend({ execution_id: e.id, new_end_ns: newEnd }));
      said = `Lease ${e.id} now ends ${time(now.end_ns)}; it costs ${price(now.total_price, currency)} in all.`;
    } else if (kind === 'end') {
      now = ok(await who.actor.lease_end(e.id));
      said = `Lease ${e.id} is ending now: the server is being wiped and released.`;
    } else {
      const key = await newLesseeKey(e.id);
      now = ok(await who.actor.execution_accept({ execution_id: e.id, lessee_key: [key], lessee_key_hex: [] }));
      said = `You accepted offer ${e.id}: it is your lease now.`;
    }
    setConfirming(undefined);
    setDid({ text: said, phase: phaseOf(now.phase) });
    refresh();
    return said;
  });

  if (phase === 'Offered') {
    return (
      <>
        <p>This is an offer held for you until {time(e.expires_at_ns)}.</p>
        <button type="button" onClick={() => act.run('accept')} disabled={act.busy}>
          Accept this offer
        </button>
        {act.error && <Alert>{act.error}</Alert>}
      </>
    );
  }
  if (!canExtend && !canEnd && !canCancel) {
    return (
      <>
        {done && <Notice>{done}</Notice>}
        <p>Nothing more can be done to a lease that is {phase.toLowerCase()}.</p>
      </>
    );
  }
  return (
    <>
      {done && <Notice>{done}</Notice>}
      {act.error && <Alert>{act.error}</Alert>}
      <div class="actions">
        {canExtend && (
          <div>
            <Field label="Extend by (hours)" hint={`at ${perHour(e.price_per_hour, currency)}`}>
              {(id, hint) => (
                <input id={id} name="extend_hours" inputMode="decimal" value={hours} aria-describedby={hint}
                  onInput={(ev) => setHours((ev.target as HTMLInputElement).value)} />
              )}
            </Field>
            <button type="button" class="secondary" onClick={() => setConfirming('extend')} disabled={act.busy}>
              Extend…
            </button>
          </div>
        )}
        {canCancel && (
          <div>
            <Field label="Reason to cancel (optional)">
              {(id) => (
                <input id={id} name="cancel_reason" value={reason} onInput={(ev) => setReason((ev.target as HTMLInputElement).value)} />
              )}
            </Field>
            <button type="button" class="danger" onClick={() => setConfirming('cancel')} disabled={act.busy}>
              Cancel lease…
            </button>
          </div>
        )}
        {canEnd && (
          <div>
            <button type="button" class="danger" onClick={() => setConfirming('end')} disabled={act.busy}>
              End lease now…
            </button>
          </div>
        )}
      </div>
      {confirming === 'extend' && (
        <Confirm
          question={
            extendProblem ??
            `Extend lease ${e.id} to ${time(newEnd)}? It would last ${spanOf(e.start_ns, newEnd)} at ${perHour(e.price_per_hour, currency)}.`
          }
          yes="Yes, extend it"
          onYes={extendProblem ? undefined : () => act.run('extend')}
          onNo={() => setConfirming(undefined)}
          busy={act.busy}
        />
      )}
      {confirming === 'cancel' && (
        <Confirm
          question={`Cancel lease ${e.id}? It will not start, and the server goes back on offer.`}
          yes="Yes, cancel the lease"
          onYes={() => act.run('cancel')}
          onNo={() => setConfirming(undefined)}
          busy={act.busy}
        />
      )}
      {confirming === 'end' && (
        <Confirm
          question={`End lease ${e.id} now? The server is wiped and released; you pay up to the hour started.`}
          yes="Yes, end the lease now"
          onYes={() => act.run('end')}
          onNo={() => setConfirming(undefined)}
          busy={act.busy}
        />
      )}
    </>
  );
}

let confirmIds = 0;
/** Asks before an action: the question takes the focus; "No" leaves everything as it was. */
export function Confirm(props: { question: string; yes: string; onYes?: () => void; onNo: () => void; busy: boolean }) {
  const ref = useRef<HTMLParagraphElement>(null);
  const [id] = useState(() => `confirm-${++confirmIds}`);
  useEffect(() => ref.current?.focus(), [props.question]);
  return (
    <div class="confirm" role="group" aria-labelledby={id}>
      <p id={id} ref={ref} tabIndex={-1}>
        {props.question}
      </p>
      <div class="row">
        {props.onYes && (
          <button type="button" onClick={props.onYes} disabled={props.busy}>
            {props.yes}
          </button>
        )}
        <button type="button" class="secondary" onClick={props.onNo} disabled={props.busy}>
          No, leave it
        </button>
      </div>
    </div>
  );
}

function Credentials({ execution: e }: { execution: Execution }) {
  const box = opt(e.consumer_meta);
  const recipient = box ? hex(box.recipient_key) : '';
  const sealedAs = box ? hex(box.ciphertext) : '';
  const [secret, setSecret] = useState<Uint8Array | null>();
  const [opened, setOpened] = useState<{ of: string; text: string }>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    if (!recipient) return undefined;
    let live = true;
    setSecret(undefined);
    lesseeKeys().then(
      (keys) => live && setSecret(keys.get(recipient) ?? null),
      (err) => live && (setSecret(null), setError(failure(err))),
    );
    return () => {
      live = false;
    };
  }, [recipient]);

  const phase = phaseOf(e.phase);
  if (!opt(e.lessee_key)) {
    return <p>Credentials are sealed to the key your browser makes when you accept the offer.</p>;
  }
  if (!box) {
    return FINAL.includes(phase) ? (
      <p>No credentials were sealed to this lease.</p>
    ) : (
      <p>
        The provider has not sealed credentials to this lease yet. They appear here when it does (this page
        refreshes itself{phase === 'Available' ? '' : '; usually once the server is available'}).
      </p>
    );
  }
  if (secret === undefined) return <Loading what="your lessee keys" />;
  if (secret === null) {
    return (
      <>
        {error && <Alert>{error}</Alert>}
        <p>
          This browser has no key for these credentials. They are sealed to key <code>{recipient.slice(0, 16)}…</code>,
          which stays in the browser that accepted the offer (or this browser's data was cleared).
        </p>
      </>
    );
  }
  const show = () => {
    setError(undefined);
    try {
      setOpened({ of: sealedAs, text: open(box as SealedBox, secret) });
    } catch (err) {
      setError(failure(err));
    }
  };
  const shown = opened && opened.of === sealedAs ? opened.text : undefined;
  return (
    <>
      <p>
        The provider sealed them to your lessee key; only this browser can open them (the canister stores them
        sealed).
      </p>
      {error && <Alert>{error}</Alert>}
      {shown === undefined ? (
        <button type="button" onClick={show}>
          Open credentials
        </button>
      ) : (
        <>
          <p id="credentials-label">Your credentials:</p>
          <pre class="credentials" data-testid="credentials">
            {shown}
          </pre>
          <button type="button" class="secondary" onClick={() => setOpened(undefined)}>
            Hide credentials
          </button>
        </>
      )}
    </>
  );
}

function Provisioning({ provision }: { provision: View['provision'] }) {
  const s = provision.status;
  if (!s) return <p>{provision.note}</p>;
  const progress = opt(s.progress_percent);
  const done = opt(s.completed_at_ns);
  return (
    <dl class="facts">
      <div>
        <dt>Operation</dt>
        <dd>{variant(s.kind) === 'Deploy' ? 'Deploy (install the image)' : 'Undeploy (wipe and release)'}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd data-fact="Provisioning status">{variant(s.status).replace(/([a-z])([A-Z])/g, '$1 $2')}</dd>
      </div>
      <div>
        <dt>Ironic state</dt>
        <dd data-fact="Ironic state">{s.provision_state}</dd>
      </div>
      <div>
        <dt>Progress</dt>
        <dd>
          {progress === undefined ? (
            'unknown'
          ) : (
            <>
              <progress max={100} value={progress} aria-label="Provisioning progress" /> {progress}%
            </>
          )}
        </dd>
      </div>
      <div>
        <dt>Server</dt>
        <dd>
          {s.server_id} (item {String(s.item_id)})
        </dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>{time(s.started_at_ns)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>{done === undefined ? 'not yet' : time(done)}</dd>
      </div>
      <div>
        <dt>Last read</dt>
        <dd>{time(s.checked_at_ns)}</dd>
      </div>
      {s.message && (
        <div>
          <dt>Message</dt>
          <dd>{s.message}</dd>
        </div>
      )}
    </dl>
  );
}

function Audit({ entries, who, id }: { entries: AuditEntry[]; who: Session; id: bigint }) {
  if (entries.length === 0) return <p>No audit entries are recorded for this lease.</p>;
  return (
    <table class="audit">
      <caption>
        Audit trail of lease {String(id)}: {entries.length} entr{entries.length === 1 ? 'y' : 'ies'}, oldest first
      </caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">When</th>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Who</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((entry) => (
          <tr key={String(entry.seq)}>
            <th scope="row">{String(entry.seq)}</th>
            <td>{time(entry.at_ns)}</td>
            <td>{entry.from ? phaseWord(entry.from) : '(created)'}</td>
            <td>{phaseWord(entry.to)}</td>
            <td>{whoDid(entry.actor, who)}</td>
            <td>{entry.why}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
