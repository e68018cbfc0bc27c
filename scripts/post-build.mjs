#!/usr/bin/env node
// Trunk's post_build hook (Trunk.toml): makes the bundle run under a Content-Security-Policy
// without 'unsafe-inline', from one source of truth.
//
// 1. Moves Trunk's inline loader (<script type="module">import init …</script>) into an external
//    module script, loader-<hash>.js beside index.html, referenced relatively and with an
//    `integrity` hash. The build then has no inline script at all, so `script-src 'self'` is
//    enough and the policy does not change from one build to the next (a sha256 of the inline
//    loader would, since it names the hashed file names).
// 2. Writes the policy of deploy/csp.txt into index.html's <meta http-equiv=
//    "Content-Security-Policy">, without the directives a <meta> cannot carry.
// 3. Keeps the `add_header Content-Security-Policy` line of deploy/nginx.conf equal to the full
//    policy (header form, frame-ancestors included), rewriting that one line when it differs.
// 4. Makes each web worker's loader shim (`*_loader.js`, Trunk's `data-loader-shim`) report a
//    wasm that cannot load: Trunk's shim leaves `wasm_bindgen(…)`'s promise unhandled, and an
//    unhandled rejection inside a worker never reaches the page, which would wait for the
//    worker's ready word for ever. Rethrown outside the promise, it is the worker's `error`
//    event, which the page turns into a failure (src/gcp/worker.rs).
//
// Trunk runs it with TRUNK_STAGING_DIR (the bundle being built) and TRUNK_PUBLIC_URL set; the
// exported functions are what tests/e2e/hosting.mjs compares the served page with.

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CSP_FILE = path.join(ROOT, 'deploy', 'csp.txt');
export const NGINX_CONF = path.join(ROOT, 'deploy', 'nginx.conf');

/** Directives a <meta> CSP ignores (CSP3 §3.3: frame-ancestors, report-uri, sandbox). */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'sandbox']);
const DIRECTIVE = /^[a-z][a-z-]*$/;
// A source (or keyword) is printable ASCII without the characters that would end a directive,
// the header or an HTML attribute.
const SOURCE = /^[\x21-\x7e]+$/;
const FORBIDDEN_IN_SOURCE = /[;,"<>&\\]/;

/**
 * Reads deploy/csp.txt: `<directive> <source>` per line (# comments, blank lines ignored).
 * Returns [[directive, [sources…]], …] in first-seen order; throws on anything unreadable.
 */
export function readPolicy(text = fs.readFileSync(CSP_FILE, 'utf8')) {
  const policy = new Map();
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    const [directive, ...sources] = line.split(/\s+/);
    const where = `deploy/csp.txt line ${i + 1}`;
    if (!DIRECTIVE.test(directive)) throw new Error(`${where}: "${directive}" is not a directive name`);
    for (const s of sources) {
      if (!SOURCE.test(s) || FORBIDDEN_IN_SOURCE.test(s)) throw new Error(`${where}: "${s}" is not a CSP source`);
      if (s === "'unsafe-inline'" || s === "'unsafe-eval'") throw new Error(`${where}: ${s} is not allowed here`);
    }
    const list = policy.get(directive) || [];
    for (const s of sources) if (!list.includes(s)) list.push(s);
    policy.set(directive, list);
  });
  if (!policy.has('default-src')) throw new Error('deploy/csp.txt: no default-src');
  return [...policy.entries()];
}

/** The policy as one header/attribute value; `meta` leaves out the header-only directives. */
export function policyText({ meta = false } = {}, policy = readPolicy()) {
  return policy
    .filter(([d]) => !(meta && HEADER_ONLY.has(d)))
    .map(([d, sources]) => [d, ...sources].join(' '))
    .join('; ');
}

/** The nginx line that sends the header (one line, so that the hook can find and rewrite it). */
export function nginxHeaderLine(policy = readPolicy()) {
  return `add_header Content-Security-Policy "${policyText({}, policy)}" always;`;
}

const NGINX_LINE = /^(\s*)add_header Content-Security-Policy .*$/m;

/** deploy/nginx.conf with its CSP header line set from `policy` (throws if it has none). */
export function nginxWithPolicy(conf, policy = readPolicy()) {
  if (!NGINX_LINE.test(conf)) throw new Error('deploy/nginx.conf has no `add_header Content-Security-Policy` line');
  return conf.replace(NGINX_LINE, (_, indent) => `${indent}${nginxHeaderLine(policy)}`);
}

const sriHash = (bytes) => `sha384-${crypto.createHash('sha384').update(bytes).digest('base64')}`;

/**
 * index.html with its inline loader moved out: returns { html, loader: { name, text } }.
 * Fails when there is not exactly one inline script (the loader), so that nothing inline
 * slips into a build the policy would then silently break.
 */
export function externalizeLoader(html, publicUrl = './') {
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)];
  const inline = scripts.filter((m) => !/\bsrc\s*=/i.test(m[1]));
  if (inline.length !== 1 || !/\btype\s*=\s*["']?module\b/i.test(inline[0][1]) || !/\binit\b/.test(inline[0][2])) {
    throw new Error(`expected exactly one inline script, Trunk's module loader; found ${inline.length}`);
  }
  const [tag, , body] = inline[0];
  const text = `${body.trim()}\n`;
  const name = `loader-${crypto.createHash('sha256').update(text).digest('hex').slice(0, 16)}.js`;
  const base = publicUrl.endsWith('/') ? publicUrl : `${publicUrl}/`;
  const external = `<script type="module" src="${base}${name}" integrity="${sriHash(text)}"></script>`;
  return { html: html.replace(tag, external), loader: { name, text } };
}

/** index.html with its CSP <meta> content set to `policy` (throws if it has none). */
export function withMetaPolicy(html, policy = readPolicy()) {
  const meta = /<meta\b[^>]*http-equiv\s*=\s*["']?Content-Security-Policy["']?[^>]*>/i;
  if (!meta.test(html)) throw new Error('index.html has no <meta http-equiv="Content-Security-Policy">');
  return html.replace(meta, `<meta http-equiv="Content-Security-Policy" content="${policyText({ meta: true }, policy)}">`);
}

/**
 * A worker loader shim whose wasm failure is rethrown as an uncaught error (see 4. above).
 * Throws if the shim is not the one line Trunk writes, so a Trunk change cannot slip by.
 */
export function withReportedWasmFailure(shim) {
  const call = /^(importScripts\("[^"]+"\);wasm_bindgen\("[^"]+"\));?\s*$/;
  const m = shim.match(call);
  if (!m) throw new Error(`unexpected worker loader shim: ${shim.slice(0, 200)}`);
  return `${m[1]}.catch((e) => setTimeout(() => { throw e; }));\n`;
}

function main() {
  const staging = process.env.TRUNK_STAGING_DIR;
  if (!staging) throw new Error('TRUNK_STAGING_DIR is not set: Trunk runs this as its post_build hook');
  const policy = readPolicy();
  const indexPath = path.join(staging, 'index.html');
  const { html, loader } = externalizeLoader(fs.readFileSync(indexPath, 'utf8'), process.env.TRUNK_PUBLIC_URL || './');
  fs.writeFileSync(path.join(staging, loader.name), loader.text);
  fs.writeFileSync(indexPath, withMetaPolicy(html, policy));
  for (const name of fs.readdirSync(staging).filter((n) => n.endsWith('_loader.js'))) {
    const shimPath = path.join(staging, name);
    fs.writeFileSync(shimPath, withReportedWasmFailure(fs.readFileSync(shimPath, 'utf8')));
  }

  const conf = fs.readFileSync(NGINX_CONF, 'utf8');
  const synced = nginxWithPolicy(conf, policy);
  if (synced !== conf) {
    fs.writeFileSync(NGINX_CONF, synced);
    console.error('[post-build] deploy/nginx.conf: Content-Security-Policy header updated from deploy/csp.txt (commit it)');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`[post-build] ${err.message}`);
    process.exit(1);
  }
}
