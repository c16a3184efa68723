// The canister's typed errors as sentences a person can act on. Every method returns
// `variant { Ok; Err: SomeError }`; the error is a variant whose case names what went wrong
// and whose fields say the particulars. Agent failures (network, a rejected call) are turned
// into sentences too, never shown as raw Candid.

type Fields = Record<string, unknown>;

const plain = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  if (typeof value === 'bigint' || typeof value === 'number' || typeof value === 'string') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(plain).join(', ');
  if (typeof value === 'object') {
    const object = value as Fields;
    if (typeof (object as { toText?: unknown }).toText === 'function') return (object as { toText(): string }).toText();
    const keys = Object.keys(object);
    // A variant: its case's name.
    if (keys.length === 1 && object[keys[0]] === null) return words(keys[0]);
    return keys.map((k) => `${k.replace(/_/g, ' ')} ${plain(object[k])}`).join(', ');
  }
  return String(value);
};

/** "NothingAvailable" → "nothing available". */
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

const seconds = (s: unknown) => {
  const n = Number(s);
  return n >= 120 ? `${Math.ceil(n / 60)} minutes` : `${n} seconds`;
};

const SENTENCES: Record<string, (f: Fields) => string> = {
  NotAuthorized: (f) => `You are not allowed to do this${f.message ? `: ${f.message}` : ''}. Sign in with the right identity, or ask the provider to delegate to you.`,
  InvalidArgument: (f) => `Check your input: ${f.message}.`,
  RateLimited: (f) => `Too many requests from you lately; try again in ${seconds(f.retry_after_seconds)}.`,
  InvalidKey: (f) => `That key is not a valid Ed25519 public key (${f.message}).`,
  InvalidSignature: () => 'The signature does not match: sign again with the provider key.',
  StaleSequence: (f) => `This change is older than the last accepted one (sequence ${plain(f.last)}); sign it again.`,
  QueryTooLong: (f) => `The search text is too long: at most ${plain(f.max_bytes)} bytes.`,
  TooManyTerms: (f) => `Use at most ${plain(f.max)} different words.`,
  PageSizeTooLarge: (f) => `Ask for at most ${plain(f.max)} rows at a time.`,
  InvalidCursor: () => 'The list changed shape; search again from the first page.',
  UnknownProvider: () => 'No provider has published a catalog with that key.',
  UnknownOffering: (f) => `There is no offering ${f.key ? `"${f.key}"` : 'with that key'}.`,
  UnknownExecution: (f) => `There is no lease or offer numbered ${plain(f.id)}.`,
  UnknownItem: (f) => `There is no inventory item numbered ${plain(f.id)}.`,
  UnknownOffer: (f) => `There is no offer numbered ${plain(f.id)}.`,
  UnknownOfferset: (f) => `There is no request numbered ${plain(f.id)}.`,
  UnknownProject: (f) => `There is no project numbered ${plain(f.id)}.`,
  WrongPhase: (f) => `You cannot ${words(String(f.action))} while the lease is ${plain(f.phase)}.`,
  NothingAvailable: (f) => `Nothing is available for that request. ${plain((f.messages as { text: string }[] | undefined)?.map((m) => m.text))}`,
  LeaseTooLong: (f) => `A lease may last at most ${seconds(f.max_seconds)}.`,
  InvalidWindow: (f) => `Check the times: ${f.message}.`,
  OfferClosed: (f) => `Offer ${plain(f.offer_id)} is ${plain(f.status)}: it can no longer be taken.`,
  OfferOverlap: (f) => `This overlaps offer ${plain(f.offer_id)} on the same item.`,
  ItemBusy: (f) => `Item ${plain(f.item_id)} is busy with lease ${plain(f.execution_id)}.`,
  Booked: (f) => `That time is already booked (lease ${plain(f.execution_id)}).`,
  DuplicateResource: (f) => `This server is already registered as item ${plain(f.item_id)}.`,
  InvalidSku: (f) => `"${f.sku}" is not a SKU this market knows: ${f.message}.`,
  InvalidTransition: (f) => `An item cannot go from ${plain(f.from)} to ${plain(f.to)}.`,
  QuotaExceeded: (f) => `You reached your limit of ${plain(f.max)} ${f.what}.`,
  CapacityReached: (f) => `The market is full: at most ${plain(f.max)} ${f.what}.`,
  TooMany: (f) => `Too many ${f.what}: at most ${plain(f.max)}.`,
  TooManyOfferings: (f) => `A catalog may hold at most ${plain(f.max)} offerings.`,
  TooManyUploads: (f) => `Too many uploads are open (at most ${plain(f.max)}); try again in a while.`,
  CatalogTooLarge: (f) => `The catalog is too large: at most ${plain(f.max_bytes)} bytes.`,
  UploadTooLarge: (f) => `The upload is too large (${plain(f.total_bytes)} bytes).`,
  UploadIncomplete: (f) => `The upload is incomplete: ${plain(f.bytes_received)} of ${plain(f.total_bytes)} bytes arrived.`,
  UnknownUpload: () => 'That upload has expired or was never started; publish again.',
  ChunkOutOfOrder: (f) => `A chunk arrived out of order (expected chunk ${plain(f.expected)}); publish again.`,
  HashMismatch: () => 'The uploaded bytes do not match what was signed; publish again.',
  NotUploader: () => 'Only whoever started this upload may continue it.',
  ProviderFrozen: () => 'This provider is frozen by the market operators.',
  KeyRotated: () => 'This provider moved to a new key; use the new one.',
  InsufficientAllowance: (f) =>
    `Approve the market to take ${plain(f.needed)} (the price, or each held offer's deposit, and the ledger's fee) from your account first; it may take ${plain(f.allowance)} now.`,
  InsufficientFunds: (f) => `Your account holds ${plain(f.balance)}; this needs ${plain(f.needed)} (the price, or each held offer's deposit, and the ledger's fee).`,
  PaymentInProgress: () => 'A payment of this lease is on its way to the ledger; try again in a moment.',
  PaymentFailed: (f) => `The payment did not go through, nothing was taken: ${f.message}`,
  InvalidCsv: (f) => {
    const errors = (f.errors as { line?: unknown; column?: unknown; message?: unknown }[]) ?? [];
    return `The CSV has ${errors.length} error${errors.length === 1 ? '' : 's'}: ${errors
      .slice(0, 5)
      .map((e) => plain(e))
      .join('; ')}.`;
  },
  OutcallBudgetExhausted: () => 'The provisioning budget is used up for now; try again later.',
  NoAvailableServers: () => 'No free server of that class right now.',
  ServerNotFound: (f) => `Server ${f.server_id} is not known to Ironic.`,
  ServerNotAvailable: (f) => `Server ${f.server_id} is ${f.provision_state}, not available.`,
  IronicUnreachable: (f) => `The provider's Ironic endpoint did not answer: ${f.message}.`,
  IronicFailed: (f) => `Ironic refused: ${f.message}.`,
  Unreachable: (f) => `The call could not be made: ${f.message}.`,
};

/** A typed error (the `Err` of a reply) as a sentence. */
export function describe(error: unknown): string {
  if (error && typeof error === 'object' && !(error instanceof Error)) {
    const [name] = Object.keys(error);
    const fields = ((error as Fields)[name] ?? {}) as Fields;
    const sentence = SENTENCES[name];
    if (sentence) return sentence(typeof fields === 'object' ? fields : {});
    const detail = plain(fields);
    return `${words(name).replace(/^./, (c) => c.toUpperCase())}${detail ? `: ${detail}` : ''}.`;
  }
  return failure(error);
}

/** An exception (network, agent, a rejected call) as a sentence. */
export function failure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Failed to fetch|NetworkError|ECONNREFUSED/i.test(message)) {
    return 'The canister cannot be reached: check your connection and try again.';
  }
  const reject = /Reject text: (.*)/.exec(message) ?? /"Reject message": "([^"]*)"/.exec(message);
  if (reject) return `The canister refused the call: ${reject[1]}`;
  if (/inspect_message: (.*)/.test(message)) return `The canister refused the call: ${/inspect_message: ([^\n"]*)/.exec(message)![1]}`;
  return message.split('\n')[0];
}

/** Unwraps `{Ok}` or throws the `{Err}` as a sentence. */
export function ok<T>(reply: { Ok: T } | { Err: unknown }): T {
  if ('Ok' in reply) return reply.Ok;
  throw new Error(describe(reply.Err));
}
