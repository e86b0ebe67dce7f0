// What every browser test needs: a real waitroom process on a free loopback port (the binary
// from $WAITROOM_BIN, as the Python suites use), Debian's Chromium driven by playwright-core,
// axe-core for accessibility checks, and screenshots written to build/test-artifacts/.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ARTIFACTS = path.join(REPO, 'build', 'test-artifacts');
const BINARY = process.env.WAITROOM_BIN || path.join(REPO, 'build', 'asan', 'waitroom');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const READY_TIMEOUT_MS = 15000;

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// A waitroom process with its own data dir; `configText` is its waitroom.toml.
export async function startWaitroom(configText = '') {
  const dir = mkdtempSync(path.join(tmpdir(), 'waitroom-browser-'));
  const config = path.join(dir, 'waitroom.toml');
  writeFileSync(config, configText);
  const port = await freePort();
  const adminKey = 'browser-test-admin-key-0123456789';
  const log = [];
  const proc = spawn(BINARY, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', path.join(dir, 'data'),
                              '--config', config, '--durability', 'relaxed'], {
    env: { ...process.env, WAITROOM_ADMIN_KEY: adminKey, ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => log.push(d.toString()));
  proc.stderr.on('data', (d) => log.push(d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`waitroom exited ${proc.exitCode}:\n${log.join('')}`);
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`waitroom not ready:\n${log.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const admin = async (method, urlPath, body) => {
    const r = await fetch(base + urlPath, {
      method,
      headers: { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${urlPath}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    base, port, adminKey, admin, log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((resolve) => {
          const t = setTimeout(() => { proc.kill('SIGKILL'); resolve(); }, 5000);
          proc.once('exit', () => { clearTimeout(t); resolve(); });
        });
      }
      const sanitizer = log.join('').match(/ERROR: AddressSanitizer|runtime error:/);
      rmSync(dir, { recursive: true, force: true });
      if (sanitizer) throw new Error(`sanitizer report in waitroom's log:\n${log.join('')}`);
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

// A fresh browser context (its own cookies: another browser, as far as the server can tell) and
// a page in it that waits at most 10 s for anything. `options` go to browser.newContext().
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  return { context, page };
}

// Fails with the rule ids and the offending nodes when axe finds any WCAG 2.x A/AA violation.
export async function assertAccessible(page, label) {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  if (result.violations.length) {
    const detail = result.violations
      .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`)
      .join('\n');
    throw new Error(`axe found ${result.violations.length} violation(s) on ${label}:\n${detail}`);
  }
}

// axe runs inside the page, so a JavaScript-off page is checked by loading the same URL with the
// same cookies in a JavaScript-on context (the server renders the same view for both).
export async function assertAccessibleWithoutScript(browser, page, label) {
  const context = await browser.newContext();
  try {
    await context.addCookies(await page.context().cookies());
    const twin = await context.newPage();
    await twin.goto(page.url());
    await assertAccessible(twin, label);
  } finally {
    await context.close();
  }
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

// Polls `fn` until it returns something truthy and returns that; fails with `what` (and the last
// value or error seen) after `waitMs`.
export async function until(fn, what, waitMs = 15000) {
  const deadline = Date.now() + waitMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Joins `room`'s line on the server at `base`; returns the new ticket's id.
export async function enqueue(base, room) {
  const r = await fetch(`${base}/v1/rooms/${room}/tickets`, { method: 'POST' });
  if (r.status !== 201) throw new Error(`enqueue in ${room}: HTTP ${r.status}`);
  return (await r.json()).ticket;
}

export function readRepoFile(relative) {
  return readFileSync(path.join(REPO, relative), 'utf8');
}
