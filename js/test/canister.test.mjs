// An agent-js frontend against the marketplace canister, without a replica: `mkt serve` serves
// the canister on a local endpoint speaking the Internet Computer's HTTP interface, and the
// test talks to it the way a dapp does: an @icp-sdk/core HttpAgent with its default
// verification on (certificates checked against the endpoint's root key, fetched once as for
// any local replica; query replies checked against the node keys), and actors made from the
// bindings @icp-sdk/bindgen generated from candid/marketplace.did (src/declarations). The
// callers are real identities: the provider's operator an Ed25519 key, the consumer a
// secp256k1 key, and a session key the consumer delegates to (a DelegationChain for this
// canister). What only the provider's key may sign (the catalog, the market delegation) comes
// from the CLI as encoded bytes (`mkt provider sign|delegate … --hex`), sent with the agent.
// If the bindings, the .did and the wasm disagree on a type, decoding fails here.
//
//   node --test js/test/          (scripts/js-test.sh builds mkt and the wasm first)
//
// MKT_BIN overrides the runner binary (default target/debug/mkt in the repository).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Actor, AnonymousIdentity, CanisterStatus, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import {
  DelegationChain, DelegationIdentity, Ed25519KeyIdentity,
} from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactory } from '../src/declarations/marketplace.did.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const mkt = process.env.MKT_BIN ?? join(root, 'target/debug/mkt');
const wasm = join(root, 'target/wasm/marketplace.wasm.gz');
const did = join(root, 'candid/marketplace.did');
const csv = join(root, 'tests/fixtures/serverhunter-offering-example.csv');

const service = idlFactory({ IDL });
const methods = new Map(service._fields);

/** Deterministic keys: a 32-byte seed from one byte. */
const seed = (byte) => new Uint8Array(32).fill(byte);
// The provider's operator (acts for the provider in the market) and a consumer.
const opsIdentity = Ed25519KeyIdentity.generate(seed(1));
const aliceIdentity = Secp256k1KeyIdentity.generate(seed(2));
const OPS = opsIdentity.getPrincipal();
const ALICE = aliceIdentity.getPrincipal();

let dir;
let server; // the `mkt serve` child
let serverExit; // resolves with its exit code and signal
let host; // http://127.0.0.1:PORT
let canisterId; // a Principal
const actors = {}; // anonymous, ops, alice, session (alice's delegation), by name
let sessionIdentity;

function run(args) {
  return execFileSync(mkt, ['--state', join(dir, 'state'), '--candid', did, '--wasm', wasm, ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function agentFor(identity, options = {}) {
  // Default verification: certificates against the fetched (local) root key; query replies
  // signed by the node keys, checked.
  const agent = await HttpAgent.create({ host, identity, shouldFetchRootKey: true, ...options });
  assert.ok(agent.rootKey && agent.rootKey.length > 0, 'the root key is fetched');
  return agent;
}

async function actorFor(identity, options) {
  const agent = await agentFor(identity, options);
  return { agent, actor: Actor.createActor(idlFactory, { agent, canisterId }) };
}

/** A signed argument printed by the CLI as hex, decoded with the method's argument types. */
function signedArgs(method, argv) {
  const bytes = new Uint8Array(Buffer.from(run(argv).trim(), 'hex'));
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), 'DIDL', `${method}: not Candid`);
  return IDL.decode(methods.get(method).argTypes, bytes);
}

/** `mkt advance-time` on the served state: the server's clock moves and its timers run. */
function advance(duration) {
  assert.match(run(['advance-time', duration]), /on mkt serve at http/);
}

/** Advances by `duration` (timers run at each deadline on the way) and checks `done`. */
async function advanceUntil(duration, done, what) {
  advance(duration);
  assert.ok(await done(), `${what} after advance-time ${duration}`);
}

const pem = (text) => text.trim().startsWith('-----BEGIN PUBLIC KEY-----');
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}` : v));

before(async () => {
  for (const [what, path] of [['mkt', mkt], ['the wasm', wasm]]) {
    if (!existsSync(path)) throw new Error(`${what} missing at ${path}: run scripts/js-test.sh`);
  }
  dir = mkdtempSync(join(tmpdir(), 'mkt-js-'));
  run(['deploy']);

  // Serve it on a free port, time moving only with `mkt advance-time`.
  server = spawn(mkt, ['--state', join(dir, 'state'), '--candid', did, '--wasm', wasm,
    'serve', '--port', '0', '--manual-time'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  serverExit = new Promise((resolve) => server.on('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: server.stdout });
  const banner = await new Promise((resolve, reject) => {
    const seen = {};
    const timer = setTimeout(() => reject(new Error(`mkt serve did not start:\n${stderr}`)), 30_000);
    server.on('exit', (code) => reject(new Error(`mkt serve exited ${code}:\n${stderr}`)));
    lines.on('line', (line) => {
      let m = line.match(/^mkt serve: canister (\S+) on subnet (\S+)/);
      if (m) [seen.canister, seen.subnet] = [m[1], m[2]];
      m = line.match(/^mkt serve: listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve({ ...seen, url: m[1] });
      }
    });
  });
  assert.ok(banner.canister, 'the canister id is printed');
  host = banner.url;
  canisterId = Principal.fromText(banner.canister);

  // A session key the consumer delegates to, for this canister only, for an hour.
  sessionIdentity = Ed25519KeyIdentity.generate(seed(3));
  const chain = await DelegationChain.create(
    aliceIdentity, sessionIdentity.getPublicKey(), new Date(Date.now() + 3_600_000),
    { targets: [canisterId] },
  );
  const delegated = DelegationIdentity.fromDelegation(sessionIdentity, chain);
  assert.equal(delegated.getPrincipal().toText(), ALICE.toText(), 'a delegation acts as its root key');
  for (const [name, identity] of [['anonymous', new AnonymousIdentity()], ['ops', opsIdentity],
    ['alice', aliceIdentity], ['session', delegated]]) {
    actors[name] = await actorFor(identity);
  }
});

after(async () => {
  try {
    if (server) {
      // Still serving (an early exit fails here too), then stopped the way a person stops it.
      const running = server.exitCode === null && server.signalCode === null;
      if (running) server.kill('SIGTERM');
      const { code, signal } = await serverExit;
      assert.ok(running, `mkt serve exited before the end: ${code ?? signal}`);
      assert.equal(signal, null, 'mkt serve exits on its own on SIGTERM');
      assert.equal(code, 0, 'mkt serve saves and exits 0 on SIGTERM');
      // Saved, and the state directory is the runner's again: what the agents did is in it.
      const updates = Number(run(['call', 'status']).match(/updates = (\d+)/)[1]);
      assert.ok(updates > 0, `the agents' updates are saved (${updates})`);
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

test('the generated service has the methods the test uses', () => {
  for (const m of ['status', 'policies', 'products', 'offerings_search', 'offerset_request',
    'inventory_get', 'market_delegation', 'market_delegate', 'inventory_register', 'offer_create',
    'catalog_replace', 'execution_accept', 'execution_get', 'contract_get', 'lease_get',
    'provision_status', 'audit_log', 'lease_set_consumer_meta']) {
    assert.ok(methods.has(m), m);
  }
  assert.deepEqual(methods.get('status').annotations, ['query']);
  assert.deepEqual(methods.get('offerset_request').annotations, []);
});

test('the endpoint: status, root key, the distinct principals', async () => {
  const { agent } = actors.anonymous;
  const status = await agent.status();
  assert.ok(status.root_key instanceof Uint8Array, 'status v2 has a root key');
  assert.deepEqual([...agent.rootKey], [...status.root_key]);
  const principals = new Set([OPS, ALICE, sessionIdentity.getPrincipal()].map((p) => p.toText()));
  assert.equal(principals.size, 3);
  assert.equal(OPS.toText(), Ed25519KeyIdentity.generate(seed(1)).getPrincipal().toText());
});

test('candid:service through read_state is candid/marketplace.did (the Candid UI reads it)', async () => {
  const paths = await CanisterStatus.request({
    canisterId, agent: actors.anonymous.agent, paths: ['candid', 'module_hash', 'controllers'],
  });
  assert.equal(paths.get('candid'), readFileSync(did, 'utf8'));
  assert.match(String(paths.get('module_hash')), /^[0-9a-f]{64}$/);
  assert.ok(Array.isArray(paths.get('controllers')) && paths.get('controllers').length >= 1);
});

test('status: a record of nat64 bigints, opt as [] / [x]', async () => {
  const s = await actors.anonymous.actor.status();
  assert.match(s.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof s.heap_bytes, 'bigint');
  assert.ok(s.heap_bytes > 0n);
  assert.ok(s.stable_memory_pages > 0n);
  assert.equal(typeof s.counters.updates, 'bigint');
  assert.equal(typeof s.cycles_balance, 'bigint'); // nat
  assert.ok(Array.isArray(s.next_task_due) && s.next_task_due.length <= 1);
  assert.deepEqual(s.cycles_burn_per_day, []); // fewer than two samples yet
  // The install defaults.
  assert.equal(s.config.cycles_sample_interval_seconds, 3600n);
  assert.equal(s.config.cycles_history_len, 720); // nat32: a number
  assert.equal(s.config.max_offerings_per_provider, 20000);
  assert.equal(s.config.max_catalog_bytes, 16777216n);
  assert.equal(s.config.max_offerings, 1000000n);
  assert.equal(s.config.max_items, 100000n);
});

test('policies: the defaults', async () => {
  const p = await actors.anonymous.actor.policies();
  assert.deepEqual(p, {
    allowed_images: [],
    max_open_offersets_per_principal: 5,
    max_active_leases_per_principal: 10,
    max_lease_seconds: 21n * 86400n,
    stuck_timeout_seconds: 1800n,
    max_offers_per_offerset: 20,
    rebuild_seconds: 0n,
    offer_ttl_seconds: 300n,
    // The hold caps (opt: absent in what older versions stored, shown with their defaults).
    max_held_items_per_principal: [20],
    max_held_share_per_provider_percent: [100],
    max_hold_window_seconds: [7n * 86400n],
    consumers: [{ Everyone: null }],
    // The least notice of a provider's reclaim (`lease_reclaim`).
    reclaim_notice_seconds: [3600n],
    // How long closed executions, offersets and offers stay readable (90 days).
    closed_retention_seconds: [90n * 86400n],
    // No market fee, no treasury, no hold deposit, no ledger: the market runs free.
    market_fee_basis_points: [],
    treasury: [],
    hold_deposit: [],
    currency: [],
  });
});

const SEARCH = {
  text: ['xeon rotterdam'],
  filters: [],
  sort: [{ PriceAsc: null }],
  cursor: [],
  limit: [10],
  format: [],
};

test('products and offerings_search on an empty market', async () => {
  const { actor } = actors.anonymous;
  assert.deepEqual(await actor.products(), []);
  assert.deepEqual(await actor.offerings_search(SEARCH), {
    Ok: { offerings: { Records: { providers: [], offerings: [] } }, next_cursor: [] },
  });
});

test('typed errors of unknown ids; anonymous ingress to a consumer method is dropped', async () => {
  assert.deepEqual(await actors.anonymous.actor.inventory_get(42n), { Err: { UnknownItem: { id: 42n } } });
  assert.deepEqual(await actors.alice.actor.lease_end(9n), { Err: { UnknownExecution: { id: 9n } } });
  // inspect_message refuses it before it runs (no certificate: the IC's non-replicated
  // rejection), and says why.
  await assert.rejects(
    actors.anonymous.actor.offerset_request(request({})),
    (error) => {
      assert.match(String(error.message), /offerset_request needs an identity/);
      return true;
    },
  );
});

test('the endpoint refuses a delegation for another canister, or expired', async (t) => {
  const other = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
  assert.notEqual(other.toText(), canisterId.toText());
  const cases = [
    ['for another canister', new Date(Date.now() + 3_600_000), [other], /is not one of the delegation targets/],
    ['expired', new Date(Date.now() - 60_000), [canisterId], /delegation has expired/],
  ];
  for (const [what, expiry, targets, why] of cases) {
    const chain = await DelegationChain.create(aliceIdentity, sessionIdentity.getPublicKey(), expiry, { targets });
    // No retries: a refused signature is final.
    const { actor } = await actorFor(DelegationIdentity.fromDelegation(sessionIdentity, chain), { retryTimes: 0 });
    await assert.rejects(actor.offerset_request(request({})), (error) => {
      // A 400 with the reason in the body, as a replica's boundary answers.
      assert.match(String(error.message), /Status: 400/, `${what}: ${error.message}`);
      assert.match(String(error.message), why, `${what}: ${error.message}`);
      return true;
    }, what);
  }
});

function request(fields) {
  return {
    sku: [], min_storage_gb: [], resource_class: [], start_ns: [], max_price_per_hour: [],
    min_gpus: [], offers: [], min_cores: [16], min_memory_mb: [], project: [],
    duration_seconds: 7200n, image: 'ubuntu-24.04', alternative_starts: [],
    ...fields,
  };
}

test('the market with real identities: catalog, delegation, inventory, offer, offerset, lease, audit', async (t) => {
  const { ops, alice, session, anonymous } = actors;
  const id = canisterId.toText();
  const key = join(dir, 'provider.key');
  const providerPem = run(['provider', 'new-key', key]);
  assert.ok(pem(providerPem));
  const provider = { Pem: providerPem };

  // 1. A catalog the provider's key signed for this canister (the CLI prints the encoded
  // argument), delivered by anyone through the agent.
  const [change] = signedArgs('catalog_replace',
    ['provider', 'sign', '--key', key, '--csv', csv, '--seq', '5', '--canister', id, '--hex']);
  assert.deepEqual(change.seq, 5n);
  const published = await ops.actor.catalog_replace(change);
  assert.ok('Ok' in published, json(published));
  assert.equal(published.Ok.offerings, 4);
  const found = await anonymous.actor.offerings_search({ ...SEARCH, text: ['rotterdam'], sort: [] });
  assert.ok('Ok' in found);
  assert.ok(json(found).includes('DC2993'), json(found));

  // No delegates yet: Ok with an empty vec, seq 0.
  const none = await anonymous.actor.market_delegation(provider);
  assert.deepEqual(none.Ok.principals, []);
  assert.equal(none.Ok.seq, 0n);
  assert.equal(none.Ok.provider_pem.trim(), providerPem.trim());

  // 3. The provider's key delegates to the operator's Ed25519 principal; the operator delivers it.
  const [delegate] = signedArgs('market_delegate', ['provider', 'delegate', '--key', key,
    '--principal', OPS.toText(), '--seq', '7', '--print', '--canister', id, '--hex']);
  assert.equal(delegate.principal.toText(), OPS.toText());
  const delegated = await ops.actor.market_delegate(delegate);
  assert.ok('Ok' in delegated, json(delegated));
  const delegation = await anonymous.actor.market_delegation(provider);
  assert.equal(delegation.Ok.seq, 7n);
  assert.equal(delegation.Ok.principals.length, 1);
  assert.ok(delegation.Ok.principals[0] instanceof Principal);
  assert.equal(delegation.Ok.principals[0].toText(), OPS.toText());

  // 6 (early). A consumer's request with nothing on offer: Ok, result No, with messages.
  const empty = await alice.actor.offerset_request(request({}));
  assert.ok('Ok' in empty, json(empty));
  const os0 = empty.Ok.offerset;
  assert.deepEqual(os0.result, { No: null });
  assert.deepEqual(empty.Ok.offers, []);
  assert.equal(os0.consumer.toText(), ALICE.toText());
  assert.deepEqual(os0.request.min_cores, [16]);
  assert.deepEqual(os0.request.sku, []);
  assert.equal(os0.request.duration_seconds, 7200n);
  assert.ok(os0.messages.some((m) => 'Fail' in m.level), json(os0.messages.map((m) => m.text)));
  const now = os0.created_at_ns; // the canister's clock
  assert.equal(typeof now, 'bigint');

  // Not a delegate: typed refusal.
  const refused = await alice.actor.inventory_register({ provider, items: [] });
  assert.ok('Err' in refused, json(refused));

  // 4. Inventory, registered by the operator.
  const attributes = {
    cores: 32, memory_mb: 262144n, storage_gb: 4000n, gpus: 0,
    resource_class: 'baremetal.large', routable_ips: 2, labels: [],
  };
  const registered = await ops.actor.inventory_register({
    provider,
    items: [{
      resource_type: 'ironic_node', resource_uuid: 'node-1', sku: '4D.large', attributes,
      offering_key: [],
    }],
  });
  assert.ok('Ok' in registered, json(registered));
  assert.equal(registered.Ok.length, 1);
  const item = registered.Ok[0];
  assert.equal(typeof item.id, 'bigint');
  assert.deepEqual(item.status, { Available: null });
  assert.deepEqual(item.attributes, attributes);
  assert.deepEqual(item.lease_id, []);
  assert.deepEqual(await anonymous.actor.inventory_get(item.id), { Ok: item });

  // 5. An offer for 30 days.
  const DAY = 86_400_000_000_000n;
  const offer = await ops.actor.offer_create({
    provider, item_id: item.id, start_ns: now, end_ns: now + 30n * DAY, price_per_hour: 250n,
    properties: [{ key: 'region', value: 'rotterdam' }], terms: [],
  });
  assert.ok('Ok' in offer, json(offer));
  assert.deepEqual(offer.Ok.status, { Open: null });
  assert.equal(offer.Ok.price_per_hour, 250n);
  assert.equal(offer.Ok.end_ns - offer.Ok.start_ns, 30n * DAY);

  const [product] = await anonymous.actor.products();
  assert.equal(product.sku, '4D.large');
  assert.equal(product.tier, 4); // nat8
  assert.equal(product.total, 1);
  assert.deepEqual(product.min_price_per_hour, [250n]);

  // 6. The same request, signed by the consumer's session key through its delegation chain,
  // finds it: Yes, one offer (an Execution in phase Offered), for the delegating principal.
  const yes = await session.actor.offerset_request(request({ max_price_per_hour: [300n] }));
  assert.ok('Ok' in yes, json(yes));
  assert.deepEqual(yes.Ok.offerset.result, { Yes: null });
  assert.deepEqual(yes.Ok.offerset.status, { Open: null });
  assert.equal(yes.Ok.offerset.consumer.toText(), ALICE.toText(), 'the canister saw the delegating principal');
  assert.equal(yes.Ok.offers.length, 1);
  const exec = yes.Ok.offers[0];
  assert.deepEqual(exec.phase, { Offered: null });
  assert.equal(exec.item_id, item.id);
  assert.equal(exec.offer_id, offer.Ok.id);
  assert.equal(exec.price_per_hour, 250n);
  assert.equal(exec.sku, '4D.large');
  assert.equal(exec.consumer.toText(), ALICE.toText());
  assert.deepEqual(exec.offerset_id, [yes.Ok.offerset.id]);
  // @icp-sdk/core decodes a vec nat64 as a typed array.
  assert.ok(yes.Ok.offerset.execution_ids instanceof BigUint64Array);
  assert.deepEqual([...yes.Ok.offerset.execution_ids], [exec.id]);
  assert.deepEqual(exec.lessee_key, []);

  // Too cheap a maximum: No (the operator may ask too).
  const cheap = await ops.actor.offerset_request(request({ max_price_per_hour: [100n] }));
  assert.deepEqual(cheap.Ok.offerset.result, { No: null });
  assert.equal(cheap.Ok.offerset.consumer.toText(), OPS.toText());

  // 7. Accept with a lessee key (X25519, from the CLI), through the delegation again.
  const lesseeKey = join(dir, 'lessee.key');
  run(['lessee', 'new-key', lesseeKey]);
  const lessee = JSON.parse(run(['lessee', 'show', '--key', lesseeKey, '--json']));
  const lesseeBytes = new Uint8Array(Buffer.from(lessee.public_key, 'hex'));
  assert.equal(lesseeBytes.length, 32);
  // Someone else's execution: typed refusal.
  const notYours = await ops.actor.execution_accept({ execution_id: exec.id, lessee_key: [lesseeBytes], lessee_key_hex: [] });
  assert.ok('Err' in notYours, json(notYours));
  const accepted = await session.actor.execution_accept({ execution_id: exec.id, lessee_key: [lesseeBytes], lessee_key_hex: [] });
  assert.ok('Ok' in accepted, json(accepted));
  assert.deepEqual(accepted.Ok.phase, { Accepted: null });
  assert.deepEqual([...accepted.Ok.lessee_key[0]], [...lesseeBytes]);

  // 8. The server's clock moves with `mkt advance-time`; the timer starts the lease, and the
  // simulated Ironic deploys the node (PREPARING, then AVAILABLE once the node is active).
  const phase = async () => (await alice.actor.execution_get(exec.id)).Ok.phase;
  await advanceUntil('1m', async () => 'Available' in await phase(), 'the lease is AVAILABLE');
  const contract = await alice.actor.contract_get(exec.id);
  assert.ok('Ok' in contract, json(contract));
  assert.deepEqual(contract.Ok.status, { Fulfilled: null });
  const deploy = await alice.actor.provision_status('node-1');
  assert.ok('Ok' in deploy, json(deploy));
  assert.deepEqual(deploy.Ok.kind, { Deploy: null });
  assert.equal(deploy.Ok.provision_state, 'active');
  assert.deepEqual(deploy.Ok.status, { Completed: null }, json(deploy));
  assert.deepEqual(deploy.Ok.execution_id, [exec.id]);
  const lease = await session.actor.lease_get(exec.id);
  assert.ok('Ok' in lease, json(lease));
  assert.equal(lease.Ok.username.toText(), ALICE.toText());
  assert.equal(lease.Ok.inventory_id, item.id);
  assert.deepEqual(lease.Ok.consumer_meta, []);

  // The provider seals credentials to the lessee's key (the CLI prints the SealedBox as Candid
  // text of hex-escaped blobs) and its operator sets them on the lease.
  const sealedText = run(['provider', 'seal', '--lessee-key', lessee.public_key, '--text', 'ssh root@203.0.113.7']);
  const sealed = Object.fromEntries([...sealedText.matchAll(/(\w+) = blob "((?:\\[0-9a-f]{2})*)"/g)]
    .map(([, field, escaped]) => [field, new Uint8Array(Buffer.from(escaped.replaceAll('\\', ''), 'hex'))]));
  assert.deepEqual(Object.keys(sealed).sort(), ['ciphertext', 'ephemeral_key', 'nonce', 'recipient_key'], sealedText);
  assert.deepEqual([...sealed.recipient_key], [...lesseeBytes]);
  const set = await ops.actor.lease_set_consumer_meta({ provider, execution_id: exec.id, sealed });
  assert.ok('Ok' in set, json(set));
  const withMeta = await session.actor.lease_get(exec.id);
  assert.equal(withMeta.Ok.consumer_meta.length, 1);
  for (const field of Object.keys(sealed)) {
    assert.deepEqual([...withMeta.Ok.consumer_meta[0][field]], [...sealed[field]], field);
  }

  // At its end the node is undeployed and cleaned: Completed, and the server available again.
  await advanceUntil('2h', async () => 'Completed' in await phase(), 'the lease is COMPLETED');
  const undeploy = await alice.actor.provision_status('node-1');
  assert.deepEqual(undeploy.Ok.kind, { Undeploy: null }, json(undeploy));
  assert.deepEqual(undeploy.Ok.status, { Completed: null }, json(undeploy));
  assert.deepEqual((await anonymous.actor.inventory_get(item.id)).Ok.status, { Available: null });
  // Updates stay certified and accepted with the canister's clock 2h ahead of the wall clock
  // (the endpoint checks expiries and dates certificates by the wall clock, as the IC does):
  // ending a completed lease is a typed refusal.
  assert.deepEqual(await session.actor.lease_end(exec.id),
    { Err: { WrongPhase: { action: 'end', phase: { Completed: null } } } });

  // 9. The audit log of the execution: the consumer's own steps, then the canister's.
  const audit = await alice.actor.audit_log({
    entity: [{ Execution: exec.id }], to_ns: [], after: [], from_ns: [], limit: [],
  });
  assert.ok('Ok' in audit, json(audit));
  const entries = audit.Ok.entries;
  assert.ok(entries.length >= 4, json(entries));
  assert.ok(entries.every((e) => e.entity.Execution === exec.id));
  const byAlice = entries.filter((e) => 'Consumer' in e.actor);
  assert.ok(byAlice.length >= 1, json(entries));
  assert.ok(byAlice.every((e) => e.actor.Consumer.toText() === ALICE.toText()));
  assert.ok(entries.some((e) => 'Canister' in e.actor), json(entries));
  assert.deepEqual(entries.map((e) => [e.from, e.to]), [
    ['', 'OFFERED'], ['OFFERED', 'ACCEPTED'], ['ACCEPTED', 'PREPARING'], ['PREPARING', 'AVAILABLE'],
    ['AVAILABLE', 'AVAILABLE'], ['AVAILABLE', 'RELEASING'], ['RELEASING', 'COMPLETED'],
  ]);
  // The credentials were set by the operator, acting for the provider.
  const byOps = entries.filter((e) => 'Provider' in e.actor);
  assert.equal(byOps.length, 1, json(byOps));
  assert.equal(byOps[0].actor.Provider.principal.toText(), OPS.toText());
  assert.equal(byOps[0].actor.Provider.provider_pem.trim(), providerPem.trim());
  assert.deepEqual([byOps[0].from, byOps[0].to], ['AVAILABLE', 'AVAILABLE']);
  const acceptance = entries.find((e) => e.to === 'ACCEPTED');
  assert.equal(acceptance.why, 'accepted by the consumer');
  assert.equal(acceptance.actor.Consumer.toText(), ALICE.toText());
  assert.deepEqual(acceptance.consumer.map((p) => p.toText()), [ALICE.toText()]);
  // The provider's delegate reads the same trail (its provider's execution).
  const seen = await ops.actor.audit_log({
    entity: [{ Execution: exec.id }], to_ns: [], after: [], from_ns: [], limit: [],
  });
  assert.ok('Ok' in seen, json(seen));
  assert.equal(seen.Ok.entries.length, entries.length);
  assert.ok(entries.every((e) => e.provider_pem.trim() === providerPem.trim()));
});
