// The provider's journey, all clicked in the browser as the provider (signed in with the dev
// key): a new provider key → the fixture catalog signed and published → seen in search → a
// broken catalog's errors per row and column → a delegation to the signed-in principal → an
// ironic_node item → an offer → the consumer (in node, through an agent) requests and accepts
// it with a lessee key → the lease on the provider's leases page → AVAILABLE after
// `advance-time` → credentials sealed to the lessee in the browser, which the consumer opens in
// node. Then, under a key file the CLI wrote (imported), a catalog above 1.5 MiB, uploaded in
// chunks with a progress bar. First, the browser's signing (js/app/src/signing.ts, bundled for
// node) is checked against the CLI's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import nacl from 'tweetnacl';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { actor, browser, checkPage, fixtureCsv, person, root, serve, signedArgs } from './harness.mjs';

let served;
let chrome;
let signing; // js/app/src/signing.ts, bundled for node

const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}` : v));
const hex = (bytes) => Buffer.from(bytes).toString('hex');
const fromHex = (text) => new Uint8Array(Buffer.from(text.trim(), 'hex'));

before(async () => {
  served = await serve();
  chrome = await browser();
  const bundled = join(served.dir, 'signing.mjs');
  await esbuild.build({
    entryPoints: [join(root, 'js/app/src/signing.ts')],
    bundle: true, format: 'esm', platform: 'node', outfile: bundled, logLevel: 'warning',
  });
  signing = await import(pathToFileURL(bundled).href);
});

after(async () => {
  await chrome?.close();
  await served?.stop();
});

/** The app, signed in with this browser's dev key, on the provider console. */
async function signedInProvider() {
  const who = await person(chrome);
  const { page } = who;
  await page.goto(served.appUrl);
  await page.getByRole('button', { name: 'Sign in (dev key)' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Provider' }).click();
  await page.getByRole('heading', { name: 'Provider key' }).waitFor();
  return who;
}

const tab = (page, name) => page.getByRole('navigation', { name: 'Provider console' }).getByRole('link', { name, exact: true });

test('the browser signs what the CLI signs: PEM, catalog and delegation signatures', () => {
  const keyFile = join(served.dir, 'cli-provider.key');
  const pem = served.mkt(['provider', 'new-key', keyFile]);
  const secret = signing.parseSecret(readFileSync(keyFile, 'utf8'));
  assert.equal(signing.pemOf(signing.publicKeyOf(secret)), pem, 'the PEM the canister and the CLI print');
  const canister = Principal.fromText(served.canister).toUint8Array();

  const [change] = signedArgs(served, 'catalog_replace', ['provider', 'sign', '--key', keyFile, '--csv', fixtureCsv, '--seq', '5']);
  assert.deepEqual([...change.provider.Raw], [...signing.publicKeyOf(secret)]);
  const hash = signing.payloadHash(readFileSync(fixtureCsv));
  assert.equal(hex(signing.sign(secret, canister, signing.Operation.ReplaceCatalog, 5n, hash)), hex(change.signature));

  const principal = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(4)).getPrincipal();
  const [delegation] = signedArgs(served, 'market_delegate', ['provider', 'delegate', '--key', keyFile,
    '--principal', principal.toText(), '--seq', '7', '--print']);
  const payload = signing.payloadHash(signing.delegationPayload(principal.toUint8Array(), true));
  assert.equal(hex(signing.sign(secret, canister, signing.Operation.Delegate, 7n, payload)), hex(delegation.signature));
  assert.deepEqual(delegation.expires_at_ns, [], 'no expiry unless asked');
  // An expiring delegation: the CLI signs now + 30 days (the wall clock with --print), the browser the same bytes.
  const [expiring] = signedArgs(served, 'market_delegate', ['provider', 'delegate', '--key', keyFile,
    '--principal', principal.toText(), '--seq', '8', '--expires-in', '30d', '--print']);
  assert.equal(expiring.expires_at_ns.length, 1, 'the CLI signs an expiry');
  const [at] = expiring.expires_at_ns;
  assert.ok(Math.abs(Number(at / 1_000_000n) - (Date.now() + 30 * 86_400_000)) < 600_000, `30 days from now: ${at}`);
  const expiringPayload = signing.payloadHash(signing.delegationPayload(principal.toUint8Array(), true, at));
  assert.equal(hex(signing.sign(secret, canister, signing.Operation.Delegate, 8n, expiringPayload)), hex(expiring.signature));
  assert.equal(signing.expiryInDays(2, 1_000), (1_000n + 2n * 86_400_000n) * 1_000_000n);

  assert.throws(() => signing.parseSecret('abc'), /64 hexadecimal digits/);
  assert.equal(signing.nextSeq(0n, 5_000), 5n);
  assert.equal(signing.nextSeq(9n, 5_000), 10n);
});

test('the provider journey: key, catalog, search, delegation, item, offer, lease, credentials', async () => {
  const { page, errors } = await signedInProvider();
  const principal = await page.getByTestId('principal').getAttribute('title');

  // 1. A new provider key, kept in this browser: PEM and hex; the secret only on request.
  await page.getByRole('button', { name: 'Create a new key' }).click();
  await checkPage(page, 'provider-key', { shows: page.getByTestId('provider-pem') });
  const pem = `${(await page.getByTestId('provider-pem').innerText()).trim()}\n`;
  assert.match(pem, /^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/]{59}=\n-----END PUBLIC KEY-----\n$/);
  const publicHex = (await page.getByTestId('provider-hex').innerText()).trim();
  assert.equal(await page.getByTestId('provider-secret').count(), 0, 'the secret is hidden');
  await page.getByRole('button', { name: 'Show the secret key' }).click();
  const secret = signing.parseSecret(await page.getByTestId('provider-secret').innerText());
  assert.equal(hex(signing.publicKeyOf(secret)), publicHex);
  assert.equal(signing.pemOf(signing.publicKeyOf(secret)), pem);
  await page.getByRole('button', { name: 'Hide the secret key' }).click();

  // 2. The fixture catalog, chosen as a file, signed and published in one message.
  await tab(page, 'Catalog').click();
  await page.getByLabel('Catalog file (CSV)').setInputFiles(fixtureCsv);
  await page.getByRole('button', { name: 'Sign and publish' }).click();
  const published = page.getByRole('status').filter({ hasText: 'Published' });
  await checkPage(page, 'provider-catalog-published', { shows: published });
  assert.match(await published.innerText(), /your catalog has 4 offerings \(4 added or changed, 0 unchanged, 0 removed\)/);
  assert.equal(await page.locator('progress').count(), 0, 'a small catalog goes in one message');

  // 3. Seen in search, under this provider's key.
  await page.getByRole('link', { name: 'See your offerings in search' }).click();
  await page.getByLabel('Search', { exact: true }).fill('rotterdam');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('3 offerings shown').waitFor();
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
  assert.equal(await page.locator('table.results tbody tr', { hasText: body.slice(-12) }).count(), 3);
  assert.match(await page.locator('table.results').innerText(), /DC2993/);

  // 4. A broken copy (a price that is no number), pasted: the canister's errors by row and column.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Provider' }).click();
  await tab(page, 'Catalog').click();
  const fixture = readFileSync(fixtureCsv, 'utf8');
  const broken = fixture.replace(',EUR,149.99,', ',EUR,lots,');
  assert.notEqual(broken, fixture);
  // Pasted this time: the file chosen before is put aside first.
  await page.getByLabel('Catalog file (CSV)').setInputFiles(fixtureCsv);
  await page.getByRole('button', { name: 'Paste instead' }).click();
  await page.getByLabel('Or paste the CSV').fill(broken);
  await page.getByRole('button', { name: 'Sign and publish' }).click();
  const table = page.locator('table.csv-errors');
  await checkPage(page, 'provider-catalog-errors', { shows: table, alertOk: true });
  assert.match(await page.getByRole('alert').innerText(), /The CSV has 1 error/);
  const cells = await table.locator('tbody tr').first().locator('th, td').allInnerTexts();
  assert.equal(cells[0], '3', 'the QC1494 record starts on line 3');
  assert.equal(cells[1], 'Monthly price');
  assert.match(await table.locator('caption').innerText(), /1 problem in the CSV: nothing was published/);

  // 5. The market delegation for the signed-in principal.
  await tab(page, 'Delegate').click();
  await page.getByText('No delegates yet.').waitFor();
  // For a year: the expiry is signed with the delegation and shown beside it.
  await page.getByLabel('Expires after (days)').fill('365');
  await page.getByRole('button', { name: 'Delegate to me' }).click();
  const delegates = page.locator('table.delegates');
  await checkPage(page, 'provider-delegated', { shows: page.getByRole('status').filter({ hasText: 'Delegated to' }) });
  await delegates.getByText('you (signed in)').waitFor();
  assert.match(await delegates.innerText(), new RegExp(principal));
  assert.match(await delegates.locator('caption').innerText(), /Delegates of your provider \(1\)/);
  const market = await (await actor(served, Ed25519KeyIdentity.generate())).market_delegation({ Pem: pem });
  assert.deepEqual(market.Ok.principals.map((p) => p.toText()), [principal]);
  assert.deepEqual(market.Ok.expiring.map((e) => e.principal.toText()), [principal]);
  const yearAhead = Number(market.Ok.expiring[0].expires_at_ns / 1_000_000n) - Date.now();
  assert.ok(Math.abs(yearAhead - 365 * 86_400_000) < 3_600_000, `a year ahead: ${yearAhead} ms`);
  assert.doesNotMatch(await delegates.innerText(), /when revoked/);

  // 6. An ironic_node item.
  await tab(page, 'Inventory').click();
  await page.getByLabel('Resource UUID').fill('node-1');
  await page.getByLabel('SKU').fill('4D.large');
  await page.getByLabel('Cores', { exact: true }).fill('32');
  await page.getByLabel('Memory (GiB)').fill('256');
  await page.getByLabel('Storage (GB)').fill('4000');
  await page.getByLabel('Resource class').fill('baremetal.large');
  await page.getByLabel('Routable IPs').fill('2');
  await page.getByRole('button', { name: 'Register item' }).click();
  const registered = page.getByRole('status').filter({ hasText: 'Registered item' });
  await checkPage(page, 'provider-inventory', { shows: registered });
  const items = page.locator('table.items');
  await items.getByText('node-1').waitFor();
  const itemRow = await items.locator('tbody tr').first().locator('th, td').allInnerTexts();
  assert.deepEqual(itemRow.slice(2), ['4D.large', 'Available', '32', '256 GiB', '4 TB', '0', 'baremetal.large', '2', '—']);
  const itemId = BigInt(itemRow[0]);

  // 7. An offer for it, from now for 30 days, at 2.50 an hour, with terms: leases of an hour or
  // more on a half-hour grid, private to the consumer below and the signed-in delegate.
  const consumerIdentity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(9));
  assert.equal(await page.getByLabel('Item', { exact: true }).inputValue(), String(itemId), 'the new item is chosen');
  await page.getByLabel('Price per hour (USD)').fill('2.50');
  await page.getByLabel('Properties').fill('region=rotterdam');
  await page.getByLabel('Shortest lease (minutes)').fill('60');
  await page.getByLabel('Grid (minutes)').fill('30');
  await page.getByLabel('Private to').fill(`${consumerIdentity.getPrincipal().toText()}, ${principal}`);
  await page.getByRole('button', { name: 'Create offer' }).click();
  const offered = page.getByRole('status').filter({ hasText: 'is open' });
  await checkPage(page, 'provider-offer', { shows: offered });
  assert.match(await offered.innerText(), new RegExp(`item ${itemId} at 2.50 USD an hour`));
  const offers = await page.locator('table.offers tbody tr').first().locator('th, td').allInnerTexts();
  assert.deepEqual(offers.slice(4), ['2.50 USD', 'Open', 'shortest 1 h, grid 30 min, private (2 principals)', 'region=rotterdam']);
  const [terms] = (await (await actor(served, consumerIdentity)).offers_list({ provider: [{ Pem: pem }], status: [], after: [], item_id: [], limit: [] })).Ok.offers[0].terms;
  assert.deepEqual([terms.min_duration_seconds, terms.granularity_seconds], [[3600n], [1800n]]);
  assert.deepEqual(terms.visible_to[0].map((p) => p.toText()), [consumerIdentity.getPrincipal().toText(), principal]);

  // 8. The consumer, in node: a request, then the offer accepted with a lessee key.
  const consumer = await actor(served, consumerIdentity);
  const yes = await consumer.offerset_request({
    sku: [], min_storage_gb: [], resource_class: [], start_ns: [], max_price_per_hour: [300n],
    min_gpus: [], offers: [], min_cores: [16], min_memory_mb: [], project: [],
    duration_seconds: 7200n, image: 'ubuntu-24.04', alternative_starts: [],
  });
  assert.deepEqual(yes.Ok?.offerset.result, { Yes: null }, json(yes));
  const exec = yes.Ok.offers[0];
  assert.equal(exec.item_id, itemId);
  const lessee = nacl.box.keyPair();
  const accepted = await consumer.execution_accept({ execution_id: exec.id, lessee_key: [lessee.publicKey], lessee_key_hex: [] });
  assert.ok('Ok' in accepted, json(accepted));

  // 9. The lease on the provider's leases page.
  await tab(page, 'Leases').click();
  const leaseLink = page.getByRole('link', { name: `Lease ${exec.id}` });
  await checkPage(page, 'provider-leases', { shows: leaseLink });
  const leaseRow = page.locator('table.leases tbody tr', { has: leaseLink });
  // Accepted leases start on the canister's timer, which may already have run (and the
  // simulated Ironic deployed the node) by the time the page reads it; or the lease waits,
  // when the offer starts a little after the canister's clock (see step 10).
  await leaseRow.getByTestId('phase').filter({ hasText: /Accepted|Waiting|Preparing|Available/ }).waitFor();
  assert.match(await leaseRow.innerText(), /4D\.large/);
  assert.match(await leaseRow.innerText(), /2\.50 USD/);

  // 10. The server's clock moves until the lease is AVAILABLE (the offer may start a little
  // after the canister's clock, which stands still between advances).
  for (let i = 0; i < 15; i++) {
    if ('Available' in (await consumer.execution_get(exec.id)).Ok.phase) break;
    served.advance('1m');
  }
  assert.ok('Available' in (await consumer.execution_get(exec.id)).Ok.phase, 'the lease is AVAILABLE');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await leaseRow.getByTestId('phase').getByText('Available').waitFor();
  await leaseLink.click();
  await page.getByRole('heading', { name: `Lease ${exec.id}` }).waitFor();
  assert.equal(await page.getByTestId('phase').innerText(), 'Available');
  assert.equal(await page.getByTestId('lessee-key').innerText(), hex(lessee.publicKey));
  const provisioning = await page.getByTestId('provisioning').innerText();
  assert.match(provisioning, /Deploy of node-1/);
  assert.match(provisioning, /Completed/);
  assert.match(provisioning, /active/);

  // 11. Credentials sealed in the browser to the lessee's key and set on the lease.
  const credentials = 'ssh root@203.0.113.7 (password: correct horse)';
  await page.getByLabel('Credentials', { exact: true }).fill(credentials);
  await page.getByRole('button', { name: 'Seal and send' }).click();
  await page.getByRole('status').filter({ hasText: 'Credentials sealed' }).waitFor();
  await checkPage(page, 'provider-sealed', { shows: page.getByTestId('credentials').getByText('Sealed to the lessee and set') });

  // 12. The consumer sees the box, sealed to its key, and opens it.
  const lease = await consumer.lease_get(exec.id);
  assert.ok('Ok' in lease, json(lease));
  const [box] = lease.Ok.consumer_meta;
  assert.ok(box, 'the lease has sealed credentials');
  assert.equal(hex(box.recipient_key), hex(lessee.publicKey));
  const opened = nacl.box.open(Uint8Array.from(box.ciphertext), Uint8Array.from(box.nonce), Uint8Array.from(box.ephemeral_key), lessee.secretKey);
  assert.ok(opened, 'the box opens with the lessee secret');
  assert.equal(new TextDecoder().decode(opened), credentials);
  assert.ok(!JSON.stringify([...box.ciphertext]).includes('ssh'), 'the canister holds no plaintext');

  // 13. The item's availability (the offer names the signed-in delegate): free after the lease.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Products' }).click();
  await page.getByLabel('Item', { exact: true }).fill(String(itemId));
  await page.getByRole('button', { name: 'Show free windows' }).click();
  const windows = page.getByTestId('free-window');
  await checkPage(page, 'provider-availability', { shows: windows.first() });
  const leased = (await consumer.execution_get(exec.id)).Ok;
  const free = (await consumer.availability({ item_id: [itemId], sku: [], from_ns: leased.start_ns,
    to_ns: leased.end_ns + 86_400_000_000_000n, after: [], limit: [] })).Ok.items[0].windows;
  assert.ok(free.some((w) => w.start_ns === leased.end_ns), `free again from the lease's end: ${json(free)}`);
  assert.match(await windows.first().innerText(), /2\.50 USD\s+shortest 1 h, grid 30 min/);

  // 14. The provider reclaims the server, confirmed, with the policy's notice (an hour).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Provider' }).click();
  await tab(page, 'Leases').click();
  await page.getByRole('link', { name: `Lease ${exec.id}` }).click();
  await page.getByLabel('Reason', { exact: true }).fill('disk replacement');
  await page.getByRole('button', { name: 'Reclaim…' }).click();
  await page.getByRole('button', { name: 'Yes, reclaim' }).click();
  await checkPage(page, 'provider-reclaimed', { shows: page.getByTestId('reclaimed').getByText('disk replacement') });
  const [reclaim] = (await consumer.execution_get(exec.id)).Ok.reclaim;
  assert.equal(reclaim.reason, 'disk replacement');
  assert.equal(reclaim.ends_at_ns - reclaim.noticed_at_ns, 3_600_000_000_000n);
  assert.equal(await page.getByRole('button', { name: 'Reclaim…' }).count(), 0, 'reclaimed once');

  assert.deepEqual(errors, [], 'no script error');
});

test('a catalog above 1.5 MiB is uploaded in chunks, with a progress bar', async () => {
  const { page, errors } = await signedInProvider();
  // Another browser, another provider key: the file the CLI writes, imported.
  const keyFile = join(served.dir, 'big-provider.key');
  const cliPem = served.mkt(['provider', 'new-key', keyFile]);
  await page.getByLabel('Or import a key file').setInputFiles(keyFile);
  await page.getByRole('status').filter({ hasText: 'imported and in use' }).waitFor();
  assert.equal(`${(await page.getByTestId('provider-pem').innerText()).trim()}\n`, cliPem, 'the PEM the CLI printed');

  // The fixture's header and visible offerings, then copies of a row under distinct keys, up to
  // 1.6 MiB: ~3000 offerings (a provider may publish 20000 and 16 MiB).
  const [header, ...rows] = readFileSync(fixtureCsv, 'utf8').trimEnd().split('\n');
  const template = rows.find((r) => r.includes(',QC1494,'));
  const lines = [header, ...rows];
  let size = lines.join('\n').length;
  for (let i = 0; size <= 1.6 * 1024 * 1024; i++) {
    const row = template.replaceAll('QC1494', `BIG${String(i).padStart(5, '0')}`);
    lines.push(row);
    size += row.length + 1;
  }
  const csv = Buffer.from(`${lines.join('\n')}\n`);
  assert.ok(csv.length > 1536 * 1024 && csv.length < 2 * 1024 * 1024);
  const offerings = lines.length - 1;

  await tab(page, 'Catalog').click();
  await page.getByLabel('Catalog file (CSV)').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: csv });
  assert.match(await page.getByTestId('chosen-file').innerText(), /uploaded in chunks/);
  await page.getByRole('button', { name: 'Sign and publish' }).click();
  const published = page.getByRole('status').filter({ hasText: 'Published' });
  await published.waitFor({ timeout: 120_000 });
  assert.match(await published.innerText(), new RegExp(`your catalog has ${offerings} offerings`));
  const bar = page.getByRole('progressbar', { name: 'Upload progress' });
  const [value, max] = await bar.evaluate((p) => [p.value, p.max]);
  assert.equal(max, csv.length);
  assert.equal(value, max, 'the progress bar reached its end');
  assert.match(await page.getByText(/chunk 2 of 2/).innerText(), new RegExp(`Sent ${csv.length.toLocaleString('en')} of`));
  await checkPage(page, 'provider-catalog-chunked', { shows: published });
  assert.deepEqual(errors, [], 'no script error');
});
