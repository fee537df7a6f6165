"""ANAF OAuth against the simulator: authorisation, state, code exchange, refresh rotation, revoke, smoke test."""

import base64
import html
import json
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests

from einvoice.http import AuthenticationError, OutcomeUnknownError, RateLimitedError
from einvoice.ro.anaf import Endpoints
from einvoice.ro.oauth import (
    CLIENT_AUTH_BASIC,
    AnafOAuth,
    OAuthError,
    OAuthStateError,
    StateSigner,
    Tokens,
    jwt_claims,
    jwt_expiry,
)
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator

CALLBACK = "https://erp.example.ro/anaf/callback/1"


@pytest.fixture
def sim(clock):
    with AnafSimulator(clock=clock, redirect_uris=(CALLBACK,)) as simulator:
        yield simulator


def make_oauth(sim, clock, **kwargs):
    endpoints = Endpoints.at(sim.url)
    return AnafOAuth(
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        CALLBACK,
        oauth_url=endpoints.oauth,
        api_root=endpoints.api_root,
        clock=clock,
        sleep=lambda seconds: None,
        **kwargs,
    )


@pytest.fixture
def oauth(sim, clock):
    return make_oauth(sim, clock)


def browser_approves(url, approve=True):
    """What the certificate holder's browser does: open the page, press a button, follow to the callback."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "PIN" in page.text
    link = re.search(r'id="%s" href="([^"]+)"' % ("approve" if approve else "deny"), page.text).group(1)
    answer = requests.get(urljoin(url, html.unescape(link)), allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


class NonceStore(set):
    def consume(self, nonce):
        if nonce in self:
            return False
        self.add(nonce)
        return True


def test_the_whole_authorisation(oauth, sim, clock):
    signer, store = StateSigner(b"k" * 32, clock=clock), NonceStore()
    url = oauth.authorize_url(signer.issue({"user": 7, "company": 3}))
    assert parse_qs(urlsplit(url).query)["token_content_type"] == ["jwt"]
    callback = browser_approves(url)
    assert signer.verify(callback["state"], consume=store.consume).payload == {"user": 7, "company": 3}
    clock.advance(30)  # inside ANAF's 60 seconds
    tokens = oauth.exchange_code(callback["code"])
    assert tokens.access_expires_at == datetime.fromtimestamp(clock() + 90 * 86400, timezone.utc)
    assert tokens.refresh_expires_at == datetime.fromtimestamp(clock() + 365 * 86400, timezone.utc)
    assert jwt_claims(tokens.access_token)["iss"] == "https://logincert.anaf.ro"
    assert oauth.smoke_test(tokens.access_token)
    (token_request,) = sim.requests_to("/token")
    form = parse_qs(token_request.body.decode())
    assert form["client_id"] == [DEFAULT_CLIENT_ID] and form["redirect_uri"] == [CALLBACK]
    assert "Authorization" not in token_request.headers


def test_basic_client_authentication_is_the_other_variant(sim, clock):
    oauth = make_oauth(sim, clock, client_auth=CLIENT_AUTH_BASIC)
    tokens = oauth.exchange_code(browser_approves(oauth.authorize_url("s"))["code"])
    assert oauth.smoke_test(tokens.access_token)
    (token_request,) = sim.requests_to("/token")
    assert "client_secret" not in parse_qs(token_request.body.decode())
    expected = base64.b64encode(f"{DEFAULT_CLIENT_ID}:{DEFAULT_CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["Authorization"] == f"Basic {expected}"


def test_a_code_is_worth_sixty_seconds_and_one_use(oauth, clock):
    late = browser_approves(oauth.authorize_url("s"))["code"]
    clock.advance(61)
    with pytest.raises(OAuthError) as caught:
        oauth.exchange_code(late)
    assert caught.value.error == "invalid_grant"
    code = browser_approves(oauth.authorize_url("s"))["code"]
    oauth.exchange_code(code)
    with pytest.raises(OAuthError):
        oauth.exchange_code(code)


def test_refusal_at_the_certificate_step(oauth):
    callback = browser_approves(oauth.authorize_url("xyz"), approve=False)
    assert callback == {"error": "access_denied", "state": "xyz"}


def test_wrong_client_secret(sim, clock):
    oauth = AnafOAuth(DEFAULT_CLIENT_ID, "wrong-secret", CALLBACK, oauth_url=Endpoints.at(sim.url).oauth, clock=clock)
    with pytest.raises(OAuthError) as caught:
        oauth.exchange_code("whatever")
    assert caught.value.error == "invalid_client"
    assert "wrong-secret" not in str(caught.value)


def test_refresh_rotates_the_refresh_token(oauth, sim, clock):
    first = Tokens(**_tokens_from(sim.issue_tokens()))
    clock.advance(86400)
    second = oauth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    assert second.refresh_expires_at > first.refresh_expires_at
    with pytest.raises(OAuthError):
        oauth.refresh(first.refresh_token)  # the old one was replaced
    assert oauth.refresh(second.refresh_token).access_token


def test_opaque_tokens_fall_back_to_expires_in(sim, clock):
    oauth = make_oauth(sim, clock, jwt=False)
    tokens = oauth.exchange_code(browser_approves(oauth.authorize_url("s"))["code"])
    assert jwt_claims(tokens.access_token) is None
    assert tokens.access_expires_at == datetime.fromtimestamp(clock() + 90 * 86400, timezone.utc)
    assert tokens.refresh_expires_at is None  # unknown, never assumed
    assert not tokens.refresh_expires_within(3600)


def test_too_many_token_requests_answer_255(oauth, sim):
    sim.inject("status", status=255, body=b"", path="/token")
    with pytest.raises(RateLimitedError):
        oauth.refresh("anything")


def test_a_lost_token_answer_is_not_repeated(oauth, sim):
    sim.inject("lost", path="/token")
    with pytest.raises(OutcomeUnknownError):
        oauth.refresh(sim.issue_tokens()["refresh_token"])
    assert len(sim.requests_to("/token")) == 1


def test_revoke_meets_the_login_wall_as_anaf_does(oauth, sim):
    tokens = sim.issue_tokens()
    assert oauth.revoke(tokens["access_token"]) is False
    assert oauth.smoke_test(tokens["access_token"])  # still valid: revoke in the portal, forget locally


def test_revoke_where_the_endpoint_works(clock):
    with AnafSimulator(clock=clock, revoke_reachable=True) as sim:
        oauth = make_oauth(sim, clock)
        tokens = sim.issue_tokens()
        assert oauth.revoke(tokens["access_token"]) is True
        with pytest.raises(AuthenticationError):
            oauth.smoke_test(tokens["access_token"])
        form = parse_qs(sim.requests_to("/revoke")[0].body.decode())
        assert form["token"] == form["access_token"] and form["token_type_hint"] == ["access_token"]


def test_smoke_test_refuses_an_expired_token(oauth, sim, clock):
    token = sim.issue_tokens()["access_token"]
    clock.advance(90 * 86400 + 1)
    with pytest.raises(AuthenticationError) as caught:
        oauth.smoke_test(token)
    assert caught.value.status == 401


# -- state ---------------------------------------------------------------------------------------------------
def test_state_forged_replayed_or_expired(clock):
    signer, store = StateSigner(b"s" * 32, ttl=600, clock=clock), NonceStore()
    state = signer.issue({"company": 1})
    encoded, signature = state.split(".")
    forged_payload = base64.urlsafe_b64encode(
        json.dumps({"p": {"company": 2}, "n": "x", "t": int(clock())}).encode()
    ).rstrip(b"=")
    for forged in (f"{forged_payload.decode()}.{signature}", f"{encoded}.AAAA", "", None, "ünïcode.sig"):
        with pytest.raises(OAuthStateError, match="does not come from this server"):
            signer.verify(forged, consume=store.consume)
    with pytest.raises(OAuthStateError):
        StateSigner(b"t" * 32, clock=clock).verify(state, consume=store.consume)  # another server's key
    assert signer.verify(state, consume=store.consume).payload == {"company": 1}
    with pytest.raises(OAuthStateError, match="already used"):
        signer.verify(state, consume=store.consume)
    late = signer.issue({"company": 1})
    clock.advance(601)
    with pytest.raises(OAuthStateError, match="expired"):
        signer.verify(late, consume=store.consume)


def test_state_key_must_be_long_enough():
    with pytest.raises(ValueError):
        StateSigner(b"short")


# -- tokens --------------------------------------------------------------------------------------------------
def test_expiry_is_read_from_the_jwt_without_its_signature():
    payload = base64.urlsafe_b64encode(json.dumps({"exp": 1800000000}).encode()).rstrip(b"=").decode()
    assert jwt_expiry(f"eyJhbGciOiJSUzUxMiJ9.{payload}.c2ln") == datetime.fromtimestamp(1800000000, timezone.utc)
    assert jwt_expiry("opaque-token") is None
    assert jwt_expiry("a.!!!.c") is None


def test_tokens_never_show_in_their_repr():
    tokens = Tokens("secret-access", "secret-refresh", None, None)
    assert "secret" not in repr(tokens)


def test_expires_within():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tokens = Tokens("a", "r", now + timedelta(minutes=4), now + timedelta(days=300))
    assert tokens.access_expires_within(300, now=now)
    assert not tokens.refresh_expires_within(86400, now=now)


def _tokens_from(answer):
    return {
        "access_token": answer["access_token"],
        "refresh_token": answer["refresh_token"],
        "access_expires_at": jwt_expiry(answer["access_token"]),
        "refresh_expires_at": jwt_expiry(answer["refresh_token"]),
    }
