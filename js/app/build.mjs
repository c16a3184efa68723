// Builds the web app into js/app/dist, which the canister embeds at build time (build.rs):
//   dist/index.html            the page, naming the hashed files (served with no-cache)
//   dist/assets/main-<hash>.js the bundle (esbuild, minified, ES2022)
//   dist/assets/main-<hash>.css
//   dist/favicon.svg
// File names carry a hash of their contents, so the canister serves them as immutable and an
// upgrade that changes the app changes the names. Prints the gzipped size against the target
// (the whole app ≤ 400 KB gzipped) and fails above it.
//
//   node js/app/build.mjs [--watch]
import * as esbuild from 'esbuild';
import { mkdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
// APP_DIST builds elsewhere (a second work tree's tests); the canister embeds js/app/dist.
const dist = process.env.APP_DIST ? resolve(process.env.APP_DIST) : join(here, 'dist');
const TARGET_GZIP_BYTES = 400 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });

const result = await esbuild.build({
  entryPoints: { main: join(here, 'src/main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  outdir: join(dist, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
  // Reproducible: no absolute paths or timestamps end up in the output.
  sourcemap: false,
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((path) => basename(path));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
if (!script || !style) throw new Error(`expected a .js and a .css output, got ${outputs}`);

const html = readFileSync(join(here, 'index.html'), 'utf8')
  .replace('%SCRIPT%', `/assets/${script}`)
  .replace('%STYLE%', `/assets/${style}`);
writeFileSync(join(dist, 'index.html'), html);
copyFileSync(join(here, 'favicon.svg'), join(dist, 'favicon.svg'));

let total = 0;
for (const name of ['index.html', 'favicon.svg', ...outputs.map((o) => `assets/${o}`)]) {
  const bytes = readFileSync(join(dist, name));
  const gz = gzipSync(bytes, { level: 9 }).length;
  total += gz;
  console.log(`  ${name.padEnd(40)} ${String(bytes.length).padStart(9)} bytes  ${String(gz).padStart(8)} gzipped`);
}
const verdict = total <= TARGET_GZIP_BYTES ? 'ok' : 'OVER';
console.log(`app: ${(total / 1024).toFixed(1)} KB gzipped (target ≤ ${TARGET_GZIP_BYTES / 1024} KB) ${verdict}`);
if (total > TARGET_GZIP_BYTES) process.exit(1);
