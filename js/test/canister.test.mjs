// An agent-js frontend's view of the marketplace canister, without a replica: arguments are
// encoded with the IDL that @icp-sdk/bindgen generated from candid/marketplace.did
// (src/declarations), sent as raw bytes to the canister running on the local runner
// (`mkt call METHOD --arg-hex HEX --output hex`), and the replies decoded with the same IDL.
// If the bindings, the .did and the wasm disagree on a type, decoding fails here.
//
//   node --test js/test/          (scripts/js-test.sh builds mkt and the wasm first)
//
// MKT_BIN overrides the runner binary (default target/debug/mkt in the repository).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactory } from '../src/declarations/marketplace.did.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const mkt = process.env.MKT_BIN ?? join(root, 'target/debug/mkt');
const wasm = join(root, 'target/wasm/marketplace.wasm.gz');
const did = join(root, 'candid/marketplace.did');

// The principals of the README's market walkthrough.
const OPS = Principal.fromText('s6ely-d4zm2-yclie-fotzv-d7ttp-fffoy-t3nwx-j6s5t-p67tc-bodrq-7qe');
const ALICE = Principal.fromText('7a2bc-recr7-jwo3j-zk77y-nmy7c-3fll5-hgbus-jmgtq-ldmeo-mjcal-uqe');

const service = idlFactory({ IDL });
const methods = new Map(service._fields);

let dir;

function run(args) {
  return execFileSync(mkt, ['--state', join(dir, 'state'), '--candid', did, '--wasm', wasm, ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * `mkt call`'s stdout. A reply that is an `Err` still prints on stdout, and `mkt` then exits 1
 * with `error: METHOD refused: …` on stderr (so scripts can tell): that is a reply too.
 */
function replyOf(method, argv) {
  try {
    return run(argv);
  } catch (error) {
    if (error.status === 1 && error.stdout && error.stderr.startsWith(`error: ${method} refused`)) {
      return error.stdout;
    }
    throw error;
  }
}

/**
 * Calls `method` the way an agent would: the arguments encoded with the generated IDL, sent as
 * bytes (query or update as the IDL's annotations say), the reply decoded with the IDL.
 * Returns the single return value.
 */
function call(method, args, { caller } = {}) {
  const func = methods.get(method);
  assert.ok(func, `${method} is not in the generated service`);
  const hex = Buffer.from(IDL.encode(func.argTypes, args)).toString('hex');
  const kind = func.annotations.includes('query') ? '--query' : '--update';
  const argv = ['call', method, '--arg-hex', hex, '--output', 'hex', kind];
  if (caller) argv.push('--caller', caller.toText());
  // A fresh Uint8Array: a small Buffer is a view into a shared pool, and the decoder reads
  // the view's underlying ArrayBuffer.
  const reply = new Uint8Array(Buffer.from(replyOf(method, argv).trim(), 'hex'));
  assert.equal(new TextDecoder().decode(reply.subarray(0, 4)), 'DIDL', `${method}: reply is not Candid`);
  const values = IDL.decode(func.retTypes, reply);
  assert.equal(values.length, 1);
  return values[0];
}

const pem = (text) => text.trim().startsWith('-----BEGIN PUBLIC KEY-----');

before(() => {
  for (const [what, path] of [['mkt', mkt], ['the wasm', wasm]]) {
    if (!existsSync(path)) throw new Error(`${what} missing at ${path}: run scripts/js-test.sh`);
  }
  dir = mkdtempSync(join(tmpdir(), 'mkt-js-'));
  run(['deploy']);
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the generated service has the methods the test uses', () => {
  for (const m of ['status', 'policies', 'products', 'offerings_search', 'offerset_request',
    'inventory_get', 'market_delegation', 'inventory_register', 'offer_create']) {
    assert.ok(methods.has(m), m);
  }
  assert.deepEqual(methods.get('status').annotations, ['query']);
  assert.deepEqual(methods.get('offerset_request').annotations, []);
});

test('status: a record of nat64 bigints, opt as [] / [x]', () => {
  const s = call('status', []);
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

test('policies: the defaults', () => {
  const p = call('policies', []);
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
  });
});

test('products and offerings_search on an empty market', () => {
  assert.deepEqual(call('products', []), []);
  const search = call('offerings_search', [{
    text: ['xeon rotterdam'],
    filters: [],
    sort: [{ PriceAsc: null }],
    cursor: [],
    limit: [10],
    format: [],
  }]);
  assert.deepEqual(search, {
    Ok: { offerings: { Records: { providers: [], offerings: [] } }, next_cursor: [] },
  });
});

test('typed errors of unknown ids; anonymous ingress to a consumer method is dropped', () => {
  assert.deepEqual(call('inventory_get', [42n]), { Err: { UnknownItem: { id: 42n } } });
  assert.deepEqual(call('lease_end', [9n]), { Err: { UnknownExecution: { id: 9n } } });
  // inspect_message refuses it before it runs, and says why.
  assert.throws(
    () => call('offerset_request', [request({})], { caller: Principal.anonymous() }),
    (error) => /offerset_request needs an identity/.test(String(error.stderr)),
  );
});

function request(fields) {
  return {
    sku: [], min_storage_gb: [], resource_class: [], start_ns: [], max_price_per_hour: [],
    min_gpus: [], offers: [], min_cores: [16], min_memory_mb: [], project: [],
    duration_seconds: 7200n, image: 'ubuntu-24.04',
    ...fields,
  };
}

test('the market through the IDL: delegation, inventory, offer, offerset', () => {
  // The provider key and its signed delegation come from the runner (the signing is not the
  // subject here); everything else goes through the generated IDL.
  const key = join(dir, 'provider.key');
  const providerPem = run(['provider', 'new-key', key]);
  assert.ok(pem(providerPem));
  const provider = { Pem: providerPem };

  // No delegates yet: Ok with an empty vec, seq 0.
  const none = call('market_delegation', [provider]);
  assert.deepEqual(none.Ok.principals, []);
  assert.equal(none.Ok.seq, 0n);
  assert.equal(none.Ok.provider_pem.trim(), providerPem.trim());

  run(['provider', 'delegate', '--key', key, '--principal', OPS.toText(), '--seq', '7']);
  const delegation = call('market_delegation', [provider]);
  assert.equal(delegation.Ok.seq, 7n);
  assert.equal(delegation.Ok.principals.length, 1);
  assert.ok(delegation.Ok.principals[0] instanceof Principal);
  assert.equal(delegation.Ok.principals[0].toText(), OPS.toText());

  // A consumer's request with nothing on offer: Ok, result No, with messages.
  const empty = call('offerset_request', [request({})], { caller: ALICE });
  assert.ok('Ok' in empty, JSON.stringify(Object.keys(empty)));
  const os0 = empty.Ok.offerset;
  assert.deepEqual(os0.result, { No: null });
  assert.deepEqual(empty.Ok.offers, []);
  assert.equal(os0.consumer.toText(), ALICE.toText());
  assert.deepEqual(os0.request.min_cores, [16]);
  assert.deepEqual(os0.request.sku, []);
  assert.equal(os0.request.duration_seconds, 7200n);
  assert.ok(os0.messages.some((m) => 'Fail' in m.level), JSON.stringify(os0.messages.map((m) => m.text)));
  const now = os0.created_at_ns; // the canister's clock
  assert.equal(typeof now, 'bigint');

  // Not a delegate: typed refusal.
  const refused = call('inventory_register', [{ provider, items: [] }], { caller: ALICE });
  assert.ok('Err' in refused, JSON.stringify(Object.keys(refused)));

  const attributes = {
    cores: 32, memory_mb: 262144n, storage_gb: 4000n, gpus: 0,
    resource_class: 'baremetal.large', routable_ips: 2, labels: [],
  };
  const registered = call('inventory_register', [{
    provider,
    items: [{
      resource_type: 'ironic_node', resource_uuid: 'node-1', sku: '4D.large', attributes,
      offering_key: [],
    }],
  }], { caller: OPS });
  assert.ok('Ok' in registered, JSON.stringify(registered.Err ?? registered, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
  assert.equal(registered.Ok.length, 1);
  const item = registered.Ok[0];
  assert.equal(typeof item.id, 'bigint');
  assert.deepEqual(item.status, { Available: null });
  assert.deepEqual(item.attributes, attributes);
  assert.deepEqual(item.lease_id, []);
  assert.deepEqual(call('inventory_get', [item.id]), { Ok: item });

  const DAY = 86_400_000_000_000n;
  const offer = call('offer_create', [{
    provider, item_id: item.id, start_ns: now, end_ns: now + 30n * DAY, price_per_hour: 250n,
    properties: [{ key: 'region', value: 'rotterdam' }],
  }], { caller: OPS });
  assert.ok('Ok' in offer);
  assert.deepEqual(offer.Ok.status, { Open: null });
  assert.equal(offer.Ok.price_per_hour, 250n);
  assert.equal(offer.Ok.end_ns - offer.Ok.start_ns, 30n * DAY);

  const [product] = call('products', []);
  assert.equal(product.sku, '4D.large');
  assert.equal(product.tier, 4); // nat8
  assert.equal(product.total, 1);
  assert.deepEqual(product.min_price_per_hour, [250n]);

  // Now the same request finds it: Yes, one offer (an Execution in phase Offered).
  const yes = call('offerset_request', [request({ max_price_per_hour: [300n] })], { caller: ALICE });
  assert.ok('Ok' in yes);
  assert.deepEqual(yes.Ok.offerset.result, { Yes: null });
  assert.deepEqual(yes.Ok.offerset.status, { Open: null });
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

  // Too cheap a maximum: No.
  const cheap = call('offerset_request', [request({ max_price_per_hour: [100n] })], { caller: OPS });
  assert.deepEqual(cheap.Ok.offerset.result, { No: null });
});
