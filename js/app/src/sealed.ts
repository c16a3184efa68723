// Lease credentials, sealed to the lessee's X25519 key and opened in the lessee's browser:
// libsodium's crypto_box (X25519 + XSalsa20-Poly1305) between a fresh ephemeral key and the
// lessee's key, with a random 24-byte nonce, exactly as `mkt provider seal` and
// `mkt lessee open` do (tweetnacl's box is crypto_box). The canister stores the box and can
// never read it.
import nacl from 'tweetnacl';
import { endpoint, type SealedBox } from './api';
import { keystore } from './keystore';

const LESSEE = 'lessee/';
/** The largest plaintext whose box the canister takes (4096 bytes of ciphertext). */
export const MAX_PLAINTEXT_BYTES = 4096 - nacl.box.overheadLength;

/** A lease's key name: execution ids are per canister, and one browser may use several. */
const nameOf = (executionId: bigint) => `${LESSEE}${endpoint().canisterId.toText()}/${executionId}`;

/**
 * The lessee key for execution `executionId`, kept in this browser; returns its public half. A
 * key already kept for it is reused, never replaced: a retried Accept (the first may have
 * reached the canister) must not lose the key the credentials are sealed to.
 */
export async function newLesseeKey(executionId: bigint): Promise<Uint8Array> {
  const name = nameOf(executionId);
  const kept = await keystore.get<Uint8Array>(name);
  if (kept) return nacl.box.keyPair.fromSecretKey(Uint8Array.from(kept)).publicKey;
  const pair = nacl.box.keyPair();
  await keystore.set(name, pair.secretKey);
  return pair.publicKey;
}

/** The secret lessee key for execution `executionId`, if this browser has it. */
export async function lesseeSecret(executionId: bigint): Promise<Uint8Array | undefined> {
  return keystore.get<Uint8Array>(nameOf(executionId));
}

/** Every lessee key in this browser (whatever its name under `lessee/`), by the public key (hex) it answers to. */
export async function lesseeKeys(): Promise<Map<string, Uint8Array>> {
  const keys = new Map<string, Uint8Array>();
  for (const name of await keystore.names(LESSEE)) {
    const secret = await keystore.get<Uint8Array>(name);
    if (secret) keys.set(hexOf(nacl.box.keyPair.fromSecretKey(secret).publicKey), secret);
  }
  return keys;
}

/** Seals `text` to the lessee's public key. */
export function seal(text: string, lesseeKey: Uint8Array): SealedBox {
  const message = new TextEncoder().encode(text);
  if (message.length > MAX_PLAINTEXT_BYTES) throw new Error(`Credentials may be at most ${MAX_PLAINTEXT_BYTES} bytes.`);
  if (lesseeKey.length !== nacl.box.publicKeyLength) throw new Error('A lessee key is 32 bytes.');
  const ephemeral = nacl.box.keyPair();
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  return {
    ciphertext: nacl.box(message, nonce, lesseeKey, ephemeral.secretKey),
    ephemeral_key: ephemeral.publicKey,
    nonce,
    recipient_key: lesseeKey,
  };
}

/** Opens a box with the lessee's secret key: the credentials, or an error saying why not. */
export function open(box: SealedBox, secret: Uint8Array): string {
  const opened = nacl.box.open(
    Uint8Array.from(box.ciphertext),
    Uint8Array.from(box.nonce),
    Uint8Array.from(box.ephemeral_key),
    secret,
  );
  if (!opened) throw new Error('These credentials were not sealed to the key in this browser.');
  return new TextDecoder().decode(opened);
}

const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
