// The consumer's journey, in the browser: sign in (dev key) → search → filter → next page →
// the request form (from the Products page, its SKU filled in) → a request that gets NO → one
// that gets offers → accept (a lessee key made and kept in the browser) → the lease page
// following the lease live as the server's clock moves (the simulated Ironic provisions the
// node) → extend → the credentials the provider sealed, opened in the browser → end early →
// COMPLETED → my leases.
// The provider side is set up outside the browser, with agents and the CLI: a catalog (the
// serverhunter fixture: 4 offerings, 3 visible), a market delegation to its operator, an
// Ironic node as inventory, an offer for 30 days at 2.50 USD an hour; later the operator
// seals credentials to the lessee key the browser gave at accept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { actor, browser, checkPage, fixtureCsv, person, serve, signedArgs } from './harness.mjs';

const CREDENTIALS = 'ssh root@203.0.113.7\npassword: correct-horse-battery-staple';
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}` : v));
const okOf = (reply, what) => {
  assert.ok('Ok' in reply, `${what}: ${json(reply)}`);
  return reply.Ok;
};

let served;
let chrome;
let ops; // the provider's operator: an actor acting for the provider in the market
let provider; // { Pem }
let items;

before(async () => {
  served = await serve();
  chrome = await browser();
  const key = join(served.dir, 'provider.key');
  provider = { Pem: served.mkt(['provider', 'new-key', key]) };
  const opsIdentity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(1));
  ops = await actor(served, opsIdentity);

  // The catalog, signed by the provider's key.
  const [change] = signedArgs(served, 'catalog_replace', ['provider', 'sign', '--key', key, '--csv', fixtureCsv, '--seq', '1']);
  okOf(await ops.catalog_replace(change), 'catalog_replace');
  // The operator acts for the provider in the market.
  const [delegation] = signedArgs(served, 'market_delegate', ['provider', 'delegate', '--key', key,
    '--principal', opsIdentity.getPrincipal().toText(), '--seq', '2', '--print']);
  okOf(await ops.market_delegate(delegation), 'market_delegate');
  // Two Ironic nodes of one SKU, offered for 30 days from now (the canister's clock: their
  // creation), at 2.50 and 3.00 USD an hour.
  const attributes = {
    cores: 32, memory_mb: 262144n, storage_gb: 4000n, gpus: 0, resource_class: 'baremetal.large',
    routable_ips: 2, labels: [],
  };
  items = okOf(await ops.inventory_register({
    provider,
    items: ['node-1', 'node-2'].map((uuid) => ({
      resource_type: 'ironic_node', resource_uuid: uuid, sku: '4D.large', offering_key: [], attributes,
    })),
  }), 'inventory_register');
  const DAY = 86_400_000_000_000n;
  for (const [item, price] of [[items[0], 250n], [items[1], 300n]]) {
    okOf(await ops.offer_create({
      provider, item_id: item.id, start_ns: item.created_at_ns, end_ns: item.created_at_ns + 30n * DAY,
      price_per_hour: price, properties: [{ key: 'region', value: 'rotterdam' }], terms: [],
    }), 'offer_create');
  }
});

after(async () => {
  await chrome?.close();
  await served?.stop();
});

/** The execution's phase as its provider's operator reads it. */
async function phase(id) {
  return Object.keys(okOf(await ops.execution_get(id), 'execution_get').phase)[0];
}

/** Moves the server's clock a minute at a time until the execution is in `wanted`. */
async function advanceUntil(id, wanted, most = 30) {
  for (let i = 0; i < most; i++) {
    if ((await phase(id)) === wanted) return;
    served.advance('1m');
  }
  assert.equal(await phase(id), wanted, `lease ${id} reaches ${wanted}`);
}

/** The timeline's current step, once it reads `name`. */
async function currentStep(page, name) {
  const step = page.locator('ol.timeline li[aria-current="step"]');
  await step.filter({ hasText: name }).waitFor({ timeout: 20_000 }).catch(async (e) => {
    throw new Error(`${e.message}\nThe page:\n${await page.locator('main').innerText()}`);
  });
  return step.innerText();
}

const fact = (page, term) => page.locator(`dd[data-fact="${term}"]`).innerText();

test('a consumer requests, accepts, follows, opens the credentials of and ends a lease', async () => {
  const { page, errors } = await person(chrome);
  await page.goto(served.appUrl);

  // Not signed in: the request form is there, with a note; nothing is sent.
  await page.getByRole('link', { name: 'Request', exact: true }).click();
  await page.getByRole('heading', { name: 'Request servers' }).waitFor();
  await checkPage(page, 'request-anonymous', { shows: 'You are not signed in.' });
  await page.getByLabel('Image').fill('ubuntu-24.04');
  await page.getByRole('button', { name: 'Request offers' }).click();
  assert.match(await page.getByRole('alert').innerText(), /Sign in first/);

  // Sign in with a dev key kept in this browser.
  await page.getByRole('button', { name: 'Sign in (dev key)' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();

  // Search → page through two at a time → filter.
  await page.getByRole('link', { name: 'Search', exact: true }).click();
  await page.getByLabel('Per page').selectOption('2');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const rows = page.locator('table.results tbody tr');
  await page.getByText('2 offerings shown').waitFor();
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByText('3 offerings shown').waitFor();
  assert.equal(await rows.count(), 3);
  await page.getByLabel('Search', { exact: true }).fill('rotterdam');
  await page.getByText('Filters', { exact: true }).click();
  await page.getByLabel('Country').fill('nl');
  await page.getByLabel('Virtualization').selectOption('Kvm');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('1 offering shown').waitFor();
  assert.match(await rows.first().innerText(), /DC2993/);

  // Products → the SKU's link opens the request form with the SKU filled in.
  await page.getByRole('link', { name: 'Products' }).click();
  await page.getByRole('link', { name: '4D.large' }).click();
  await page.getByRole('heading', { name: 'Request servers' }).waitFor();
  assert.match(page.url(), /#\/request\?sku=4D\.large$/);
  assert.equal(await page.getByLabel('SKU').inputValue(), '4D.large');
  assert.equal(await page.getByText('You are not signed in.').count(), 0);
  await page.getByLabel('At least cores').fill('16');
  await page.getByLabel('At least memory (GiB)').fill('64');
  await page.getByLabel('Duration (hours)').fill('2');
  await page.getByLabel('Image').fill('ubuntu-24.04');
  await checkPage(page, 'request-form', { shows: page.getByRole('button', { name: 'Request offers' }) });

  // Too low a price: NO, with the market's messages and their levels in words.
  await page.getByLabel('Highest price per hour (USD)').fill('1.00');
  await page.getByRole('button', { name: 'Request offers' }).click();
  await page.getByRole('heading', { name: 'No offer' }).waitFor();
  const messages = await page.getByRole('list', { name: "The market's messages" }).innerText();
  assert.match(messages, /^Fail:/m, messages);
  assert.match(await page.locator('main').innerText(), /at most 1\.00 USD an hour for 2 hours/);
  await checkPage(page, 'request-no', { shows: page.getByText(/Nothing matches request \d+/) });

  // Enough: two offers, cheapest first: 2.50 USD an hour (5.00 USD for two hours), then 3.00.
  await page.getByLabel('Highest price per hour (USD)').fill('3');
  await page.getByRole('button', { name: 'Request offers' }).click();
  await page.getByRole('heading', { name: 'Offers' }).waitFor();
  const offers = page.locator('table.offers tbody tr');
  assert.equal(await offers.count(), 2);
  const [cheapest, dearer] = await offers.allInnerTexts();
  assert.match(cheapest, /4D\.large/);
  assert.match(cheapest, /32 cores, 256 GiB, 4 TB storage, baremetal\.large/);
  assert.match(cheapest, /2\.50 USD\s+5\.00 USD/);
  assert.match(cheapest, /2 hours/);
  assert.match(dearer, /3\.00 USD\s+6\.00 USD/);
  assert.match(await page.getByRole('status').filter({ hasText: 'held for you until' }).innerText(), /^2 offers for request \d+/);
  await checkPage(page, 'request-offers', { shows: page.getByRole('button', { name: /^Accept offer \d+$/ }).first() });

  // Accept the cheapest: the browser makes the lessee key, the page moves to the lease (which
  // starts at once: `mkt serve` runs the timer due now, so it may already be preparing).
  await offers.first().getByRole('button', { name: /^Accept/ }).click();
  await page.waitForURL(/#\/lease\/\d+$/);
  const id = BigInt(page.url().match(/#\/lease\/(\d+)$/)[1]);
  await page.getByRole('heading', { name: `Lease ${id}` }).waitFor();
  await page.locator('ol.timeline li', { hasText: 'Accepted' }).waitFor();
  assert.match(await page.locator('ol.timeline li[aria-current="step"]').innerText(), /^(Accepted|Preparing|Available) \(now/);
  assert.equal(await fact(page, 'Price per hour'), '2.50 USD');
  assert.equal(await fact(page, 'Total price'), '5.00 USD');
  assert.equal(await fact(page, 'SKU'), '4D.large');
  assert.equal(await fact(page, 'Duration'), '2 hours');
  assert.deepEqual((await page.locator('ol.timeline li').allInnerTexts()).map((t) => t.split(' (')[0]),
    ['Offered', 'Accepted', 'Preparing', 'Available', 'Releasing', 'Completed']);
  const lessee = okOf(await ops.execution_get(id), 'execution_get').lessee_key[0];
  assert.equal(lessee.length, 32, 'the browser gave a 32-byte X25519 key');
  assert.match(await fact(page, 'Your lessee key'), new RegExp(`^${Buffer.from(lessee).toString('hex').slice(0, 16)}`));
  await checkPage(page, 'lease-accepted', { shows: page.getByRole('heading', { name: 'Audit trail' }) });

  // Time moves: the lease starts, the simulated Ironic deploys the node, the page follows.
  await advanceUntil(id, 'Available');
  assert.match(await currentStep(page, 'Available'), /Available \(now/);
  await page.locator('dd[data-fact="Ironic state"]', { hasText: 'active' }).waitFor();
  assert.equal(await fact(page, 'Provisioning status'), 'Completed');
  assert.equal(await page.getByRole('button', { name: 'Cancel lease…' }).count(), 0, 'started: no cancel');
  await page.getByText('The provider has not sealed credentials to this lease yet.').waitFor();

  // Extend by an hour, confirmed: 3 hours, 7.50 USD.
  await page.getByLabel('Extend by (hours)').fill('1');
  await page.getByRole('button', { name: 'Extend…' }).click();
  await page.getByRole('button', { name: 'Yes, extend it' }).click();
  await page.getByRole('status').filter({ hasText: 'costs 7.50 USD in all' }).waitFor();
  await page.locator('dd[data-fact="Total price"]', { hasText: '7.50 USD' }).waitFor();
  assert.equal(await fact(page, 'Duration'), '3 hours');

  // The provider seals the credentials to the lessee's key; the page shows them once opened.
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const sealed = {
    ciphertext: nacl.box(new TextEncoder().encode(CREDENTIALS), nonce, lessee, ephemeral.secretKey),
    ephemeral_key: ephemeral.publicKey,
    nonce,
    recipient_key: lessee,
  };
  okOf(await ops.lease_set_consumer_meta({ provider, execution_id: id, sealed }), 'lease_set_consumer_meta');
  await page.getByRole('button', { name: 'Open credentials' }).click();
  assert.equal(await page.getByTestId('credentials').innerText(), CREDENTIALS);
  await checkPage(page, 'lease-available-with-credentials', { shows: page.getByTestId('credentials') });

  // The provider reclaims the server with the policy's notice (an hour): the page says so at once.
  const reclaimed = okOf(await ops.lease_reclaim({ provider, execution_id: id, notice_seconds: [], reason: 'hardware maintenance' }), 'lease_reclaim');
  const [reclaim] = reclaimed.reclaim;
  assert.equal(reclaim.ends_at_ns - reclaim.noticed_at_ns, 3_600_000_000_000n);
  const notice = page.getByRole('alert').filter({ hasText: 'Your provider reclaims this server' });
  await checkPage(page, 'lease-reclaimed', { shows: notice, alertOk: true });
  assert.match(await notice.innerText(), /it ends at .+, reason: hardware maintenance\./);

  // End early, confirmed: released, then COMPLETED once the node is cleaned.
  await page.getByRole('button', { name: 'End lease now…' }).click();
  await page.getByRole('button', { name: 'Yes, end the lease now' }).click();
  await page.locator('ol.timeline li:not(.upcoming)', { hasText: 'Releasing' }).waitFor();
  await advanceUntil(id, 'Completed');
  assert.match(await currentStep(page, 'Completed'), /Completed \(final/);
  const steps = await page.locator('ol.timeline li').allInnerTexts();
  assert.deepEqual(steps.map((s) => s.split(' (')[0]),
    ['Offered', 'Accepted', 'Preparing', 'Available', 'Releasing', 'Completed']);
  const audit = await page.locator('table.audit').innerText();
  assert.match(audit, /accepted by the consumer/);
  assert.match(audit, /ended early by the consumer/);
  assert.match(audit, /The provider \(delegate/);
  assert.equal(await page.locator('table.audit tbody tr').count(),
    okOf(await ops.audit_log({ entity: [{ Execution: id }], to_ns: [], after: [], from_ns: [], limit: [] }), 'audit_log').entries.length);
  await page.getByText('Nothing more can be done to a lease that is completed.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'End lease now…' }).count(), 0);
  await page.locator('dd[data-fact="Provisioning status"]', { hasText: 'Completed' }).waitFor();
  assert.match(await page.locator('.reclaim').innerText(), /Your provider reclaimed this server, to end at .+, reason: hardware maintenance\./);
  await checkPage(page, 'lease-completed', { shows: page.getByRole('heading', { name: 'Audit trail' }) });
  // The credentials stay readable after the end.
  assert.equal(await page.getByRole('button', { name: 'Open credentials' }).count() + await page.getByTestId('credentials').count(), 1);

  // A second request for a later start: the first node again, WAITING once accepted; cancelled.
  const later = new Date(Date.now() + 2 * 86_400_000);
  const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByRole('link', { name: 'Request', exact: true }).click();
  await page.getByRole('heading', { name: 'Request servers' }).waitFor();
  await page.getByLabel('As soon as possible').uncheck();
  await page.getByLabel('Start', { exact: true }).fill(local);
  await page.getByLabel('Duration (hours)').fill('1');
  await page.getByLabel('Image').fill('ubuntu-24.04');
  await page.getByRole('button', { name: 'Request offers' }).click();
  await page.getByRole('heading', { name: 'Offers' }).waitFor();
  // The first node is free again (its lease ended early and gave its time back): two offers.
  assert.equal(await offers.count(), 2);
  assert.match(await offers.first().innerText(), /2\.50 USD\s+2\.50 USD/);
  await offers.first().getByRole('button', { name: /^Accept/ }).click();
  await page.waitForURL(/#\/lease\/\d+$/);
  const second = BigInt(page.url().match(/#\/lease\/(\d+)$/)[1]);
  assert.notEqual(second, id);
  assert.match(await currentStep(page, 'Waiting'), /Waiting \(now/);

  // Availability of its item: free before the lease and free again after it.
  const waiting = okOf(await ops.execution_get(second), 'execution_get');
  await page.getByRole('link', { name: 'Products' }).click();
  await page.getByLabel('Item', { exact: true }).fill(String(waiting.item_id));
  await page.getByRole('button', { name: 'Show free windows' }).click();
  const windows = page.getByTestId('free-window');
  await checkPage(page, 'availability', { shows: windows.first() });
  const free = okOf(await ops.availability({
    item_id: [waiting.item_id], sku: [], from_ns: waiting.start_ns - 86_400_000_000_000n,
    to_ns: waiting.end_ns + 86_400_000_000_000n, after: [], limit: [],
  }), 'availability').items[0].windows;
  assert.ok(free.some((w) => w.end_ns === waiting.start_ns), `a free window ends where the lease starts: ${json(free)}`);
  assert.ok(free.some((w) => w.start_ns === waiting.end_ns), `a free window starts where the lease ends: ${json(free)}`);
  assert.equal(await windows.count(), 2, 'free before and after the lease');
  assert.match(await page.locator('table.availability caption').innerText(), new RegExp(`of item ${waiting.item_id}`));
  await page.goBack();
  await currentStep(page, 'Waiting');
  await page.getByLabel('Reason to cancel (optional)').fill('plans changed');
  await page.getByRole('button', { name: 'Cancel lease…' }).click();
  await page.getByRole('button', { name: 'Yes, cancel the lease' }).click();
  assert.match(await currentStep(page, 'Cancelled'), /Cancelled \(final/);
  assert.match(await page.locator('table.audit').innerText(), /cancelled: plans changed/);
  await checkPage(page, 'lease-cancelled', { shows: page.getByText(`Lease ${second} is cancelled.`, { exact: true }) });

  // My leases: both, two a page; with "Everything", the rejected sibling offers too.
  await page.getByRole('link', { name: 'My leases', exact: true }).click();
  await page.getByRole('heading', { name: 'My leases' }).waitFor();
  const leases = page.locator('table.leases tbody tr');
  await page.getByText('2 shown').waitFor();
  const lease = leases.filter({ hasText: `Lease ${id}` });
  assert.match(await lease.innerText(), /Completed/);
  assert.match(await lease.innerText(), /2\.50 USD/);
  assert.match(await leases.filter({ hasText: `Lease ${second}` }).innerText(), /Cancelled/);
  await checkPage(page, 'leases', { shows: lease });
  await page.getByLabel('Show').selectOption('all');
  await page.getByLabel('Per page').selectOption('2');
  await page.getByText('2 shown, more to load').waitFor();
  await page.getByRole('button', { name: 'Load more' }).click();
  await page.getByText(/^4 shown/).waitFor();
  assert.equal(await leases.filter({ hasText: 'Rejected' }).count(), 2, 'each request\'s other offer');
  assert.match(await leases.filter({ hasText: 'Rejected' }).first().innerText(), /3\.00 USD/);
  await lease.getByRole('link', { name: `Lease ${id}` }).click();
  await currentStep(page, 'Completed');

  assert.deepEqual(errors, [], 'no script error');
});
