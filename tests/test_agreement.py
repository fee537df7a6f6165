"""Never stricter than the official rules, proven by differential testing (see ``agreement.py``).

Every document the official validators accept (ANAF's CIUS-RO for UBL, CEN's EN 16931 CII rules and the D16B schema
for CII) is accepted by our checks, over every example, unit test and generated scenario and thousands of seeded
mutations of them; what else differs, rule id by rule id, is listed (``python -m bench.agreement`` prints it all).
Received documents are never lost: every one of them is read into the neutral model, and converted to CIUS-RO.
"""

import re
import zipfile

import pytest

from einvoice import ubl
from einvoice.inbound import read_received
from einvoice.ro import ciusro

from . import agreement
from .artefacts import RO_SAMPLES

MUTATIONS = 5000  # across both syntaxes, besides the few hundred original documents
RECEIVED_MUTATIONS = 400  # those the official rules accept are read and converted as received documents


@pytest.fixture(scope="module")
def judged():
    """The agreement over the whole corpus and its mutations, judged once for the tests of this module."""
    return agreement.run(MUTATIONS)


def describe(judgements):
    return [f"{j.document.name}: ours {sorted(j.ours)}, theirs {sorted(j.theirs)}" for j in judgements]


def test_we_never_refuse_what_the_official_rules_accept(judged):
    assert sum(judged.mutations.values()) == MUTATIONS
    assert judged.documents["UBL"] > 1000 and judged.documents["CII"] > 100
    assert describe(judged.refusals) == []


def test_the_corpus_has_documents_both_sides_accept_and_refuse(judged):
    """A run where everything is accepted, or everything refused, proves nothing."""
    for syntax in ("UBL", "CII"):
        assert 0 < judged.accepted[syntax] < judged.documents[syntax]
        assert any(rules for (kind, _rule), rules in judged.rules.items() if kind == syntax)


# the VAT category rules of every family (BR-S, BR-Z, BR-E, BR-AE, BR-IC, BR-G, BR-O) and the totals (BR-CO)
VAT_AND_TOTAL_RULES = re.compile(r"BR-(S|Z|E|AE|IC|G|O|CO)-\d+$")


def test_cii_vat_category_and_total_rules_agree_rule_by_rule(judged):
    """On CII the VAT category and total rules report exactly what CEN's CII rules report, rule by rule, on every
    document and mutation the official validator could evaluate (one it stops on, XSLT-ERROR, reports no rule)."""
    compared = agreement.Agreement.compared("CII")
    differing = []
    for judgement in judged.differences + judged.refusals:
        if judgement.document.syntax != "CII" or "XSLT-ERROR" in judgement.theirs:
            continue
        theirs = {rule for rule in judgement.theirs & compared if VAT_AND_TOTAL_RULES.match(rule)}
        ours = {rule for rule in judgement.ours if VAT_AND_TOTAL_RULES.match(rule)}
        if theirs != ours:
            differing.append(f"{judgement.document.name}: ours {sorted(ours)}, theirs {sorted(theirs)}")
    assert differing == []
    checked = {rule for (syntax, rule) in judged.rules if syntax == "CII" and VAT_AND_TOTAL_RULES.match(rule)}
    assert len(checked) > 40  # the families really fire in the corpus


def test_the_rules_both_sides_report_agree_on_the_official_examples():
    """On the unmutated corpus every rule id agrees for UBL (as the CIUS-RO agreement tests ask) and we report
    nothing for CII the CEN rules do not."""
    judge = agreement.Judge()
    for document in agreement.corpus():
        judgement = judge.judge(document)
        compared = agreement.Agreement.compared(document.syntax)
        theirs, ours = judgement.theirs & compared, judgement.ours & compared
        if document.syntax == "UBL":
            assert (document.name, sorted(ours)) == (document.name, sorted(theirs))
        elif "-unit" not in document.name:  # CEN's CII unit tests are fragments, judged in the mutation test
            assert (document.name, sorted(ours - theirs)) == (document.name, [])


def test_cii_without_a_vat_total_is_accepted_read_and_converted(tmp_path):
    """BT-110 absent, total with VAT = total without VAT (category O): BR-CO-15 of the CII rules accepts it."""
    from .artefacts import CEN_CII_RULES

    xml = CEN_CII_RULES.require("examples", "XRechnung-O.xml").read_bytes()
    assert [f for f in ciusro.check_document(xml) if f.fatal and not f.rule.startswith("BR-RO")] == []
    received = read_received(xml, "XRechnung-O.xml")
    assert received.syntax == "CII" and received.invoice.totals.tax_total is None
    converted = ciusro.render(received.invoice, strict=False)
    assert b"<cbc:TaxAmount" in converted


def test_cii_credit_transfer_account_rules_follow_the_cii_binding():
    """ANAF's CII example 0 gives an empty IBANID: the CII rules report BR-50 (no BR-61: the element is there)."""
    from .ro_samples import cii_invoice

    fatal = {f.rule for f in ciusro.check_document(cii_invoice()) if f.fatal}
    assert "BR-50" in fatal and "BR-61" not in fatal


def test_every_received_document_is_read_and_converted():
    """Every original document and mutations the official rules accept: read by the inbox without exception, with
    our findings as warnings, and converted to CIUS-RO (the output written even with findings)."""
    judge = agreement.Judge()
    documents = agreement.corpus()
    accepted = [d for d in documents if not judge.theirs(d)]
    accepted += [
        d for d in agreement.mutations(agreement.mutation_bases(documents), RECEIVED_MUTATIONS) if not judge.theirs(d)
    ]
    assert len(accepted) > 50
    for archive in sorted(RO_SAMPLES.require("spv-downloads").glob("*.zip")):  # what ANAF delivered
        if b"mesajErori" in zipfile.ZipFile(archive).read(f"{archive.stem}.xml"):
            continue  # ANAF's answer to an invoice it refused, not an invoice
        received = read_received(archive.read_bytes(), archive.name)
        accepted.append(agreement.Document(archive.name, received.syntax, received.xml))
    for document in accepted:
        received = read_received(document.xml, "received.xml")
        assert received.syntax == document.syntax
        assert all(not finding.fatal for finding in received.warnings())
        assert ciusro.render(received.invoice, strict=False).startswith(b"<?xml")


def test_the_vat_breakdown_tolerance_edge_is_the_official_one():
    """CIUS-RO's BR-S-08 computes TaxableAmount - 1 and + 1 in xs:double: at exactly 1 off, whether the official rule
    accepts depends on the binary value of the amount. A document allowance puts the lines' sum at that edge."""
    from decimal import Decimal

    from lxml import etree

    from .ro_scenarios import SCENARIOS

    judge = agreement.Judge()
    root = etree.fromstring(ciusro.render(SCENARIOS["document_allowance"](), strict=False))
    ns = ubl.NS
    allowance = root.find("cac:AllowanceCharge/cbc:Amount", ns)
    allowance_total = root.find("cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount", ns)
    taxable = root.find("cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount", ns)
    lines = Decimal(root.find("cac:LegalMonetaryTotal/cbc:LineExtensionAmount", ns).text)
    verdicts = set()
    for cents in range(100):
        for off in (-1, 1):
            amount = Decimal(185) + Decimal(cents) / 100
            allowance.text = allowance_total.text = str(lines - amount - off)
            taxable.text = str(amount)
            judgement = judge.judge(agreement.Document(f"edge {amount} {off}", "UBL", etree.tostring(root)))
            theirs = "BR-S-08" in judgement.theirs
            assert ("BR-S-08" in judgement.ours, amount, off) == (theirs, amount, off)
            verdicts.add(theirs)
    assert verdicts == {True, False}  # the edge is really crossed both ways
