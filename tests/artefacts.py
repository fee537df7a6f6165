"""The official artefacts the tests hold our work against, and where each is found.

Each is looked for first in its environment variable, then beside the checkout in ``../shared`` (where our own
machines keep them). None is part of this project. A test whose artefact is missing is skipped with a reason that
names it and says how to provide it; pytest's summary then counts what was skipped for lack of each one, so lost
conformance coverage is always visible. The FA(3) schema has a third source: the ``ksef-client`` package, which
ships the Ministry's files (``make test`` installs it without its dependencies); the library finds it there itself.
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SKIP_PREFIX = "official artefact missing"


@dataclass(frozen=True)
class Artefact:
    title: str
    env: str
    shared: str  # its place under ../shared

    def location(self):
        """The configured path, else the one in ../shared; None when neither exists."""
        configured = os.environ.get(self.env)
        for path in (Path(configured) if configured else None, SHARED / self.shared):
            if path is not None and path.exists():
                return path
        return None

    def require(self, *parts):
        """The path of the artefact (or of a file inside it); skips the calling test when it is not there."""
        location = self.location()
        path = location.joinpath(*parts) if location else None
        if path is None or not path.exists():
            pytest.skip(self.reason(*parts))
        return path

    def reason(self, *parts):
        inside = f" ({'/'.join(parts)})" if parts else ""
        return f"{SKIP_PREFIX}: {self.title}{inside}; set {self.env} or put it at ../shared/{self.shared} (README)"


CIUS_RO_RULES = Artefact(
    "ANAF's CIUS-RO 1.0.9 Schematron compiled to XSLT",
    "EINVOICE_CIUS_RO_RULES",
    "rules/cius-ro/xslt/EN16931-CIUS_RO-UBL-validation.xslt",
)
FA3_SCHEMA = Artefact(
    "the Ministry of Finance's FA(3) schema with its bazowe/ imports",
    "EINVOICE_FA3_XSD_DIR",
    "rules/ksef-fa3/faktury/schemy/FA",
)
CEN_UNIT_TESTS = Artefact(
    "CEN's EN 16931 validation unit tests (UBL)",
    "EINVOICE_EN16931_UNIT_TESTS",
    "rules/en16931/unit-tests",
)
CEN_CII_RULES = Artefact(
    "CEN's EN 16931 CII validation artefacts (compiled XSLT, D16B schema, examples, unit tests)",
    "EINVOICE_EN16931_CII",
    "rules/en16931/cii",
)
RO_SAMPLES = Artefact(
    "ANAF's example invoices and real SPV answers",
    "EINVOICE_RO_SAMPLES",
    "samples/ro",
)
PL_SAMPLES = Artefact(
    "the Ministry of Finance's FA(3) example invoices and UPO examples",
    "EINVOICE_PL_SAMPLES",
    "samples/pl",
)
KSEF_API = Artefact(
    "the Ministry of Finance's KSeF 2.0 API description (open-api.json)",
    "EINVOICE_KSEF_API",
    "rules/ksef-api",
)
ANAF_API = Artefact(
    "ANAF's published swagger pages of the e-Factura services",
    "EINVOICE_ANAF_API",
    "rules/anaf-api",
)
ALL = (KSEF_API, ANAF_API, CIUS_RO_RULES, FA3_SCHEMA, CEN_UNIT_TESTS, CEN_CII_RULES, RO_SAMPLES, PL_SAMPLES)


@functools.cache
def _read(artefact, parts):
    return artefact.require(*parts).read_bytes()


def ro_sample(relative):
    """The bytes of one of ANAF's samples (e.g. ``anaf-ubl-examples/ubl_b2g_example0.xml``), or a skip."""
    return _read(RO_SAMPLES, tuple(relative.split("/")))


def pl_sample(relative):
    """The bytes of one of the Ministry's samples (e.g. ``mf-fa3-examples/FA_3_Przyklad_1.xml``), or a skip."""
    return _read(PL_SAMPLES, tuple(relative.split("/")))


def fa3_schema_folder():
    """The FA(3) schema folder the library finds (configured, ../shared through conftest, or ksef-client's)."""
    from einvoice.validation import ValidationUnavailableError, fa3_xsd_folder

    try:
        return fa3_xsd_folder()
    except ValidationUnavailableError:
        pytest.skip(FA3_SCHEMA.reason())


def files(artefact, folder, pattern="*.xml"):
    """The names of the files of ``folder`` inside ``artefact``, to parametrize a test over; a single skipped
    case naming the artefact when it is not there (so the skip is counted like any other)."""
    location = artefact.location()
    if location is None or not (location / folder).is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=artefact.reason(folder)), id="missing")]
    return sorted(path.name for path in (location / folder).glob(pattern))


def missing_summary(skip_reasons):
    """One line: how many tests were skipped for lack of each official artefact, or that none was."""
    counts = {}
    for reason in skip_reasons:
        for artefact in ALL:
            if f"{SKIP_PREFIX}: {artefact.title}" in reason:
                counts[artefact.env] = counts.get(artefact.env, 0) + 1
    if not counts:
        return "official artefacts: every test that needs one ran"
    listed = ", ".join(f"{env} {count}" for env, count in sorted(counts.items()))
    return f"skipped for lack of official artefacts: {sum(counts.values())} tests ({listed})"
