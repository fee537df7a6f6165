"""XAdES signatures made by a third party, ``signxml`` (installed in the current-releases environment only, see
``PEERS`` in the Makefile), log in to the KSeF simulator over real HTTP in every form of ``podpis-xades.md`` that
signxml writes: enveloped and enveloping, the inclusive canonicalisations, the RSA, RSA-PSS and ECDSA methods and the
digests (signxml refuses SHA-1 itself, which ``test_xades_variants.py`` covers).

signxml digests the references it adds for XAdES (SignedProperties, KeyInfo) with the canonicalisation chosen for
SignedInfo but writes no transform for them, while XMLDSig 4.4.3.2 says a node-set without a transform is
canonicalised with C14N 1.0: with an exclusive method its signatures do not hold under the standard (its own verifier
reads them with C14N 1.1 too), so exclusive canonicalisation is covered by the other test module only. It also keeps
the comments of a ``URI=""`` document under a WithComments transform, which XMLDSig 4.4.3.3 drops: its requests here
carry no comment.
"""

import pytest

signxml = pytest.importorskip("signxml", reason="the third-party XML signer signxml is not installed")

from cryptography.hazmat.primitives import serialization  # noqa: E402
from lxml import etree  # noqa: E402
from signxml import SignatureConstructionMethod  # noqa: E402
from signxml.xades import XAdESSigner  # noqa: E402

from .test_xades_variants import (  # noqa: E402
    C14N,
    DIGESTS,
    METHODS,
    RSA_SHA256,
    SHA256,
    assert_signs_in,
    auth_token_request,
    challenge_of,
    signer,
    sim,  # noqa: F401 - the fixture
)

INCLUSIVE = [uri for uri, (exclusive, _comments) in C14N.items() if not exclusive]
FORMS = {"enveloped": SignatureConstructionMethod.enveloped, "enveloping": SignatureConstructionMethod.enveloping}


def signed_by_signxml(challenge, *, form="enveloped", c14n=INCLUSIVE[0], method=RSA_SHA256, digest=SHA256):
    key, certificate = signer("ec", 256) if METHODS[method][0] == "ecdsa" else signer()
    xades = XAdESSigner(method=FORMS[form], signature_algorithm=method, digest_algorithm=digest, c14n_algorithm=c14n)
    signed = xades.sign(
        etree.fromstring(auth_token_request(challenge, comment=False)),
        key=key,
        cert=[certificate.public_bytes(serialization.Encoding.PEM).decode()],
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("form", list(FORMS))
@pytest.mark.parametrize("c14n", INCLUSIVE)
def test_signxml_forms_and_canonicalisations(sim, form, c14n):  # noqa: F811
    assert_signs_in(sim, signed_by_signxml(challenge_of(sim), form=form, c14n=c14n))


@pytest.mark.parametrize(
    "method", [uri for uri in METHODS if "sha1" not in uri], ids=lambda uri: uri.rsplit("#", 1)[-1]
)
def test_signxml_signature_methods(sim, method):  # noqa: F811
    assert_signs_in(sim, signed_by_signxml(challenge_of(sim), method=method))


@pytest.mark.parametrize("digest", [uri for uri in DIGESTS if "sha1" not in uri], ids=lambda uri: uri.rsplit("#")[-1])
def test_signxml_digests(sim, digest):  # noqa: F811
    assert_signs_in(sim, signed_by_signxml(challenge_of(sim), digest=digest, form="enveloping"))
