"""Shared fixtures: the official artefacts in ../shared (the oracle) and the ANAF samples."""

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CIUS_RO_XSLT = SHARED / "rules" / "cius-ro" / "xslt" / "EN16931-CIUS_RO-UBL-validation.xslt"
CEN_UNIT_TESTS = SHARED / "rules" / "en16931" / "unit-tests"
RO_SAMPLES = SHARED / "samples" / "ro"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


def shared_path(path):
    if not path.exists():
        pytest.skip(f"the official artefacts are not beside the checkout ({path})")
    return path


@pytest.fixture(scope="session")
def cius_ro_rules():
    """ANAF's CIUS-RO 1.0.9 Schematron (with the EN 16931 rules it embeds), compiled once."""
    from einvoice.validation import official_rules

    return official_rules(shared_path(CIUS_RO_XSLT))


def official_fatal(rules, xml):
    return {finding.rule for finding in rules.findings(xml) if finding.fatal}


def cen_unit_documents():
    """(name, xml) of every invoice and credit note embedded in the CEN EN 16931 UBL unit tests."""
    documents = []
    for path in sorted(shared_path(CEN_UNIT_TESTS).glob("*-unit-UBL/*.xml")):
        for number, test in enumerate(etree.parse(str(path)).iter(f"{VEFA}test")):
            for child in test:
                if isinstance(child.tag, str) and etree.QName(child).localname in ("Invoice", "CreditNote"):
                    documents.append((f"{path.parent.name}/{path.name}#{number}", etree.tostring(child)))
    return documents


ANAF_START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def clock():
    """The ANAF simulator's clock, moved by the test: processing, listing delays and daily limits without sleeping."""
    from einvoice.sim import ManualClock

    return ManualClock(ANAF_START)
