"""KSeF verification links printed as QR codes (KOD I, KOD II) and the Latarnia availability check."""

import base64
import hashlib
import time
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding

from ..errors import EInvoiceError
from ..http import HttpClient, PlatformUnavailableError
from ..i18n import _
from .crypto import ecdsa_sign_p1363

QR_HOSTS = {
    "test": "qr-test.ksef.mf.gov.pl",
    "demo": "qr-demo.ksef.mf.gov.pl",
    "prod": "qr.ksef.mf.gov.pl",
}
LATARNIA = {
    "test": "https://api-latarnia-test.ksef.mf.gov.pl",
    "prod": "https://api-latarnia.ksef.mf.gov.pl",
}
OFFLINE_LABEL = "OFFLINE"
CERTIFICATE_LABEL = "CERTYFIKAT"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def invoice_link(environment, seller_nip, issue_date, xml):
    """KOD I: ``https://{host}/invoice/{NIP}/{DD-MM-YYYY}/{Base64URL SHA-256 of the XML}``. NIP comes first,
    as in the official example and every client (one bullet list of the notes names the date first)."""
    digest = b64url(hashlib.sha256(xml).digest())
    return f"https://{QR_HOSTS[environment]}/invoice/{seller_nip}/{issue_date:%d-%m-%Y}/{digest}"


def invoice_link_label(ksef_number=None):
    """The text under KOD I: the KSeF number once known, else OFFLINE."""
    return ksef_number or OFFLINE_LABEL


def certificate_link(environment, credentials, seller_nip, xml, *, context_type="Nip", context_value=None):
    """KOD II for an offline invoice, signed with an Offline-type KSeF certificate (RSA-PSS SHA-256 with a
    32-byte salt, or ECDSA P-256 SHA-256 as r||s) over the path without scheme and trailing slash."""
    usage = _key_usage(credentials.certificate)
    if usage is not None and not usage.content_commitment:
        raise EInvoiceError(
            _("KOD II must be signed with an Offline KSeF certificate, not with an authentication certificate.")
        )
    digest = b64url(hashlib.sha256(xml).digest())
    path = (
        f"{QR_HOSTS[environment]}/certificate/{context_type}/{context_value or seller_nip}/{seller_nip}/"
        f"{credentials.serial_hex}/{digest}"
    )
    return f"https://{path}/{b64url(_sign(credentials.private_key, path.encode('ascii')))}"


def _key_usage(certificate):
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _sign(private_key, data):
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return ecdsa_sign_p1363(private_key, data)
    pss = asym_padding.PSS(mgf=asym_padding.MGF1(hashes.SHA256()), salt_length=32)
    return private_key.sign(data, pss, hashes.SHA256())


@dataclass(frozen=True)
class Availability:
    """What Latarnia says: AVAILABLE, MAINTENANCE, FAILURE or TOTAL_FAILURE, with its announcements.
    ``static`` marks a TEST/DEMO answer: that service is a stub and says nothing about real outages."""

    status: str
    messages: tuple = ()
    static: bool = False

    @property
    def available(self):
        return self.status == "AVAILABLE"


class Latarnia:
    """KSeF's availability service. TEST has its own host; DEMO has none and uses TEST's. That service is a static
    stub, so its answers are marked ``static`` and, when it cannot be reached, taken as AVAILABLE; on PROD an
    unreachable service is an error the caller sees. ``base_url`` overrides the address (the simulator)."""

    def __init__(self, environment="prod", *, base_url=None, timeout=(5, 15), sleep=time.sleep):
        self.static = environment != "prod"
        address = base_url or LATARNIA["prod" if environment == "prod" else "test"]
        self.http = HttpClient(address, platform="KSeF Latarnia", timeout=timeout, sleep=sleep)

    def status(self):
        try:
            data = self.http.get("/status").json()
        except PlatformUnavailableError:
            if not self.static:
                raise
            return Availability("AVAILABLE", static=True)
        messages = tuple(latest_versions(data.get("messages") or []))
        return Availability(data.get("status") or "AVAILABLE", messages, self.static)

    def messages(self):
        """Announcements, one per event (the highest version of each)."""
        try:
            return latest_versions(self.http.get("/messages").json())
        except PlatformUnavailableError:
            if not self.static:
                raise
            return []


def latest_versions(messages):
    latest = {}
    for message in messages:
        key = message.get("eventId", message.get("id"))
        if key not in latest or int(message.get("version") or 0) > int(latest[key].get("version") or 0):
            latest[key] = message
    return list(latest.values())
