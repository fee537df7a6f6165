"""CIUS-RO documents: every generated scenario is valid for the UBL schema, for ANAF's official rules and for our
checks, and reads back into the invoice it was written from; broken invoices are refused by both sides alike."""

from dataclasses import replace
from decimal import Decimal as D

import pytest
from lxml import etree

from einvoice import ubl
from einvoice.model import AllowanceCharge, PaymentMeans
from einvoice.ro import checks, ciusro
from einvoice.ro.codes import CIUS_RO_ID
from einvoice.validation import validate_ubl

from .conftest import cen_unit_documents, official_fatal
from .ro_scenarios import (
    BUYER,
    CREDIT_NOTE_AS_INVOICE,
    IBAN,
    SCENARIOS,
    SELLER,
    build,
    every_address_wrong,
    every_amount_with_three_decimals,
    every_text_too_long,
    line,
)


def render(name, invoice):
    return ciusro.render(invoice, credit_note_as_invoice=name in CREDIT_NOTE_AS_INVOICE)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_passes_schema_official_rules_and_our_checks(name, cius_ro_rules):
    invoice = SCENARIOS[name]()
    xml = render(name, invoice)
    root = etree.fromstring(xml)
    assert validate_ubl(root) == []
    assert official_fatal(cius_ro_rules, xml) == set()
    assert [str(finding) for finding in ciusro.check_document(xml) if finding.fatal] == []
    expected = ciusro.prepare(invoice, credit_note_as_invoice=name in CREDIT_NOTE_AS_INVOICE)
    assert ciusro.read(xml).invoice == expected


def test_there_are_at_least_forty_scenarios():
    assert len(SCENARIOS) >= 40


BROKEN = {
    "county missing": (
        lambda: build(buyer=replace(BUYER, address=replace(BUYER.address, subdivision=None))),
        {"BR-RO-111"},
    ),
    "sector misspelt": (
        lambda: build(seller=replace(SELLER, address=replace(SELLER.address, city="Sector 3"))),
        {"BR-RO-100"},
    ),
    "vat id without country": (lambda: build(buyer=replace(BUYER, vat_id="14399840")), {"BR-CO-09"}),
    "number without digit": (lambda: build(number="ALFA-NR"), {"BR-RO-010"}),
    "postal code too long": (
        lambda: build(seller=replace(SELLER, address=replace(SELLER.address, postal_code="0" * 21))),
        {"BR-RO-L0201"},
    ),
    "euro without ron vat": (lambda: build(currency="EUR"), {"BR-RO-030"}),
    "buyer not identified": (lambda: build(buyer=replace(BUYER, vat_id=None, legal_id=None)), {"BR-RO-120"}),
    "seller not identified": (
        lambda: build(seller=replace(SELLER, vat_id=None, legal_id=None)),
        {"BR-RO-065", "BR-CO-26", "BR-S-02"},
    ),
    "street missing": (lambda: build(buyer=replace(BUYER, address=replace(BUYER.address, street=None))), {"BR-RO-082"}),
    "negative price": (lambda: build([line(1, "-1", "-10.00")]), {"BR-27"}),
    "two cards": (
        lambda: build(payment_means=(PaymentMeans("48", card_pan="1234"), PaymentMeans("48", card_pan="9876"))),
        {"BR-66"},
    ),
    "two mandates": (
        lambda: build(payment_means=(PaymentMeans("49", mandate_id="M1"), PaymentMeans("49", mandate_id="M2"))),
        {"BR-67"},
    ),
    "two payment means codes": (lambda: build(payment_means=(IBAN, PaymentMeans("10"))), {"UBL-SR-47"}),
    "two payment means texts": (
        lambda: build(payment_means=(replace(IBAN, text="Transfer"), replace(IBAN, text="Virament"))),
        {"UBL-SR-46"},
    ),
    "two remittance references": (
        lambda: build(payment_means=(replace(IBAN, payment_id="A1"), replace(IBAN, payment_id="B2"))),
        {"UBL-SR-44"},
    ),
    "transfer without account": (lambda: build(payment_means=(PaymentMeans("30"),)), {"BR-61"}),
    "exemption reason missing": (lambda: build([line(1, category="E", rate="0")]), {"BR-E-10"}),
    "standard rate zero": (lambda: build([line(1, rate="0")]), {"BR-S-05"}),
    "no due date nor terms": (lambda: build(due_date=None), {"BR-CO-25"}),
    "invalid invoice type": (lambda: build(type_code="325"), {"BR-RO-020_1"}),
    # why an advance invoice is written as 380: CIUS-RO refuses EN 16931's prepayment invoice type
    "advance invoice typed as a prepayment invoice": (lambda: build(type_code="386"), {"BR-RO-020_1"}),
    "allowance without a rate": (
        lambda: build(allowances_charges=[AllowanceCharge(False, D("1.00"), reason="x", vat_category="S")]),
        {"BR-S-06"},
    ),
}


LENGTH_RULES = {rule_id for rule_id in checks.IMPLEMENTED if rule_id.startswith("BR-RO-L")}
DECIMAL_RULES = {rule_id for rule_id in checks.IMPLEMENTED if rule_id.startswith("BR-DEC")}
BROKEN["every text too long"] = (every_text_too_long, LENGTH_RULES | {"BR-RO-A020"})
BROKEN["every amount with three decimals"] = (every_amount_with_three_decimals, DECIMAL_RULES)
BROKEN["every address wrong"] = (every_address_wrong, {"BR-RO-100", "BR-RO-111", "BR-RO-160", "BR-RO-212"})
BROKEN["every address wrong, swapped"] = (
    lambda: every_address_wrong(swap=True),
    {"BR-RO-110", "BR-RO-101", "BR-RO-170", "BR-RO-202"},
)


def write_as_is(document):
    """CIUS-RO XML of an invoice without the fitting ``render`` does, so that every limit is tested
    (a document that is already XML is taken as it is)."""
    if isinstance(document, bytes):
        return document
    return ubl.write(replace(document, customization_id=CIUS_RO_ID))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_invoice_is_refused_by_both_sides(name, cius_ro_rules):
    make, expected = BROKEN[name]
    xml = write_as_is(make())
    ours = {finding.rule for finding in ciusro.check_document(xml) if finding.fatal}
    official = official_fatal(cius_ro_rules, xml)
    assert expected <= official
    assert ours == official & checks.IMPLEMENTED


def test_every_implemented_rule_fires_somewhere(cius_ro_rules):
    """Agreement proves something only for rules that fire: each one does, in the CEN corpus or above."""
    fired = set()
    for _name, xml in cen_unit_documents():
        fired |= official_fatal(cius_ro_rules, xml)
    for make, _expected in BROKEN.values():
        fired |= official_fatal(cius_ro_rules, write_as_is(make()))
    assert checks.IMPLEMENTED - fired == set()
