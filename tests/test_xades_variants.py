"""Every XAdES form the Ministry's ``podpis-xades.md`` allows signs in to the KSeF simulator, over real HTTP, and
what it forbids is refused with the code ``open-api.json`` lists for POST /auth/xades-signature.

The signatures are built here, independently of the verifier under test: with plain lxml and cryptography (so the
pinned environment covers the matrix too), and with ``signxml`` where it is installed (the current-releases
environment, ``PEERS`` in the Makefile). Each signs the real ``AuthTokenRequest`` with the challenge the simulator
gave, then the login goes on to its status and the access token. Every exchange is held against open-api.json.
"""

import base64
import copy
from datetime import datetime, timezone

import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from einvoice.sim.ksef import KsefSimulator

from .test_ksef_crypto import make_certificate

NIP = "5265877635"
DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
PSS = "http://www.w3.org/2007/05/xmldsig-more#"
FILTER2 = "http://www.w3.org/2002/06/xmldsig-filter2"
MORE = "http://www.w3.org/2001/04/xmldsig-more#"

# podpis-xades.md, "Dopuszczalne transformaty": the canonicalisations (for SignedInfo and as transforms)
C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2006/12/xml-c14n11": (False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = DS + "enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
BASE64 = DS + "base64"
# "Algorytmy skrótu w referencjach (DigestMethod)"
DIGESTS = {
    DS + "sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmlenc#sha256": hashes.SHA256,
    MORE + "sha384": hashes.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": hashes.SHA512,
    PSS + "sha3-256": hashes.SHA3_256,
    PSS + "sha3-384": hashes.SHA3_384,
    PSS + "sha3-512": hashes.SHA3_512,
}
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
# "Algorytm podpisu SignedInfo": URI -> (kind, hash)
METHODS = {
    DS + "rsa-sha1": ("rsa", hashes.SHA1),
    MORE + "rsa-sha256": ("rsa", hashes.SHA256),
    MORE + "rsa-sha384": ("rsa", hashes.SHA384),
    MORE + "rsa-sha512": ("rsa", hashes.SHA512),
    PSS + "sha1-rsa-MGF1": ("pss", hashes.SHA1),
    PSS + "sha256-rsa-MGF1": ("pss", hashes.SHA256),
    PSS + "sha384-rsa-MGF1": ("pss", hashes.SHA384),
    PSS + "sha512-rsa-MGF1": ("pss", hashes.SHA512),
    PSS + "sha3-256-rsa-MGF1": ("pss", hashes.SHA3_256),
    PSS + "sha3-384-rsa-MGF1": ("pss", hashes.SHA3_384),
    PSS + "sha3-512-rsa-MGF1": ("pss", hashes.SHA3_512),
    MORE + "ecdsa-sha1": ("ecdsa", hashes.SHA1),
    MORE + "ecdsa-sha256": ("ecdsa", hashes.SHA256),
    MORE + "ecdsa-sha384": ("ecdsa", hashes.SHA384),
    MORE + "ecdsa-sha512": ("ecdsa", hashes.SHA512),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-256": ("ecdsa", hashes.SHA3_256),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-384": ("ecdsa", hashes.SHA3_384),
    "http://www.w3.org/2021/04/xmldsig-more#ecdsa-sha3-512": ("ecdsa", hashes.SHA3_512),
}
RSA_SHA256 = MORE + "rsa-sha256"


@pytest.fixture(scope="module")
def sim():
    with KsefSimulator(limits={}) as server:  # the matrix logs in faster than KSeF's 60 a second allow
        yield server


KEYS = {}


def signer(kind="rsa", size=2048):
    """``(private key, certificate naming NIP)``, made once per kind and size: RSA of ``size`` bits or an EC curve."""
    if (kind, size) not in KEYS:
        if kind == "rsa":
            key = rsa.generate_private_key(65537, size)
        else:
            key = ec.generate_private_key(
                {224: ec.SECP224R1, 256: ec.SECP256R1, 384: ec.SECP384R1, 521: ec.SECP521R1}[size]()
            )
        KEYS[kind, size] = key, make_certificate(key, nip=NIP)
    return KEYS[kind, size]


def auth_token_request(challenge, comment=True):
    """The AuthTokenRequest as open-api.json's example writes it (with the xsi and xsd namespaces declared and not
    used, which inclusive canonicalisation keeps), with a comment (which a same-document reference leaves out)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<AuthTokenRequest xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns="http://ksef.mf.gov.pl/auth/token/2.0">\n'
        f"    <Challenge>{challenge}</Challenge>\n"
        + ("    <!-- the context this login is for -->\n" if comment else "")
        + f"    <ContextIdentifier>\n        <Nip>{NIP}</Nip>\n    </ContextIdentifier>\n"
        "    <SubjectIdentifierType>certificateSubject</SubjectIdentifierType>\n"
        "</AuthTokenRequest>"
    ).encode()


# -- the independent signer: plain lxml and cryptography ---------------------------------------------------------
def _ds(parent, name, text=None, **attributes):
    element = etree.SubElement(parent, f"{{{DS}}}{name}", attributes)
    element.text = text
    return element


def _hash(algorithm, data):
    digest = hashes.Hash(algorithm())
    digest.update(data)
    return base64.b64encode(digest.finalize()).decode()


def _c14n(element, method):
    exclusive, comments = C14N.get(method, (False, False))
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=comments)


def _without_comments(element):
    """``element`` read again without its comments (it declares every namespace it is in)."""
    return etree.fromstring(etree.tostring(element), etree.XMLParser(remove_comments=True))


def _signature_value(key, method, data, pss_params):
    kind, algorithm = METHODS.get(method, ("rsa", hashes.SHA224) if "rsa" in method else ("ecdsa", hashes.SHA224))
    if kind == "ecdsa":
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(algorithm())))
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if kind == "pss":
        salt, mgf = pss_params or (algorithm.digest_size, algorithm)
        return key.sign(data, asym_padding.PSS(asym_padding.MGF1(mgf()), salt), algorithm())
    return key.sign(data, asym_padding.PKCS1v15(), algorithm())


def build(
    challenge,
    *,
    form="enveloped",
    c14n=EXC,
    transforms=(ENVELOPED, EXC),
    method=RSA_SHA256,
    digest=SHA256,
    key=None,
    pss_params=None,
    signing_certificate="SigningCertificate",
):
    """A XAdES-BES signature of the AuthTokenRequest for ``challenge``, in ``form`` (enveloped, enveloping, or
    enveloping with the document base64-encoded in ds:Object), written out step by step as XMLDSig and XAdES 1.3.2
    say. ``pss_params``: (salt length, MGF1 hash) written in an RFC 9231 RSAPSSParams."""
    private_key, certificate = key or signer()
    document = etree.fromstring(auth_token_request(challenge))
    digest_algorithm = DIGESTS.get(digest, hashes.SHA224)
    if form == "enveloped":
        root = document
        signature = etree.SubElement(root, f"{{{DS}}}Signature", Id="Signature-1", nsmap={"ds": DS})
    else:
        signature = root = etree.Element(f"{{{DS}}}Signature", Id="Signature-1", nsmap={"ds": DS})
    signed_info = _ds(signature, "SignedInfo")
    signed_info.append(etree.Comment(" signed with a comment in SignedInfo "))
    _ds(signed_info, "CanonicalizationMethod", Algorithm=c14n)
    method_element = _ds(signed_info, "SignatureMethod", Algorithm=method)
    if pss_params:
        salt, mgf = pss_params
        params = etree.SubElement(method_element, f"{{{PSS}}}RSAPSSParams", nsmap={"pss": PSS})
        _ds(params, "DigestMethod", Algorithm=next(u for u, a in DIGESTS.items() if a is METHODS[method][1]))
        generation = etree.SubElement(params, f"{{{PSS}}}MaskGenerationFunction", Algorithm=PSS + "MGF1")
        _ds(generation, "DigestMethod", Algorithm=next(u for u, a in DIGESTS.items() if a is mgf))
        etree.SubElement(params, f"{{{PSS}}}SaltLength").text = str(salt)
        etree.SubElement(params, f"{{{PSS}}}TrailerField").text = "1"
    reference = _ds(signed_info, "Reference", URI="" if form == "enveloped" else "#Object-1")
    transforms_element = _ds(reference, "Transforms")
    for algorithm in transforms:
        transform = _ds(transforms_element, "Transform", Algorithm=algorithm)
        if algorithm == XPATH:
            _ds(transform, "XPath", "not(ancestor-or-self::ds:Signature)")
        elif algorithm == FILTER2:
            etree.SubElement(
                transform, f"{{{FILTER2}}}XPath", Filter="subtract", nsmap={"dsig-xpath": FILTER2}
            ).text = "/descendant::ds:Signature"
    _ds(reference, "DigestMethod", Algorithm=digest)
    reference_digest = _ds(reference, "DigestValue")
    properties_reference = _ds(
        signed_info, "Reference", URI="#SignedProperties-1", Type="http://uri.etsi.org/01903#SignedProperties"
    )
    _ds(_ds(properties_reference, "Transforms"), "Transform", Algorithm=c14n)
    _ds(properties_reference, "DigestMethod", Algorithm=digest)
    properties_digest = _ds(properties_reference, "DigestValue")
    value = _ds(signature, "SignatureValue")
    der = certificate.public_bytes(serialization.Encoding.DER)
    _ds(_ds(_ds(signature, "KeyInfo"), "X509Data"), "X509Certificate", base64.b64encode(der).decode())
    if form != "enveloped":
        content = _ds(signature, "Object", Id="Object-1")
        if form == "enveloping-base64":
            content.text = base64.b64encode(etree.tostring(document)).decode()
        else:
            content.append(document)
    qualifying = etree.SubElement(
        _ds(signature, "Object"), f"{{{XADES}}}QualifyingProperties", Target="#Signature-1", nsmap={"xades": XADES}
    )
    properties = etree.SubElement(qualifying, f"{{{XADES}}}SignedProperties", Id="SignedProperties-1")
    signature_properties = etree.SubElement(properties, f"{{{XADES}}}SignedSignatureProperties")
    etree.SubElement(signature_properties, f"{{{XADES}}}SigningTime").text = datetime.now(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    cert = etree.SubElement(
        etree.SubElement(signature_properties, f"{{{XADES}}}{signing_certificate}"), f"{{{XADES}}}Cert"
    )
    cert_digest = etree.SubElement(cert, f"{{{XADES}}}CertDigest")
    _ds(cert_digest, "DigestMethod", Algorithm=digest)
    _ds(cert_digest, "DigestValue", _hash(digest_algorithm, der))

    # the digests: the enveloped document is the request without the signature (and, being a same-document
    # reference, without comments); a node-set left after the transforms is canonicalised with C14N 1.0
    if form == "enveloped":
        unsigned = _without_comments(etree.fromstring(auth_token_request(challenge)))
        last = next((t for t in reversed(transforms) if t in C14N), None)
        data = _c14n(unsigned, last) if last else _c14n(unsigned, "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
    elif form == "enveloping-base64":
        data = etree.tostring(document)
    else:
        data = _c14n(_without_comments(content), transforms[-1])
    reference_digest.text = _hash(digest_algorithm, data)
    properties_digest.text = _hash(digest_algorithm, _c14n(properties, c14n))
    value.text = base64.b64encode(_signature_value(private_key, method, _c14n(signed_info, c14n), pss_params)).decode()
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# -- the login over HTTP -----------------------------------------------------------------------------------------
def challenge_of(sim):
    answer = requests.post(f"{sim.url}/auth/challenge", timeout=10)
    assert answer.status_code == 200
    return answer.json()["challenge"]


def submit(sim, signed):
    return requests.post(
        f"{sim.url}/auth/xades-signature", data=signed, headers={"Content-Type": "application/xml"}, timeout=10
    )


def assert_signs_in(sim, signed):
    answer = submit(sim, signed)
    assert answer.status_code == 202, answer.text
    started = answer.json()
    bearer = {"Authorization": f"Bearer {started['authenticationToken']['token']}"}
    status = requests.get(f"{sim.url}/auth/{started['referenceNumber']}", headers=bearer, timeout=10).json()
    assert status["status"]["code"] == 200, status
    tokens = requests.post(f"{sim.url}/auth/token/redeem", headers=bearer, timeout=10)
    assert tokens.status_code == 200
    assert sim.access_tokens[tokens.json()["accessToken"]["token"]]["nip"] == NIP


def assert_refused(sim, signed, code, reason):
    answer = submit(sim, signed)
    assert answer.status_code == 400, answer.text
    detail = answer.json()["exception"]["exceptionDetailList"][0]
    assert detail["exceptionCode"] == code
    assert reason in " ".join(detail["details"])


# -- what podpis-xades.md allows ---------------------------------------------------------------------------------
@pytest.mark.parametrize("c14n", list(C14N))
def test_every_canonicalisation_of_signed_info(sim, c14n):
    assert_signs_in(sim, build(challenge_of(sim), c14n=c14n, transforms=(ENVELOPED, c14n)))


@pytest.mark.parametrize(
    "transforms",
    [
        (ENVELOPED,),
        *[(ENVELOPED, method) for method in C14N],
        (XPATH,),
        (XPATH, EXC),
        (FILTER2,),
        (FILTER2, "http://www.w3.org/2006/12/xml-c14n11"),
    ],
    ids=lambda transforms: "+".join(t.rsplit("/", 1)[-1] for t in transforms),
)
def test_every_transform_of_the_enveloped_document(sim, transforms):
    assert_signs_in(sim, build(challenge_of(sim), transforms=transforms))


@pytest.mark.parametrize("c14n", list(C14N))
def test_enveloping_signatures(sim, c14n):
    assert_signs_in(sim, build(challenge_of(sim), form="enveloping", c14n=c14n, transforms=(c14n,)))


def test_an_enveloping_signature_of_a_base64_document(sim):
    assert_signs_in(sim, build(challenge_of(sim), form="enveloping-base64", transforms=(BASE64,)))


@pytest.mark.parametrize("method", list(METHODS), ids=lambda uri: uri.rsplit("#", 1)[-1])
def test_every_signature_method(sim, method):
    kind = METHODS[method][0]
    assert_signs_in(sim, build(challenge_of(sim), method=method, key=signer("ec", 256) if kind == "ecdsa" else None))


@pytest.mark.parametrize(("kind", "size"), [("rsa", 3072), ("ec", 384), ("ec", 521)])
def test_larger_keys_and_curves(sim, kind, size):
    method = RSA_SHA256 if kind == "rsa" else MORE + "ecdsa-sha512"
    assert_signs_in(sim, build(challenge_of(sim), method=method, key=signer(kind, size)))


@pytest.mark.parametrize("digest", list(DIGESTS), ids=lambda uri: uri.rsplit("#", 1)[-1])
def test_every_digest_method(sim, digest):
    assert_signs_in(sim, build(challenge_of(sim), digest=digest))


@pytest.mark.parametrize(
    ("method", "params"),
    [(PSS + "sha256-rsa-MGF1", (32, hashes.SHA256)), (PSS + "sha512-rsa-MGF1", (20, hashes.SHA256))],
)
def test_rsa_pss_with_its_parameters_written_out(sim, method, params):
    assert_signs_in(sim, build(challenge_of(sim), method=method, pss_params=params))


def test_signing_certificate_v2(sim):
    assert_signs_in(sim, build(challenge_of(sim), signing_certificate="SigningCertificateV2"))


# -- what it forbids ---------------------------------------------------------------------------------------------
def test_a_detached_signature_is_refused(sim):
    signed = etree.fromstring(build(challenge_of(sim)))
    signed.find(f".//{{{DS}}}Reference").set("URI", "AuthTokenRequest.xml")
    assert_refused(sim, etree.tostring(signed), 9105, "detached")
    # the signature beside the document it signs, in one wrapper
    document = etree.fromstring(auth_token_request(challenge_of(sim)))
    document.set("Id", "Request-1")
    wrapper = etree.Element("Signed")
    wrapper.append(document)
    enveloping = etree.fromstring(build(challenge_of(sim), form="enveloping", transforms=(EXC,)))
    enveloping.find(f".//{{{DS}}}Reference").set("URI", "#Request-1")
    wrapper.append(enveloping)
    assert_refused(sim, etree.tostring(wrapper), 9105, "detached")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"method": MORE + "rsa-sha224"}, "signature method"),
        ({"method": PSS + "rsa-pss"}, "signature method"),
        ({"digest": MORE + "sha224"}, "digest method"),
        ({"c14n": "http://www.w3.org/2010/xml-c14n2", "transforms": (ENVELOPED,)}, "canonicalisation method"),
        ({"transforms": (ENVELOPED, "http://www.w3.org/TR/1999/REC-xslt-19991116")}, "transform"),
        ({"key": ("rsa", 1024)}, "2048"),
        ({"key": ("ec", 224), "method": MORE + "ecdsa-sha256"}, "256 bits"),
    ],
    ids=["rsa-sha224", "generic-rsa-pss", "sha224", "c14n2", "xslt", "rsa-1024", "p-224"],
)
def test_what_podpis_xades_does_not_list_is_refused(sim, change, reason):
    if "key" in change:
        change = {**change, "key": signer(*change["key"])}
    assert_refused(sim, build(challenge_of(sim), **change), 9105, reason)


def test_another_xpath_expression_is_refused(sim):
    signed = etree.fromstring(build(challenge_of(sim), transforms=(XPATH,)))
    signed.find(f".//{{{DS}}}XPath").text = "not(self::ds:Signature)"
    assert_refused(sim, etree.tostring(signed), 9105, "XPath")


def test_a_der_ecdsa_value_is_refused(sim):
    signed = etree.fromstring(build(challenge_of(sim), method=MORE + "ecdsa-sha256", key=signer("ec", 256)))
    value = signed.find(f".//{{{DS}}}SignatureValue")
    raw = base64.b64decode(value.text)
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    value.text = base64.b64encode(der).decode()
    assert_refused(sim, etree.tostring(signed), 9105, "r||s")


def test_a_changed_document_is_refused(sim):
    signed = build(challenge_of(sim), transforms=(XPATH,))
    assert_refused(sim, signed.replace(NIP.encode(), b"1111111111"), 9105, "digest mismatch")


def test_an_unsigned_request_and_two_signatures_are_refused(sim):
    assert_refused(sim, auth_token_request(challenge_of(sim)), 9102, "not signed")
    signed = etree.fromstring(build(challenge_of(sim)))
    signed.append(copy.deepcopy(signed.find(f"{{{DS}}}Signature")))
    assert_refused(sim, etree.tostring(signed), 9103, "more than one")


def test_a_signature_over_part_of_the_request_is_refused(sim):
    """An XPath filter that keeps only the challenge would let the context be changed: not a signed request."""
    key, _certificate = signer()
    signed = etree.fromstring(build(challenge_of(sim), transforms=(FILTER2,)))
    xpath = signed.find(f".//{{{FILTER2}}}XPath")
    xpath.set("Filter", "intersect")
    xpath.text = "//*[local-name()='Challenge']"
    challenge = signed.find("{*}Challenge")
    signed.find(f".//{{{DS}}}DigestValue").text = _hash(hashes.SHA256, etree.tostring(challenge, method="c14n"))
    signed_info = signed.find(f".//{{{DS}}}SignedInfo")
    signed.find(f".//{{{DS}}}SignatureValue").text = base64.b64encode(
        _signature_value(key, RSA_SHA256, _c14n(signed_info, EXC), None)
    ).decode()
    assert_refused(sim, etree.tostring(signed), 9105, "does not cover the whole document")
