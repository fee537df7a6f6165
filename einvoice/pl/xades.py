"""XAdES-BES enveloped signatures in the profile KSeF accepts, and a verifier of every form KSeF accepts.

The signer's profile: exclusive canonicalisation, SHA-256 digests, RSA PKCS#1 v1.5 SHA-256 or ECDSA SHA-256 with
the signature value as r||s (IEEE P1363, as XMLDSig requires, not DER);
``SignedProperties`` with ``SigningTime`` and ``SigningCertificate`` (digest + issuer/serial), and the certificate
in ``KeyInfo``. The verifier takes what ``podpis-xades.md`` allows (enveloped or enveloping, the canonicalisations,
transforms, digests and RSA, RSA-PSS and ECDSA methods it lists) and refuses the rest with the code KSeF answers; it
serves the simulator (and anyone who wants to check a UPO).
"""

import base64
import copy
import hashlib
import re
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

SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"

# What KSeF accepts, as podpis-xades.md ("Parametry techniczne podpisu XAdES") lists it. Canonicalisation, for
# SignedInfo and as transforms ("Dopuszczalne transformaty"): URI -> (exclusive, with comments). C14N 1.1 differs
# from 1.0 only in how a document subset inherits xml:id and xml:base from the ancestors it leaves out; lxml
# offers 1.0 only, so 1.1 is read as 1.0 (as signxml does too)
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_11 = "http://www.w3.org/2006/12/xml-c14n11"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
WITH_COMMENTS = "#WithComments"
C14N_METHODS = {
    C14N_10: (False, False),
    C14N_10 + WITH_COMMENTS: (False, True),
    C14N_11: (False, False),
    C14N_11 + WITH_COMMENTS: (False, True),
    EXC_C14N: (True, False),
    EXC_C14N.rstrip("#") + WITH_COMMENTS: (True, True),
}
# the other transforms of the list: enveloped-signature, XPath (only "not(ancestor-or-self::ds:Signature)"), XPath
# Filter 2.0 and base64
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
BASE64 = "http://www.w3.org/2000/09/xmldsig#base64"
# "Algorytmy skrótu w referencjach (DigestMethod)", for the references and SigningCertificate's CertDigest alike
DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": hashes.SHA1,
    SHA256: hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512,
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256": hashes.SHA3_256,
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384": hashes.SHA3_384,
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512": hashes.SHA3_512,
}
# "Algorytm podpisu SignedInfo (ds:SignatureMethod)": URI -> (family, digest); RSA keys of 2048 bits at least, EC
# curves of 256 bits at least
SIGNATURE_METHODS = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": ("rsa", hashes.SHA1),
    RSA_SHA256: ("rsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512),
    "http://www.w3.org/2007/05/xmldsig-more#sha1-rsa-MGF1": ("rsa-pss", hashes.SHA1),
    "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1": ("rsa-pss", hashes.SHA256),
    "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1": ("rsa-pss", hashes.SHA384),
    "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1": ("rsa-pss", hashes.SHA512),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-256-rsa-MGF1": ("rsa-pss", hashes.SHA3_256),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-384-rsa-MGF1": ("rsa-pss", hashes.SHA3_384),
    "http://www.w3.org/2007/05/xmldsig-more#sha3-512-rsa-MGF1": ("rsa-pss", hashes.SHA3_512),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": ("ecdsa", hashes.SHA1),
    ECDSA_SHA256: ("ecdsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ecdsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ecdsa", hashes.SHA512),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-256": ("ecdsa", hashes.SHA3_256),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-384": ("ecdsa", hashes.SHA3_384),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-512": ("ecdsa", hashes.SHA3_512),
}
PSS_NS = "http://www.w3.org/2007/05/xmldsig-more#"  # RFC 9231 RSAPSSParams
MGF1 = PSS_NS + "MGF1"

# the codes POST /auth/xades-signature answers (open-api.json): 9102 "Brak podpisu.", 9103 "Przekroczona liczba
# dozwolonych podpisów.", 9105 "Nieprawidłowy podpis." (everything else about the signature)
UNSIGNED, TOO_MANY_SIGNATURES, INVALID_SIGNATURE = 9102, 9103, 9105

SIGNATURE_ID = "Signature"
SIGNED_PROPERTIES_ID = "SignedProperties"


class SignatureError(EInvoiceError):
    """A signed document whose signature does not hold; ``code`` is the error KSeF answers for it."""

    def __init__(self, message, code=INVALID_SIGNATURE):
        super().__init__(message)
        self.code = code


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


def verify_signed(xml_bytes):
    """Check the one XAdES signature of ``xml_bytes``, enveloped or enveloping, in any form KSeF accepts
    (``podpis-xades.md``), and return the document it vouches for; raise SignatureError with the code KSeF answers.
    Whether the certificate is valid now and trusted is the caller's policy."""
    root = parse_xml(xml_bytes, what=_("signed document"))
    signatures = [root] if _is_ds(root, "Signature") else []
    signatures += root.findall(f".//{{{DS}}}Signature")
    if not signatures:
        raise SignatureError(_("The document is not signed."), code=UNSIGNED)
    if len(signatures) > 1:
        raise SignatureError(_("The document carries more than one signature."), code=TOO_MANY_SIGNATURES)
    signature = signatures[0]
    signed_info = _required(signature, "ds:SignedInfo")
    method = _required(signed_info, "ds:CanonicalizationMethod")
    _algorithm(method, C14N_METHODS, "c14n")
    signed_properties = _required(signature, "ds:Object/xades:QualifyingProperties/xades:SignedProperties")
    document = _check_references(root, signature, signed_info, signed_properties)
    certificate = _signing_certificate(signature, signed_properties)
    value = base64.b64decode("".join((_required(signature, "ds:SignatureValue").text or "").split()))
    _verify_value(certificate.public_key(), _required(signed_info, "ds:SignatureMethod"), value, signed_info)
    signing_time = signed_properties.findtext("xades:SignedSignatureProperties/xades:SigningTime", namespaces=_NS)
    return VerifiedDocument(document, certificate, signing_time)


verify_enveloped = verify_signed  # the name the add-ons know


_NS = {"ds": DS, "xades": XADES}


def _is_ds(element, name):
    return element.tag == f"{{{DS}}}{name}"


def _required(element, path):
    found = element.find(path, _NS)
    if found is None:
        raise SignatureError(_("The signature has no %(element)s element.", element=path.rsplit("/", 1)[-1]))
    return found


_REFUSED = {
    "c14n": lambda algorithm: _(
        "The signature uses the canonicalisation method %(algorithm)s, which KSeF does not accept.",
        algorithm=algorithm,
    ),
    "digest": lambda algorithm: _(
        "The signature uses the digest method %(algorithm)s, which KSeF does not accept.", algorithm=algorithm
    ),
    "signature": lambda algorithm: _(
        "The signature uses the signature method %(algorithm)s, which KSeF does not accept.", algorithm=algorithm
    ),
}


def _algorithm(element, allowed, kind):
    """What ``allowed`` holds for the Algorithm of ``element``; refused (``_REFUSED[kind]``) when it holds none."""
    algorithm = element.get("Algorithm")
    if algorithm not in allowed:
        raise SignatureError(_REFUSED[kind](algorithm))
    return allowed[algorithm]


def _digest(element, data):
    """The base64 digest of ``data`` with the DigestMethod child of ``element``."""
    algorithm = _algorithm(_required(element, "ds:DigestMethod"), DIGESTS, "digest")
    digest = hashes.Hash(algorithm())
    digest.update(data)
    return b64(digest.finalize())


def _canonical_element(element, method_element):
    """``element`` canonicalised with the method ``method_element`` names (its InclusiveNamespaces honoured)."""
    exclusive, with_comments = _algorithm(method_element, C14N_METHODS, "c14n")
    return etree.tostring(
        element,
        method="c14n",
        exclusive=exclusive,
        with_comments=with_comments,
        inclusive_ns_prefixes=_inclusive_prefixes(method_element) if exclusive else None,
    )


def _inclusive_prefixes(method_element):
    prefixes = method_element.find(f"{{{EXC_C14N}}}InclusiveNamespaces")
    return (prefixes.get("PrefixList") or "").split() if prefixes is not None else None


@dataclass(frozen=True)
class _Nodes:
    """A node-set of the XMLDSig processing model: the subtree of ``apex`` without the subtrees in ``removed``, and
    without comments (a same-document reference, ``""`` or ``#id``, drops them: XMLDSig 4.4.3.3). ``apex`` None is
    the empty set."""

    apex: object
    removed: frozenset = frozenset()

    def copy(self):
        """A copy of the apex in a copy of its document (so the namespaces in scope stay), the removed subtrees and
        the comments taken out (the text after each kept)."""
        document = self.apex.getroottree().getroot()
        originals = list(document.iter())
        copied = copy.deepcopy(document)
        counterparts = dict(zip(originals, copied.iter(), strict=True))
        apex = counterparts[self.apex]
        for node in [counterparts[n] for n in originals if n in self.removed or n.tag is etree.Comment]:
            if node.getparent() is not None:
                _drop(node)
        return apex

    def canonical(self, exclusive=False, prefixes=None):
        if self.apex is None:
            return b""
        return etree.tostring(self.copy(), method="c14n", exclusive=exclusive, inclusive_ns_prefixes=prefixes)


def _drop(node):
    parent, previous = node.getparent(), node.getprevious()
    if node.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def _dereference(root, reference):
    """The node-set a same-document ``URI`` names; any other URI is a detached signature, which KSeF refuses."""
    uri = reference.get("URI")
    if uri == "":
        return _Nodes(root)
    if uri and uri.startswith("#") and "(" not in uri:
        found = root.xpath("//*[@Id=$id or @ID=$id or @id=$id]", id=uri[1:])
        if len(found) != 1:
            raise SignatureError(_("The signature refers to %(uri)s, which the document does not hold once.", uri=uri))
        return _Nodes(found[0])
    # podpis-xades.md: "Podpis w formacie zewnętrznym (detached) nie jest akceptowany."
    raise SignatureError(
        _("The signature refers to %(uri)s: a detached signature, which KSeF does not accept.", uri=uri)
    )


def _transformed(reference, data, signature):
    """``(octets to digest, what the transforms covered)``: the last node-set, or the octets a base64 transform
    decoded. Only the transforms of podpis-xades.md ("Dopuszczalne transformaty") are applied."""
    covered = data
    for transform in reference.findall("ds:Transforms/ds:Transform", _NS):
        algorithm = transform.get("Algorithm")
        if algorithm == ENVELOPED:
            data = covered = _require_nodes(data, algorithm)
            data = covered = _Nodes(data.apex, data.removed | {signature})
        elif algorithm == XPATH:
            data = covered = _xpath_without_signatures(_require_nodes(data, algorithm), transform)
        elif algorithm == XPATH_FILTER2:
            data = covered = _filter2(_require_nodes(data, algorithm), transform)
        elif algorithm == BASE64:
            text = "".join(data.copy().itertext()) if isinstance(data, _Nodes) else data.decode("ascii", "replace")
            try:
                data = covered = base64.b64decode("".join(text.split()), validate=True)
            except ValueError:
                raise SignatureError(_("The base64 transform met text that is not base64.")) from None
        elif algorithm in C14N_METHODS:
            exclusive, _comments = C14N_METHODS[algorithm]  # a same-document node-set holds no comments any more
            prefixes = _inclusive_prefixes(transform) if exclusive else None
            nodes = data if isinstance(data, _Nodes) else _Nodes(parse_xml(data, what=_("signed data")))
            data = nodes.canonical(exclusive, prefixes)
        else:
            raise SignatureError(
                _("The signature uses the transform %(algorithm)s, which KSeF does not accept.", algorithm=algorithm)
            )
    if isinstance(data, _Nodes):  # XMLDSig 4.4.3.2: a node-set left at the end is canonicalised with C14N 1.0
        data = data.canonical()
    return data, covered


def _require_nodes(data, algorithm):
    if not isinstance(data, _Nodes):
        raise SignatureError(_("The transform %(algorithm)s needs XML, not octets.", algorithm=algorithm))
    return data


def _xpath_without_signatures(data, transform):
    """The one XPath transform KSeF lists: ``not(ancestor-or-self::ds:Signature)``, every signature left out."""
    expression = transform.findtext(f"{{{DS}}}XPath") or ""
    match = re.fullmatch(r"\s*not\(\s*ancestor-or-self::(\w+):Signature\s*\)\s*", expression)
    xpath = transform.find(f"{{{DS}}}XPath")
    if not match or xpath.nsmap.get(match.group(1)) != DS:
        raise SignatureError(
            _("The XPath transform %(expression)s is not the one KSeF accepts.", expression=expression.strip())
        )
    if (
        data.apex is None
        or any(_is_ds(e, "Signature") for e in data.apex.iterancestors())
        or _is_ds(data.apex, "Signature")
    ):
        return _Nodes(None)
    return _Nodes(data.apex, data.removed | set(data.apex.iter(f"{{{DS}}}Signature")))


def _filter2(data, transform):
    """XPath Filter 2.0 (its XPath expressions select whole subtrees: intersect, subtract, union), element by
    element; a result that is not one subtree with subtrees taken out is refused as unsupported."""
    if data.apex is None:
        return data
    document = data.apex.getroottree()
    kept = set(document.getroot().iter())
    for xpath in transform.findall(f"{{{XPATH_FILTER2}}}XPath"):
        namespaces = {prefix: uri for prefix, uri in xpath.nsmap.items() if prefix}
        try:
            selected = document.xpath(xpath.text or "", namespaces=namespaces)
        except etree.XPathError:
            raise SignatureError(_("The XPath filter %(expression)s cannot be read.", expression=xpath.text)) from None
        subtrees = {n for e in selected if isinstance(e, etree._Element) for n in e.iter()}
        operation = xpath.get("Filter")
        if operation == "intersect":
            kept &= subtrees
        elif operation == "subtract":
            kept -= subtrees
        elif operation == "union":
            kept |= subtrees
        else:
            raise SignatureError(_("The XPath filter operation %(operation)s is unknown.", operation=operation))
    removed = {n for r in data.removed for n in r.iter()}
    included = {n for n in data.apex.iter() if n not in removed} & kept
    tops = [n for n in included if n.getparent() not in included]
    if not tops:
        return _Nodes(None)
    if len(tops) > 1:
        raise SignatureError(_("The XPath filter selects parts of the document this verifier cannot canonicalise."))
    left_out = frozenset(n for n in tops[0].iter() if n not in included and n.getparent() in included)
    if any(m in included for n in left_out for m in n.iter()):
        raise SignatureError(_("The XPath filter selects parts of the document this verifier cannot canonicalise."))
    return _Nodes(tops[0], left_out)


def _check_references(root, signature, signed_info, signed_properties):
    """Check every reference's digest and return the signed document: the root of an enveloped signature, or the
    content of an enveloping one (podpis-xades.md: "otaczany (enveloped)", "otaczający (enveloping)")."""
    documents, properties_seen = [], False
    for reference in signed_info.findall("ds:Reference", _NS):
        data = _dereference(root, reference)
        target = data.apex
        inside = target is not signature and signature in target.iterancestors()
        if not inside and target is not signature and target not in signature.iterancestors():
            raise SignatureError(
                _("The signature lies beside what it signs: a detached signature, which KSeF does not accept.")
            )
        octets, covered = _transformed(reference, data, signature)
        if _digest(reference, octets) != "".join((_required(reference, "ds:DigestValue").text or "").split()):
            raise SignatureError(_("The signed content was changed after signing (digest mismatch)."))
        if target is signed_properties:
            properties_seen = True
        elif inside:
            documents.append(_enveloped_content(signature, target, covered))
        elif target is not signature:  # enveloped: the document holds the signature
            if not isinstance(covered, _Nodes) or covered.apex is not target or covered.removed - {signature}:
                raise SignatureError(_("The signature does not cover the whole document."))
            documents.append(target)
    if not properties_seen:
        raise SignatureError(_("The signature does not cover its signed properties (XAdES)."))
    documents = [d for d in documents if d is not None]
    if len(documents) != 1:
        raise SignatureError(_("The signature must cover exactly one document."))
    return documents[0]


def _enveloped_content(signature, target, covered):
    """What an enveloping signature signs: the element in its ds:Object (or the XML a base64 transform decoded);
    None for a reference to another part of the signature (KeyInfo, say)."""
    objects = [o for o in signature.findall("ds:Object", _NS) if o is target or o in target.iterancestors()]
    if not objects or target.find(".//xades:SignedProperties", _NS) is not None:
        return None
    if isinstance(covered, bytes):
        return parse_xml(covered, what=_("signed document"))
    if covered.apex is not target or covered.removed:
        raise SignatureError(_("The signature does not cover the whole document."))
    if _is_ds(target, "Object"):
        elements = [child for child in target if isinstance(child.tag, str)]
        if len(elements) != 1:
            raise SignatureError(_("The signed ds:Object must hold exactly one document."))
        return elements[0]
    return target


def _signing_certificate(signature, signed_properties):
    """The certificate of KeyInfo that SigningCertificate (or SigningCertificateV2) names by its digest."""
    certificates = []
    for element in signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", _NS):
        try:
            certificates.append(x509.load_der_x509_certificate(base64.b64decode("".join((element.text or "").split()))))
        except ValueError:
            raise SignatureError(_("The certificate in the signature cannot be read.")) from None
    if not certificates:
        raise SignatureError(_("The signature has no %(element)s element.", element="ds:X509Certificate"))
    properties = signed_properties.find("xades:SignedSignatureProperties", _NS)
    cert_digests = (
        []
        if properties is None
        else properties.xpath(
            "(xades:SigningCertificate|xades:SigningCertificateV2)/xades:Cert/xades:CertDigest", namespaces=_NS
        )
    )
    if not cert_digests:
        raise SignatureError(_("The signature has no %(element)s element.", element="xades:SigningCertificate"))
    for certificate in certificates:
        der = certificate.public_bytes(serialization.Encoding.DER)
        for cert_digest in cert_digests:
            if _digest(cert_digest, der) == "".join((_required(cert_digest, "ds:DigestValue").text or "").split()):
                return certificate
    raise SignatureError(_("The SigningCertificate digest does not match the certificate in KeyInfo."))


def _verify_value(public_key, method_element, value, signed_info):
    family, algorithm = _algorithm(method_element, SIGNATURE_METHODS, "signature")
    data = _canonical_element(signed_info, _required(signed_info, "ds:CanonicalizationMethod"))
    try:
        if family == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            # podpis-xades.md: "Minimalny rozmiar krzywej: 256 bitów"
            if public_key.curve.key_size < 256:
                raise SignatureError(_("The EC key is on a curve of fewer than 256 bits, which KSeF refuses."))
            size = (public_key.curve.key_size + 7) // 8
            # podpis-xades.md: "SignatureValue jest kodowana jako R || S (fixed-field concatenation)"
            if len(value) != 2 * size:
                raise SignatureError(_("The ECDSA signature value must be r||s, not DER."))
            r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(algorithm()))
        elif family in ("rsa", "rsa-pss") and isinstance(public_key, rsa.RSAPublicKey):
            # podpis-xades.md, RSASSA-PKCS1-v1_5 and RSASSA-PSS: "Minimalna długość klucza: 2048 bitów"
            if public_key.key_size < 2048:
                raise SignatureError(_("The RSA key has fewer than 2048 bits, which KSeF refuses."))
            padding = asym_padding.PKCS1v15() if family == "rsa" else _pss_padding(method_element, algorithm)
            public_key.verify(value, data, padding, algorithm())
        else:
            raise SignatureError(_("The signature method does not match the certificate key."))
    except InvalidSignature:
        raise SignatureError(_("The signature value is not valid.")) from None


def _pss_padding(method_element, algorithm):
    """RSASSA-PSS as RFC 6931 2.3.10 defines the ``*-rsa-MGF1`` methods (MGF1 with the same digest, a salt as long as
    the digest, trailer 1), with the parameters an RFC 9231 ``RSAPSSParams`` child gives instead."""
    params = method_element.find(f"{{{PSS_NS}}}RSAPSSParams")
    mgf_algorithm, salt_length = algorithm, algorithm.digest_size
    if params is not None:
        digest_method = params.find(f"{{{DS}}}DigestMethod")
        if digest_method is not None and DIGESTS.get(digest_method.get("Algorithm")) is not algorithm:
            raise SignatureError(_("The RSAPSSParams digest differs from the one of the signature method."))
        mgf = params.find(f"{{{PSS_NS}}}MaskGenerationFunction")
        if mgf is not None:
            if mgf.get("Algorithm", MGF1) != MGF1:
                raise SignatureError(_("The RSA-PSS mask generation function must be MGF1."))
            mgf_digest = mgf.find(f"{{{DS}}}DigestMethod")  # RFC 9231 2.3.10: ds:DigestMethod in both places
            if mgf_digest is not None:
                mgf_algorithm = _algorithm(mgf_digest, DIGESTS, "digest")
        salt = params.findtext(f"{{{PSS_NS}}}SaltLength")
        trailer = params.findtext(f"{{{PSS_NS}}}TrailerField")
        if (salt is not None and not salt.strip().isdigit()) or (trailer is not None and trailer.strip() != "1"):
            raise SignatureError(_("The RSAPSSParams are not valid."))
        salt_length = int(salt) if salt is not None else salt_length
    return asym_padding.PSS(mgf=asym_padding.MGF1(mgf_algorithm()), salt_length=salt_length)
