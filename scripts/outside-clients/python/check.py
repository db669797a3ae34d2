"""Gatehouse checked from outside with Authlib (requests integration). See ../README.md."""
import os
import subprocess
import sys
import traceback
import warnings

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on 127.0.0.1 only

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.integrations.base_client.errors import OAuthError
# authlib.jose still ships (and validates the ID token here); its announced move to joserfc is
# not what this check is about, and authlib forces that warning on, so it is silenced here.
with warnings.catch_warnings():
    warnings.showwarning = lambda *args, **kwargs: None
    from authlib.jose import JsonWebKey, jwt
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


ISSUER = env("GH_ISSUER")
CLIENT_ID = env("GH_CLIENT_ID")
SECRET = env("GH_CLIENT_SECRET")
REDIRECT_URI = env("GH_REDIRECT_URI")
API = env("GH_API")
USERNAME = env("GH_USERNAME")
SIGNIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "signin.mjs")

results = []
state = {}


def check(name):
    def run(body):
        try:
            body()
            results.append((name, "pass"))
            print(f"PASS {name}", flush=True)
        except Exception:  # noqa: BLE001 - report every failure and go on
            results.append((name, "fail"))
            print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        return body

    return run


def session(secret=SECRET, **kwargs):
    return OAuth2Session(CLIENT_ID, secret, token_endpoint_auth_method="client_secret_basic", **kwargs)


def expect_oauth_error(call, code):
    try:
        call()
    except OAuthError as error:
        assert error.error == code, f"got {error.error}: {error.description}"
        return
    raise AssertionError("request succeeded")


@check("discovery")
def _():
    meta = requests.get(f"{ISSUER}/.well-known/openid-configuration", timeout=10).json()
    assert meta["issuer"] == ISSUER, meta["issuer"]
    state["meta"] = meta
    state["jwks"] = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())


@check("client_credentials")
def _():
    meta = state["meta"]
    token = session().fetch_token(meta["token_endpoint"], grant_type="client_credentials", resource=API)
    assert token["access_token"]
    info = session().introspect_token(meta["introspection_endpoint"], token=token["access_token"]).json()
    assert info["active"] and info["sub"] == CLIENT_ID and info.get("jti"), info


@check("client_credentials wrong secret -> invalid_client")
def _():
    meta = state["meta"]
    expect_oauth_error(lambda: session("wrong-secret").fetch_token(meta["token_endpoint"], grant_type="client_credentials", resource=API), "invalid_client")


@check("authorization code + PKCE, ID token with sid")
def _():
    meta = state["meta"]
    verifier = generate_token(48)
    nonce = generate_token(20)
    oauth = session(scope="openid profile email offline_access", redirect_uri=REDIRECT_URI)
    url, expected_state = oauth.create_authorization_url(
        meta["authorization_endpoint"], nonce=nonce, prompt="consent",
        code_challenge=create_s256_code_challenge(verifier), code_challenge_method="S256")
    callback = subprocess.run(["node", SIGNIN, url, REDIRECT_URI], check=True, capture_output=True, text=True).stdout.strip()
    token = oauth.fetch_token(meta["token_endpoint"], authorization_response=callback, state=expected_state, code_verifier=verifier)
    claims = jwt.decode(token["id_token"], state["jwks"], claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": ISSUER}, "aud": {"essential": True, "value": CLIENT_ID}},
                        claims_params={"nonce": nonce, "client_id": CLIENT_ID, "access_token": token["access_token"]})
    claims.validate()
    assert claims.get("sid"), f"no sid in ID token: {dict(claims)}"
    assert token.get("refresh_token"), "no refresh token"
    state["token"] = token
    state["sub"] = claims["sub"]


@check("userinfo")
def _():
    meta = state["meta"]
    info = session(token=state["token"]).get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == state["sub"], info


@check("introspection (sub, jti, username)")
def _():
    meta = state["meta"]
    info = session().introspect_token(meta["introspection_endpoint"], token=state["token"]["access_token"]).json()
    assert info["active"] and info["sub"] == state["sub"] and info.get("jti") and info.get("username") == USERNAME, info


@check("refresh rotation")
def _():
    meta = state["meta"]
    old = state["token"]
    new = session().refresh_token(meta["token_endpoint"], refresh_token=old["refresh_token"])
    assert new.get("refresh_token") and new["refresh_token"] != old["refresh_token"], "refresh token not rotated"
    assert new["access_token"] != old["access_token"]
    state["token"] = new


@check("revocation")
def _():
    meta = state["meta"]
    refresh = state["token"]["refresh_token"]
    response = session().revoke_token(meta["revocation_endpoint"], token=refresh)
    assert response.status_code == 200, response.status_code
    info = session().introspect_token(meta["introspection_endpoint"], token=refresh).json()
    assert info["active"] is False, info
    expect_oauth_error(lambda: session().refresh_token(meta["token_endpoint"], refresh_token=refresh), "invalid_grant")


@check("bad code -> invalid_grant")
def _():
    meta = state["meta"]
    oauth = session(redirect_uri=REDIRECT_URI)
    expect_oauth_error(lambda: oauth.fetch_token(meta["token_endpoint"], grant_type="authorization_code", code="not-a-real-code",
                                                 code_verifier=generate_token(48)), "invalid_grant")


failed = sum(1 for _, outcome in results if outcome == "fail")
print(f"authlib: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
