"""The cryptography KSeF asks for: AES session keys, RSA-OAEP key wrapping, hashes, and signing credentials.

KSeF encrypts invoices with AES-256-CBC (PKCS#7) under a key the client draws per session and wraps with the
Ministry's RSA key (OAEP, SHA-256, MGF1-SHA-256, empty label). The IV travels in ``initializationVector`` only;
it is not prefixed to the ciphertext.
"""

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12

from ..errors import EInvoiceError
from ..i18n import _

AES_KEY_BYTES = 32
AES_IV_BYTES = 16
ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")


class CredentialsError(EInvoiceError):
    """A certificate or private key that cannot be used to sign in to KSeF."""


class PasswordRequiredError(CredentialsError):
    """The private key (or PKCS#12 file) is protected by a password, and none was given."""


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sha256_b64(data):
    """Base64 of the SHA-256 of ``data``: how KSeF names every hash."""
    return b64(hashlib.sha256(data).digest())


@dataclass(frozen=True)
class FileDigest:
    """The hash and size KSeF checks for a file it receives."""

    hash: str
    size: int

    @classmethod
    def of(cls, data):
        return cls(sha256_b64(data), len(data))


@dataclass(frozen=True)
class SessionKey:
    """One AES-256 key and IV, drawn fresh for each session or export."""

    key: bytes
    iv: bytes

    @classmethod
    def generate(cls):
        return cls(os.urandom(AES_KEY_BYTES), os.urandom(AES_IV_BYTES))

    def encrypt(self, data):
        padder = padding.PKCS7(128).padder()
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).encryptor()
        return encryptor.update(padder.update(data) + padder.finalize()) + encryptor.finalize()

    def decrypt(self, data):
        """The plain bytes; ValueError when ``data`` was not encrypted with this key."""
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.iv)).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return unpadder.update(padded) + unpadder.finalize()

    def decrypt_matching(self, data, expected_hash):
        """Decrypt a file whose plain SHA-256 (base64) should be ``expected_hash``. Older documentation also put
        the IV in front of the ciphertext; such a file decrypts to 16 stray bytes before the content, dropped here.
        The caller still compares the hash of what comes back."""
        plain = self.decrypt(data)
        if sha256_b64(plain) != expected_hash and sha256_b64(plain[AES_IV_BYTES:]) == expected_hash:
            return plain[AES_IV_BYTES:]
        return plain


def _oaep():
    return asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def rsa_oaep_encrypt(public_key, data):
    return public_key.encrypt(data, _oaep())


def rsa_oaep_decrypt(private_key, data):
    return private_key.decrypt(data, _oaep())


def encrypt_ksef_token(public_key, token, timestamp_ms):
    """The ``encryptedToken`` of a KSeF-token login: ``token|timestampMs`` wrapped for the Ministry, in base64."""
    return b64(rsa_oaep_encrypt(public_key, f"{token}|{timestamp_ms}".encode()))


def ecdsa_sign_p1363(private_key, data):
    """ECDSA SHA-256 signature as r||s (IEEE P1363), the form XMLDSig and KOD II use instead of DER. ``s`` is
    given in its low form, which every verifier accepts."""
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    order = _CURVE_ORDERS.get(private_key.curve.name)
    if order and s > order // 2:
        s = order - s
    size = (private_key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


_CURVE_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
}


def public_key_id(certificate):
    """KSeF's ``publicKeyId``: base64 SHA-256 of the certificate's SubjectPublicKeyInfo."""
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return sha256_b64(spki)


def certificate_validity(certificate):
    """``(not_before, not_after)`` as aware UTC datetimes, on every supported cryptography release."""
    if hasattr(certificate, "not_valid_before_utc"):
        return certificate.not_valid_before_utc, certificate.not_valid_after_utc
    return (
        certificate.not_valid_before.replace(tzinfo=timezone.utc),
        certificate.not_valid_after.replace(tzinfo=timezone.utc),
    )


def certificate_nip(certificate):
    """The NIP a KSeF certificate names: ``serialNumber`` TINPL-/NIP- (person) or ``organizationIdentifier``
    VATPL- (company seal); None when it names none (e.g. a PESEL-only personal certificate)."""
    subject = certificate.subject
    for attribute in subject.get_attributes_for_oid(ORGANIZATION_IDENTIFIER):
        match = re.fullmatch(r"VATPL-(\d{10})", attribute.value)
        if match:
            return match.group(1)
    for attribute in subject.get_attributes_for_oid(x509.NameOID.SERIAL_NUMBER):
        match = re.fullmatch(r"(?:TINPL|NIP).*?(\d{10})", attribute.value)
        if match:
            return match.group(1)
    return None


@dataclass(frozen=True)
class Credentials:
    """A certificate with its private key (RSA or EC P-256), ready to sign."""

    certificate: x509.Certificate
    private_key: object

    @property
    def is_ec(self):
        return isinstance(self.private_key, ec.EllipticCurvePrivateKey)

    @property
    def nip(self):
        return certificate_nip(self.certificate)

    @property
    def serial_hex(self):
        """The serial number as KSeF prints it: uppercase hex, at least 16 digits."""
        return f"{self.certificate.serial_number:016X}"


def load_credentials(certificate_data, key_data, password=None, *, now=None):
    """Credentials from a ``.crt`` and a ``.key`` (PEM or DER, the key usually encrypted PKCS#8)."""
    certificate = load_certificate(certificate_data)
    private_key = _load_private_key(key_data, password)
    return _checked(certificate, private_key, now)


def load_pkcs12(data, password=None, *, now=None):
    """Credentials from a ``.p12`` / ``.pfx`` file."""
    try:
        private_key, certificate, _chain = pkcs12.load_key_and_certificates(data, _password_bytes(password))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        error = CredentialsError if password else PasswordRequiredError
        raise error(_("The PKCS#12 file cannot be opened: the password is wrong or the file is damaged.")) from None
    if certificate is None or private_key is None:
        raise CredentialsError(_("The PKCS#12 file must hold both the certificate and its private key."))
    return _checked(certificate, private_key, now)


def _password_bytes(password):
    if password is None or isinstance(password, bytes):
        return password or None
    return password.encode("utf-8")


def load_certificate(data):
    """The X.509 certificate of a ``.crt`` file's bytes, PEM or DER; :class:`CredentialsError` when it is not one."""
    loader = x509.load_pem_x509_certificate if b"-----BEGIN" in data else x509.load_der_x509_certificate
    try:
        return loader(data)
    except ValueError:
        raise CredentialsError(_("The certificate file is not a PEM or DER X.509 certificate.")) from None


def _load_private_key(data, password):
    password = _password_bytes(password)
    loader = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return loader(data, password=password)
    except TypeError:
        # cryptography says TypeError when a password is missing for an encrypted key, or given for a plain one
        if password is None:
            raise PasswordRequiredError(_("The private key is protected by a password; please enter it.")) from None
        return _load_private_key(data, None)
    except (ValueError, UnsupportedAlgorithm):
        if password is None:
            raise CredentialsError(_("The key file is not a PEM or DER private key.")) from None
        raise CredentialsError(_("The password of the private key is wrong, or the key file is damaged.")) from None


def _checked(certificate, private_key, now):
    if not isinstance(private_key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CredentialsError(_("Only RSA and ECDSA keys can sign in to KSeF."))
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and private_key.curve.key_size < 256:
        raise CredentialsError(_("An ECDSA key for KSeF needs a curve of at least 256 bits."))
    if isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size < 2048:
        raise CredentialsError(_("An RSA key for KSeF needs at least 2048 bits."))
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if private_key.public_key().public_bytes(
        serialization.Encoding.DER, public
    ) != certificate.public_key().public_bytes(serialization.Encoding.DER, public):
        raise CredentialsError(_("The private key does not belong to the certificate."))
    now = now or datetime.now(timezone.utc)
    not_before, not_after = certificate_validity(certificate)
    if now < not_before:
        raise CredentialsError(
            _("The certificate is not valid yet: it becomes valid on %(date)s.", date=not_before.isoformat())
        )
    if now > not_after:
        raise CredentialsError(_("The certificate expired on %(date)s.", date=not_after.isoformat()))
    return Credentials(certificate, private_key)
