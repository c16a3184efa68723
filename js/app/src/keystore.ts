// Keys kept in the browser's IndexedDB: the local dev identity, lessee X25519 keys, provider
// Ed25519 keys. They never leave the browser; clearing the site's data forgets them.

const DB = 'compute-marketplace';
const STORE = 'keys';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = work(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result as T);
      request.onerror = () => reject(request.error);
    });
  } finally {
    db.close();
  }
}

export const keystore = {
  get: <T>(name: string) => run<T | undefined>('readonly', (s) => s.get(name)),
  set: (name: string, value: unknown) => run<void>('readwrite', (s) => s.put(value, name)),
  delete: (name: string) => run<void>('readwrite', (s) => s.delete(name)),
  /** Names starting with `prefix`. */
  async names(prefix: string): Promise<string[]> {
    const keys = await run<IDBValidKey[]>('readonly', (s) => s.getAllKeys());
    return keys.map(String).filter((k) => k.startsWith(prefix));
  },
};
