#!/usr/bin/python3
"""A small, real OpenID Connect provider on loopback, standing in for a company's
identity provider in scripts/browser-test (the console's "Sign in with your company
account"). Authorization code flow with PKCE (S256) only:

  GET  /.well-known/openid-configuration   discovery; the issuer is http://127.0.0.1:PORT
  GET  /jwks                               the RS256 public key made at start (with a kid)
  GET  /authorize                          a login page: one button per person it knows
  POST /authorize                          that button: 302 to redirect_uri?code=…&state=…
  POST /token                              client_secret_basic; the code (once), the same
                                           redirect_uri and the PKCE verifier; answers an
                                           ID token (RS256) with the authorize request's nonce
                                           and the person's workspaces claim

  oidc_stand_in.py --port PORT --people JSON|@FILE [--client-id ID] [--client-secret SECRET]
                   [--redirect-uri URI]... [--workspaces-claim NAME]

--client-id, --client-secret and --workspaces-claim default to OIDC_CLIENT_ID,
OIDC_CLIENT_SECRET and OIDC_WORKSPACES_CLAIM (default "ws"): the variables gate-api
reads. --redirect-uri (repeatable) registers the client's redirect URIs; without one any
http(s) URI is accepted. The people are a JSON list (or a file of one, after @):

  [{"sub": "rita@acme.example", "name": "Rita Reviewer", "login": "rita",
    "workspaces": {"acme": ["approvals:read", "approvals:decide"]}}]

"login" names the person's button (#login-rita; by default the part of sub before @).
Each request is logged to stderr in one line. Runs with Debian's python3 (PyJWT and
cryptography); stops on SIGTERM, SIGINT, or when the process that started it is gone.
"""
import argparse
import base64
import hashlib
import html
import http.server
import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.parse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CODE_LIFETIME = 60  # seconds a code may wait for its exchange
ID_TOKEN_LIFETIME = 300
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 §4.1


def log(line):
    print(f"oidc-stand-in {time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def challenge_of(verifier):
    """BASE64URL(SHA256(ASCII(code_verifier))), RFC 7636 §4.2."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


class Provider:
    def __init__(self, port, client_id, client_secret, redirect_uris, workspaces_claim, people):
        self.issuer = f"http://127.0.0.1:{port}"
        self.client_id, self.client_secret = client_id, client_secret
        self.redirect_uris, self.workspaces_claim = redirect_uris, workspaces_claim
        self.people = people  # login → person
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "stand-in-" + secrets.token_hex(4)
        jwk = RSAAlgorithm.to_jwk(self.key.public_key())
        self.jwk = {**(json.loads(jwk) if isinstance(jwk, str) else jwk), "kid": self.kid, "alg": "RS256", "use": "sig"}
        self.grants = {}  # code → the authorize request it answers, and whom it signs in
        self.lock = threading.Lock()

    def discovery(self):
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "name", "email",
                                 self.workspaces_claim],
        }

    def redirect_uri_allowed(self, uri):
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urllib.parse.urlsplit(uri)
        return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment

    def issue_code(self, request, person):
        code = secrets.token_urlsafe(32)
        with self.lock:
            now = time.monotonic()
            for old in [c for c, grant in self.grants.items() if grant["expires"] < now]:
                del self.grants[old]
            self.grants[code] = {**request, "person": person, "expires": now + CODE_LIFETIME, "auth_time": int(time.time())}
        return code

    def take_code(self, code):
        """The grant of a code, which is spent by this: a code is good once (RFC 6749 §4.1.2)."""
        with self.lock:
            grant = self.grants.pop(code, None)
        return grant if grant and grant["expires"] >= time.monotonic() else None

    def id_token(self, grant):
        person, now = grant["person"], int(time.time())
        claims = {"iss": self.issuer, "sub": person["sub"], "aud": [self.client_id], "exp": now + ID_TOKEN_LIFETIME,
                  "iat": now, "auth_time": grant["auth_time"], self.workspaces_claim: person.get("workspaces", {})}
        if grant.get("nonce"):
            claims["nonce"] = grant["nonce"]
        for claim in ("name", "email"):
            if person.get(claim):
                claims[claim] = person[claim]
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


LOGIN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Company identity (stand-in)</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; background: #eef1f5; margin: 0; }}
main {{ max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 8px; box-shadow: 0 1px 4px #0002; }}
h1 {{ font-size: 1.3rem; margin-top: 0; }}
.person {{ display: block; width: 100%; text-align: left; margin: .5rem 0; padding: .7rem 1rem; font: inherit;
           border: 1px solid #c8ced8; border-radius: 6px; background: #f8fafc; cursor: pointer; }}
.person:hover, .person:focus {{ border-color: #2457c5; background: #eef3fd; }}
.person small {{ display: block; color: #5a6472; }}
.cancel {{ font: inherit; background: none; border: 0; color: #2457c5; padding: 0; cursor: pointer; }}
.muted {{ color: #5a6472; font-size: .9rem; }}
</style></head>
<body><main>
<h1>Sign in to <span id="client">{client}</span></h1>
<p class="muted">Company identity provider (a local stand-in for tests). Choose who you are:</p>
<form method="post" action="/authorize" id="login">
{hidden}
{buttons}
<p><button type="submit" name="cancel" value="yes" class="cancel" id="cancel">Cancel</button></p>
</form>
</main></body></html>
"""


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "oidc-stand-in"
    protocol_version = "HTTP/1.1"
    provider: Provider = None  # set by main()

    # -- answering, one log line per request

    def respond(self, status, body=b"", content_type="text/plain; charset=utf-8", headers=(), note=""):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        log(f"{self.command} {urllib.parse.urlsplit(self.path).path} {status}" + (f" {note}" if note else ""))

    def json(self, status, obj, headers=(), note=""):
        self.respond(status, json.dumps(obj), "application/json", headers, note)

    def log_message(self, format, *args):  # noqa: A002 -- http.server's own lines: respond() logs instead
        pass

    def log_error(self, format, *args):  # noqa: A002
        path = urllib.parse.urlsplit(getattr(self, "path", "") or "-").path
        log(f"{getattr(self, 'command', None) or '-'} {path} error: {format % args}")

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > 65536:
            return None
        body = self.rfile.read(length).decode("utf-8", "replace")
        return {name: values[0] for name, values in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    # -- routes

    def do_GET(self):  # noqa: N802
        p = self.provider
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/.well-known/openid-configuration":
            self.json(200, p.discovery())
        elif url.path == "/jwks":
            self.json(200, {"keys": [p.jwk]})
        elif url.path == "/authorize":
            query = {name: values[0] for name, values in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
            self.authorize(query, submitted=None)
        else:
            self.respond(404, "not found\n")

    def do_POST(self):  # noqa: N802
        path = urllib.parse.urlsplit(self.path).path
        form = self.form()
        if form is None:
            self.respond(413, "too large\n")
        elif path == "/authorize":
            self.authorize(form, submitted=form)
        elif path == "/token":
            self.token(form)
        else:
            self.respond(404, "not found\n")

    def authorize(self, request, submitted):
        """The authorization endpoint (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core
        §3.1.2): the login page on GET, the person's choice on POST."""
        p = self.provider
        client_id, redirect_uri, state = request.get("client_id", ""), request.get("redirect_uri", ""), request.get("state")
        # Without a known client and its redirect URI, nowhere is safe to send an error to (§4.1.2.1).
        if client_id != p.client_id:
            return self.respond(400, "unknown client_id\n", note=f"unknown client_id {client_id!r}")
        if not p.redirect_uri_allowed(redirect_uri):
            return self.respond(400, "redirect_uri is not registered for this client\n", note=f"redirect_uri {redirect_uri!r}")

        def back(params, note):
            params = {**params, **({"state": state} if state is not None else {})}
            location = redirect_uri + ("&" if "?" in redirect_uri else "?") + urllib.parse.urlencode(params)
            self.respond(302, "", headers=[("Location", location)], note=note)

        if request.get("response_type") != "code":
            return back({"error": "unsupported_response_type"}, f"response_type {request.get('response_type')!r}")
        if "openid" not in request.get("scope", "").split():
            return back({"error": "invalid_scope", "error_description": "openid is required"}, "no openid scope")
        if request.get("code_challenge_method") != "S256" or not re.fullmatch(r"[A-Za-z0-9_-]{43}", request.get("code_challenge", "")):
            return back({"error": "invalid_request", "error_description": "PKCE with S256 is required"},
                        f"code_challenge_method {request.get('code_challenge_method')!r}")
        fields = {name: request.get(name) for name in
                  ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method")
                  if request.get(name) is not None}

        if submitted is None:
            hidden = "\n".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
                               for name, value in fields.items())
            buttons = "\n".join(
                f'<button type="submit" class="person" name="person" value="{html.escape(login)}" id="login-{html.escape(login)}">'
                f'{html.escape(person.get("name") or person["sub"])}<small>{html.escape(person["sub"])}</small></button>'
                for login, person in p.people.items())
            page = LOGIN_PAGE.format(client=html.escape(client_id), hidden=hidden, buttons=buttons)
            return self.respond(200, page, "text/html; charset=utf-8",
                                [("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")],
                                note=f"login page for {client_id}")
        if submitted.get("cancel"):
            return back({"error": "access_denied"}, "cancelled")
        person = p.people.get(submitted.get("person", ""))
        if person is None:
            return self.respond(400, "no such person\n", note=f"unknown person {submitted.get('person')!r}")
        code = p.issue_code(fields, person)
        back({"code": code}, f"code for {person['sub']}")

    def token(self, form):
        """The token endpoint (RFC 6749 §4.1.3, §2.3.1; RFC 7636 §4.5-4.6)."""
        p = self.provider

        def refuse(status, error, note, headers=()):
            self.json(status, {"error": error, "error_description": note}, headers, note=f"{error}: {note}")

        scheme, _, credentials = (self.headers.get("Authorization") or "").partition(" ")
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8") if scheme.lower() == "basic" else ""
        except (ValueError, UnicodeDecodeError):
            decoded = ""
        user, colon, password = decoded.partition(":")
        # client_secret_basic: id and secret are each form-urlencoded before they are joined.
        if not colon or urllib.parse.unquote_plus(user) != p.client_id or \
                not secrets.compare_digest(urllib.parse.unquote_plus(password).encode(), p.client_secret.encode()):
            return refuse(401, "invalid_client", "client authentication failed (client_secret_basic)",
                          [("WWW-Authenticate", 'Basic realm="oidc-stand-in"')])
        if form.get("grant_type") != "authorization_code":
            return refuse(400, "unsupported_grant_type", f"grant_type {form.get('grant_type')!r}")
        grant = p.take_code(form.get("code", ""))
        if grant is None:
            return refuse(400, "invalid_grant", "unknown, expired or already used code")
        if grant["client_id"] != p.client_id:
            return refuse(400, "invalid_grant", "the code was issued to another client")
        if form.get("redirect_uri") != grant["redirect_uri"]:
            return refuse(400, "invalid_grant", f"redirect_uri {form.get('redirect_uri')!r} is not the authorize request's")
        verifier = form.get("code_verifier", "")
        if not VERIFIER.fullmatch(verifier) or not secrets.compare_digest(challenge_of(verifier), grant["code_challenge"]):
            return refuse(400, "invalid_grant", "code_verifier does not match the code_challenge")
        self.json(200, {"id_token": p.id_token(grant), "access_token": secrets.token_urlsafe(32), "token_type": "Bearer",
                        "expires_in": ID_TOKEN_LIFETIME}, [("Pragma", "no-cache")], note=f"ID token for {grant['person']['sub']}")


def load_people(text):
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as file:
            text = file.read()
    people = {}
    for person in json.loads(text):
        if not isinstance(person, dict) or not isinstance(person.get("sub"), str) or not person["sub"]:
            raise ValueError(f"each person needs a sub: {person!r}")
        login = person.get("login") or re.sub(r"[^a-z0-9-]+", "-", person["sub"].split("@")[0].lower()).strip("-")
        if not re.fullmatch(r"[A-Za-z0-9_-]+", login) or login in people:
            raise ValueError(f"login {login!r} is not a unique name of letters, digits, - and _")
        people[login] = person
    if not people:
        raise ValueError("no people")
    return people


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True, help="the loopback port to listen on")
    parser.add_argument("--people", required=True, help="a JSON list of people, or @FILE holding one")
    parser.add_argument("--client-id", default=os.environ.get("OIDC_CLIENT_ID"))
    parser.add_argument("--client-secret", default=os.environ.get("OIDC_CLIENT_SECRET"))
    parser.add_argument("--redirect-uri", action="append", default=[], help="a registered redirect URI (repeatable)")
    parser.add_argument("--workspaces-claim", default=os.environ.get("OIDC_WORKSPACES_CLAIM") or "ws")
    args = parser.parse_args()
    if not args.client_id or not args.client_secret:
        parser.error("--client-id and --client-secret (or OIDC_CLIENT_ID and OIDC_CLIENT_SECRET) are required")
    try:
        people = load_people(args.people)
    except (OSError, ValueError) as error:
        parser.error(f"--people: {error}")

    Handler.provider = Provider(args.port, args.client_id, args.client_secret, args.redirect_uri, args.workspaces_claim, people)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    # No stray provider when whatever started it dies without stopping it.
    parent = os.getppid()

    def watch_parent():
        while os.getppid() == parent:
            time.sleep(1)
        log("the process that started this one is gone; stopping")
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch_parent, daemon=True).start()

    log(f"issuer {Handler.provider.issuer}, client {args.client_id}, key {Handler.provider.kid}, "
        f"people: {', '.join(person['sub'] for person in people.values())}")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        log("stopped")


if __name__ == "__main__":
    main()
