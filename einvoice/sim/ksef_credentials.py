"""The KSeF simulator's identities: who signed in, with which permissions, and the credentials a company manages.

:class:`KsefCredentials` is mixed into :class:`~einvoice.sim.ksef.KsefSimulator`. It serves, as the Ministry's
``open-api.json`` describes them:

* KSeF tokens (``/tokens``): generated with a fixed set of permissions, listed, read and revoked
  (``tokeny-ksef.md``); a token signs in with exactly its permissions;
* KSeF certificates (``/certificates/...``): limits, the enrolment data read from the signing certificate, the
  enrolment of a PKCS#10 request (RSA 2048 or EC P-256), its status, retrieval, metadata query and revocation
  (``certyfikaty-KSeF.md``); an Authentication certificate then signs in, an Offline one cannot;
* the permissions query of the signed-in subject (``/permissions/query/personal/grants``); the owner of a context
  (same NIP as the signing certificate) holds the ``Owner`` role, which is not listed there (``uprawnienia.md``);
* the effective limits (``/limits/context``, ``/limits/subject``, ``/rate-limits``), the active authentications
  (``/auth/sessions``) and their revocation;
* the TEST environment's test-data operations used to set a company up (``/testdata/...``).

Operations that need a permission the session lacks answer 403 ``missing-permissions`` as problem details.
"""

import base64
import re
import secrets
import uuid
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..pl.crypto import ORGANIZATION_IDENTIFIER, b64
from ..pl.ksef import format_datetime, parse_datetime
from .server import Response, bearer, header, self_signed_certificate

# the Owner role: every invoice and administrative permission but VatUeManage (uprawnienia.md)
OWNER_PERMISSIONS = frozenset(
    {"CredentialsManage", "CredentialsRead", "InvoiceWrite", "InvoiceRead", "Introspection", "SubunitManage"}
)
TOKEN_PERMISSIONS = frozenset(
    {
        "InvoiceRead",
        "InvoiceWrite",
        "CredentialsRead",
        "CredentialsManage",
        "SubunitManage",
        "EnforcementOperations",
        "Introspection",
    }
)
CERTIFICATE_TYPES = ("Authentication", "Offline")
CERTIFICATE_LIFETIME = timedelta(days=730)
CERTIFICATE_NAME = re.compile(r"[a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]{5,100}")  # open-api.json EnrollCertificateRequest
# limity/limity.md: certificate requests and active certificates per identifier of the signing certificate
CERTIFICATE_LIMITS = {"Nip": (300, 100), "Pesel": (12, 6), "Fingerprint": (12, 6)}
# limity/limity.md, the defaults per context
CONTEXT_LIMITS = {"maxInvoiceSizeInMB": 1, "maxInvoiceWithAttachmentSizeInMB": 3, "maxInvoices": 10_000}
# our rate-limit families -> the names /rate-limits gives them (limity/limity-api.md)
RATE_LIMIT_NAMES = {
    "online_open": "onlineSession",
    "batch_open": "batchSession",
    "online_send": "invoiceSend",
    "session_invoice": "invoiceStatus",
    "session_invoices": "sessionInvoiceList",
    "session_read": "sessionMisc",
    "query_metadata": "invoiceMetadata",
    "export_start": "invoiceExport",
    "export_status": "invoiceExportStatus",
    "download": "invoiceDownload",
}
DN_FIELDS = {  # CertificateEnrollmentDataResponse's fields and the attributes they name (certyfikaty-KSeF.md)
    "commonName": NameOID.COMMON_NAME,
    "surname": NameOID.SURNAME,
    "serialNumber": NameOID.SERIAL_NUMBER,
    "countryName": NameOID.COUNTRY_NAME,
    "organizationName": NameOID.ORGANIZATION_NAME,
    "givenName": NameOID.GIVEN_NAME,
    "uniqueIdentifier": x509.ObjectIdentifier("2.5.4.45"),
    "organizationIdentifier": ORGANIZATION_IDENTIFIER,
}
SIMULATOR_CA = "KSeF simulator - certyfikaty wewnętrzne"


def serial_of(certificate):
    """The serial number as KSeF gives it: 16 uppercase hexadecimal digits (open-api.json)."""
    return f"{certificate.serial_number:016X}"


def subject_identifier(certificate):
    """``(type, value)`` identifying the holder of a signing certificate: its NIP, PESEL or fingerprint."""
    from ..pl.crypto import certificate_nip

    nip = certificate_nip(certificate)
    if nip:
        return ("Nip", nip)
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        if attribute.value.startswith("PNOPL-"):
            return ("Pesel", attribute.value[6:])
    return ("Fingerprint", certificate.fingerprint(hashes.SHA256()).hex().upper())


def enrollment_data(name):
    """The distinguished name attributes a CSR must carry (``name``: the subject of the certificate the subject
    signed in with), as ``/certificates/enrollments/data`` gives them."""
    data = {}
    for field, oid in DN_FIELDS.items():
        values = [attribute.value for attribute in name.get_attributes_for_oid(oid)]
        if values:
            data[field] = " ".join(values) if field == "givenName" else values[0]
    return data


class KsefCredentials:
    """Mixed into the KSeF simulator: needs its ``clock``, ``_context``, ``_error``, ``_problem``,
    ``_reference``, ``limits`` and ``auth_operations``/``access_tokens``/``refresh_tokens``."""

    token_activation_delay = timedelta(0)  # a new KSeF token is Pending this long, then Active
    enrollment_delay = timedelta(0)  # a certificate request is processed (status 100) this long

    def _init_credentials(self):
        self.ksef_tokens = {}  # token -> record
        self.grants = set()  # (subject NIP, context NIP) allowed to act in the context
        self.grant_scopes = {}  # (subject NIP, context NIP) -> the permissions granted
        self.enrollments = {}  # reference -> request record
        self.certificates = {}  # serial number (hex) -> record
        self.blocked_contexts = set()
        self.ca_key, self.ca_certificate = self_signed_certificate(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SIMULATOR_CA)]),
            not_before=self.clock() - timedelta(days=1),
            days=3650,
        )

    def _credential_routes(self, ref):
        serial = r"(?P<serial>[0-9A-Fa-f]+)"
        return [
            ("POST", r"/tokens", "other", self._generate_token),
            ("GET", r"/tokens", "other", self._query_tokens),
            ("GET", rf"/tokens/{ref}", "other", self._token_status),
            ("DELETE", rf"/tokens/{ref}", "other", self._revoke_token),
            ("GET", r"/certificates/limits", "other", self._certificate_limits),
            ("GET", r"/certificates/enrollments/data", "other", self._enrollment_data),
            ("POST", r"/certificates/enrollments", "other", self._enroll),
            ("GET", rf"/certificates/enrollments/{ref}", "other", self._enrollment_status),
            ("POST", r"/certificates/retrieve", "other", self._retrieve_certificates),
            ("POST", rf"/certificates/{serial}/revoke", "other", self._revoke_certificate),
            ("POST", r"/certificates/query", "other", self._query_certificates),
            ("POST", r"/permissions/query/personal/grants", "other", self._personal_grants),
            ("GET", r"/limits/context", "other", self._context_limits),
            ("GET", r"/limits/subject", "other", self._subject_limits),
            ("GET", r"/rate-limits", "other", self._rate_limits_answer),
            ("GET", r"/auth/sessions", "other", self._auth_sessions),
            ("DELETE", r"/auth/sessions/current", "other", self._end_current_session),
            ("DELETE", rf"/auth/sessions/{ref}", "other", self._end_session),
            ("POST", r"/testdata/subject", None, self._testdata_ok),
            ("POST", r"/testdata/subject/remove", None, self._testdata_ok),
            ("POST", r"/testdata/person", None, self._testdata_ok),
            ("POST", r"/testdata/person/remove", None, self._testdata_ok),
            ("POST", r"/testdata/permissions", None, self._testdata_grant),
            ("POST", r"/testdata/permissions/revoke", None, self._testdata_revoke),
            ("POST", r"/testdata/context/block", None, self._testdata_block),
            ("POST", r"/testdata/context/unblock", None, self._testdata_unblock),
        ]

    # -- set-up helpers for tests and the demo ---------------------------------------------------------------
    def issue_ksef_token(
        self, nip, permissions=("InvoiceRead", "InvoiceWrite", "CredentialsRead", "CredentialsManage")
    ):
        """A KSeF token for context ``nip`` (on the real platform generated after a XAdES login), already Active."""
        token, _record = self._new_token(nip, ("Nip", nip), permissions, "simulator test token", active=True)
        return token

    def grant(self, subject_nip, context_nip, permissions=("InvoiceRead", "InvoiceWrite")):
        """Let the holder of ``subject_nip``'s certificate act in ``context_nip`` with ``permissions``."""
        self.grants.add((subject_nip, context_nip))
        self.grant_scopes[(subject_nip, context_nip)] = frozenset(permissions)

    def permissions_of(self, subject, context_nip):
        """What ``subject`` (type, value) may do in ``context_nip`` when it signs in with a certificate."""
        if subject == ("Nip", context_nip.split("-")[0]):
            return OWNER_PERMISSIONS
        key = (subject[1], context_nip)
        if key in self.grants:
            return self.grant_scopes.get(key, frozenset({"InvoiceRead", "InvoiceWrite"}))
        return frozenset()

    # -- shared ----------------------------------------------------------------------------------------------
    def _session(self, request, needs=None):
        """``(access record, None)`` or ``(None, the refusal)``: 401 without a valid access token, 403 when the
        session lacks the permission ``needs``."""
        _nip, denied = self._context(request, needs)
        return (None, denied) if denied else (self.access_tokens[bearer(request)], None)

    def _forbidden(self, *permissions):
        return self._problem(
            403,
            "Forbidden",
            "Brak wymaganych uprawnień do wykonania operacji w bieżącym kontekście.",
            reasonCode="missing-permissions",
            security={"requiredAnyOfPermissions": list(permissions)},
        )

    def _invalid(self, detail):
        return self._error(21405, "Błąd walidacji danych wejściowych.", detail)

    # -- KSeF tokens -----------------------------------------------------------------------------------------
    def _new_token(self, nip, author, permissions, description, *, active=False):
        reference = self._reference("EC")
        token = f"{reference}|nip-{nip}|{secrets.token_hex(16)}"
        now = self.clock()
        record = {
            "reference": reference,
            "nip": nip,
            "author": author,
            "permissions": tuple(sorted(permissions)),
            "description": description,
            "created": now,
            "active_at": now if active else now + self.token_activation_delay,
            "revoked": False,
            "last_use": None,
        }
        self.ksef_tokens[token] = record
        return token, record

    def token_status(self, record):
        if record["revoked"]:
            return "Revoked"
        return "Active" if self.clock() >= record["active_at"] else "Pending"

    def _token_json(self, record):
        answer = {
            "referenceNumber": record["reference"],
            "authorIdentifier": {"type": record["author"][0], "value": record["author"][1]},
            "contextIdentifier": {"type": "Nip" if "-" not in record["nip"] else "InternalId", "value": record["nip"]},
            "description": record["description"],
            "requestedPermissions": list(record["permissions"]),
            "dateCreated": format_datetime(record["created"]),
            "status": self.token_status(record),
        }
        if record["last_use"]:
            answer["lastUseDate"] = format_datetime(record["last_use"])
        return answer

    def _generate_token(self, request):
        session, denied = self._session(request, needs="CredentialsManage")
        if denied:
            return denied
        body = request.json() or {}
        permissions, description = body.get("permissions"), body.get("description")
        if not isinstance(permissions, list) or not permissions or not set(permissions) <= TOKEN_PERMISSIONS:
            return self._invalid("permissions")
        if not isinstance(description, str) or not 5 <= len(description) <= 256:
            return self._invalid("description")
        missing = set(permissions) - session["permissions"]
        if missing:
            return self._error(
                26001, "Nie można nadać tokenowi uprawnień których nie posiadasz.", ", ".join(sorted(missing))
            )
        token, record = self._new_token(session["nip"], session["subject"], permissions, description)
        return Response.json({"referenceNumber": record["reference"], "token": token}, status=202)

    def _visible_tokens(self, session):
        """The tokens a session may see (open-api.json, GET /tokens): with CredentialsManage or CredentialsRead
        every token of the context; signed in with a token only that token; otherwise the tokens it authored."""
        tokens = [record for record in self.ksef_tokens.values() if record["nip"] == session["nip"]]
        if session["permissions"] & {"CredentialsManage", "CredentialsRead"}:
            return tokens
        if session.get("token"):
            return [record for record in tokens if record["reference"] == session["token"]]
        return [record for record in tokens if record["author"] == session["subject"]]

    def _query_tokens(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        statuses = set(request.query.get("status") or [])
        description = (request.arg("description") or "").lower()
        author = request.arg("authorIdentifier")
        found = [
            record
            for record in self._visible_tokens(session)
            if (not statuses or self.token_status(record) in statuses)
            and description in record["description"].lower()
            and (author is None or record["author"][1] == author)
        ]
        size = min(100, max(10, int(request.arg("pageSize", 10))))
        start = int(header(request, "x-continuation-token") or 0)
        answer = {"tokens": [self._token_json(record) for record in found[start : start + size]]}
        if start + size < len(found):
            answer["continuationToken"] = str(start + size)
        return Response.json(answer)

    def _find_token(self, session, reference):
        return next((r for r in self._visible_tokens(session) if r["reference"] == reference), None)

    def _token_status(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        record = self._find_token(session, request.params["ref"])
        if record is None:
            return self._invalid(f"Token {request.params['ref']} nie istnieje.")
        return Response.json(self._token_json(record))

    def _revoke_token(self, request):
        # tokeny-ksef / open-api: with CredentialsManage any token of the context; signed in with a token only that
        # token; otherwise the tokens the subject is the author of
        session, denied = self._session(request)
        if denied:
            return denied
        record = next(
            (
                r
                for r in self.ksef_tokens.values()
                if r["nip"] == session["nip"] and r["reference"] == request.params["ref"]
            ),
            None,
        )
        allowed = record is not None and (
            "CredentialsManage" in session["permissions"]
            or session.get("token") == record["reference"]
            or (session.get("token") is None and record["author"] == session["subject"])
        )
        if not allowed:
            return self._invalid(f"Token {request.params['ref']} nie istnieje.")
        record["revoked"] = True
        return Response(204)

    # -- KSeF certificates -----------------------------------------------------------------------------------
    def _certificates_of(self, subject):
        return [c for c in self.certificates.values() if c["subject"] == subject]

    def certificate_status(self, record):
        if record["revoked"]:
            return "Revoked"
        return "Expired" if record["valid_to"] <= self.clock() else "Active"

    def _limits_of(self, subject):
        requests_allowed, certificates_allowed = CERTIFICATE_LIMITS[subject[0]]
        requests_made = sum(1 for e in self.enrollments.values() if e["subject"] == subject)
        active = sum(1 for c in self._certificates_of(subject) if self.certificate_status(c) == "Active")
        return (requests_allowed, requests_allowed - requests_made), (
            certificates_allowed,
            certificates_allowed - active,
        )

    def _certificate_limits(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        (request_limit, requests_left), (certificate_limit, certificates_left) = self._limits_of(session["subject"])
        return Response.json(
            {
                "canRequest": requests_left > 0 and certificates_left > 0,
                "enrollment": {"limit": request_limit, "remaining": max(0, requests_left)},
                "certificate": {"limit": certificate_limit, "remaining": max(0, certificates_left)},
            }
        )

    def _enrollment_data(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        if not session.get("enrollment_data"):
            return self._error(
                25001, "Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia."
            )
        return Response.json(session["enrollment_data"])

    def _enroll(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        if not session.get("enrollment_data"):
            return self._error(
                25002, "Brak możliwości złożenia wniosku certyfikacyjnego dla wykorzystanego sposobu uwierzytelnienia."
            )
        body = request.json() or {}
        if body.get("certificateType") not in CERTIFICATE_TYPES:
            return self._invalid("certificateType")
        if not CERTIFICATE_NAME.fullmatch(str(body.get("certificateName") or "")):
            return self._invalid("certificateName")
        try:
            csr = x509.load_der_x509_csr(base64.b64decode(body.get("csr") or "", validate=True), default_backend())
            signed = csr.is_signature_valid
        except ValueError:
            signed = False
        if not signed:
            return self._error(25004, "Niepoprawny format CSR lub niepoprawny podpis CSR.")
        key = csr.public_key()
        if not (
            (isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048)
            or (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1")
        ):
            return self._error(25010, "Nieprawidłowy typ lub długość klucza.")
        if enrollment_data(csr.subject) != session["enrollment_data"]:
            return self._error(25003, "Dane w CSR nie zgadzają się z danymi w użytym wektorze uwierzytelniającym.")
        (_limit, requests_left), (_certificates, certificates_left) = self._limits_of(session["subject"])
        if requests_left <= 0:
            return self._error(25006, "Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.")
        if certificates_left <= 0:
            return self._error(25007, "Osiągnięto limit dopuszczalnej liczby posiadanych certyfikatów.")
        valid_from = parse_datetime(body.get("validFrom")) or self.clock()
        reference = self._reference("CE")
        certificate = self._issue(csr, body["certificateType"], valid_from)
        serial = serial_of(certificate)
        self.certificates[serial] = {
            "serial": serial,
            "name": body["certificateName"],
            "type": body["certificateType"],
            "subject": session["subject"],
            "certificate": certificate,
            "valid_from": valid_from,
            "valid_to": valid_from + CERTIFICATE_LIFETIME,
            "requested": self.clock(),
            "revoked": False,
        }
        self.enrollments[reference] = {
            "subject": session["subject"],
            "requested": self.clock(),
            "ready_at": self.clock() + self.enrollment_delay,
            "serial": serial,
        }
        return Response.json({"referenceNumber": reference, "timestamp": format_datetime(self.clock())}, status=202)

    def _issue(self, csr, kind, valid_from):
        usage = {"digital_signature": kind == "Authentication", "content_commitment": kind == "Offline"}
        return (
            x509.CertificateBuilder()
            .subject_name(csr.subject)
            .issuer_name(self.ca_certificate.subject)
            .public_key(csr.public_key())
            # open-api.json: a KSeF certificate's serial number is 16 hexadecimal digits
            .serial_number(secrets.randbits(63) | 1 << 60)
            .not_valid_before(valid_from)
            .not_valid_after(valid_from + CERTIFICATE_LIFETIME)
            .add_extension(
                x509.KeyUsage(
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                    **usage,
                ),
                critical=True,
            )
            .sign(self.ca_key, hashes.SHA256(), default_backend())
        )

    def _enrollment_status(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        enrollment = self.enrollments.get(request.params["ref"])
        if enrollment is None or enrollment["subject"] != session["subject"]:
            return self._invalid(f"Wniosek {request.params['ref']} nie istnieje.")
        answer = {"requestDate": format_datetime(enrollment["requested"])}
        if self.clock() < enrollment["ready_at"]:
            answer["status"] = {"code": 100, "description": "Wniosek przyjęty do realizacji"}
        else:
            answer["status"] = {"code": 200, "description": "Wniosek obsłużony (certyfikat wygenerowany)"}
            answer["certificateSerialNumber"] = enrollment["serial"]
        return Response.json(answer)

    def _issued(self, serial):
        """The certificate record, once its enrolment has been processed."""
        record = self.certificates.get(serial.upper().rjust(16, "0"))
        ready = record is not None and any(
            e["serial"] == record["serial"] and self.clock() >= e["ready_at"] for e in self.enrollments.values()
        )
        return record if ready else None

    def _retrieve_certificates(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        serials = (request.json() or {}).get("certificateSerialNumbers")
        if not isinstance(serials, list) or not serials:
            return self._invalid("certificateSerialNumbers")
        found = [self._issued(str(serial)) for serial in serials]
        return Response.json(
            {
                "certificates": [
                    {
                        "certificate": b64(record["certificate"].public_bytes(serialization.Encoding.DER)),
                        "certificateName": record["name"],
                        "certificateSerialNumber": record["serial"],
                        "certificateType": record["type"],
                    }
                    for record in found
                    if record is not None and record["subject"] == session["subject"]
                ]
            }
        )

    def _revoke_certificate(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        record = self._issued(request.params["serial"])
        if record is None or record["subject"] != session["subject"]:
            return self._invalid(f"Certyfikat {request.params['serial']} nie istnieje.")
        reason = (request.json() or {}).get("revocationReason")
        if reason not in (None, "Unspecified", "Superseded", "KeyCompromise"):
            return self._invalid("revocationReason")
        record["revoked"] = True
        return Response(204)

    def _query_certificates(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        filters = request.json() or {}
        expires_after = parse_datetime(filters.get("expiresAfter"))
        found = [
            record
            for serial in sorted(self.certificates)
            if (record := self._issued(serial)) is not None
            and record["subject"] == session["subject"]
            and filters.get("certificateSerialNumber") in (None, record["serial"])
            and filters.get("name") in (None, record["name"])
            and filters.get("type") in (None, record["type"])
            and filters.get("status") in (None, self.certificate_status(record))
            and (expires_after is None or record["valid_to"] > expires_after)
        ]
        size, offset = int(request.arg("pageSize", 10)), int(request.arg("pageOffset", 0))
        page = found[offset * size : (offset + 1) * size]
        return Response.json(
            {
                "certificates": [
                    {
                        "certificateSerialNumber": record["serial"],
                        "name": record["name"],
                        "type": record["type"],
                        "commonName": record["certificate"]
                        .subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0]
                        .value,
                        "status": self.certificate_status(record),
                        "subjectIdentifier": {"type": record["subject"][0], "value": record["subject"][1]},
                        "validFrom": format_datetime(record["valid_from"]),
                        "validTo": format_datetime(record["valid_to"]),
                        "requestDate": format_datetime(record["requested"]),
                    }
                    for record in page
                ],
                "hasMore": (offset + 1) * size < len(found),
            }
        )

    def internal_certificate_refusal(self, certificate):
        """Why a certificate this simulator issued cannot sign in (``certyfikaty-KSeF.md``: an Offline certificate
        never does), or None when it may; None too for certificates it did not issue."""
        if certificate.issuer != self.ca_certificate.subject:
            return None
        record = self.certificates.get(serial_of(certificate))
        if record is None:
            return "Niepoprawny certyfikat"
        if record["revoked"]:
            return "Certyfikat odwołany"
        if record["type"] != "Authentication":
            return "Niepoprawny certyfikat"
        if self.certificate_status(record) != "Active":
            return "Nieważny certyfikat"
        return None

    # -- permissions -----------------------------------------------------------------------------------------
    def _personal_grants(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        subject, context = session["subject"], session["nip"]
        # the Owner role is not a grant and is not listed (uprawnienia.md, "Pobranie listy własnych uprawnień")
        scopes = (
            []
            if subject == ("Nip", context.split("-")[0])
            else sorted(self.grant_scopes.get((subject[1], context), ()))
        )
        wanted = set((request.json() or {}).get("permissionTypes") or scopes)
        permissions = [
            {
                "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ksef:{context}:{subject[1]}:{scope}")),
                "contextIdentifier": {"type": "Nip" if "-" not in context else "InternalId", "value": context},
                "authorizedIdentifier": {"type": subject[0], "value": subject[1]},
                "permissionScope": scope,
                "description": "Uprawnienie nadane w symulatorze",
                "permissionState": "Active",
                "startDate": format_datetime(self.started),
                "canDelegate": False,
            }
            for scope in scopes
            if scope in wanted
        ]
        return Response.json({"permissions": permissions, "hasMore": False})

    # -- limits ----------------------------------------------------------------------------------------------
    def _context_limits(self, request):
        _session, denied = self._session(request)
        if denied:
            return denied
        return Response.json({"onlineSession": dict(CONTEXT_LIMITS), "batchSession": dict(CONTEXT_LIMITS)})

    def _subject_limits(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        requests_allowed, certificates_allowed = CERTIFICATE_LIMITS[session["subject"][0]]
        return Response.json(
            {
                "enrollment": {"maxEnrollments": requests_allowed},
                "certificate": {"maxCertificates": certificates_allowed},
            }
        )

    def _rate_limits_answer(self, request):
        _session, denied = self._session(request)
        if denied:
            return denied
        # limity-api.md: "Pozostałe GET /sessions/*" 10/120/1200 and "Pozostałe POST/GET /*" 10/30/120
        answer = {name: _window_values((10, 30, 120)) for name in RATE_LIMIT_NAMES.values()}
        answer["sessionList"] = _window_values((10, 120, 1200))
        answer["other"] = _window_values((10, 30, 120))
        for family, name in RATE_LIMIT_NAMES.items():
            limit = self.limits.get(family)
            if limit:
                answer[name] = _window_values(limit)
        return Response.json(answer)

    # -- authentication sessions -----------------------------------------------------------------------------
    def _auth_sessions(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        items = []
        for reference, operation in self.auth_operations.items():
            if operation["nip"] != session["nip"] or operation.get("ended"):
                continue
            item = self._auth_item(operation)
            item["referenceNumber"] = reference
            item["isCurrent"] = reference == session["auth"]
            items.append(item)
        return Response.json({"items": items})

    def _end_current_session(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        self._end_auth(session["auth"])
        return Response(204)

    def _end_session(self, request):
        session, denied = self._session(request)
        if denied:
            return denied
        operation = self.auth_operations.get(request.params["ref"])
        if operation is None or operation["nip"] != session["nip"]:
            return self._invalid(f"Sesja {request.params['ref']} nie istnieje.")
        self._end_auth(request.params["ref"])
        return Response(204)

    def _end_auth(self, reference):
        """Revoke an authentication: its refresh token and the access tokens issued from it stop working."""
        self.auth_operations[reference]["ended"] = True
        for tokens in (self.access_tokens, self.refresh_tokens):
            for token in [t for t, record in tokens.items() if record.get("auth") == reference]:
                del tokens[token]

    # -- TEST environment data -------------------------------------------------------------------------------
    def _testdata_ok(self, request):
        return Response(200)

    def _testdata_grant(self, request):
        body = request.json() or {}
        context = (body.get("contextIdentifier") or {}).get("value")
        subject = (body.get("authorizedIdentifier") or {}).get("value")
        permissions = [p.get("permissionType") for p in body.get("permissions") or [] if isinstance(p, dict)]
        if not context or not subject or not permissions:
            return self._invalid("contextIdentifier, authorizedIdentifier, permissions")
        self.grant(subject, context, set(self.grant_scopes.get((subject, context), ())) | set(permissions))
        return Response(200)

    def _testdata_revoke(self, request):
        body = request.json() or {}
        key = (
            (body.get("authorizedIdentifier") or {}).get("value"),
            (body.get("contextIdentifier") or {}).get("value"),
        )
        self.grants.discard(key)
        self.grant_scopes.pop(key, None)
        return Response(200)

    def _testdata_block(self, request):
        context = ((request.json() or {}).get("contextIdentifier") or {}).get("value")
        if not context:
            return self._invalid("contextIdentifier")
        self.blocked_contexts.add(context)
        return Response(200)

    def _testdata_unblock(self, request):
        context = ((request.json() or {}).get("contextIdentifier") or {}).get("value")
        self.blocked_contexts.discard(context)
        return Response(200)


def _window_values(limit):
    per_second, per_minute, per_hour = (value or 0 for value in limit)
    return {"perSecond": per_second, "perMinute": per_minute, "perHour": per_hour}
