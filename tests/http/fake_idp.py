"""A fake OpenID Connect provider for the "Sign in to join" tests (tests/http/test_login.py,
tests/browser/login.test.mjs): the site's identity provider, with Waitroom as its relying party.

It does what OpenID Connect Core's Authorization Code flow asks of a provider, strictly enough to
catch a relying party that cuts corners, and no more:

- `GET /.well-known/openid-configuration`: discovery (issuer, endpoints, jwks_uri, S256 only).
- `GET /authorize`: checks the request (a registered client_id, its exact redirect_uri,
  response_type=code, scope with openid, state, nonce, code_challenge with method S256) and shows a
  sign-in form ("Username", "Sign in", "Cancel"). A bad request is a 400 page naming the problem,
  never a redirect, and is kept in `errors`.
- `POST /authorize`: "Sign in" redirects (302) to redirect_uri?code=…&state=…, the username being
  the `sub`; "Cancel" redirects with error=access_denied&state=….
- `POST /token`: RFC 6749 section 4.1.3 plus PKCE (RFC 7636): grant_type, a code used once and
  within 60 s, the same redirect_uri, the client authenticated (HTTP Basic, client_secret_basic,
  when it has a secret; a public client names itself with client_id), and code_verifier hashing
  (S256) to the code's challenge. Answers {"access_token", "token_type": "Bearer", "expires_in":
  300, "id_token"}; the ID token is ES256 (or RS256: `alg`) with a `kid` from the JWKS.
- `GET /jwks`: the public keys (one EC P-256, one RSA 2048).

Knobs for forgeries: `tamper` spoils the next ID token (or token answer) only, one of TAMPERS.
Logs: `authorize_log` (the query of every GET /authorize), `token_log` (every POST /token: its
form, its Basic credentials if any, what was answered), `errors` (requests refused as malformed).

Importable (`FakeIdp().start()`, `.base`, `.register(...)`, `.stop()`) and runnable:
`python3 fake_idp.py [--client-id ID] [--client-secret S] [--redirect-uri URI]...` prints its base
URL on the first line of stdout and serves until killed; the runnable one is driven over HTTP by
`POST /_test/clients` ({"client_id", "client_secret"?, "redirect_uris": [...]}, added to what the
client had), `POST /_test/tamper` ({"tamper": "..."}) and `GET /_test/log`.
"""

import argparse
import base64
import hashlib
import html
import json
import secrets
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote_plus, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

CODE_LIFETIME_S = 60
ID_TOKEN_LIFETIME_S = 300
ES_KID = "idp-es256-1"
RS_KID = "idp-rs256-1"

# What `tamper` can do to the next answer of /token. The first group are ID tokens Waitroom must
# refuse; "aud_array" and "exp_in_leeway" are odd but valid; "token_error" makes the exchange fail.
TAMPERS = ("bad_signature", "alg_none", "hs256", "unknown_kid", "wrong_aud", "wrong_iss", "expired",
           "future_iat", "wrong_nonce", "no_sub", "empty_sub", "no_id_token",
           "aud_array", "exp_in_leeway", "token_error")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


_RSA_KEYS = []


def _rsa_key():
    """One RSA key for every FakeIdp of a process: making one takes a while."""
    if not _RSA_KEYS:
        _RSA_KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _RSA_KEYS[0]


def s256(verifier):
    return b64url(hashlib.sha256(verifier.encode()).digest())


class FakeIdp:
    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.port = port
        self.base = None
        self.lock = threading.Lock()
        self.clients = {}  # client_id -> {"secret": str | None, "redirect_uris": set}
        self.pending = {}  # sign-in form id -> the checked authorization request
        self.codes = {}  # code -> {"request", "sub", "issued", "used"}
        self.tamper = None
        self.alg = "ES256"
        self.authorize_log = []
        self.token_log = []
        self.errors = []
        self.es_key = ec.generate_private_key(ec.SECP256R1())
        self.rs_key = _rsa_key()
        self.stray_key = ec.generate_private_key(ec.SECP256R1())  # in no JWKS
        self.httpd = None

    # ---- set-up ---------------------------------------------------------------------------------
    def register(self, client_id, secret=None, redirect_uris=()):
        """Adds a client, or more redirect URIs (and a new secret if given) to one."""
        with self.lock:
            c = self.clients.setdefault(client_id, {"secret": None, "redirect_uris": set()})
            if secret is not None:
                c["secret"] = secret
            c["redirect_uris"].update(redirect_uris)
        return self

    def start(self):
        idp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                idp._dispatch(self, "GET")

            def do_POST(self):
                idp._dispatch(self, "POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((self.host, self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://{self.host}:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- what the tests read ------------------------------------------------------------------------
    def discovery(self):
        return {
            "issuer": self.base,
            "authorization_endpoint": self.base + "/authorize",
            "token_endpoint": self.base + "/token",
            "jwks_uri": self.base + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
        }

    def jwks(self):
        # Not PyJWT 2.6's ECAlgorithm.to_jwk: it drops a coordinate's leading zero bytes (1 key in
        # 128), which RFC 7518 section 6.2.1.2 forbids and strict readers refuse.
        numbers = self.es_key.public_key().public_numbers()
        coord = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()  # noqa: E731
        es = {"kty": "EC", "crv": "P-256", "x": coord(numbers.x), "y": coord(numbers.y)}
        rs = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.rs_key.public_key()))
        es.update(kid=ES_KID, use="sig", alg="ES256")
        rs.update(kid=RS_KID, use="sig", alg="RS256")
        return {"keys": [es, rs]}

    def successful_tokens(self):
        return [t for t in self.token_log if t["status"] == 200]

    # ---- HTTP ---------------------------------------------------------------------------------------
    def _dispatch(self, h, method):
        url = urlparse(h.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        body = b""
        if method == "POST":
            body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        route = (method, url.path)
        try:
            if route == ("GET", "/.well-known/openid-configuration"):
                return self._json(h, 200, self.discovery())
            if route == ("GET", "/jwks"):
                return self._json(h, 200, self.jwks())
            if route == ("GET", "/authorize"):
                return self._authorize_get(h, query, url.query)
            if route == ("POST", "/authorize"):
                return self._authorize_post(h, self._form(h, body))
            if route == ("POST", "/token"):
                return self._token(h, body)
            if route == ("POST", "/_test/clients"):
                c = json.loads(body)
                self.register(c["client_id"], c.get("client_secret"), c.get("redirect_uris", ()))
                return self._json(h, 200, {"ok": True})
            if route == ("POST", "/_test/tamper"):
                t = json.loads(body).get("tamper")
                if t is not None and t not in TAMPERS:
                    return self._json(h, 400, {"error": f"unknown tamper {t!r}"})
                self.tamper = t
                return self._json(h, 200, {"ok": True})
            if route == ("GET", "/_test/log"):
                with self.lock:
                    log = {"authorize": self.authorize_log, "token": self.token_log,
                           "errors": self.errors}
                return self._json(h, 200, log)
            return self._send(h, 404, "text/plain", b"not found\n")
        except Exception as e:  # a bug here should show in the test, not as a hung request
            return self._send(h, 500, "text/plain", f"fake IdP failed: {e!r}\n".encode())

    def _form(self, h, body):
        ctype = h.headers.get("Content-Type", "").split(";")[0].strip()
        if ctype != "application/x-www-form-urlencoded":
            return None
        return {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}

    def _send(self, h, status, ctype, data, headers=()):
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.send_header("Cache-Control", "no-store")
        for k, v in headers:
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _json(self, h, status, obj, headers=()):
        self._send(h, status, "application/json", json.dumps(obj).encode(), headers)

    def _page(self, h, status, title, body_html):
        page = (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">'
                f"<title>{html.escape(title)} - Fake IdP</title></head>\n"
                f"<body><main><h1>{html.escape(title)}</h1>\n{body_html}\n</main></body></html>\n")
        self._send(h, status, "text/html; charset=utf-8", page.encode())

    def _refuse_page(self, h, problem):
        with self.lock:
            self.errors.append(problem)
        self._page(h, 400, "Bad sign-in request", f"<p>{html.escape(problem, quote=False)}</p>")

    # ---- the authorization endpoint ------------------------------------------------------------------
    def _authorize_get(self, h, q, raw_query):
        with self.lock:
            self.authorize_log.append(dict(q))
        if any(len(v) > 1 for v in parse_qs(raw_query, keep_blank_values=True).values()):
            return self._refuse_page(h, "a parameter is repeated")
        client = self.clients.get(q.get("client_id", ""))
        if client is None:
            return self._refuse_page(h, f"unknown client_id {q.get('client_id')!r}")
        if q.get("redirect_uri") not in client["redirect_uris"]:
            return self._refuse_page(h, f"redirect_uri {q.get('redirect_uri')!r} is not registered "
                                        f"for {q['client_id']!r} ({sorted(client['redirect_uris'])})")
        problems = []
        if q.get("response_type") != "code":
            problems.append(f"response_type {q.get('response_type')!r}, not 'code'")
        if "openid" not in q.get("scope", "").split(" "):
            problems.append(f"scope {q.get('scope')!r} has no 'openid'")
        for p in ("state", "nonce", "code_challenge"):
            if not q.get(p):
                problems.append(f"no {p}")
        if q.get("code_challenge_method") != "S256":
            problems.append(f"code_challenge_method {q.get('code_challenge_method')!r}, not 'S256'")
        challenge = q.get("code_challenge", "")
        if challenge and (len(challenge) != 43 or set(challenge) - set(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")):
            problems.append(f"code_challenge {challenge!r} is no base64url SHA-256")
        if problems:
            return self._refuse_page(h, "; ".join(problems))
        form_id = secrets.token_urlsafe(16)
        with self.lock:
            self.pending[form_id] = dict(q)
        self._page(h, 200, "Sign in to Fake IdP", f"""\
<p>Signing in for <b>{html.escape(q['client_id'])}</b>.</p>
<form method="post" action="/authorize">
<input type="hidden" name="form_id" value="{form_id}">
<p><label for="username">Username</label>
<input id="username" name="username" autocomplete="username" required></p>
<p><button type="submit" name="action" value="sign_in">Sign in</button>
<button type="submit" name="action" value="cancel" formnovalidate>Cancel</button></p>
</form>""")

    def _authorize_post(self, h, form):
        if form is None:
            return self._refuse_page(h, "the sign-in form must be application/x-www-form-urlencoded")
        with self.lock:
            req = self.pending.get(form.get("form_id", ""))
        if req is None:
            return self._refuse_page(h, "no such sign-in form (already answered?)")
        action = form.get("action", "sign_in")
        if action == "cancel":
            with self.lock:
                self.pending.pop(form["form_id"], None)
            return self._redirect(h, req, {"error": "access_denied", "state": req["state"]})
        username = form.get("username", "")
        if not username:
            return self._page(h, 400, "Sign in to Fake IdP", "<p>Please give a username.</p>")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.pending.pop(form["form_id"], None)
            self.codes[code] = {"request": req, "sub": username, "issued": time.time(),
                                "used": False}
        self._redirect(h, req, {"code": code, "state": req["state"]})

    def _redirect(self, h, req, params):
        uri = req["redirect_uri"]
        loc = uri + ("&" if "?" in uri else "?") + urlencode(params)
        self._send(h, 302, "text/plain", b"", [("Location", loc)])

    # ---- the token endpoint -------------------------------------------------------------------------
    def _token(self, h, body):
        entry = {"headers": dict(h.headers), "form": None, "basic": None, "status": None,
                 "answer": None}
        with self.lock:
            self.token_log.append(entry)

        def fail(status, error, description):
            entry["status"], entry["answer"] = status, {"error": error,
                                                        "error_description": description}
            extra = [("WWW-Authenticate", 'Basic realm="fake-idp"')] if status == 401 else []
            self._json(h, status, entry["answer"], extra)

        form = self._form(h, body)
        entry["form"] = form
        if form is None:
            return fail(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
        auth = h.headers.get("Authorization", "")
        if auth:
            if not auth.startswith("Basic "):
                return fail(401, "invalid_client", "only HTTP Basic client authentication")
            try:
                user, _, password = base64.b64decode(auth[6:], validate=True).decode().partition(":")
            except ValueError:
                return fail(401, "invalid_client", "malformed Basic credentials")
            # RFC 6749 section 2.3.1: both are form-urlencoded before Basic encodes them.
            entry["basic"] = (unquote_plus(user), unquote_plus(password))
        if "client_secret" in form:
            return fail(400, "invalid_request", "client_secret_post is not this client's method")
        client_id = entry["basic"][0] if entry["basic"] else form.get("client_id", "")
        if entry["basic"] and form.get("client_id", client_id) != client_id:
            return fail(400, "invalid_request", "client_id differs from the Basic user")
        client = self.clients.get(client_id)
        if client is None:
            return fail(401, "invalid_client", f"unknown client {client_id!r}")
        if client["secret"] is not None:
            if entry["basic"] is None:
                return fail(401, "invalid_client", "this client authenticates with HTTP Basic")
            if not secrets.compare_digest(entry["basic"][1], client["secret"]):
                return fail(401, "invalid_client", "wrong client secret")
        elif entry["basic"] is not None:
            return fail(401, "invalid_client", "a public client has no secret to send")
        if form.get("grant_type") != "authorization_code":
            return fail(400, "unsupported_grant_type", f"grant_type {form.get('grant_type')!r}")
        with self.lock:
            grant = self.codes.get(form.get("code", ""))
            first_use = grant is not None and not grant["used"]
            if grant is not None:
                grant["used"] = True
        if grant is None:
            return fail(400, "invalid_grant", "unknown code")
        if not first_use:
            return fail(400, "invalid_grant", "the code was used already")
        req = grant["request"]
        if time.time() - grant["issued"] > CODE_LIFETIME_S:
            return fail(400, "invalid_grant", "the code has expired")
        if req["client_id"] != client_id:
            return fail(400, "invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != req["redirect_uri"]:
            return fail(400, "invalid_grant", f"redirect_uri {form.get('redirect_uri')!r} is not "
                                              f"the authorization request's {req['redirect_uri']!r}")
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128:
            return fail(400, "invalid_grant", "code_verifier missing or not 43-128 characters")
        if not secrets.compare_digest(s256(verifier), req["code_challenge"]):
            return fail(400, "invalid_grant", "code_verifier does not match the code_challenge")

        tamper, self.tamper = self.tamper, None
        if tamper == "token_error":
            return fail(400, "invalid_grant", "the provider said no (tamper=token_error)")
        entry["status"] = 200
        entry["tamper"] = tamper
        entry["answer"] = {"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                           "expires_in": 300, "scope": req["scope"]}
        if tamper != "no_id_token":
            entry["answer"]["id_token"] = self.id_token(client_id, grant["sub"], req["nonce"],
                                                        tamper, client["secret"])
        self._json(h, 200, entry["answer"])

    def id_token(self, client_id, sub, nonce, tamper=None, client_secret=None):
        now = int(time.time())
        claims = {"iss": self.base, "sub": sub, "aud": client_id, "exp": now + ID_TOKEN_LIFETIME_S,
                  "iat": now, "auth_time": now, "nonce": nonce}
        if tamper == "wrong_aud":
            claims["aud"] = client_id + "-other"
        elif tamper == "aud_array":
            claims["aud"] = ["another-client", client_id]
        elif tamper == "wrong_iss":
            claims["iss"] = self.base + "/other"
        elif tamper == "expired":
            claims.update(iat=now - 600, auth_time=now - 600, exp=now - 120)
        elif tamper == "exp_in_leeway":
            claims.update(iat=now - 300, auth_time=now - 300, exp=now - 5)
        elif tamper == "future_iat":
            claims.update(iat=now + 600, exp=now + 900)
        elif tamper == "wrong_nonce":
            claims["nonce"] = "not-" + nonce
        elif tamper == "no_sub":
            del claims["sub"]
        elif tamper == "empty_sub":
            claims["sub"] = ""

        if self.alg == "RS256":
            key, kid = self.rs_key, RS_KID
        else:
            key, kid = self.es_key, ES_KID
        if tamper == "alg_none":
            head = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
            return f"{head}.{b64url(json.dumps(claims).encode())}."
        if tamper == "hs256":
            # Signed with what a confused verifier might take as an HMAC key: the client secret if
            # there is one, else the public JWK's JSON. Either way, HS256 is not accepted.
            secret = client_secret or json.dumps(self.jwks()["keys"][0])
            return jwt.encode(claims, secret, algorithm="HS256", headers={"kid": kid})
        if tamper == "unknown_kid":
            return jwt.encode(claims, self.stray_key, algorithm="ES256", headers={"kid": "idp-stray"})
        token = jwt.encode(claims, key, algorithm=self.alg, headers={"kid": kid})
        if tamper == "bad_signature":
            head, payload, sig = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)))
            raw[len(raw) // 2] ^= 0x01
            token = f"{head}.{payload}.{b64url(bytes(raw))}"
        return token


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--client-id", default="waitroom")
    ap.add_argument("--client-secret", default=None)
    ap.add_argument("--redirect-uri", action="append", default=[])
    args = ap.parse_args()
    idp = FakeIdp(port=args.port)
    idp.register(args.client_id, args.client_secret, args.redirect_uri)
    idp.start()
    print(idp.base, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    idp.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()
