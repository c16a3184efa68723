// Catalog changes signed with a provider's Ed25519 key, in the browser, exactly as the canister
// verifies them (src/catalog/signing.rs) and the CLI signs them (runner/src/provider.rs):
//
//   b"ic-compute-marketplace/catalog/v1\0" || len(canister id) (1 byte) || canister id
//   || provider key (32) || operation (1) || seq (u64 big-endian) || SHA-256(payload) (32)
//
// Payloads: the CSV bytes for a replace (for a chunked upload the same hash, of the whole CSV);
// for a market delegation the principal's bytes followed by 1 (allow) or 0 (revoke), and for a
// delegation that expires the expiry (nanoseconds since the epoch, u64 big-endian) and 0xFF
// after that.
// Self-contained (no imports of the app), so node can bundle and check it against the CLI
// (js/app/test/provider.test.mjs).
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const DOMAIN = new TextEncoder().encode('ic-compute-marketplace/catalog/v1\0');

export const Operation = {
  ReplaceCatalog: 1,
  UpsertOfferings: 2,
  RemoveOfferings: 3,
  RemoveProvider: 4,
  Delegate: 5,
  RotateKey: 6,
} as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

/** The DER of an Ed25519 SubjectPublicKeyInfo before its 32 key bytes (RFC 8410). */
const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export const payloadHash = (bytes: Uint8Array): Uint8Array => sha256(bytes);

/** The message a change is signed over. */
export function message(canister: Uint8Array, providerKey: Uint8Array, op: Operation, seq: bigint, hash: Uint8Array): Uint8Array {
  if (providerKey.length !== 32) throw new Error('A provider key is 32 bytes.');
  if (hash.length !== 32) throw new Error('A payload hash is 32 bytes.');
  if (canister.length > 255) throw new Error('A canister id is at most 29 bytes.');
  const out = new Uint8Array(DOMAIN.length + 1 + canister.length + 32 + 1 + 8 + 32);
  let at = 0;
  out.set(DOMAIN, at);
  at += DOMAIN.length;
  out[at++] = canister.length;
  out.set(canister, at);
  at += canister.length;
  out.set(providerKey, at);
  at += 32;
  out[at++] = op;
  new DataView(out.buffer).setBigUint64(at, seq, false);
  at += 8;
  out.set(hash, at);
  return out;
}

/** The provider's signature over a change of `hash` (the payload's SHA-256). */
export function sign(secret: Uint8Array, canister: Uint8Array, op: Operation, seq: bigint, hash: Uint8Array): Uint8Array {
  return ed25519.sign(message(canister, publicKeyOf(secret), op, seq, hash), secret);
}

/**
 * A market delegation's payload: the principal's bytes, then 1 to allow or 0 to revoke, then for
 * a delegation that expires `expiresAtNs` as 8 big-endian bytes and 0xFF (which no payload
 * without an expiry ends in; without one, what it always was).
 */
export function delegationPayload(principal: Uint8Array, allow: boolean, expiresAtNs?: bigint): Uint8Array {
  const out = new Uint8Array(principal.length + 1 + (expiresAtNs === undefined ? 0 : 9));
  out.set(principal);
  out[principal.length] = allow ? 1 : 0;
  if (expiresAtNs !== undefined) {
    new DataView(out.buffer).setBigUint64(principal.length + 1, expiresAtNs, false);
    out[principal.length + 9] = 0xff;
  }
  return out;
}

/** An expiry `days` from `nowMs` (milliseconds since the epoch), in nanoseconds since the epoch. */
export function expiryInDays(days: number, nowMs: number = Date.now()): bigint {
  if (!Number.isFinite(days) || days <= 0) throw new Error('An expiry is a positive number of days.');
  return BigInt(Math.round(nowMs + days * 86_400_000)) * 1_000_000n;
}

export const newSecret = (): Uint8Array => ed25519.utils.randomSecretKey();
export const publicKeyOf = (secret: Uint8Array): Uint8Array => ed25519.getPublicKey(secret);

/** The public key as the canister prints it: SPKI PEM, one line of base64, LF endings. */
export function pemOf(publicKey: Uint8Array): string {
  const der = new Uint8Array(SPKI_PREFIX.length + publicKey.length);
  der.set(SPKI_PREFIX);
  der.set(publicKey, SPKI_PREFIX.length);
  const base64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN PUBLIC KEY-----\n${base64}\n-----END PUBLIC KEY-----\n`;
}

/**
 * A secret key from what a person pastes or the file `mkt provider new-key` writes: 64 hex
 * digits (the 32-byte seed), surrounding space and a `0x` allowed.
 */
export function parseSecret(text: string): Uint8Array {
  const clean = text.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(clean)) {
    throw new Error('A provider secret key is 64 hexadecimal digits (the file `mkt provider new-key` writes).');
  }
  return Uint8Array.from(clean.match(/../g)!, (pair) => parseInt(pair, 16));
}

/**
 * The next sequence number: the Unix time in seconds (as the CLI numbers changes), or one more
 * than `last` when that is not greater.
 */
export function nextSeq(last: bigint = 0n, nowMs: number = Date.now()): bigint {
  const now = BigInt(Math.floor(nowMs / 1000));
  return now > last ? now : last + 1n;
}

export const toHex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
