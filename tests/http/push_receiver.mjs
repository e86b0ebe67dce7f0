// A stand-in for a browser's push service and the browser behind it (RFC 8030), for
// tests/http/test_notify.py: it makes one subscription's keys (RFC 8291: a P-256 key pair and an
// auth secret), prints the subscription as one JSON line on stdout, then takes pushes on
// POST /push/<name>. Each push is checked as a real push service and browser would:
//   - Authorization: "vapid t=<JWT>, k=<key>" (RFC 8292): the JWT verifies (ES256) with k, k is the
//     key given on the command line (the one the server publishes), aud is this origin, exp is
//     in the future and at most 24 h away, sub is a mailto: or https: URL;
//   - Content-Encoding: aes128gcm, and the body decrypts (http_ece) with the subscription's keys.
// Every push is appended to the log file as one JSON line: {path, ok, error?, payload?, vapid?,
// ttl, urgency}. The answer is 201, or the status a path names: POST /push/gone -> 410,
// /push/down -> 503.
//
// node push_receiver.mjs PORT LOGFILE EXPECTED_VAPID_PUBLIC_KEY
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';

const require = createRequire(import.meta.url);
const ece = require('http_ece');
const jose = require('jose');

const [port, logFile, expectedKey] = process.argv.slice(2);
const ua = crypto.createECDH('prime256v1');
ua.generateKeys();
const authSecret = crypto.randomBytes(16);
const origin = `http://127.0.0.1:${port}`;

function log(entry) {
  fs.appendFileSync(logFile, JSON.stringify(entry) + '\n');
}

async function checkVapid(header) {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header || '');
  if (!m) throw new Error(`Authorization is not "vapid t=..., k=...": ${header}`);
  const [, token, k] = m;
  if (k !== expectedKey) throw new Error(`k=${k} is not the server's published key`);
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) throw new Error('k is not an uncompressed P-256 point');
  const jwk = { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'),
                y: raw.subarray(33).toString('base64url') };
  const key = await jose.importJWK(jwk, 'ES256');
  const { payload, protectedHeader } = await jose.jwtVerify(token, key, { algorithms: ['ES256'] });
  if (payload.aud !== origin) throw new Error(`aud ${payload.aud} is not ${origin}`);
  const now = Math.floor(Date.now() / 1000);
  if (!(payload.exp > now && payload.exp <= now + 24 * 3600))
    throw new Error(`exp ${payload.exp} is not within 24 h`);
  if (!/^(mailto:|https:)/.test(payload.sub || '')) throw new Error(`sub ${payload.sub}`);
  return { aud: payload.aud, sub: payload.sub, exp: payload.exp, alg: protectedHeader.alg };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const entry = { path: req.url, ttl: req.headers.ttl, urgency: req.headers.urgency, ok: false };
    let status = 201;
    if (req.url.endsWith('/gone')) status = 410;
    if (req.url.endsWith('/down')) status = 503;
    try {
      if (req.method !== 'POST') throw new Error(`method ${req.method}`);
      if (req.headers['content-encoding'] !== 'aes128gcm')
        throw new Error(`Content-Encoding ${req.headers['content-encoding']}`);
      entry.vapid = await checkVapid(req.headers.authorization);
      const plain = ece.decrypt(body, { version: 'aes128gcm', privateKey: ua,
                                        authSecret: authSecret.toString('base64url') });
      entry.payload = JSON.parse(plain.toString('utf8'));
      entry.ok = true;
    } catch (e) {
      entry.error = String(e && e.message || e);
    }
    entry.status = status;
    log(entry);
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
  });
});

server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({
    endpoint: `${origin}/push/`,
    keys: { p256dh: ua.getPublicKey().toString('base64url'),
            auth: authSecret.toString('base64url') },
  }) + '\n');
});
