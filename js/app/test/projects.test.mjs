// Projects in the browser: sign in (dev key) → My projects → create one with a member → it is
// listed with both → add a member, remove one → a member signed in elsewhere sees it, without
// the owner's controls. Each page is checked (axe-core, keyboard, screenshot).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { actor, browser, checkPage, person, serve } from './harness.mjs';

let served;
let chrome;

before(async () => {
  served = await serve();
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await served?.stop();
});

test('a signed-in principal creates a project and manages its members', async () => {
  const alice = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(21)).getPrincipal().toText();
  const bobIdentity = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(22));
  const bob = bobIdentity.getPrincipal().toText();
  const { page, errors } = await person(chrome);
  await page.goto(served.appUrl);
  await page.getByRole('link', { name: 'My projects', exact: true }).click();
  await page.getByRole('heading', { name: 'My projects' }).waitFor();
  await checkPage(page, 'projects-anonymous', { shows: 'You are not signed in.' });

  await page.getByRole('button', { name: 'Sign in (dev key)' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByText('You are in no project yet.').waitFor();
  await page.getByLabel('Project name').fill('Lab');
  await page.getByLabel('Members', { exact: true }).fill(alice);
  await page.getByRole('button', { name: 'Create project' }).click();
  const card = page.getByRole('region', { name: 'Project 1: Lab' });
  await card.waitFor();
  await page.getByText('Project 1 created.').waitFor();
  assert.match(await card.getByRole('table').innerText(), new RegExp(alice));
  assert.match(await card.locator('caption').innerText(), /Members \(2\)/);

  // Add Bob, remove Alice.
  await card.getByLabel('Add members to project 1').fill(bob);
  await card.getByRole('button', { name: 'Add', exact: true }).click();
  await card.getByText('Members (3)').waitFor();
  await card.getByRole('button', { name: `Remove ${alice}` }).click();
  await card.getByText('Members (2)').waitFor();
  assert.doesNotMatch(await card.getByRole('table').innerText(), new RegExp(alice));
  await checkPage(page, 'projects', { shows: card });

  // Bob sees it through the canister, without being its owner.
  const bobs = await actor(served, bobIdentity);
  const mine = await bobs.projects_mine([]);
  assert.ok('Ok' in mine, JSON.stringify(mine, (_, v) => (typeof v === 'bigint' ? `${v}` : v)));
  assert.deepEqual(mine.Ok.projects.map((p) => p.name), ['Lab']);
  assert.deepEqual(errors, []);
});
