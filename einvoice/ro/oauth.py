"""ANAF OAuth 2.0 (logincert.anaf.ro): authorisation URL, a signed single-use ``state``, code exchange, refresh,
revocation and the token smoke test.

One token authorises the holder of the qualified certificate, so it serves every CUI that person has SPV rights
for; the e-Factura calls name their CUI themselves.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from ..errors import EInvoiceError
from ..http import AuthenticationError, HttpClient, InvalidRequestError, RateLimitedError, TransportError
from ..i18n import _

OAUTH_URL = "https://logincert.anaf.ro/anaf-oauth2/v1"
API_ROOT = "https://api.anaf.ro"
SMOKE_TEST_PATH = "/TestOauth/jaxrs/hello"
PLATFORM = "ANAF"

# Odoo and OCA send the client credentials as form fields and work in production; the PDF documents Basic.
CLIENT_AUTH_FORM = "form"
CLIENT_AUTH_BASIC = "basic"

# ANAF answers 255 when the same user asks for several tokens in a row
_TOO_MANY_TOKENS_STATUS = 255


@dataclass(frozen=True)
class Tokens:
    """An access/refresh token pair. Expiries come from the tokens themselves; None means ANAF did not say."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    token_type: str = "Bearer"  # noqa: S105 - a token kind, not a secret

    def access_expires_within(self, seconds, *, now=None):
        """True when the access token is expired or will be within ``seconds`` (unknown expiry counts as valid)."""
        return _expires_within(self.access_expires_at, seconds, now)

    def refresh_expires_within(self, seconds, *, now=None):
        return _expires_within(self.refresh_expires_at, seconds, now)


def _expires_within(expires_at, seconds, now):
    if expires_at is None:
        return False
    now = now or datetime.now(timezone.utc)
    return expires_at - now <= timedelta(seconds=seconds)


class OAuthError(AuthenticationError):
    """ANAF's identity provider refused the grant; ``error`` is its OAuth error code (``invalid_grant``...)."""

    def __init__(self, message, *, error=None, **kwargs):
        super().__init__(message, **kwargs)
        self.error = error


class OAuthStateError(EInvoiceError):
    """The ``state`` that came back with the callback is forged, expired or already used."""


@dataclass(frozen=True)
class VerifiedState:
    payload: dict
    nonce: str
    issued_at: int


class StateSigner:
    """Makes and checks the OAuth ``state``: an opaque payload (user, company...), signed with HMAC-SHA256, with expiry.

    Single use is enforced through ``consume(nonce) -> bool``, passed to :meth:`verify`: it must record the nonce
    and answer False when it was seen before (the caller's store, e.g. a database table with a unique key).
    """

    def __init__(self, key, *, ttl=600, clock=time.time):
        if len(key) < 16:
            raise ValueError("the state signing key needs at least 16 bytes")
        self._key = key if isinstance(key, bytes) else key.encode()
        self.ttl = ttl
        self._clock = clock

    def issue(self, payload):
        body = {"p": payload, "n": secrets.token_urlsafe(16), "t": int(self._clock())}
        encoded = _b64encode(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
        return f"{encoded}.{self._sign(encoded)}"

    def verify(self, state, *, consume):
        encoded, _dot, signature = (state or "").partition(".")
        if not encoded or not hmac.compare_digest(signature.encode(), self._sign(encoded).encode()):
            raise OAuthStateError(_("The authorisation answer does not come from this server; start again."))
        body = json.loads(_b64decode(encoded))
        if self._clock() - body["t"] > self.ttl:
            raise OAuthStateError(_("The authorisation took too long and has expired; start again."))
        if not consume(body["n"]):
            raise OAuthStateError(_("This authorisation answer was already used; start again."))
        return VerifiedState(body["p"], body["n"], body["t"])

    def _sign(self, encoded):
        return _b64encode(hmac.new(self._key, encoded.encode(), hashlib.sha256).digest())


class AnafOAuth:
    """ANAF's identity provider for one registered application (client id, secret and exact callback URL)."""

    def __init__(
        self,
        client_id,
        client_secret,
        redirect_uri,
        *,
        oauth_url=OAUTH_URL,
        api_root=API_ROOT,
        client_auth=CLIENT_AUTH_FORM,
        jwt=True,
        http=None,
        clock=time.time,
        sleep=time.sleep,
    ):
        if client_auth not in (CLIENT_AUTH_FORM, CLIENT_AUTH_BASIC):
            raise ValueError(f"client_auth must be {CLIENT_AUTH_FORM!r} or {CLIENT_AUTH_BASIC!r}")
        self.client_id = client_id
        self._client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.oauth_url = oauth_url.rstrip("/")
        self.api_root = api_root.rstrip("/")
        self.client_auth = client_auth
        self.jwt = jwt
        # the code is valid for 60 seconds only, so a slow answer is not worth waiting long for
        self.http = http or HttpClient(self.oauth_url, platform=PLATFORM, timeout=(10, 30), sleep=sleep)
        self.http.secrets.add(client_secret)  # masked wherever ANAF echoes it, as the tokens below
        self._clock = clock

    def authorize_url(self, state):
        """The page the certificate holder opens in a browser (the only step that needs the certificate)."""
        params = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri}
        if self.jwt:
            params["token_content_type"] = "jwt"  # noqa: S105 - a token format, not a secret
        params["state"] = state
        return f"{self.oauth_url}/authorize?{urlencode(params)}"

    def exchange_code(self, code):
        """Tokens for the ``code`` of the callback; ANAF accepts it within 60 seconds of the authorisation."""
        self.http.secrets.add(code)
        return self._token_request(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri}
        )

    def refresh(self, refresh_token):
        """A new pair: ANAF rotates the refresh token too, so store both tokens of the answer."""
        self.http.secrets.add(refresh_token)
        return self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token, *, token_type_hint="access_token"):  # noqa: S107 - a field name
        """Ask ANAF to revoke ``token``. True when it did; False when the endpoint sent us to the portal login wall,
        as it does for requests without a browser: the holder then withdraws access in the portal
        ("Renunțare OAuth") and the caller forgets the tokens locally either way.
        """
        self.http.secrets.add(token)
        data = {"token": token, "token_type_hint": token_type_hint}
        # OCA's variant of the same request names the token by its type
        data[token_type_hint] = token
        try:
            self.http.post("/revoke", data=data, **self._client_auth(data))
        except TransportError as error:
            if error.status and 300 <= error.status < 400:
                return False
            raise
        return True

    def smoke_test(self, access_token, name="einvoice"):
        """Call ANAF's OAuth test service; raises :class:`AuthenticationError` when the token is not accepted."""
        self.http.secrets.add(access_token)
        response = self.http.get(
            f"{self.api_root}{SMOKE_TEST_PATH}",
            params={"name": name},
            headers={"Authorization": f"Bearer {access_token}"},
        )
        return name in response.text

    # -- internals --------------------------------------------------------------------------------------------
    def _client_auth(self, data):
        if self.client_auth == CLIENT_AUTH_BASIC:
            return {"auth": (self.client_id, self._client_secret)}
        data.update(client_id=self.client_id, client_secret=self._client_secret)
        return {}

    def _token_request(self, data):
        if self.jwt:
            data["token_content_type"] = "jwt"  # noqa: S105 - a token format, not a secret
        try:
            response = self.http.post("/token", data=data, **self._client_auth(data))
        except InvalidRequestError as error:
            code = _oauth_error_code(error.detail)
            raise OAuthError(
                _("ANAF refused the authorisation (%(error)s); authorise the application again.", error=code),
                error=code,
                status=error.status,
                detail=error.detail,
            ) from None
        if response.status_code == _TOO_MANY_TOKENS_STATUS:
            raise RateLimitedError(
                _("ANAF refuses to issue several tokens in a row; try again in a minute."),
                retry_after=60,
                status=response.status_code,
            )
        try:
            answer = response.json()
            access, refresh = answer["access_token"], answer["refresh_token"]
        except (ValueError, KeyError, TypeError):
            raise OAuthError(_("ANAF answered the token request without tokens.")) from None
        issued = datetime.fromtimestamp(self._clock(), timezone.utc)
        expires_in = answer.get("expires_in")
        fallback = issued + timedelta(seconds=int(expires_in)) if expires_in else None
        return Tokens(
            access_token=access,
            refresh_token=refresh,
            access_expires_at=jwt_expiry(access) or fallback,
            refresh_expires_at=jwt_expiry(refresh),
            token_type=answer.get("token_type") or "Bearer",
        )


def jwt_claims(token):
    """The claims of a JWT, read without checking its signature (only ANAF can); None for an opaque token."""
    parts = (token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        return None
    return claims if isinstance(claims, dict) else None


def jwt_expiry(token):
    """The ``exp`` of a JWT as an aware UTC datetime, or None when the token is opaque or says nothing."""
    exp = (jwt_claims(token) or {}).get("exp")
    if not isinstance(exp, (int, float)):
        return None
    return datetime.fromtimestamp(exp, timezone.utc)


def _oauth_error_code(detail):
    try:
        return json.loads(detail or "").get("error") or "invalid_request"
    except (ValueError, AttributeError):
        return "invalid_request"


def _b64encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
