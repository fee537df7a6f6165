"""Shared fixtures: the official artefacts (the oracle, see ``artefacts.py``) and the simulators' clock."""

import json
import os
from datetime import datetime, timezone

import pytest
from lxml import etree

from einvoice.sim.server import OBSERVERS

from .artefacts import ANAF_API, CEN_UNIT_TESTS, CIUS_RO_RULES, FA3_SCHEMA, KSEF_API
from .contract import ANAF, CONFORMANCE_RECORD, KSEF, Contract

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"


@pytest.fixture(autouse=True, scope="session")
def official_fa3_schema():
    """The KSeF simulator and the FA(3) checks use the official schema from ../shared when it is there and no
    other is configured; otherwise the library finds the one the ksef-client package ships."""
    from einvoice.validation import FA3_XSD_ENV

    folder = FA3_SCHEMA.location()
    if folder is not None and FA3_XSD_ENV not in os.environ:
        os.environ[FA3_XSD_ENV] = str(folder)
        yield
        del os.environ[FA3_XSD_ENV]
    else:
        yield


CONTRACTS = {platform.name: Contract.load(platform) for platform in (KSEF, ANAF)}


@pytest.fixture(autouse=True, scope="session")
def contracts():
    """Every answer of a simulator, and the request it answers, checked against the platform's description."""
    loaded = [contract for contract in CONTRACTS.values() if contract is not None]
    for contract in loaded:
        OBSERVERS.add(contract.observe)
    yield loaded
    for contract in loaded:
        OBSERVERS.remove(contract.observe)


@pytest.fixture(autouse=True)
def within_the_contract(contracts, request):
    """Fails the test during which a request or an answer left the official API description. A test marked
    ``malformed_requests`` sends requests outside it on purpose (to see the platform refuse them): only the
    answers are held against the description there."""
    yield
    if contracts:
        OBSERVERS.wait_idle()
        deviations = [deviation for contract in contracts for deviation in contract.take()]
        if request.node.get_closest_marker("malformed_requests"):
            deviations = [deviation for deviation in deviations if deviation.side != "request"]
        if deviations:
            pytest.fail("outside the official API description:\n" + "\n".join(map(str, deviations)), pytrace=False)


def pytest_sessionfinish(session):
    """Keep which operations our clients called, for the conformance page (``python -m tests.conformance``)."""
    if session.testscollected < 500:  # a partial run says too little
        return
    record = {name: sorted(contract.used_by_client) for name, contract in CONTRACTS.items() if contract is not None}
    if record:
        CONFORMANCE_RECORD.parent.mkdir(exist_ok=True)
        CONFORMANCE_RECORD.write_text(json.dumps(record, indent=1), encoding="utf-8")


@pytest.hookimpl(hookwrapper=True)
def pytest_terminal_summary(terminalreporter):
    """Say how much conformance coverage was lost for lack of official artefacts (never silently), and how many
    exchanges were held against the official API description, last before the count of tests."""
    yield
    for name, artefact in (("ksef", KSEF_API), ("anaf", ANAF_API)):
        contract = CONTRACTS[name]
        if contract is None:
            terminalreporter.write_line(
                f"{name.upper()} contract: not checked (needs openapi-core and {artefact.reason()})"
            )
        else:
            terminalreporter.write_line(
                f"{name.upper()} contract: {contract.checked} exchanges checked against the official description, "
                f"{len(contract.operations)} of its {contract.total} operations used; {contract.outside} outside it"
            )


@pytest.fixture(scope="session")
def cius_ro_rules():
    """ANAF's CIUS-RO 1.0.9 Schematron (with the EN 16931 rules it embeds), compiled once."""
    from einvoice.validation import official_rules

    return official_rules(CIUS_RO_RULES.require())


def official_fatal(rules, xml):
    return {finding.rule for finding in rules.findings(xml) if finding.fatal}


def cen_unit_documents():
    """(name, xml) of every invoice and credit note embedded in the CEN EN 16931 UBL unit tests."""
    documents = []
    for path in sorted(CEN_UNIT_TESTS.require().glob("*-unit-UBL/*.xml")):
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
