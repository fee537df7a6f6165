"""KSeF tokens, KSeF certificates, permissions, limits and authentication sessions, over real HTTP against the
simulator (every exchange checked against the Ministry's open-api.json by conftest's contract)."""

from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from einvoice.http import AuthenticationError
from einvoice.pl.credentials import (
    INVOICE_READ,
    INVOICE_WRITE,
    OWNER_PERMISSIONS,
    KsefCertificates,
    KsefTokens,
    UnexpectedAnswerError,
    certificate_request,
    effective_permissions,
)
from einvoice.pl.crypto import certificate_nip
from einvoice.pl.ksef import (
    Authenticator,
    CertificateLogin,
    KsefAuthenticationFailed,
    KsefRequestError,
    KsefTokenLogin,
    OnlineSession,
)
from einvoice.sim import ManualClock
from einvoice.sim.ksef import KsefSimulator

from .test_ksef_crypto import ec_key, make_credentials
from .test_ksef_flows import SELLER, make_client

OTHER = "5260250274"


@pytest.fixture
def clock():
    return ManualClock(datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture
def sim(clock):
    with KsefSimulator(clock=clock.datetime) as server:
        yield server


@pytest.fixture
def client(sim, clock):
    return make_client(sim, clock)


@pytest.fixture
def owner(sim, client):
    """The seller's owner, signed in with its company seal."""
    return Authenticator(client, SELLER, CertificateLogin(make_credentials(ec_key(), nip=SELLER, company=True)))


def token_session(client, token, nip=SELLER):
    return Authenticator(client, nip, KsefTokenLogin(token))


# -- KSeF tokens -------------------------------------------------------------------------------------------------
def test_a_token_generated_by_the_owner_signs_in_with_exactly_its_permissions(sim, client, owner):
    tokens = KsefTokens(client, owner)
    generated = tokens.generate([INVOICE_READ], "Odoo: receiving only")
    assert generated.token.startswith(generated.reference_number + "|")
    assert tokens.wait_active(generated.reference_number).status == "Active"

    reader = token_session(client, generated.token)
    permissions = effective_permissions(client, reader)
    assert (permissions.source, permissions.granted) == ("token", frozenset({INVOICE_READ}))
    assert permissions.missing(INVOICE_WRITE, INVOICE_READ) == [INVOICE_WRITE]
    with pytest.raises(AuthenticationError) as refused:
        OnlineSession.open(client, reader)
    assert refused.value.status == 403
    assert "missing-permissions" in str(refused.value)

    listed = {token.reference_number: token for token in tokens.list()}
    assert listed[generated.reference_number].permissions == (INVOICE_READ,)
    assert listed[generated.reference_number].description == "Odoo: receiving only"
    assert listed[generated.reference_number].last_used is not None  # the login above


def test_a_revoked_token_no_longer_signs_in(sim, client, owner):
    tokens = KsefTokens(client, owner)
    generated = tokens.generate([INVOICE_READ, INVOICE_WRITE], "to revoke")
    token_session(client, generated.token).login()
    tokens.revoke(generated.reference_number)
    assert tokens.get(generated.reference_number).status == "Revoked"
    with pytest.raises(KsefAuthenticationFailed) as failed:
        token_session(client, generated.token).login()
    assert failed.value.code == 450
    assert "Token unieważniony" in str(failed.value)


def test_a_token_cannot_be_given_permissions_the_session_lacks(sim, client):
    limited = token_session(client, sim.issue_ksef_token(SELLER, permissions=["InvoiceRead", "CredentialsManage"]))
    with pytest.raises(KsefRequestError) as refused:
        KsefTokens(client, limited).generate([INVOICE_WRITE], "more than I have")
    assert refused.value.codes == {26001}


def test_a_new_token_is_pending_before_it_is_active(sim, clock, client, owner):
    sim.token_activation_delay = timedelta(seconds=5)
    tokens = KsefTokens(client, owner)
    generated = tokens.generate([INVOICE_READ], "pending first")
    assert tokens.get(generated.reference_number).status == "Pending"
    with pytest.raises(KsefAuthenticationFailed, match="Token nieaktywny"):
        token_session(client, generated.token).login()
    assert tokens.wait_active(generated.reference_number).status == "Active"  # the poll moves the clock on


# -- permissions ------------------------------------------------------------------------------------------------
def test_the_owner_holds_the_owner_role(owner, client):
    permissions = effective_permissions(client, owner)
    assert (permissions.source, permissions.granted) == ("owner", OWNER_PERMISSIONS)


def test_a_representative_has_the_permissions_granted_to_it(sim, client):
    sim.grant(OTHER, SELLER, permissions=[INVOICE_READ])
    representative = Authenticator(client, SELLER, CertificateLogin(make_credentials(nip=OTHER)))
    permissions = effective_permissions(client, representative)
    assert (permissions.source, permissions.granted) == ("grants", frozenset({INVOICE_READ}))
    assert permissions.missing(INVOICE_WRITE) == [INVOICE_WRITE]


def test_someone_without_any_permission_cannot_sign_in(sim, client):
    stranger = Authenticator(client, SELLER, CertificateLogin(make_credentials(nip=OTHER)))
    with pytest.raises(KsefAuthenticationFailed) as failed:
        stranger.login()
    assert failed.value.code == 415


# -- KSeF certificates ----------------------------------------------------------------------------------------------
def test_an_authentication_certificate_is_enrolled_and_then_signs_in(sim, client, owner):
    certificates = KsefCertificates(client, owner)
    limits = certificates.limits()
    assert limits.can_request and limits.certificates_left == 100  # limity.md: 100 active per NIP
    credentials = certificates.obtain("Odoo", "Authentication")
    assert certificate_nip(credentials.certificate) == SELLER
    assert isinstance(credentials.private_key, ec.EllipticCurvePrivateKey)
    assert certificates.limits().certificates_left == 99

    signed_in = Authenticator(client, SELLER, CertificateLogin(credentials))
    signed_in.login()
    assert sim.auth_operations[signed_in.reference_number]["method"] == "InternalCertificate"
    assert effective_permissions(client, signed_in).source == "owner"
    [listed] = certificates.query(type="Authentication")
    assert (listed.name, listed.status, listed.serial_number) == ("Odoo KSeF", "Active", credentials.serial_hex)


def test_an_offline_certificate_cannot_sign_in_and_a_revoked_one_no_longer_does(sim, client, owner):
    certificates = KsefCertificates(client, owner)
    offline = certificates.obtain("Odoo: offline invoices", "Offline")
    with pytest.raises(KsefAuthenticationFailed) as failed:
        Authenticator(client, SELLER, CertificateLogin(offline)).login()
    assert failed.value.code == 460

    authentication = certificates.obtain("Odoo", "Authentication")
    certificates.revoke(authentication.serial_hex, "Superseded")
    with pytest.raises(KsefAuthenticationFailed, match="Certyfikat odwołany"):
        Authenticator(client, SELLER, CertificateLogin(authentication)).login()
    assert {c.status for c in certificates.query()} == {"Active", "Revoked"}


def test_a_request_whose_names_differ_from_the_enrollment_data_is_refused(sim, client, owner):
    certificates = KsefCertificates(client, owner)
    data = {**certificates.enrollment_data(), "commonName": "Someone else"}
    csr, _key = certificate_request(data)
    with pytest.raises(KsefRequestError) as refused:
        certificates.enroll("Odoo", "Authentication", csr)
    assert refused.value.codes == {25003}


def test_a_short_rsa_key_is_refused(sim, client, owner):
    certificates = KsefCertificates(client, owner)
    csr, _key = certificate_request(certificates.enrollment_data(), rsa.generate_private_key(65537, 1024))  # noqa: S505 - refused
    with pytest.raises(KsefRequestError) as refused:
        certificates.enroll("Odoo", "Authentication", csr)
    assert refused.value.codes == {25010}


def test_a_session_signed_in_with_a_token_cannot_request_a_certificate(sim, client):
    with_token = token_session(client, sim.issue_ksef_token(SELLER))
    with pytest.raises(KsefRequestError) as refused:
        KsefCertificates(client, with_token).enrollment_data()
    assert refused.value.codes == {25001}


# -- limits and authentication sessions -----------------------------------------------------------------------------
def test_limits_and_rate_limits_are_read(sim, client, owner):
    token = owner.access_token()
    context = client.json("other", "GET", "/limits/context", token=token)
    assert context["onlineSession"]["maxInvoiceSizeInMB"] == 1
    rates = client.json("other", "GET", "/rate-limits", token=token)
    per_second, per_minute, per_hour = sim.limits["online_send"]
    assert rates["invoiceSend"] == {"perSecond": per_second, "perMinute": per_minute, "perHour": per_hour}


def test_ending_the_current_authentication_ends_its_tokens(sim, client, owner):
    token = owner.access_token()
    sessions = client.json("other", "GET", "/auth/sessions", token=token)["items"]
    assert [item["isCurrent"] for item in sessions] == [True]
    client.request("other", "DELETE", "/auth/sessions/current", token=token)
    with pytest.raises(AuthenticationError):
        client.json("other", "GET", "/auth/sessions", token=token)
    owner.access = None  # the refresh token went with it: the authenticator signs in again
    assert owner.access_token() != token


# -- answers read as the description says ---------------------------------------------------------------------------
def test_an_answer_without_a_required_field_is_a_clear_error(sim, client, owner):
    tokens = KsefTokens(client, owner)
    generated = tokens.generate([INVOICE_READ], "reading")
    sim.inject("status", status=200, body=b'{"status": "Active"}', path="/tokens/")
    with pytest.raises(UnexpectedAnswerError, match="referenceNumber"):
        tokens.get(generated.reference_number)


@pytest.mark.parametrize(
    ("text", "name"),
    [("Odoo", "Odoo KSeF"), ("Firma Sp. z o.o.: Odoo", "Firma Sp z o o Odoo"), ("Łódź/Kraków", "Łódź Kraków")],
)
def test_certificate_names_are_made_acceptable_to_ksef(text, name):
    from einvoice.pl.credentials import certificate_name

    assert certificate_name(text) == name


# -- the error codes of each operation's table in open-api.json ---------------------------------------------------
def test_unknown_references_are_answered_with_the_operations_own_codes(sim, client, owner):
    token = owner.access_token()
    with pytest.raises(KsefRequestError) as unknown_export:
        client.json("export_status", "GET", "/invoices/exports/20261205-EH-0000000000-0000000000-00", token=token)
    assert unknown_export.value.codes == {21175}
    with pytest.raises(KsefRequestError) as unknown_login:
        client.json("auth", "GET", "/auth/20261205-AU-0000000000-0000000000-00", token=token)
    assert unknown_login.value.codes == {21304}


def test_tokens_are_redeemed_once_and_only_after_the_login_succeeded(sim, client):
    sim.auth_delay = timedelta(seconds=30)
    login = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))
    started = login.login_method.start(client, login.keys, login.context)
    operation_token = started["authenticationToken"]["token"]
    with pytest.raises(KsefRequestError) as too_early:
        client.json("auth", "POST", "/auth/token/redeem", token=operation_token)
    assert too_early.value.codes == {21301}
    assert "nie pozwala na pobranie tokenów" in str(too_early.value)


def test_an_answer_missing_a_field_the_description_requires_names_it_and_the_request(sim, client):
    sim.inject("status", status=202, body=b'{"authenticationToken": {"token": "x"}}', path="/auth/ksef-token")
    login = Authenticator(client, SELLER, KsefTokenLogin(sim.issue_ksef_token(SELLER)))
    with pytest.raises(UnexpectedAnswerError) as caught:
        login.login()
    assert "referenceNumber" in str(caught.value)
    assert "POST /v2/auth/ksef-token" in str(caught.value)
