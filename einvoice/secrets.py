"""Secrets at rest: client secrets, tokens, private keys and their passwords.

A :class:`SecretBox` is built from one or more keys taken from configuration (the first encrypts, all of them
decrypt, so a key can be rotated). Any string serves as a key: it is stretched with HKDF-SHA256 into a Fernet key
(AES-128-CBC + HMAC-SHA256, authenticated), so a wrong key is detected and never yields garbage.
"""

import base64
import secrets as _random

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import EInvoiceError
from .i18n import _

PREFIX = "einv1:"
_HKDF_SALT = b"einvoice-secrets"
_HKDF_INFO = b"fernet-key-v1"


class SecretKeyError(EInvoiceError):
    """The configured key is missing, or is not the key the secret was encrypted with."""


class SecretNotTextError(SecretKeyError):
    """A stored secret decrypts, but is not the text it should be (not UTF-8): it has to be entered again."""


def generate_key():
    """A new random key, suitable for the server configuration."""
    return base64.urlsafe_b64encode(_random.token_bytes(32)).decode("ascii")


class SecretBox:
    def __init__(self, keys):
        if isinstance(keys, (str, bytes)):
            keys = [keys]
        keys = [key for key in keys if key]
        if not keys:
            raise SecretKeyError(_("No encryption key is configured for e-invoicing secrets."))
        self._fernet = MultiFernet([Fernet(_derive(key)) for key in keys])

    def encrypt(self, plaintext):
        """``plaintext`` (str or bytes) as an ASCII token ``einv1:...``."""
        if isinstance(plaintext, str):
            plaintext = plaintext.encode("utf-8")
        return PREFIX + self._fernet.encrypt(plaintext).decode("ascii")

    def decrypt(self, token):
        """The bytes that :meth:`encrypt` was given."""
        if not isinstance(token, str) or not token.startswith(PREFIX):
            raise SecretKeyError(_("This value is not an encrypted e-invoicing secret."))
        try:
            return self._fernet.decrypt(token[len(PREFIX) :].encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise SecretKeyError(
                _(
                    "A stored e-invoicing secret cannot be decrypted with the configured key. "
                    "Restore the key it was saved with, or enter the secret again."
                )
            ) from None

    def decrypt_text(self, token):
        try:
            return self.decrypt(token).decode("utf-8")
        except UnicodeDecodeError:
            raise SecretNotTextError(
                _("A stored e-invoicing secret is not text (it is not valid UTF-8). Enter the secret again.")
            ) from None

    def rotate(self, token):
        """``token`` encrypted again under the first key."""
        return self.encrypt(self.decrypt(token))


def _derive(key):
    if isinstance(key, str):
        key = key.encode("utf-8")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO, backend=default_backend())
    return base64.urlsafe_b64encode(hkdf.derive(key))
