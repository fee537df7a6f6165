"""The neutral model and CIUS-RO rendering: arithmetic by construction, refusals, fitting, credit-note styles."""

from dataclasses import replace
from decimal import Decimal as D

import pytest
from lxml import etree

from einvoice import ubl
from einvoice.model import Note, money
from einvoice.ro import ciusro
from einvoice.xmlsafe import UnsafeInputError

from .ro_scenarios import build, line


def test_build_computes_breakdown_and_totals():
    invoice = build(
        [line(1, "3", "10.00", rate="21"), line(2, "1", "9.99", rate="11"), line(3, "2", "5.00", rate="21")]
    )
    by_rate = {vat.rate: vat for vat in invoice.vat_breakdown}
    assert by_rate[D("21")].taxable_amount == D("40.00")
    assert by_rate[D("21")].tax_amount == D("8.40")
    assert by_rate[D("11")].tax_amount == D("1.10")
    assert invoice.totals.line_total == D("49.99")
    assert invoice.totals.tax_total == D("9.50")
    assert invoice.totals.payable == D("59.49")


def test_build_keeps_tax_amounts_an_erp_rounded_per_line():
    invoice = build([line(1, "1", "0.05"), line(2, "1", "0.05")], tax_amounts={("S", D("21.00")): D("0.02")})
    assert invoice.vat_breakdown[0].tax_amount == D("0.02")  # 0.10 x 21% would give 0.02 as well, per line 0.01 each
    assert invoice.totals.payable == D("0.12")


def test_money_rounds_half_away_from_zero():
    assert money(D("2.345")) == D("2.35")
    assert money(D("-2.345")) == D("-2.35")


def test_prepaid_and_rounding_enter_the_amount_due():
    invoice = build(prepaid=D("50.00"), rounding=D("-0.02"))
    assert invoice.totals.payable == invoice.totals.tax_inclusive - D("50.00") - D("0.02")


def test_render_refuses_totals_that_do_not_add_up():
    invoice = build()
    wrong = replace(invoice, totals=replace(invoice.totals, payable=invoice.totals.payable + 1))
    with pytest.raises(ciusro.CiusRoError) as caught:
        ciusro.render(wrong)
    assert {finding.rule for finding in caught.value.findings} == {"BR-CO-16"}


def test_credit_note_is_a_credit_note_document():
    invoice = build(type_code="381")
    root = etree.fromstring(ciusro.render(invoice))
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext(f"{{{ubl.CBC}}}CreditNoteTypeCode") == "381"


def test_credit_note_as_negative_invoice():
    invoice = build([line(1, "2", "100.00")], type_code="381")
    root = etree.fromstring(ciusro.render(invoice, credit_note_as_invoice=True))
    assert etree.QName(root).localname == "Invoice"
    assert root.findtext(f"{{{ubl.CBC}}}InvoiceTypeCode") == "380"
    read = ciusro.read(ciusro.render(invoice, credit_note_as_invoice=True)).invoice
    assert read.lines[0].quantity == D("-2")
    assert read.lines[0].price == D("100.00")  # prices stay positive (BR-27)
    assert read.totals.payable == -invoice.totals.payable


def test_long_item_name_is_fitted_and_kept_whole_in_the_description():
    name = "Echipament " * 15
    prepared = ciusro.prepare(build([line(1, item_name=name.strip())]))
    assert len(prepared.lines[0].item_name) <= 100
    assert prepared.lines[0].item_name.endswith("…")
    assert prepared.lines[0].description == name.strip()


def test_long_note_is_split_into_notes_within_the_limit():
    text = "Conditii de livrare si plata. " * 30
    prepared = ciusro.prepare(build(notes=(Note(text),)))
    assert len(prepared.notes) > 1
    assert all(len(note.text) <= 300 for note in prepared.notes)
    assert " ".join(note.text for note in prepared.notes) == text.strip()


def test_specification_identifier_is_set():
    invoice = build()
    assert invoice.customization_id is None
    assert ciusro.read(ciusro.render(invoice)).invoice.customization_id == ciusro.CIUS_RO_ID


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Invoice>&x;</Invoice>',
        b"<Invoice><unclosed></Invoice>",
    ],
)
def test_hostile_or_broken_documents_are_refused(payload):
    with pytest.raises(UnsafeInputError):
        ciusro.read(payload)


def test_a_foreign_document_is_refused_clearly():
    with pytest.raises(ubl.UblError, match="not a UBL Invoice or CreditNote"):
        ciusro.read(b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>")


def test_amounts_are_written_with_two_decimals():
    invoice = build([line(1, "3", "3.333")])
    xml = ciusro.render(invoice).decode()
    assert '<cbc:LineExtensionAmount currencyID="RON">10.00</cbc:LineExtensionAmount>' in xml
    assert '<cbc:PriceAmount currencyID="RON">3.333</cbc:PriceAmount>' in xml


def test_render_refuses_what_anaf_would_reject_with_every_reason():
    from dataclasses import replace as change

    from .ro_scenarios import BUYER

    invoice = build(number="FARA-NUMAR", buyer=change(BUYER, address=change(BUYER.address, subdivision=None)))
    with pytest.raises(ciusro.CiusRoError, match="ANAF would reject") as caught:
        ciusro.render(invoice)
    assert {finding.rule for finding in caught.value.findings} == {"BR-RO-010", "BR-RO-111"}
    assert ciusro.render(invoice, strict=False)  # written anyway when asked, for inspection


def test_a_negative_price_becomes_a_negative_quantity():
    invoice = build([line(1, "2", "100.00"), line(2, "1", "-30.00", item_name="Reducere")])
    written = ciusro.read(ciusro.render(invoice)).invoice
    discount = written.lines[1]
    assert (discount.quantity, discount.price, discount.net_amount) == (D("-1"), D("30.00"), D("-30.00"))
    assert written.totals.payable == invoice.totals.payable
