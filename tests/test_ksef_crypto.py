"""KSeF cryptography, credentials, XAdES and QR links, each checked by an independent path (plain cryptography and
lxml's own canonicalisation), not by the code under test."""

import base64
import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from lxml import etree

from einvoice.pl import qr, xades
from einvoice.pl.crypto import (
    CredentialsError,
    FileDigest,
    SessionKey,
    encrypt_ksef_token,
    load_certificate,
    load_credentials,
    load_pkcs12,
    public_key_id,
)

NIP = "5265877635"
DS = {"ds": "http://www.w3.org/2000/09/xmldsig#", "xades": "http://uri.etsi.org/01903/v1.3.2#"}
NOW = datetime.now(timezone.utc)
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def make_certificate(key, *, nip=NIP, company=False, not_before=None, days=365, key_usage=None, serial_number=None):
    """A self-signed certificate naming ``nip`` the way KSeF reads it (person: serialNumber TINPL-, company seal:
    organizationIdentifier VATPL-); a person's ``serial_number`` (e.g. PNOPL-PESEL, or "" for none) instead."""
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"), x509.NameAttribute(NameOID.COMMON_NAME, "Test")]
    if company:
        attributes.append(x509.NameAttribute(x509.ObjectIdentifier("2.5.4.97"), f"VATPL-{nip}"))
    else:
        attributes += [
            x509.NameAttribute(NameOID.GIVEN_NAME, "Jan"),
            x509.NameAttribute(NameOID.SURNAME, "Kowalski"),
        ]
        serial_number = f"TINPL-{nip}" if serial_number is None else serial_number
        if serial_number:
            attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number))
    name = x509.Name(attributes)
    not_before = not_before or NOW - timedelta(days=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
    )
    if key_usage:
        builder = builder.add_extension(key_usage, critical=True)
    return builder.sign(key, hashes.SHA256())


def rsa_key():
    return rsa.generate_private_key(65537, 2048)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


def encrypted_pkcs8(key, password):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )


def make_credentials(key=None, **kwargs):
    key = key or rsa_key()
    return load_credentials(pem(make_certificate(key, **kwargs)), encrypted_pkcs8(key, b"secret"), "secret")


# -- symmetric and RSA-OAEP --------------------------------------------------------------------------------------
def test_session_key_is_aes_256_cbc_pkcs7_without_iv_prefix():
    key = SessionKey.generate()
    plain = b"<Faktura>" + "zażółć".encode() + b"</Faktura>"
    encrypted = key.encrypt(plain)
    assert len(key.key) == 32 and len(key.iv) == 16
    assert len(encrypted) == (len(plain) // 16 + 1) * 16  # padding only, no IV in front
    decryptor = Cipher(algorithms.AES(key.key), modes.CBC(key.iv)).decryptor()
    padded = decryptor.update(encrypted) + decryptor.finalize()
    assert padded[: -padded[-1]] == plain
    assert key.decrypt(encrypted) == plain


def test_file_digest_is_base64_sha256_and_size():
    assert FileDigest.of(b"abc") == FileDigest(base64.b64encode(hashlib.sha256(b"abc").digest()).decode(), 3)


def test_ksef_token_is_rsa_oaep_sha256_of_token_and_timestamp():
    ministry = rsa_key()
    encrypted = encrypt_ksef_token(ministry.public_key(), "20250101-TK-1|nip-1|abc", 1747224840123)
    oaep = asym_padding.OAEP(mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    assert ministry.decrypt(base64.b64decode(encrypted), oaep) == b"20250101-TK-1|nip-1|abc|1747224840123"


def test_public_key_id_is_the_sha256_of_the_subject_public_key_info():
    key = rsa_key()
    certificate = make_certificate(key)
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public_key_id(certificate) == base64.b64encode(hashlib.sha256(spki).digest()).decode()


# -- credentials ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make_key", [rsa_key, ec_key])
def test_crt_and_encrypted_pkcs8_key_load_for_rsa_and_ec(make_key):
    key = make_key()
    credentials = load_credentials(pem(make_certificate(key)), encrypted_pkcs8(key, b"p4ss"), "p4ss")
    assert credentials.nip == NIP
    assert credentials.is_ec == isinstance(key, ec.EllipticCurvePrivateKey)


def test_der_certificate_and_der_key_load():
    key = ec_key()
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"x")
    )
    certificate = make_certificate(key, company=True)
    credentials = load_credentials(certificate.public_bytes(serialization.Encoding.DER), der_key, "x")
    assert credentials.nip == NIP


def test_pkcs12_loads_and_a_wrong_password_is_explained():
    key = rsa_key()
    data = pkcs12.serialize_key_and_certificates(
        b"ksef", key, make_certificate(key), None, serialization.BestAvailableEncryption(b"good")
    )
    assert load_pkcs12(data, "good").nip == NIP
    with pytest.raises(CredentialsError, match="password is wrong"):
        load_pkcs12(data, "bad")


def test_wrong_or_missing_key_password_is_explained():
    key = rsa_key()
    certificate = pem(make_certificate(key))
    with pytest.raises(CredentialsError, match="password of the private key is wrong"):
        load_credentials(certificate, encrypted_pkcs8(key, b"good"), "bad")
    with pytest.raises(CredentialsError, match="protected by a password"):
        load_credentials(certificate, encrypted_pkcs8(key, b"good"), None)


def test_a_certificate_file_loads_as_pem_or_der_and_anything_else_is_explained():
    certificate = make_certificate(rsa_key())
    assert load_certificate(pem(certificate)) == certificate
    assert load_certificate(certificate.public_bytes(serialization.Encoding.DER)) == certificate
    for junk in (b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", b"\x30\x03junk", b""):
        with pytest.raises(CredentialsError, match="not a PEM or DER X"):
            load_certificate(junk)


def test_expired_and_not_yet_valid_certificates_are_refused():
    key = rsa_key()
    expired = make_certificate(key, not_before=NOW - timedelta(days=30), days=10)
    future = make_certificate(key, not_before=NOW + timedelta(days=3))
    with pytest.raises(CredentialsError, match="expired"):
        load_credentials(pem(expired), encrypted_pkcs8(key, b"x"), "x")
    with pytest.raises(CredentialsError, match="not valid yet"):
        load_credentials(pem(future), encrypted_pkcs8(key, b"x"), "x")


def test_a_key_of_another_certificate_is_refused():
    certificate = make_certificate(rsa_key())
    with pytest.raises(CredentialsError, match="does not belong"):
        load_credentials(pem(certificate), encrypted_pkcs8(rsa_key(), b"x"), "x")


def test_garbage_is_not_a_certificate():
    with pytest.raises(CredentialsError, match="not a PEM or DER"):
        load_credentials(b"hello", b"world", "x")


# -- XAdES ---------------------------------------------------------------------------------------------------------
def _independently_verified(signed, public_key):
    """Check a signature from scratch: lxml exclusive c14n and plain cryptography."""
    root = etree.fromstring(signed)
    signature = root.find("ds:Signature", DS)
    document_reference, properties_reference = signature.findall("ds:SignedInfo/ds:Reference", DS)
    root.remove(signature)
    c14n = etree.tostring(root, method="c14n", exclusive=True)
    root.append(signature)
    assert base64.b64encode(hashlib.sha256(c14n).digest()).decode() == document_reference.findtext(
        "ds:DigestValue", namespaces=DS
    )
    signed_properties = signature.find(".//xades:SignedProperties", DS)
    assert properties_reference.get("URI") == "#" + signed_properties.get("Id")
    assert properties_reference.get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    properties_c14n = etree.tostring(signed_properties, method="c14n", exclusive=True)
    assert base64.b64encode(hashlib.sha256(properties_c14n).digest()).decode() == properties_reference.findtext(
        "ds:DigestValue", namespaces=DS
    )
    signed_info = etree.tostring(signature.find("ds:SignedInfo", DS), method="c14n", exclusive=True)
    value = base64.b64decode(signature.findtext("ds:SignatureValue", namespaces=DS))
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        assert len(value) == 64  # r||s, not DER
        assert int.from_bytes(value[32:], "big") <= P256_ORDER // 2  # low-S
        der = encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
        public_key.verify(der, signed_info, ec.ECDSA(hashes.SHA256()))
    else:
        public_key.verify(value, signed_info, asym_padding.PKCS1v15(), hashes.SHA256())
    return signature


@pytest.mark.parametrize(
    ("make_key", "method"),
    [
        (rsa_key, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
        (ec_key, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"),
    ],
)
def test_auth_token_request_signature_verifies_independently(make_key, method):
    credentials = make_credentials(make_key())
    unsigned = xades.auth_token_request("20250514-CR-2DFC46C000-3AC6D5877F-D4", NIP)
    signed = xades.sign_enveloped(unsigned, credentials, signing_time=datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    signature = _independently_verified(signed, credentials.certificate.public_key())
    assert signature.find("ds:SignedInfo/ds:SignatureMethod", DS).get("Algorithm") == method
    assert signature.findtext(".//xades:SigningTime", namespaces=DS) == "2026-03-02T09:00:00Z"
    certificate_der = credentials.certificate.public_bytes(serialization.Encoding.DER)
    assert (
        signature.findtext(".//xades:CertDigest/ds:DigestValue", namespaces=DS)
        == base64.b64encode(hashlib.sha256(certificate_der).digest()).decode()
    )
    assert signature.findtext(".//xades:IssuerSerial/ds:X509SerialNumber", namespaces=DS) == str(
        credentials.certificate.serial_number
    )
    root = etree.fromstring(signed)
    assert root.findtext("{http://ksef.mf.gov.pl/auth/token/2.0}ContextIdentifier/{*}Nip") == NIP
    assert xades.verify_enveloped(signed).certificate == credentials.certificate


def test_the_verifier_catches_changed_content_and_der_ecdsa_values():
    credentials = make_credentials(ec_key())
    signed = xades.sign_enveloped(xades.auth_token_request("20250514-CR-AAAAAAAAAA-BBBBBBBBBB-CC", NIP), credentials)
    with pytest.raises(xades.SignatureError, match="digest mismatch"):
        xades.verify_enveloped(signed.replace(NIP.encode(), b"1111111111"))
    root = etree.fromstring(signed)
    value = root.find(".//ds:SignatureValue", DS)
    raw = base64.b64decode(value.text)
    value.text = base64.b64encode(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    ).decode()
    with pytest.raises(xades.SignatureError, match="r\\|\\|s"):
        xades.verify_enveloped(etree.tostring(root))


# -- QR links ------------------------------------------------------------------------------------------------------
def _b64url_sha256(data):
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    ("environment", "host"),
    [("test", "qr-test.ksef.mf.gov.pl"), ("demo", "qr-demo.ksef.mf.gov.pl"), ("prod", "qr.ksef.mf.gov.pl")],
)
def test_kod_i_puts_the_nip_first_then_the_issue_date(environment, host):
    xml = b"<Faktura>1</Faktura>"
    link = qr.invoice_link(environment, NIP, date(2026, 2, 5), xml)
    assert link == f"https://{host}/invoice/{NIP}/05-02-2026/{_b64url_sha256(xml)}"
    assert "=" not in link
    assert qr.invoice_link_label(None) == "OFFLINE"
    assert qr.invoice_link_label("5265877635-20250916-020000583241-84") == "5265877635-20250916-020000583241-84"


OFFLINE_USAGE = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
AUTH_USAGE = x509.KeyUsage(True, False, False, False, False, False, False, False, False)


@pytest.mark.parametrize("make_key", [rsa_key, ec_key])
def test_kod_ii_is_signed_over_the_path_and_verifies_independently(make_key):
    key = make_key()
    credentials = make_credentials(key, key_usage=OFFLINE_USAGE)
    xml = b"<Faktura>2</Faktura>"
    link = qr.certificate_link("test", credentials, NIP, xml)
    assert link.startswith(f"https://qr-test.ksef.mf.gov.pl/certificate/Nip/{NIP}/{NIP}/")
    path, encoded = link[len("https://") :].rsplit("/", 1)
    serial, digest = path.split("/")[-2:]
    assert serial == f"{credentials.certificate.serial_number:016X}"
    assert digest == _b64url_sha256(xml)
    signature = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if isinstance(key, ec.EllipticCurvePrivateKey):
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        key.public_key().verify(der, path.encode(), ec.ECDSA(hashes.SHA256()))
    else:
        pss = asym_padding.PSS(mgf=asym_padding.MGF1(hashes.SHA256()), salt_length=32)
        key.public_key().verify(signature, path.encode(), pss, hashes.SHA256())
        with pytest.raises(InvalidSignature):
            key.public_key().verify(signature, (path + "x").encode(), pss, hashes.SHA256())


def test_kod_ii_refuses_an_authentication_certificate():
    credentials = make_credentials(ec_key(), key_usage=AUTH_USAGE)
    with pytest.raises(qr.EInvoiceError, match="Offline KSeF certificate"):
        qr.certificate_link("prod", credentials, NIP, b"<Faktura/>")
