// What every browser test needs: a fresh `mkt serve` (manual time) with the built wasm, the
// app's URL on its verifying gateway (http://<canister id>.localhost:PORT/, the page and its
// assets checked against the certificate as the IC's gateways check them), Debian's Chromium
// driven by playwright-core, and the checks every page must pass: it shows its data (a
// screenshot in target/screenshots/), axe-core finds no serious or critical violation, and
// every control is reachable with the Tab key.
//
// Environment: MKT_BIN (default target/debug/mkt), CHROMIUM (default /usr/bin/chromium),
// MKT_APP_FROM_DIST=1 serves js/app/dist from a local static server instead of the canister
// (with ?canisterId=&api= pointing at `mkt serve`): for working on the app without rebuilding
// the wasm (APP_DIST: another build directory, as `APP_DIST=… node js/app/build.mjs` made).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { idlFactory } from '../../src/declarations/marketplace.did.js';

export const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const mkt = process.env.MKT_BIN ?? join(root, 'target/debug/mkt');
const wasm = join(root, 'target/wasm/marketplace.wasm.gz');
const did = join(root, 'candid/marketplace.did');
export const fixtureCsv = join(root, 'tests/fixtures/serverhunter-offering-example.csv');
export const screenshots = join(root, 'target/screenshots');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * A served canister in a fresh state directory, deployed with `deploy` (more `mkt deploy` flags,
 * e.g. `--ledger`); `stop()` ends it (SIGTERM, exit 0).
 */
export async function serve({ deploy = [] } = {}) {
  for (const [what, path] of [['mkt', mkt], ['the wasm', wasm]]) {
    if (!existsSync(path)) throw new Error(`${what} missing at ${path}: run scripts/web-test.sh`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'mkt-web-'));
  const run = (args, options = {}) =>
    execFileSync(mkt, ['--state', join(dir, 'state'), '--candid', did, '--wasm', wasm, ...args], {
      cwd: root, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...options,
    });
  run(['deploy', ...deploy]);
  const server = spawn(mkt, ['--state', join(dir, 'state'), '--candid', did, '--wasm', wasm,
    'serve', '--port', '0', '--manual-time'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
  const exited = new Promise((done) => server.on('exit', (code, signal) => done({ code, signal })));
  const banner = await new Promise((done, fail) => {
    const seen = {};
    const timer = setTimeout(() => fail(new Error(`mkt serve did not start:\n${stderr}`)), 30_000);
    server.on('exit', (code) => fail(new Error(`mkt serve exited ${code}:\n${stderr}`)));
    createInterface({ input: server.stdout }).on('line', (line) => {
      const canister = line.match(/^mkt serve: canister (\S+)/);
      if (canister) seen.canister = canister[1];
      const ledger = line.match(/^mkt serve: ledger canister (\S+)/);
      if (ledger) seen.ledger = ledger[1];
      const url = line.match(/^mkt serve: listening on (http:\/\/\S+)/);
      if (url) {
        clearTimeout(timer);
        done({ ...seen, url: url[1] });
      }
    });
  });
  const port = new URL(banner.url).port;
  let appUrl = `http://${banner.canister}.localhost:${port}/`;
  let stopStatic = async () => {};
  if (process.env.MKT_APP_FROM_DIST === '1') {
    const { url, close } = await staticServer(process.env.APP_DIST ?? join(root, 'js/app/dist'));
    appUrl = `${url}/?canisterId=${banner.canister}&api=${encodeURIComponent(banner.url)}`;
    stopStatic = close;
  }
  return {
    dir,
    url: banner.url,
    canister: banner.canister,
    /** The test ledger's id, when deployed with `--ledger`. */
    ledger: banner.ledger,
    appUrl,
    /** Runs `mkt ARGS…` on the served state (commands are forwarded to the server). */
    mkt: run,
    /** The server's clock moves by `duration` ("1m", "2h"); timers due on the way run. */
    advance(duration) {
      assert.match(run(['advance-time', duration]), /on mkt serve at http/);
    },
    async stop() {
      await stopStatic();
      const running = server.exitCode === null && server.signalCode === null;
      if (running) server.kill('SIGTERM');
      const { code } = await exited;
      rmSync(dir, { recursive: true, force: true });
      assert.ok(running, `mkt serve exited early:\n${stderr}`);
      assert.equal(code, 0, `mkt serve exits 0 on SIGTERM:\n${stderr}`);
    },
  };
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

function staticServer(dir) {
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    response.end(readFileSync(file));
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done({
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((closed) => server.close(closed)),
  })));
}

/** Debian's Chromium, headless, with nothing of its own on the network. */
export async function browser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new page in its own context (its own IndexedDB: a separate person). The app's CSP forbids
 * inline scripts; axe-core is injected as one, so the context bypasses CSP for it.
 */
export async function person(chrome) {
  const context = await chrome.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { context, page, errors };
}

/**
 * Every page's checks: `shows` (a locator or text that proves the page has its data) is
 * visible, no alert unless `alertOk`, a full-page screenshot `name`.png, no serious or
 * critical axe-core violation, and every control reachable by keyboard.
 */
export async function checkPage(page, name, { shows, alertOk = false } = {}) {
  if (shows) {
    const locator = typeof shows === 'string' ? page.getByText(shows).first() : shows;
    await locator.waitFor({ state: 'visible', timeout: 20_000 });
  }
  if (!alertOk) {
    const alerts = await page.getByRole('alert').allInnerTexts();
    assert.deepEqual(alerts, [], `${name}: no error is shown`);
  }
  const body = (await page.locator('main').innerText()).trim();
  assert.ok(body.length > 40, `${name}: the page is not blank (${JSON.stringify(body)})`);
  mkdirSync(screenshots, { recursive: true });
  await page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  await accessible(page, name);
  await keyboard(page, name);
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function accessible(page, name) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
  });
  assert.deepEqual(violations, [], `${name}: axe-core violations`);
}

/**
 * Tabs through the page from the top and checks that every visible, enabled control received
 * focus: links, buttons, inputs, selects, text areas, summaries, anything with tabindex ≥ 0.
 */
export async function keyboard(page, name) {
  const controls = await page.evaluate(() => {
    const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
    let n = 0;
    const found = [];
    for (const element of document.querySelectorAll(selector)) {
      // Controls in a closed <details> are reached by opening it (its summary is checked).
      if (!element.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
      const id = `k${n++}`;
      element.setAttribute('data-keyboard', id);
      found.push({ id, what: `${element.tagName.toLowerCase()} "${(element.textContent || element.getAttribute('aria-label') || element.name || '').trim().slice(0, 40)}"` });
    }
    document.activeElement?.blur();
    window.scrollTo(0, 0);
    return found;
  });
  const reached = new Set();
  // Focusing the body (made focusable for a moment) moves Chrome's sequential-navigation
  // starting point back to the top; a plain blur() leaves it where focus last was.
  await page.evaluate(() => {
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
  // A date-time input takes one Tab per segment: room for three per control.
  for (let i = 0; i < controls.length * 3 + 20 && reached.size < controls.length; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.getAttribute('data-keyboard'));
    if (id) reached.add(id);
  }
  const missed = controls.filter((c) => !reached.has(c.id)).map((c) => c.what);
  assert.deepEqual(missed, [], `${name}: controls the Tab key never reaches`);
}

/** The page's text once `what` appears, for asserting on. */
export async function textOf(locator) {
  await locator.first().waitFor({ state: 'visible', timeout: 20_000 });
  return locator.first().innerText();
}

const methods = new Map(idlFactory({ IDL })._fields);

/** An actor on the served canister for `identity`: for setting up what a test does not click. */
export async function actor(served, identity) {
  const agent = await HttpAgent.create({ host: served.url, identity, shouldFetchRootKey: true });
  return Actor.createActor(idlFactory, { agent, canisterId: served.canister });
}

/**
 * A change signed by a provider key file with the CLI (`mkt provider sign|delegate … --hex`),
 * decoded with `method`'s argument types, ready for `actor[method](...args)`.
 */
export function signedArgs(served, method, argv) {
  const hex = served.mkt([...argv, '--canister', served.canister, '--hex']).trim();
  return IDL.decode(methods.get(method).argTypes, new Uint8Array(Buffer.from(hex, 'hex')));
}
