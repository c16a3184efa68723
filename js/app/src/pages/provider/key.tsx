// The provider key: made or imported here, kept in this browser's IndexedDB, never sent. The
// canister knows a provider by its public key (PEM); the secret only signs.
import { useState } from 'preact/hooks';
import type { Session } from '../../api';
import { newSecret, parseSecret, toHex } from '../../signing';
import { Alert, Field, Loading, Notice, Page, useAction, useLoad } from '../../ui';
import { providerKeys, SubNav, type ProviderKey } from './common';

export function KeyPage(_props: { who: Session }) {
  const keys = useLoad(() => providerKeys.all(), []);
  const [shown, setShown] = useState(false);
  const [pasted, setPasted] = useState('');
  const [done, setDone] = useState<string>();
  const act = useAction(async (work: () => Promise<string>) => {
    setDone(undefined);
    const said = await work();
    setShown(false);
    setDone(said);
    keys.reload();
  });

  const create = () => act.run(async () => {
    await providerKeys.add(newSecret());
    return 'A new provider key was made and kept in this browser.';
  });
  const importText = (text: string) => act.run(async () => {
    const key = await providerKeys.add(parseSecret(text));
    setPasted('');
    return `Key ${key.hex.slice(0, 12)}… imported and in use.`;
  });
  const importFile = (file: File | undefined) => {
    if (file) void file.text().then(importText);
  };

  const current = keys.data?.current;
  return (
    <Page
      title="Provider key"
      intro="Your provider key signs your catalog and your delegations. It is kept in this browser only (IndexedDB) and never leaves it: keep a copy of the secret somewhere safe."
    >
      <SubNav current="" />
      {keys.loading && !keys.data && <Loading what="your keys" />}
      {keys.error && <Alert>{keys.error}</Alert>}
      {act.error && <Alert>{act.error}</Alert>}
      {done && <Notice>{done}</Notice>}
      {current ? (
        <CurrentKey current={current} shown={shown} setShown={setShown} />
      ) : (
        keys.data && <p>This browser has no provider key yet: create one, or import the one you have.</p>
      )}
      {keys.data && keys.data.others.length > 0 && (
        <table>
          <caption>Other provider keys in this browser</caption>
          <thead>
            <tr>
              <th scope="col">Public key (hex)</th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {keys.data.others.map((k) => (
              <tr key={k.hex}>
                <th scope="row">
                  <code>{k.hex}</code>
                </th>
                <td>
                  <button type="button" class="secondary" disabled={act.busy} onClick={() => act.run(async () => {
                    await providerKeys.use(k.hex);
                    return `Key ${k.hex.slice(0, 12)}… is in use.`;
                  })}>
                    Use key {k.hex.slice(0, 8)}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>{current ? 'Another key' : 'Get a key'}</h2>
      <div class="row">
        <button type="button" onClick={create} disabled={act.busy}>
          Create a new key
        </button>
      </div>
      <form
        class="import"
        onSubmit={(e) => {
          e.preventDefault();
          void importText(pasted);
        }}
      >
        <div class="row">
          <Field label="Secret key to import" hint="64 hexadecimal digits, as in the file that mkt provider new-key writes">
            {(id, hint) => (
              <input id={id} type="password" autoComplete="off" spellcheck={false} value={pasted} aria-describedby={hint}
                onInput={(e) => setPasted((e.target as HTMLInputElement).value)} />
            )}
          </Field>
          <button type="submit" disabled={act.busy || !pasted.trim()}>
            Import key
          </button>
        </div>
        <Field label="Or import a key file">
          {(id) => (
            <input id={id} type="file" accept=".key,.txt,.hex,text/plain"
              onChange={(e) => importFile((e.target as HTMLInputElement).files?.[0])} />
          )}
        </Field>
      </form>
    </Page>
  );
}

function CurrentKey(props: { current: ProviderKey; shown: boolean; setShown: (shown: boolean) => void }) {
  const { current, shown, setShown } = props;
  return (
    <section aria-labelledby="key-in-use" class="key">
      <h2 id="key-in-use">The key in use</h2>
      <dl class="keyinfo">
        <div>
          <dt>Public key (PEM, as the canister shows it)</dt>
          <dd>
            <pre data-testid="provider-pem">{current.pem}</pre>
          </dd>
        </div>
        <div>
          <dt>Public key (hex)</dt>
          <dd>
            <code data-testid="provider-hex">{current.hex}</code>
          </dd>
        </div>
        <div>
          <dt>Secret key</dt>
          <dd>
            {shown ? (
              <code data-testid="provider-secret">{toHex(current.secret)}</code>
            ) : (
              <span>Hidden. Anyone with it can publish as you.</span>
            )}{' '}
            <button type="button" class="secondary" aria-expanded={shown} onClick={() => setShown(!shown)}>
              {shown ? 'Hide the secret key' : 'Show the secret key'}
            </button>
          </dd>
        </div>
      </dl>
    </section>
  );
}
