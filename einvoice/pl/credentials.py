"""What a signed-in KSeF session may do, and the credentials a company manages in KSeF.

* :func:`effective_permissions`: the permissions of the session, from where KSeF keeps them: a KSeF token's own
  ``requestedPermissions`` (``GET /tokens/{ref}``), the ``Owner`` role when the certificate's NIP is the
  context's (``uprawnienia.md``: the owner's role is not listed as a grant), else the grants listed by
  ``POST /permissions/query/personal/grants``;
* :class:`KsefTokens`: generate a token with chosen permissions, list, read and revoke (``tokeny-ksef.md``);
* :class:`KsefCertificates`: limits, the enrolment data, a key and a PKCS#10 request made from them, enrolment,
  waiting for the certificate, retrieval, query and revocation (``certyfikaty-KSeF.md``).

Answers are read as ``open-api.json`` describes them: a required field that is missing or a value outside its
enum is an :class:`UnexpectedAnswerError` naming the field, never a ``KeyError``.
"""

import base64
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..errors import EInvoiceError
from ..i18n import _
from .crypto import ORGANIZATION_IDENTIFIER, Credentials, certificate_nip
from .ksef import (
    KsefTokenLogin,
    StillProcessingError,
    UnexpectedAnswerError,
    _poll,
    answer_of,
    format_datetime,
    parse_datetime,
)

INVOICE_WRITE = "InvoiceWrite"
INVOICE_READ = "InvoiceRead"
CREDENTIALS_MANAGE = "CredentialsManage"
CREDENTIALS_READ = "CredentialsRead"
# open-api.json TokenPermissionType
TOKEN_PERMISSIONS = (
    INVOICE_READ,
    INVOICE_WRITE,
    CREDENTIALS_READ,
    CREDENTIALS_MANAGE,
    "SubunitManage",
    "EnforcementOperations",
    "Introspection",
)
# uprawnienia.md: the Owner role holds every invoice and administrative permission but VatUeManage
OWNER_PERMISSIONS = frozenset(
    {CREDENTIALS_MANAGE, CREDENTIALS_READ, INVOICE_WRITE, INVOICE_READ, "Introspection", "SubunitManage"}
)
TOKEN_STATUSES = ("Pending", "Active", "Revoking", "Revoked", "Failed")
CERTIFICATE_TYPES = ("Authentication", "Offline")
CERTIFICATE_STATUSES = ("Active", "Blocked", "Revoked", "Expired")
REVOCATION_REASONS = ("Unspecified", "Superseded", "KeyCompromise")
DN_ATTRIBUTES = {  # CertificateEnrollmentDataResponse's fields and the X.500 attributes they stand for
    "commonName": NameOID.COMMON_NAME,
    "givenName": NameOID.GIVEN_NAME,
    "surname": NameOID.SURNAME,
    "serialNumber": NameOID.SERIAL_NUMBER,
    "uniqueIdentifier": x509.ObjectIdentifier("2.5.4.45"),
    "organizationName": NameOID.ORGANIZATION_NAME,
    "organizationIdentifier": ORGANIZATION_IDENTIFIER,
    "countryName": NameOID.COUNTRY_NAME,
}


def required(data, name, *, allowed=None, what="KSeF"):
    """``data[name]``, checked against ``allowed`` when given; a clear error naming the field otherwise."""
    value = data.get(name) if isinstance(data, dict) else None
    if value is None:
        raise UnexpectedAnswerError(
            _("%(what)s answered without the field %(field)s that KSeF's description requires.", what=what, field=name)
        )
    if allowed is not None and value not in allowed:
        raise UnexpectedAnswerError(
            _(
                "%(what)s answered %(value)s for %(field)s, which is not one of %(allowed)s.",
                what=what,
                value=value,
                field=name,
                allowed=", ".join(allowed),
            )
        )
    return value


# -- permissions ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Permissions:
    """The permissions of a session and where they come from: ``token``, ``owner`` or ``grants``."""

    source: str
    granted: frozenset

    def missing(self, *needed):
        return [permission for permission in needed if permission not in self.granted]


def effective_permissions(client, auth, login=None):
    """The :class:`Permissions` of ``auth``'s session in its context; ``login`` is how it signs in (defaults to
    ``auth.login_method``)."""
    login = login or auth.login_method
    if isinstance(login, KsefTokenLogin):
        token = KsefTokens(client, auth).get(login.reference_number)
        return Permissions("token", frozenset(token.permissions))
    credentials = getattr(login, "credentials", None)
    if credentials is not None and certificate_nip(credentials.certificate) == auth.context.value.split("-")[0]:
        return Permissions("owner", OWNER_PERMISSIONS)
    body = {"contextIdentifier": {"type": auth.context.type, "value": auth.context.value}}
    answer = client.json(
        "other",
        "POST",
        "/permissions/query/personal/grants",
        token=auth.access_token(),
        json=body,
        params={"pageSize": 100},
    )
    granted = {
        required(entry, "permissionScope", what="/permissions/query/personal/grants")
        for entry in required(answer, "permissions", what="/permissions/query/personal/grants")
        if entry.get("permissionState", "Active") == "Active"
    }
    return Permissions("grants", frozenset(granted))


# -- KSeF tokens ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KsefTokenInfo:
    reference_number: str
    description: str
    permissions: tuple
    status: str
    created: datetime
    last_used: datetime = None
    author: str = None

    @classmethod
    def from_answer(cls, data, what="/tokens"):
        return cls(
            required(data, "referenceNumber", what=what),
            data.get("description") or "",
            tuple(required(data, "requestedPermissions", what=what)),
            required(data, "status", allowed=TOKEN_STATUSES, what=what),
            parse_datetime(required(data, "dateCreated", what=what)),
            parse_datetime(data.get("lastUseDate")),
            (data.get("authorIdentifier") or {}).get("value"),
        )


@dataclass(frozen=True)
class GeneratedToken:
    """A new KSeF token: ``token`` is shown only this once; keep it encrypted."""

    reference_number: str
    token: str


class KsefTokens:
    """The KSeF tokens of the session's context."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth

    def _call(self, method, path, **kwargs):
        return self.client.request("other", method, path, token=self.auth.access_token(), **kwargs)

    def generate(self, permissions, description):
        unknown = [p for p in permissions if p not in TOKEN_PERMISSIONS]
        if unknown or not permissions:
            raise ValueError(f"not KSeF token permissions: {unknown or 'none given'}")
        answer = self._call("POST", "/tokens", json={"permissions": list(permissions), "description": description})
        data = answer_of(answer)
        token = required(data, "token", what="POST /tokens")
        self.client.secrets.add(token)
        return GeneratedToken(required(data, "referenceNumber", what="POST /tokens"), token)

    def list(self, statuses=None, page_size=100):
        continuation = None
        while True:
            headers = {"x-continuation-token": continuation} if continuation else {}
            params = {"pageSize": page_size, **({"status": list(statuses)} if statuses else {})}
            data = answer_of(self._call("GET", "/tokens", params=params, headers=headers))
            for entry in required(data, "tokens", what="GET /tokens"):
                yield KsefTokenInfo.from_answer(entry)
            continuation = data.get("continuationToken")
            if not continuation:
                return

    def get(self, reference_number):
        return KsefTokenInfo.from_answer(
            answer_of(self._call("GET", f"/tokens/{reference_number}")), "GET /tokens/{ref}"
        )

    def revoke(self, reference_number):
        self._call("DELETE", f"/tokens/{reference_number}")

    def wait_active(self, reference_number, *, attempts=12):
        """The token once KSeF made it Active (a new token is Pending for a while)."""
        token = _poll(
            lambda: self.get(reference_number),
            lambda t: t.status != "Pending",
            sleep=self.client.sleep,
            attempts=attempts,
        )
        if token.status == "Pending":
            raise StillProcessingError(
                _("KSeF has not activated the token %(reference)s yet; try again later.", reference=reference_number)
            )
        return token


# -- KSeF certificates ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CertificateLimits:
    can_request: bool
    enrollments_left: int
    certificates_left: int


@dataclass(frozen=True)
class KsefCertificateInfo:
    serial_number: str
    name: str
    type: str
    status: str
    valid_from: datetime
    valid_to: datetime

    @classmethod
    def from_answer(cls, data, what="/certificates/query"):
        return cls(
            required(data, "certificateSerialNumber", what=what),
            required(data, "name", what=what),
            required(data, "type", allowed=CERTIFICATE_TYPES, what=what),
            required(data, "status", allowed=CERTIFICATE_STATUSES, what=what),
            parse_datetime(required(data, "validFrom", what=what)),
            parse_datetime(required(data, "validTo", what=what)),
        )


def certificate_name(text):
    """``text`` as KSeF accepts a certificate's name: 5 to 100 letters (Polish ones too), digits, spaces, ``_`` and
    ``-`` (open-api.json, EnrollCertificateRequest.certificateName)."""
    name = " ".join(re.sub(r"[^a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]", " ", text).split())[:100]
    return name if len(name) >= 5 else f"{name} KSeF".strip().rjust(5, "_")


def certificate_request(enrollment_data, private_key=None):
    """``(csr_der, private_key)``: a PKCS#10 request with exactly the names KSeF gave (``enrollment_data``), signed
    by ``private_key`` (a new EC P-256 key, which KSeF recommends, when None)."""
    private_key = private_key or ec.generate_private_key(ec.SECP256R1(), default_backend())
    names = []
    for field, oid in DN_ATTRIBUTES.items():
        value = enrollment_data.get(field)
        if value:
            names.append(x509.NameAttribute(oid, value))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name(names))
        .sign(private_key, hashes.SHA256(), default_backend())
    )
    return csr.public_bytes(serialization.Encoding.DER), private_key


def self_signed_certificate_for(nip, name, now, *, days=365):
    """``(certificate_pem, private_key_pem)``: a self-signed company-seal certificate for ``nip`` (its
    ``organizationIdentifier`` VATPL-``nip``), with which KSeF's test environment signs the company in.

    Evidence: ``srodowiska.md`` and ``auth/testowe-certyfikaty-i-podpisy-xades.md`` — self-signed certificates are
    accepted in the test environment only (never in demo or production), so several integrators can sign in in the
    same company's context; the Ministry's test application makes them with the NIP in the subject, as here."""
    private_key = ec.generate_private_key(ec.SECP256R1(), default_backend())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
            x509.NameAttribute(ORGANIZATION_IDENTIFIER, f"VATPL-{nip}"),
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .sign(private_key, hashes.SHA256(), default_backend())
    )
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


class KsefCertificates:
    """The KSeF certificates of the signed-in subject (not of the context): only after a XAdES login."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth

    def _json(self, method, path, **kwargs):
        return self.client.json("other", method, path, token=self.auth.access_token(), **kwargs)

    def limits(self):
        data = self._json("GET", "/certificates/limits")
        what = "GET /certificates/limits"
        return CertificateLimits(
            bool(required(data, "canRequest", what=what)),
            int(required(required(data, "enrollment", what=what), "remaining", what=what)),
            int(required(required(data, "certificate", what=what), "remaining", what=what)),
        )

    def enrollment_data(self):
        data = self._json("GET", "/certificates/enrollments/data")
        required(data, "commonName", what="GET /certificates/enrollments/data")
        return data

    def enroll(self, name, kind, csr_der, *, valid_from=None):
        """The reference number of the certificate request."""
        if kind not in CERTIFICATE_TYPES:
            raise ValueError(f"certificate type {kind!r} is not one of {CERTIFICATE_TYPES}")
        body = {
            "certificateName": certificate_name(name),
            "certificateType": kind,
            "csr": base64.b64encode(csr_der).decode(),
        }
        if valid_from:
            body["validFrom"] = format_datetime(valid_from)
        return required(self._json("POST", "/certificates/enrollments", json=body), "referenceNumber")

    def wait(self, reference_number, *, attempts=12):
        """The serial number of the certificate once KSeF issued it; a refusal is a clear error."""
        path = f"/certificates/enrollments/{reference_number}"
        data = _poll(
            lambda: self._json("GET", path),
            lambda d: int((d.get("status") or {}).get("code") or 0) != 100,
            sleep=self.client.sleep,
            attempts=attempts,
        )
        status = required(data, "status", what=f"GET {path}")
        code = int(required(status, "code", what=f"GET {path}"))
        if code == 100:
            raise StillProcessingError(
                _("KSeF is still issuing the certificate (%(reference)s); try again later.", reference=reference_number)
            )
        if code != 200:
            reason = " ".join([status.get("description") or "", *map(str, status.get("details") or ())]).strip()
            raise EInvoiceError(_("KSeF refused the certificate request: %(reason)s", reason=reason))
        return required(data, "certificateSerialNumber", what=f"GET {path}")

    def retrieve(self, serial_numbers):
        """``{serial: x509.Certificate}`` of the subject's certificates among ``serial_numbers``."""
        data = self._json("POST", "/certificates/retrieve", json={"certificateSerialNumbers": list(serial_numbers)})
        found = {}
        for entry in required(data, "certificates", what="POST /certificates/retrieve"):
            der = base64.b64decode(required(entry, "certificate", what="POST /certificates/retrieve"))
            found[entry["certificateSerialNumber"]] = x509.load_der_x509_certificate(der, default_backend())
        return found

    def obtain(self, name, kind, *, private_key=None, valid_from=None, attempts=12):
        """Enrol a certificate of ``kind`` for the signed-in subject and return its :class:`Credentials`: the
        names from KSeF, a new key (EC P-256 unless ``private_key``), the request, the wait, the certificate."""
        csr, private_key = certificate_request(self.enrollment_data(), private_key)
        serial = self.wait(self.enroll(name, kind, csr, valid_from=valid_from), attempts=attempts)
        return Credentials(self.retrieve([serial])[serial], private_key)

    def query(self, **filters):
        data = self._json("POST", "/certificates/query", json=filters, params={"pageSize": 50})
        return [KsefCertificateInfo.from_answer(entry) for entry in required(data, "certificates")]

    def revoke(self, serial_number, reason="Unspecified"):
        if reason not in REVOCATION_REASONS:
            raise ValueError(f"revocation reason {reason!r} is not one of {REVOCATION_REASONS}")
        self.client.request(
            "other",
            "POST",
            f"/certificates/{serial_number}/revoke",
            token=self.auth.access_token(),
            json={"revocationReason": reason},
        )
