"""XAdES-BES enveloped signatures in the profile KSeF accepts, and the matching verifier.

Profile: exclusive canonicalisation, SHA-256 digests, RSA PKCS#1 v1.5 SHA-256 (RSA-PSS is reported to fail in
practice) or ECDSA SHA-256 with the signature value as r||s (IEEE P1363, as XMLDSig requires, not DER);
``SignedProperties`` with ``SigningTime`` and ``SigningCertificate`` (digest + issuer/serial), and the certificate
in ``KeyInfo``. The verifier serves the simulator (and anyone who wants to check a UPO).
"""

import base64
import copy
import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from ..errors import EInvoiceError
from ..i18n import _
from ..xmlsafe import parse_xml
from .crypto import b64, ecdsa_sign_p1363

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
AUTH_NS = "http://ksef.mf.gov.pl/auth/token/2.0"
AUTH_NAMESPACES = (AUTH_NS, "http://ksef.mf.gov.pl/auth/token/2.1")

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"

SIGNATURE_ID = "Signature"
SIGNED_PROPERTIES_ID = "SignedProperties"


class SignatureError(EInvoiceError):
    """A signed document whose signature does not hold."""


@dataclass(frozen=True)
class VerifiedDocument:
    root: object
    certificate: x509.Certificate
    signing_time: str


def canonical(element):
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def digest_b64(data):
    return b64(hashlib.sha256(data).digest())


def auth_token_request(challenge, context_value, *, context_type="Nip", subject_type="certificateSubject"):
    """The unsigned ``AuthTokenRequest`` XML for a XAdES login."""
    root = etree.Element(f"{{{AUTH_NS}}}AuthTokenRequest", nsmap={None: AUTH_NS})
    etree.SubElement(root, f"{{{AUTH_NS}}}Challenge").text = challenge
    context = etree.SubElement(root, f"{{{AUTH_NS}}}ContextIdentifier")
    etree.SubElement(context, f"{{{AUTH_NS}}}{context_type}").text = context_value
    etree.SubElement(root, f"{{{AUTH_NS}}}SubjectIdentifierType").text = subject_type
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def sign_enveloped(xml_bytes, credentials, *, signing_time=None):
    """``xml_bytes`` with a XAdES-BES signature appended to its root element."""
    root = parse_xml(xml_bytes, what=_("document to sign"))
    document_digest = digest_b64(canonical(root))
    signing_time = (signing_time or datetime.now(timezone.utc)).astimezone(timezone.utc)
    certificate = credentials.certificate
    certificate_der = certificate.public_bytes(serialization.Encoding.DER)

    signature = _ds(root, "Signature", Id=SIGNATURE_ID)
    signed_info = _ds(signature, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=EXC_C14N)
    _ds(signed_info, "SignatureMethod", Algorithm=ECDSA_SHA256 if credentials.is_ec else RSA_SHA256)
    _reference(signed_info, "", [ENVELOPED, EXC_C14N], document_digest)
    properties_reference = _reference(signed_info, f"#{SIGNED_PROPERTIES_ID}", [EXC_C14N], "")
    properties_reference.set("Type", SIGNED_PROPERTIES_TYPE)
    signature_value = _ds(signature, "SignatureValue")
    x509_data = _ds(_ds(signature, "KeyInfo"), "X509Data")
    _ds(x509_data, "X509Certificate").text = b64(certificate_der)

    qualifying = etree.SubElement(
        _ds(signature, "Object"), f"{{{XADES}}}QualifyingProperties", Target=f"#{SIGNATURE_ID}", nsmap={"xades": XADES}
    )
    signed_properties = etree.SubElement(qualifying, f"{{{XADES}}}SignedProperties", Id=SIGNED_PROPERTIES_ID)
    signature_properties = etree.SubElement(signed_properties, f"{{{XADES}}}SignedSignatureProperties")
    etree.SubElement(signature_properties, f"{{{XADES}}}SigningTime").text = signing_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    cert = etree.SubElement(
        etree.SubElement(signature_properties, f"{{{XADES}}}SigningCertificate"), f"{{{XADES}}}Cert"
    )
    cert_digest = etree.SubElement(cert, f"{{{XADES}}}CertDigest")
    _ds(cert_digest, "DigestMethod", Algorithm=SHA256)
    _ds(cert_digest, "DigestValue").text = digest_b64(certificate_der)
    issuer_serial = etree.SubElement(cert, f"{{{XADES}}}IssuerSerial")
    _ds(issuer_serial, "X509IssuerName").text = certificate.issuer.rfc4514_string()
    _ds(issuer_serial, "X509SerialNumber").text = str(certificate.serial_number)

    properties_reference.find(f"{{{DS}}}DigestValue").text = digest_b64(canonical(signed_properties))
    signature_value.text = b64(_sign(credentials.private_key, canonical(signed_info)))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def _ds(parent, name, **attributes):
    return etree.SubElement(parent, f"{{{DS}}}{name}", attributes, nsmap={"ds": DS})


def _reference(signed_info, uri, transforms, digest):
    reference = _ds(signed_info, "Reference", URI=uri)
    transforms_element = _ds(reference, "Transforms")
    for algorithm in transforms:
        _ds(transforms_element, "Transform", Algorithm=algorithm)
    _ds(reference, "DigestMethod", Algorithm=SHA256)
    _ds(reference, "DigestValue").text = digest
    return reference


def _sign(private_key, data):
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return ecdsa_sign_p1363(private_key, data)
    return private_key.sign(data, asym_padding.PKCS1v15(), hashes.SHA256())


def verify_enveloped(xml_bytes):
    """Check the one XAdES signature of ``xml_bytes`` and return what it vouches for; raise SignatureError.
    Whether the certificate is valid now and trusted is the caller's policy."""
    root = parse_xml(xml_bytes, what=_("signed document"))
    signatures = root.findall(f".//{{{DS}}}Signature")
    if not signatures:
        raise SignatureError(_("The document is not signed."))
    if len(signatures) > 1:
        raise SignatureError(_("The document carries more than one signature."))
    signature = signatures[0]
    signed_info = _required(signature, "ds:SignedInfo")
    method = _required(signed_info, "ds:SignatureMethod").get("Algorithm")
    if _required(signed_info, "ds:CanonicalizationMethod").get("Algorithm") != EXC_C14N:
        raise SignatureError(_("The signature uses a canonicalisation method that is not supported."))
    certificate = _certificate(signature)
    _check_references(root, signature, signed_info)
    signed_properties = _required(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    _check_signing_certificate(signed_properties, certificate)
    value = base64.b64decode(_required(signature, "ds:SignatureValue").text or "")
    _verify_value(certificate.public_key(), method, value, canonical(signed_info))
    signing_time = _required(signed_properties, "xades:SignedSignatureProperties/xades:SigningTime").text
    return VerifiedDocument(root, certificate, signing_time)


_NS = {"ds": DS, "xades": XADES}


def _required(element, path):
    found = element.find(path, _NS)
    if found is None:
        raise SignatureError(_("The signature has no %(element)s element.", element=path.rsplit("/", 1)[-1]))
    return found


def _certificate(signature):
    text = _required(signature, "ds:KeyInfo/ds:X509Data/ds:X509Certificate").text or ""
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(text.split())))
    except ValueError:
        raise SignatureError(_("The certificate in the signature cannot be read.")) from None


def _check_references(root, signature, signed_info):
    seen_document = seen_properties = False
    for reference in signed_info.findall("ds:Reference", _NS):
        uri = reference.get("URI")
        transforms = [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", _NS)]
        if _required(reference, "ds:DigestMethod").get("Algorithm") != SHA256:
            raise SignatureError(_("The signature uses a digest method that is not supported."))
        if uri == "":
            if transforms != [ENVELOPED, EXC_C14N] and transforms != [ENVELOPED]:
                raise SignatureError(_("The document reference must use the enveloped-signature transform."))
            target = _without_signature(root, signature)
            seen_document = True
        elif uri == f"#{signature.find('.//xades:SignedProperties', _NS).get('Id')}":
            target = _required(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
            seen_properties = True
        else:
            raise SignatureError(_("The signature refers to %(uri)s, which is not supported.", uri=uri))
        if digest_b64(canonical(target)) != (_required(reference, "ds:DigestValue").text or "").strip():
            raise SignatureError(_("The signed content was changed after signing (digest mismatch)."))
    if not (seen_document and seen_properties):
        raise SignatureError(_("The signature must cover both the document and its signed properties."))


def _without_signature(root, signature):
    """The enveloped-signature transform: the document with the Signature element removed, its tail kept."""
    copied = copy.deepcopy(root)
    removed = list(copied.iter())[list(root.iter()).index(signature)]
    parent = removed.getparent()
    if removed.tail:
        previous = removed.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + removed.tail
        else:
            parent.text = (parent.text or "") + removed.tail
    parent.remove(removed)
    return copied


def _check_signing_certificate(signed_properties, certificate):
    path = "xades:SignedSignatureProperties/xades:SigningCertificate/xades:Cert/xades:CertDigest/ds:DigestValue"
    expected = (_required(signed_properties, path).text or "").strip()
    if expected != digest_b64(certificate.public_bytes(serialization.Encoding.DER)):
        raise SignatureError(_("The SigningCertificate digest does not match the certificate in KeyInfo."))


def _verify_value(public_key, method, value, data):
    try:
        if method == RSA_SHA256 and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, data, asym_padding.PKCS1v15(), hashes.SHA256())
        elif method == ECDSA_SHA256 and isinstance(public_key, ec.EllipticCurvePublicKey):
            size = (public_key.curve.key_size + 7) // 8
            if len(value) != 2 * size:
                raise SignatureError(_("The ECDSA signature value must be r||s, not DER."))
            r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureError(_("The signature method does not match the certificate key."))
    except InvalidSignature:
        raise SignatureError(_("The signature value is not valid.")) from None
