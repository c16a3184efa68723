// Publishing the catalog: a serverhunter CSV (a file or pasted), signed in the browser with the
// provider key and sent as catalog_replace; above 1.5 MiB as a chunked upload
// (catalog_upload_begin / append / commit, the signature over the whole CSV's SHA-256), with
// a progress bar. The canister's per-row refusals (InvalidCsv) are shown as a table.
import { useState } from 'preact/hooks';
import { endpoint, type CatalogError, type CsvError, type PublishResult, type Receipt, type Service, type Session } from '../../api';
import { describe } from '../../errors';
import { href } from '../../router';
import { Operation, nextSeq, payloadHash, sign } from '../../signing';
import { Alert, Field, Notice, useAction } from '../../ui';
import { ProviderPage, providerKeys, type ProviderKey } from './common';
import { fingerprint } from '../browse';

/** Above this a catalog goes in chunks (one ingress message holds 2 MiB in all), as the CLI does. */
export const CHUNKED_ABOVE_BYTES = 1536 * 1024;
/** Bytes per chunk (the CLI's default). */
export const CHUNK_BYTES = 1024 * 1024;

interface Progress {
  sent: number;
  total: number;
  chunk: number;
  chunks: number;
}

/** A refused change, with the CSV's errors when that is why. */
class Refused extends Error {
  constructor(readonly error: CatalogError) {
    super(describe(error));
  }
}

const unwrap = <T,>(reply: { Ok: T } | { Err: CatalogError }): T => {
  if ('Err' in reply) throw new Refused(reply.Err);
  return reply.Ok;
};

export function CatalogPage(props: { who: Session }) {
  return (
    <ProviderPage
      title="Catalog"
      tab="catalog"
      who={props.who}
      intro="Publish your offerings: a serverhunter CSV (header row, then one offering a row). It replaces your whole catalog; it is signed here with your provider key."
    >
      {(key) => <Publish key={key.hex} provider={key} who={props.who} />}
    </ProviderPage>
  );
}

function Publish(props: { provider: ProviderKey; who: Session }) {
  const { provider, who } = props;
  const [file, setFile] = useState<File>();
  const [pasted, setPasted] = useState('');
  const [progress, setProgress] = useState<Progress>();
  const [csvErrors, setCsvErrors] = useState<CsvError[]>();

  const publish = useAction(async (): Promise<Receipt> => {
    setCsvErrors(undefined);
    setProgress(undefined);
    const csv = file ? new Uint8Array(await file.arrayBuffer()) : new TextEncoder().encode(pasted);
    if (csv.length === 0) throw new Error('Choose a CSV file or paste the catalog first.');
    const canister = endpoint().canisterId.toUint8Array();
    const hash = payloadHash(csv);
    const send = async (seq: bigint): Promise<PublishResult> => {
      const signature = sign(provider.secret, canister, Operation.ReplaceCatalog, seq, hash);
      const key = { Raw: provider.publicKey };
      if (csv.length <= CHUNKED_ABOVE_BYTES) {
        return who.actor.catalog_replace({ provider: key, seq, signature, csv });
      }
      return chunked(who, csv, { provider: key, seq, signature, hash }, setProgress);
    };
    let seq = nextSeq(await providerKeys.lastSeq(provider.hex));
    let reply = await send(seq);
    // Another browser (or the CLI) signed a later change: go on from the canister's number.
    if ('Err' in reply && 'StaleSequence' in reply.Err) {
      seq = nextSeq(reply.Err.StaleSequence.last);
      reply = await send(seq);
    }
    try {
      const receipt = unwrap(reply);
      await providerKeys.setLastSeq(provider.hex, receipt.seq);
      return receipt;
    } catch (e) {
      if (e instanceof Refused && 'InvalidCsv' in e.error) setCsvErrors(e.error.InvalidCsv.errors);
      throw e;
    }
  });

  const receipt = publish.result;
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          publish.setResult(undefined);
          void publish.run();
        }}
      >
        <Field label="Catalog file (CSV)" hint="a serverhunter CSV; above 1.5 MiB it is uploaded in chunks">
          {(id, hint) => (
            <input id={id} type="file" accept=".csv,text/csv" aria-describedby={hint}
              onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0] ?? undefined)} />
          )}
        </Field>
        {file && (
          <p data-testid="chosen-file">
            Chosen: <code>{file.name}</code>, {file.size.toLocaleString('en')} bytes
            {file.size > CHUNKED_ABOVE_BYTES ? ' (it will be uploaded in chunks)' : ''}.{' '}
            <button type="button" class="secondary" onClick={() => setFile(undefined)}>
              Paste instead
            </button>
          </p>
        )}
        {!file && (
          <Field label="Or paste the CSV">
            {(id) => (
              <textarea id={id} rows={8} spellcheck={false} value={pasted}
                onInput={(e) => setPasted((e.target as HTMLTextAreaElement).value)} />
            )}
          </Field>
        )}
        <div class="row">
          <button type="submit" disabled={publish.busy}>
            Sign and publish
          </button>
        </div>
      </form>
      {progress && (
        <div class="progress">
          <label for="upload-progress">Upload progress</label>
          <progress id="upload-progress" max={progress.total} value={progress.sent}>
            {Math.round((100 * progress.sent) / progress.total)}%
          </progress>
          <p role="status">
            Sent {progress.sent.toLocaleString('en')} of {progress.total.toLocaleString('en')} bytes (chunk {progress.chunk} of {progress.chunks}).
          </p>
        </div>
      )}
      {publish.busy && !progress && <p role="status">Signing and publishing…</p>}
      {publish.error && <Alert>{publish.error}</Alert>}
      {csvErrors && <CsvErrors errors={csvErrors} />}
      {receipt && !publish.busy && (
        <div class="published">
          <Notice>
            Published: your catalog has {receipt.offerings} offering{receipt.offerings === 1 ? '' : 's'} ({receipt.upserted} added or changed,{' '}
            {receipt.unchanged} unchanged, {receipt.removed} removed), sequence number {receipt.seq.toString()}.
          </Notice>
          <p>
            <a href={href('search')}>See your offerings in search</a>: they show the provider key ending{' '}
            <code>{fingerprint(provider.pem)}</code>. Invisible offerings are never listed.
          </p>
        </div>
      )}
    </>
  );
}

/** The chunked upload; `onProgress` after each chunk. */
async function chunked(
  who: Session,
  csv: Uint8Array,
  signed: { provider: { Raw: Uint8Array }; seq: bigint; signature: Uint8Array; hash: Uint8Array },
  onProgress: (progress: Progress) => void,
): Promise<PublishResult> {
  if (who.kind === 'anonymous') {
    throw new Error('A catalog above 1.5 MiB is uploaded in chunks, which needs a signed-in caller: sign in first.');
  }
  const actor: Service = who.actor;
  const chunks = Math.ceil(csv.length / CHUNK_BYTES);
  onProgress({ sent: 0, total: csv.length, chunk: 0, chunks });
  const begun = await actor.catalog_upload_begin({
    provider: signed.provider,
    seq: signed.seq,
    signature: signed.signature,
    operation: { Replace: null },
    total_bytes: BigInt(csv.length),
    sha256: signed.hash,
  });
  if ('Err' in begun) return begun;
  const upload_id = begun.Ok;
  for (let index = 0; index < chunks; index++) {
    const bytes = csv.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES);
    const step = await actor.catalog_upload_append({ upload_id, index, bytes });
    if ('Err' in step) return step;
    onProgress({ sent: Number(step.Ok.bytes_received), total: csv.length, chunk: index + 1, chunks });
  }
  return actor.catalog_upload_commit({ upload_id });
}

function CsvErrors(props: { errors: CsvError[] }) {
  return (
    <table class="csv-errors">
      <caption>
        {props.errors.length} problem{props.errors.length === 1 ? '' : 's'} in the CSV: nothing was published. Rows are numbered from the header (row 1).
      </caption>
      <thead>
        <tr>
          <th scope="col">Row</th>
          <th scope="col">Column</th>
          <th scope="col">Problem</th>
        </tr>
      </thead>
      <tbody>
        {props.errors.map((e, i) => (
          <tr key={i}>
            <th scope="row">{e.row}</th>
            <td>{e.column[0] ?? 'the whole row'}</td>
            <td>{e.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
