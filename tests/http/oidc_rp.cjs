#!/usr/bin/env node
// A relying party built on npm openid-client (a library we did not write), driven step by step
// by tests/http/test_oidc.py. Like a real web app it keeps the login's secrets (state, nonce, PKCE
// verifier) between the two steps; here they travel through the test as JSON.
//
//   node oidc_rp.cjs begin  '<config json>'
//     discovers the issuer and prints {"authorization_url", "state", "nonce", "code_verifier"}
//   node oidc_rp.cjs finish '<config json>' '<begin output json>' '<callback url>'
//     checks the callback (state), exchanges the code (PKCE verifier, client authentication),
//     validates the ID token (signature by the JWKS, iss, aud, exp, iat, nonce, at_hash), calls
//     userinfo and prints {"claims", "userinfo", "token": {token_type, expires_in, scope}}
//
// config: {"issuer", "client_id", "client_secret"?, "redirect_uri", "auth_method", "alg"}
// Any failure prints {"error", "name"} and exits 1.
'use strict';

const { Issuer, generators, custom } = require('openid-client');

// The ASan build can be slow to answer.
custom.setHttpOptionsDefaults({ timeout: 10000 });

async function client(config) {
  const issuer = await Issuer.discover(config.issuer);
  if (issuer.issuer !== config.issuer) throw new Error(`discovered issuer ${issuer.issuer}`);
  const metadata = {
    client_id: config.client_id,
    redirect_uris: [config.redirect_uri],
    response_types: ['code'],
    token_endpoint_auth_method: config.auth_method,
    id_token_signed_response_alg: config.alg,
  };
  if (config.client_secret) metadata.client_secret = config.client_secret;
  return new issuer.Client(metadata);
}

async function begin(config) {
  const rp = await client(config);
  const state = generators.state();
  const nonce = generators.nonce();
  const codeVerifier = generators.codeVerifier();
  const url = rp.authorizationUrl({
    scope: 'openid',
    state,
    nonce,
    code_challenge: generators.codeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { authorization_url: url, state, nonce, code_verifier: codeVerifier };
}

async function finish(config, started, callbackUrl) {
  const rp = await client(config);
  const params = rp.callbackParams(callbackUrl);
  const tokenSet = await rp.callback(config.redirect_uri, params, {
    state: started.state,
    nonce: started.nonce,
    code_verifier: started.code_verifier,
    response_type: 'code',
  });
  const userinfo = await rp.userinfo(tokenSet.access_token);
  return {
    claims: tokenSet.claims(),
    userinfo,
    id_token: tokenSet.id_token,
    access_token: tokenSet.access_token,
    token: { token_type: tokenSet.token_type, expires_in: tokenSet.expires_in, scope: tokenSet.scope },
  };
}

async function main() {
  const [step, configJson, startedJson, callbackUrl] = process.argv.slice(2);
  const config = JSON.parse(configJson);
  let out;
  if (step === 'begin') out = await begin(config);
  else if (step === 'finish') out = await finish(config, JSON.parse(startedJson), callbackUrl);
  else throw new Error(`unknown step ${step}`);
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ error: String(e && e.message), name: e && e.name }) + '\n');
  process.exit(1);
});
