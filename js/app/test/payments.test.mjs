// A paying market, in the browser: `mkt deploy --ledger` puts the test ledger beside the market
// and `mkt serve` serves both. A consumer signs in, is sent tokens, approves the market on the
// Payments page (icrc2_approve through the ledger's bindings), requests an offer in the ledger's
// currency (its hold takes a deposit), accepts it (the rest of the price goes into escrow) and
// reads the lease's payment and the statement.
// Then the provider, in the browser with its key file imported: names where it is paid (signed
// by the key itself), delegates to its browser identity and reads its statement.
// Outside the browser: a funder (minted at deploy, a controller) sets the deposit policy and
// sends the consumer tokens; a provider's operator offers one node at 0.25 TEST an hour.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { IDL } from '@icp-sdk/core/candid';
import { idlFactory } from '../../src/declarations/marketplace.did.js';
import { idlFactory as ledgerIdl } from '../../src/declarations/ledger.did.js';
import { actor, browser, checkPage, fixtureCsv, person, serve, signedArgs, textOf } from './harness.mjs';

const TEST = 100_000_000n; // one TEST in base units (8 decimals)
/** A `PoliciesUpdate` changing only `fields` (every other one absent). */
const policiesUpdate = (fields) => {
  const [record] = new Map(idlFactory({ IDL })._fields).get('policies_set').argTypes;
  return { ...Object.fromEntries(record._fields.map(([name]) => [name, []])), ...fields };
};
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}` : v));
const okOf = (reply, what) => {
  assert.ok('Ok' in reply, `${what}: ${json(reply)}`);
  return reply.Ok;
};

let served;
let chrome;
let providerKey; // the provider's key file
let funder; // { market, ledger } actors of an identity minted 10 TEST, a controller
let funderId;

before(async () => {
  const funderIdentity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(9));
  funderId = funderIdentity.getPrincipal().toText();
  served = await serve({ deploy: ['--ledger', '--mint', `${funderId}=${10n * TEST}`, '--controller', funderId] });
  assert.ok(served.ledger, 'mkt serve names the ledger it serves');
  chrome = await browser();
  const agent = await HttpAgent.create({ host: served.url, identity: funderIdentity, shouldFetchRootKey: true });
  funder = {
    market: await actor(served, funderIdentity),
    ledger: Actor.createActor(ledgerIdl, { agent, canisterId: served.ledger }),
  };
  okOf(await funder.market.policies_set(policiesUpdate({ hold_deposit: [TEST / 100n] })), 'policies_set');

  const key = join(served.dir, 'provider.key');
  providerKey = key;
  const provider = { Pem: served.mkt(['provider', 'new-key', key]) };
  const opsIdentity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(1));
  const ops = await actor(served, opsIdentity);
  const [change] = signedArgs(served, 'catalog_replace', ['provider', 'sign', '--key', key, '--csv', fixtureCsv, '--seq', '1']);
  okOf(await ops.catalog_replace(change), 'catalog_replace');
  const [delegation] = signedArgs(served, 'market_delegate', ['provider', 'delegate', '--key', key,
    '--principal', opsIdentity.getPrincipal().toText(), '--seq', '2', '--print']);
  okOf(await ops.market_delegate(delegation), 'market_delegate');
  const [item] = okOf(await ops.inventory_register({
    provider,
    items: [{
      resource_type: 'ironic_node', resource_uuid: 'node-1', sku: '4D.large', offering_key: [],
      attributes: {
        cores: 32, memory_mb: 262144n, storage_gb: 4000n, gpus: 0, resource_class: 'baremetal.large',
        routable_ips: 2, labels: [],
      },
    }],
  }), 'inventory_register');
  okOf(await ops.offer_create({
    provider, item_id: item.id, start_ns: item.created_at_ns, end_ns: item.created_at_ns + 30n * 86_400_000_000_000n,
    price_per_hour: TEST / 4n, properties: [], terms: [],
  }), 'offer_create');
});

after(async () => {
  await chrome?.close();
  await served?.stop();
});

const fact = (page, term) => page.locator(`dd[data-fact="${term}"]`);

test('a consumer approves the market, pays a deposit and a lease, and reads the statement', async () => {
  const { page, errors } = await person(chrome);
  await page.goto(served.appUrl);

  // Anonymous: the page says what it is for and asks to sign in.
  await page.getByRole('link', { name: 'Payments' }).click();
  await page.getByRole('heading', { name: 'Payments', level: 1 }).waitFor();
  await checkPage(page, 'payments-anonymous', { shows: 'You are not signed in.' });

  await page.getByRole('button', { name: 'Sign in (dev key)' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await fact(page, 'Balance').filter({ hasText: '0.00 TEST' }).waitFor();
  const me = Principal.fromText(await page.getByTestId('principal').getAttribute('title'));

  // The funder sends 1 TEST; the page shows it once refreshed.
  okOf(await funder.ledger.icrc1_transfer({
    to: { owner: me, subaccount: [] }, amount: TEST, fee: [], memo: [], from_subaccount: [], created_at_time: [],
  }), 'icrc1_transfer');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await fact(page, 'Balance').filter({ hasText: '1.00 TEST' }).waitFor();
  assert.equal(await fact(page, 'Allowance').innerText(), '0.00 TEST');

  // A typo is refused before anything is sent; 0.6 TEST is approved (the approval's fee paid).
  await page.getByLabel('Amount (TEST)').fill('0.6.1');
  await page.getByRole('button', { name: 'Approve' }).click();
  assert.match(await textOf(page.getByRole('alert')), /The amount must be a number such as 0\.5/);
  await page.getByLabel('Amount (TEST)').fill('0.6');
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('The market may now take up to 0.60 TEST from your account.').waitFor();
  await fact(page, 'Allowance').filter({ hasText: '0.60 TEST' }).waitFor();
  assert.equal(await fact(page, 'Balance').innerText(), '0.9999 TEST');
  await checkPage(page, 'payments-approved', { shows: 'No payment yet' });

  // The request form asks the highest price in TEST; the held offer took its deposit.
  await page.getByRole('link', { name: 'Request', exact: true }).click();
  await page.getByLabel('Highest price per hour (TEST)').fill('0.3');
  await page.getByLabel('Duration (hours)').fill('2');
  await page.getByLabel('Image').fill('ubuntu-24.04');
  await page.getByRole('button', { name: 'Request offers' }).click();
  await page.getByRole('heading', { name: 'Offers' }).waitFor();
  assert.match(await page.locator('main').innerText(), /took a deposit of 0\.01 TEST/);
  assert.match(await page.locator('table.offers tbody tr').first().innerText(), /0\.25 TEST\s+0\.50 TEST/);

  // Accepted: the deposit counts toward the price, the rest goes into the lease's escrow.
  await page.getByRole('button', { name: /^Accept offer \d+$/ }).first().click();
  await page.waitForURL(/#\/lease\/\d+$/);
  const id = page.url().match(/#\/lease\/(\d+)$/)[1];
  await page.locator('[data-payment-state="Funded"]').waitFor();
  const payment = await page.getByRole('region', { name: 'Payment' }).innerText();
  assert.match(payment, /The hold's deposit, paid into escrow\s+0\.01 TEST/);
  assert.match(payment, /Paid into escrow\s+0\.49 TEST/);

  // The statement lists both transfers with their ledger blocks; the balance went down.
  await page.getByRole('link', { name: 'Payments' }).click();
  const rows = page.locator('table.statement tbody tr');
  await rows.first().waitFor();
  const statement = await rows.allInnerTexts();
  assert.equal(statement.length, 2, statement.join('\n'));
  assert.match(statement[0], new RegExp(`^Lease ${id}\\s+Funded\\s+The hold's deposit, paid into escrow\\s+0\\.01 TEST\\s+0\\.0001 TEST\\s+\\d+$`));
  assert.match(statement[1], /Paid into escrow\s+0\.49 TEST\s+0\.0001 TEST\s+\d+$/);
  await fact(page, 'Balance').filter({ hasText: '0.4997 TEST' }).waitFor();
  await checkPage(page, 'payments-statement', { shows: page.locator('table.statement') });
  assert.deepEqual(errors, []);
});

test('a provider names its payout account with its key and reads its statement', async () => {
  const { page, errors } = await person(chrome);
  await page.goto(served.appUrl);
  await page.getByRole('button', { name: 'Sign in (dev key)' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByRole('link', { name: 'Provider', exact: true }).click();
  await page.getByLabel('Secret key to import').fill(readFileSync(providerKey, 'utf8').trim());
  await page.getByRole('button', { name: 'Import key' }).click();
  await page.getByText(/imported and in use/).waitFor();
  const tab = (name) => page.getByRole('navigation', { name: 'Provider console' }).getByRole('link', { name, exact: true });

  // By default the key's own principal is paid.
  await tab('Payouts').click();
  const paidTo = page.locator('[data-fact="Payout account"]');
  await paidTo.waitFor();
  await page.getByText("Your key's own principal: you named no account.").waitFor();
  const keyPrincipal = (await paidTo.innerText()).trim();

  // A bad subaccount is refused in the page; a named account is signed by the key and kept.
  const treasury = funderId;
  await page.getByLabel('Owner (principal)').fill(treasury);
  await page.getByLabel('Subaccount').fill('abc');
  await page.getByRole('button', { name: 'Name this account' }).click();
  assert.match(await textOf(page.getByRole('alert')), /not hexadecimal|64 hexadecimal digits/i);
  await page.getByLabel('Subaccount').fill('');
  await page.getByRole('button', { name: 'Name this account' }).click();
  await page.getByText(`From now on you are paid to ${treasury}.`).waitFor();
  await paidTo.filter({ hasText: treasury }).waitFor();
  await page.getByText('The account your key named.').waitFor();
  await checkPage(page, 'provider-payouts', { shows: paidTo });

  // Back to the key's principal.
  await page.getByRole('button', { name: "Back to my key's principal" }).click();
  await paidTo.filter({ hasText: keyPrincipal }).waitFor();

  // As a delegate, the provider's statement: the consumer's lease, deposit and price.
  await tab('Delegate').click();
  await page.getByRole('button', { name: 'Delegate to me' }).click();
  await page.getByRole('status').filter({ hasText: 'Delegated to' }).waitFor();
  await tab('Payouts').click();
  const rows = page.locator('table.statement tbody tr');
  await rows.first().waitFor();
  const statement = await rows.allInnerTexts();
  assert.equal(statement.length, 2, statement.join('\n'));
  assert.match(statement[1], /The consumer's payment, into escrow\s+0\.49 TEST/);
  assert.match(await rows.first().getByRole('link').getAttribute('href'), /^#\/provider\/leases\/\d+$/);
  await checkPage(page, 'provider-statement', { shows: page.locator('table.statement') });
  assert.deepEqual(errors, []);
});
