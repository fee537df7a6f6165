"""Shared fixtures: the official artefacts in ../shared (the oracle) and the ANAF samples."""

import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CIUS_RO_XSLT = SHARED / "rules" / "cius-ro" / "xslt" / "EN16931-CIUS_RO-UBL-validation.xslt"
CEN_UNIT_TESTS = SHARED / "rules" / "en16931" / "unit-tests"
RO_SAMPLES = SHARED / "samples" / "ro"
FA3_SCHEMA_DIR = SHARED / "rules" / "ksef-fa3" / "faktury" / "schemy" / "FA"
VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


@pytest.fixture(autouse=True, scope="session")
def official_fa3_schema():
    """The KSeF simulator and the FA(3) checks use the official schema beside the checkout when it is there."""
    from einvoice.validation import FA3_XSD_ENV

    if FA3_SCHEMA_DIR.is_dir() and FA3_XSD_ENV not in os.environ:
        os.environ[FA3_XSD_ENV] = str(FA3_SCHEMA_DIR)
        yield
        del os.environ[FA3_XSD_ENV]
    else:
        yield


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
