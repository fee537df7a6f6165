"""Our Python checks agree with ANAF's official CIUS-RO validator on every rule they implement.

The oracle is the official Schematron (compiled XSLT 2.0, run by saxonche) over the ANAF examples and every document
of the CEN EN 16931 unit tests; a rule id reported by one side and not by the other fails the test.
"""

from einvoice.ro import checks, ciusro

from .artefacts import RO_SAMPLES, ro_sample
from .conftest import cen_unit_documents, official_fatal


def ours(xml):
    return {finding.rule for finding in ciusro.check_document(xml) if finding.fatal}


def disagreements(rules, documents):
    found = []
    for name, xml in documents:
        theirs = official_fatal(rules, xml) & checks.IMPLEMENTED
        mine = ours(xml) & checks.IMPLEMENTED
        if theirs != mine:
            found.append((name, sorted(theirs - mine), sorted(mine - theirs)))
    return found


def test_agreement_on_the_cen_unit_tests(cius_ro_rules):
    documents = cen_unit_documents()
    assert len(documents) > 1000
    assert disagreements(cius_ro_rules, documents) == []


def test_agreement_on_the_anaf_examples(cius_ro_rules):
    documents = [
        (path.name, path.read_bytes()) for path in sorted(RO_SAMPLES.require("anaf-ubl-examples").glob("*.xml"))
    ]
    assert documents
    assert disagreements(cius_ro_rules, documents) == []


def test_the_invalid_anaf_example_is_reported_with_the_official_rule_ids(cius_ro_rules):
    xml = ro_sample("anaf-ubl-examples/ubl_b2g_example6.xml")
    assert ours(xml) == official_fatal(cius_ro_rules, xml) == {"BR-RO-111", "BR-RO-170", "BR-S-08"}


def test_findings_carry_a_translatable_text_and_a_location():
    from einvoice.i18n import Message

    xml = ro_sample("anaf-ubl-examples/ubl_b2g_example6.xml")
    for finding in ciusro.check_document(xml):
        assert isinstance(finding.message, Message)
        assert finding.location
