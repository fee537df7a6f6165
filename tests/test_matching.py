"""The matching engine: vendors, products, units, taxes and existing bills found with a reason, never guessed."""

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest

from einvoice import matching
from einvoice.i18n import Message, translate
from einvoice.matching import (
    AMBIGUOUS,
    CREATED,
    EXACT,
    NONE,
    NORMALISED,
    SIMILAR,
    BillCandidate,
    MatchIndex,
    MatchSettings,
    PartnerCandidate,
    PostedLine,
    ProductCandidate,
    SupplierCode,
    TaxCandidate,
    UomCandidate,
    match_invoice,
)
from einvoice.model import Address, Identifier, Invoice, Line, Party, Totals
from einvoice.pl import fa3
from einvoice.ro import ciusro

from .artefacts import pl_sample, ro_sample

ACME = PartnerCandidate(1, "Acme Distribuție SRL", vat="RO 1234 5678", registry="J40/123/2020", country="RO")
KOWALSKI = PartnerCandidate(2, "Kowalski sp. z o.o.", vat="526-025-02-74", registry="0000123456", country="PL")
BERLIN = PartnerCandidate(3, "Berlin GmbH", vat="PL7770001112", country="DE")  # German, registered for Polish VAT
PARTNERS = [ACME, KOWALSKI, BERLIN]

SCREW = ProductCandidate(10, "Șurub inox M8 x 40", default_code="SRB-M8", barcode="5901234123457", uom_id=100)
CABLE = ProductCandidate(11, "Cablu rețea Cat5 UTP", default_code="CBL-5", barcode="00012345678905")
FRIDGE = ProductCandidate(12, "Lodówka Zimnotech mk1", default_code="LZ1")
PRODUCTS = [SCREW, CABLE, FRIDGE]
CODES = [SupplierCode(ACME.id, "AC-001", SCREW.id), SupplierCode(KOWALSKI.id, "AC-001", CABLE.id)]

PIECES, METRES, KILOS = UomCandidate(100, "H87", "Units"), UomCandidate(101, "MTR", "m"), UomCandidate(102, "KGM", "kg")
UOMS = [PIECES, METRES, KILOS]

COMPANY = 1
VAT21 = TaxCandidate(200, "21% purchase", "21", "S", "purchase", COMPANY)
VAT21_SALE = TaxCandidate(201, "21% sale", "21", "S", "sale", COMPANY)
VAT21_OTHER_COMPANY = TaxCandidate(202, "21% purchase (other company)", "21", "S", "purchase", 2)
VAT21_INCLUDED = TaxCandidate(203, "21% included", "21", "S", "purchase", COMPANY, price_include=True)
VAT11 = TaxCandidate(204, "11% purchase", 11.0, "S", "purchase", COMPANY)
ZERO_AE = TaxCandidate(205, "0% reverse charge (sale side)", "0", "AE", "purchase", COMPANY)
REVERSE = TaxCandidate(206, "21% reverse charge", "21", "S", "purchase", COMPANY, reverse_charge=True)
EXEMPT = TaxCandidate(207, "Exempt", "0", "E", "purchase", COMPANY)
OUT_OF_SCOPE = TaxCandidate(208, "Not subject", "0", "O", "purchase", COMPANY)
TAXES = [VAT21, VAT21_SALE, VAT21_OTHER_COMPANY, VAT21_INCLUDED, VAT11, ZERO_AE, REVERSE, EXEMPT, OUT_OF_SCOPE]

TYPED = BillCandidate(300, ACME.id, "fv 2026-0042", date(2026, 3, 2), D("121.00"), state="posted")
DRAFT = BillCandidate(301, KOWALSKI.id, None, date(2026, 3, 5), D("246.00"))
CANCELLED = BillCandidate(302, KOWALSKI.id, "FV/7", date(2026, 3, 9), D("50.00"), state="cancel")
BILLS = [TYPED, DRAFT, CANCELLED]

SETTINGS = MatchSettings(company_id=COMPANY)


@pytest.fixture
def index():
    return MatchIndex(PARTNERS, PRODUCTS, CODES, UOMS, TAXES, BILLS)


def seller(vat=None, country="RO", **fields):
    return Party(name="Seller", vat_id=vat, address=Address(country_code=country), **fields)


# normalisation


@pytest.mark.parametrize(
    ("written", "parts"),
    [
        ("RO12345678", ("RO", "12345678")),
        ("ro 1234.5678", ("RO", "12345678")),
        ("12345678", (None, "12345678")),
        ("PL5260250274", ("PL", "5260250274")),
        ("526-025-02-74", (None, "5260250274")),
        ("PL 526-025-02-74", ("PL", "5260250274")),
        ("EL123456789", ("GR", "123456789")),
        ("ATU12345678", ("AT", "U12345678")),
    ],
)
def test_vat_numbers_compare_without_prefix_spacing_or_case(written, parts):
    assert matching.vat_parts(written) == parts


@pytest.mark.parametrize(
    ("first", "second"),
    [("12345670", "000012345670"), ("5901234123457", "05901234123457"), ("012345678905", "12345678905")],
)
def test_gtins_compare_without_leading_zeros(first, second):
    assert matching.gtin_key(first) == matching.gtin_key(second)


def test_other_codes_keep_their_separators():
    assert matching.code_key(" ab-12 ") == matching.code_key("AB-12")
    assert matching.code_key("AB-12") != matching.code_key("A-B12")
    assert matching.gtin_key("AB-12") == "AB12"


def test_names_compare_without_case_or_accents():
    assert matching.name_tokens("ȘURUB Łódź, lodówka_x") == ["surub", "lodz", "lodowka", "x"]


# vendor


@pytest.mark.parametrize(
    ("vat", "country", "kind"),
    [
        ("RO 1234 5678", "RO", EXACT),
        ("RO12345678", "RO", NORMALISED),
        ("12345678", "RO", NORMALISED),  # CIF with or without RO: one vendor
        ("ro12345678", None, NORMALISED),
    ],
)
def test_vendor_by_vat_number(index, vat, country, kind):
    decision = index.match_vendor(seller(vat, country), SETTINGS)
    assert (decision.kind, decision.record_id) == (kind, ACME.id)


def test_polish_nip_with_or_without_prefix_and_dashes(index):
    for vat in ("PL5260250274", "5260250274", "PL 526 025 02 74"):
        assert index.match_vendor(seller(vat, "PL")).record_id == KOWALSKI.id


def test_foreign_vendor_with_polish_nip_is_found_by_the_prefix_not_its_address(index):
    assert index.match_vendor(seller("PL7770001112", "PL")).record_id == BERLIN.id


def test_same_number_in_another_country_is_another_vendor(index):
    decision = index.match_vendor(seller("DE12345678", "DE"))
    assert decision.kind == NONE
    assert "DE12345678" in decision.reason


def test_tax_number_of_a_seller_without_vat(index):
    party = Party(name="Acme", tax_registration_id="12345678", address=Address(country_code="RO"))
    assert index.match_vendor(party).record_id == ACME.id


def test_vendor_by_registry_when_the_vat_number_is_unknown(index):
    decision = index.match_vendor(seller("RO99999999", legal_id=Identifier("j40/123/2020")))
    assert (decision.kind, decision.record_id) == (EXACT, ACME.id)
    assert "j40/123/2020" in decision.reason  # as the invoice writes it


def test_duplicate_vendors_are_reported_not_guessed():
    duplicate = PartnerCandidate(4, "Acme (duplicate)", vat="12345678", country="RO")
    decision = MatchIndex([ACME, duplicate]).match_vendor(seller("RO12345678"))
    assert decision.kind == AMBIGUOUS
    assert decision.candidates == (ACME.id, duplicate.id)
    assert decision.record_id is None
    assert "Acme (duplicate)" in decision.reason


def test_vendors_of_another_company_are_not_seen():
    mine = replace(ACME, id=5, company_id=1)
    theirs = replace(ACME, id=6, company_id=2)
    index = MatchIndex([mine, theirs])
    assert index.match_vendor(seller("RO12345678"), MatchSettings(company_id=1)).record_id == 5
    assert index.match_vendor(seller("RO12345678"), MatchSettings(company_id=2)).record_id == 6


def test_unknown_vendor_is_created_from_the_invoice_when_allowed(index):
    party = Party(
        name="Nou SRL",
        vat_id="RO 555",
        legal_id=Identifier("J12/1/2024"),
        address=Address(country_code="RO", city="Cluj-Napoca", street="Str. Mare 1"),
    )
    decision = index.match_vendor(party, MatchSettings(create_vendors=True))
    assert decision.kind == CREATED
    assert decision.proposal.name == "Nou SRL"
    assert decision.proposal.key == "555"
    assert (decision.proposal.city, decision.proposal.vat, decision.proposal.registry) == (
        "Cluj-Napoca",
        "RO 555",
        "J12/1/2024",
    )
    again = index.match_vendor(replace(party, vat_id="555"), MatchSettings(create_vendors=True))
    assert again.proposal.key == decision.proposal.key  # one vendor to create, however often it sends


def test_unknown_vendor_is_left_for_review_by_default(index):
    decision = index.match_vendor(seller("RO555"))
    assert (decision.kind, decision.proposal) == (NONE, None)
    assert "review" in decision.reason


def test_invoice_without_seller(index):
    assert index.match_vendor(None).kind == NONE


# product


def test_product_by_the_vendors_code(index):
    decision = index.match_product(Line(seller_item_id=" ac-001 "), ACME.id)
    assert (decision.kind, decision.record_id) == (EXACT, SCREW.id)
    assert index.match_product(Line(seller_item_id="AC-001"), KOWALSKI.id).record_id == CABLE.id
    assert index.match_product(Line(seller_item_id="AC-001"), None).kind == NONE  # no vendor, no vendor code


def test_product_by_gtin_with_or_without_leading_zeros(index):
    exact = index.match_product(Line(standard_id=Identifier("5901234123457", "0160")), None)
    assert (exact.kind, exact.record_id) == (EXACT, SCREW.id)
    padded = index.match_product(Line(standard_id=Identifier("05901234123457", "0160")), None)
    assert (padded.kind, padded.record_id) == (NORMALISED, SCREW.id)
    upc = index.match_product(Line(standard_id=Identifier("012345678905", "0160")), None)
    assert upc.record_id == CABLE.id


def test_two_products_with_one_barcode_are_ambiguous():
    twin = replace(CABLE, id=13, barcode="5901234123457")
    decision = MatchIndex(products=[SCREW, twin]).match_product(Line(standard_id=Identifier("5901234123457")), None)
    assert decision.kind == AMBIGUOUS
    assert decision.candidates == (SCREW.id, twin.id)
    assert SCREW.name in decision.reason and twin.name in decision.reason


def test_product_by_internal_reference(index):
    by_buyer = index.match_product(Line(buyer_item_id="srb-m8"), ACME.id)
    assert (by_buyer.kind, by_buyer.record_id) == (EXACT, SCREW.id)
    by_seller = index.match_product(Line(seller_item_id="CBL-5"), ACME.id)
    assert by_seller.record_id == CABLE.id
    assert "vendor's code" in by_seller.reason


def test_rules_apply_in_order(index):
    line = Line(seller_item_id="AC-001", standard_id=Identifier("00012345678905"), item_name="Lodówka Zimnotech mk1")
    assert index.match_product(line, ACME.id).record_id == SCREW.id  # the vendor's code comes first
    assert index.match_product(line, BERLIN.id).record_id == CABLE.id  # BERLIN has no codes: the GTIN decides


def test_product_by_similar_name(index):
    decision = index.match_product(Line(item_name="SURUB INOX M8 x 40mm"), ACME.id)
    assert (decision.kind, decision.record_id) == (SIMILAR, SCREW.id)
    assert 0.7 <= decision.score < 1
    assert "%" in decision.reason and "%%" not in decision.reason
    reordered = index.match_product(Line(item_name="lodowka mk1 ZIMNOTECH"), None)
    assert (reordered.record_id, reordered.score) == (FRIDGE.id, 1.0)


def test_name_below_the_threshold_keeps_the_line_text(index):
    line = Line(item_name="Șurub")
    decision = index.match_product(line, ACME.id)
    assert (decision.kind, decision.record_id) == (NONE, None)
    assert "Șurub" in decision.reason
    assert index.match_product(line, ACME.id, MatchSettings(name_threshold=0.3)).record_id == SCREW.id


def test_equally_close_names_are_ambiguous():
    twins = [ProductCandidate(20, "Cablu rețea Cat5"), ProductCandidate(21, "Cablu retea cat5")]
    decision = MatchIndex(products=twins).match_product(Line(item_name="cablu retea cat5"), None)
    assert (decision.kind, decision.candidates) == (AMBIGUOUS, (20, 21))


def test_names_are_compared_with_the_products_sharing_the_rarest_words():
    """A catalogue where the line's words are all common: the shortlist still holds the right product."""
    crowd = [ProductCandidate(n, f"Șurub inox {n}") for n in range(1000, 1300)]  # too common to pick by
    offers = [ProductCandidate(n, f"Special offer {n}") for n in range(2000, 2060)]  # more than are compared
    wanted = ProductCandidate(1, "Șurub inox special")
    plain = ProductCandidate(2, "Șurub inox")
    index = MatchIndex(products=[*crowd, *offers, wanted, plain])
    assert len(offers) > matching.MAX_COMPARED and len(crowd) > matching.BLOCK_LIMIT
    assert index.match_product(Line(item_name="SURUB INOX SPECIAL"), None).record_id == wanted.id
    assert index.match_product(Line(item_name="surub inox"), None).record_id == plain.id


def test_products_of_another_company_are_not_seen():
    theirs = replace(SCREW, company_id=2)
    index = MatchIndex(products=[theirs])
    for line in (Line(buyer_item_id="SRB-M8"), Line(item_name=SCREW.name), Line(standard_id=Identifier(SCREW.barcode))):
        assert index.match_product(line, None, MatchSettings(company_id=1)).kind == NONE
        assert index.match_product(line, None, MatchSettings(company_id=2)).record_id == SCREW.id


def test_line_without_anything_to_match(index):
    decision = index.match_product(Line(), ACME.id)
    assert decision.kind == NONE


# unit of measure


@pytest.mark.parametrize(
    ("code", "kind", "uom"),
    [
        ("MTR", EXACT, METRES),
        ("h87", EXACT, PIECES),
        ("szt.", NORMALISED, PIECES),  # FA(3) writes units as words
        ("buc", NORMALISED, PIECES),
        ("bucată", NORMALISED, PIECES),
        ("kg", NORMALISED, KILOS),
        ("C62", NORMALISED, PIECES),  # one piece is one unit
        ("EA", NORMALISED, PIECES),
    ],
)
def test_unit_by_rec20_code(index, code, kind, uom):
    decision = index.match_uom(Line(unit_code=code))
    assert (decision.kind, decision.record_id) == (kind, uom.id)


def test_unit_words_are_read_without_accents_or_punctuation():
    index = MatchIndex(uoms=[UomCandidate(104, "MTK", "m²"), UomCandidate(105, "C62", "service")])
    assert index.match_uom(Line(unit_code="m²")).record_id == 104
    assert index.match_uom(Line(unit_code="usł.")).record_id == 105


def test_unknown_or_missing_unit(index):
    assert index.match_uom(Line(unit_code="LTR")).kind == NONE
    assert "LTR" in index.match_uom(Line(unit_code="LTR")).reason
    assert index.match_uom(Line()).kind == NONE


def test_units_sharing_a_code_prefer_the_products_unit():
    boxes = UomCandidate(103, "H87", "Boxes")
    index = MatchIndex(products=[SCREW], uoms=[boxes, PIECES])
    assert index.match_uom(Line(unit_code="H87")).kind == AMBIGUOUS
    assert index.match_uom(Line(unit_code="H87"), SCREW.id).record_id == PIECES.id


# tax


@pytest.mark.parametrize(
    ("category", "rate", "tax"),
    [
        ("S", D("21.00"), VAT21),
        ("S", D("11"), VAT11),
        ("E", D("0"), EXEMPT),
        ("O", None, OUT_OF_SCOPE),
    ],
)
def test_tax_by_category_rate_purchase_use_and_company(index, category, rate, tax):
    decision = index.match_tax(Line(vat_category=category, vat_rate=rate), COMPANY)
    assert (decision.kind, decision.record_id) == (EXACT, tax.id)


def test_sale_taxes_and_other_companies_are_not_used_for_purchases(index):
    assert index.match_tax(Line(vat_category="S", vat_rate=D("21")), COMPANY, purchase=False).record_id == VAT21_SALE.id
    assert index.match_tax(Line(vat_category="S", vat_rate=D("21")), 2).record_id == VAT21_OTHER_COMPANY.id
    missing = index.match_tax(Line(vat_category="S", vat_rate=D("9")), COMPANY)
    assert missing.kind == NONE
    assert "S" in missing.reason and "9%" in missing.reason


def test_reverse_charge_purchase_takes_the_self_assessing_tax_not_a_zero_one(index):
    for category in ("AE", "K"):
        decision = index.match_tax(Line(vat_category=category, vat_rate=D("0")), COMPANY)
        assert (decision.kind, decision.record_id) == (EXACT, REVERSE.id)
    assert index.match_tax(Line(vat_category="AE", vat_rate=D("0")), COMPANY, purchase=False).kind == NONE


def test_reverse_charge_without_a_self_assessing_tax_is_not_matched_to_zero():
    index = MatchIndex(taxes=[ZERO_AE, VAT21])
    decision = index.match_tax(Line(vat_category="AE", vat_rate=D("0")), COMPANY)
    assert (decision.kind, decision.record_id) == (NONE, None)
    assert "0%" in decision.reason


def test_self_assessing_tax_of_the_lines_category_is_preferred():
    domestic = TaxCandidate(210, "Reverse charge (AE)", "21", "AE", "purchase", COMPANY, reverse_charge=True)
    intra = TaxCandidate(211, "Intra-community acquisition", "21", "K", "purchase", COMPANY, reverse_charge=True)
    index = MatchIndex(taxes=[domestic, intra])
    assert index.match_tax(Line(vat_category="AE", vat_rate=D("0")), COMPANY).record_id == domestic.id
    assert index.match_tax(Line(vat_category="K", vat_rate=D("0")), COMPANY).record_id == intra.id
    uncategorised = MatchIndex(taxes=[REVERSE, replace(REVERSE, id=212, name="11% reverse charge", rate="11")])
    decision = uncategorised.match_tax(Line(vat_category="AE", vat_rate=D("0")), COMPANY)
    assert (decision.kind, decision.candidates) == (AMBIGUOUS, (REVERSE.id, 212))


def test_price_included_taxes_are_never_chosen():
    decision = MatchIndex(taxes=[VAT21_INCLUDED]).match_tax(Line(vat_category="S", vat_rate=D("21")), COMPANY)
    assert decision.kind == NONE


def test_two_taxes_for_one_category_and_rate_are_ambiguous():
    twin = replace(VAT21, id=220, name="21% services")
    decision = MatchIndex(taxes=[VAT21, twin]).match_tax(Line(vat_category="S", vat_rate=D("21")), COMPANY)
    assert (decision.kind, decision.candidates) == (AMBIGUOUS, (VAT21.id, twin.id))


def test_line_without_vat_category_or_rate(index):
    assert index.match_tax(Line(), COMPANY).kind == NONE
    assert index.match_tax(Line(vat_category="S"), COMPANY).kind == NONE


# existing bill


def invoice(number="FV2026-0042", issue_date=date(2026, 3, 2), total="121.00", **fields):
    return Invoice(number=number, issue_date=issue_date, totals=Totals(tax_inclusive=D(total)), **fields)


def test_bill_with_the_same_number_and_date_is_linked(index):
    decision = index.match_existing_bill(invoice(), ACME.id)
    assert (decision.kind, decision.record_id) == (NORMALISED, TYPED.id)
    exact = MatchIndex(bills=[replace(TYPED, ref="FV2026-0042")]).match_existing_bill(invoice(), ACME.id)
    assert exact.kind == EXACT


def test_draft_typed_without_date_is_linked_by_number():
    draft = replace(TYPED, date=None, state="draft")
    assert MatchIndex(bills=[draft]).match_existing_bill(invoice(), ACME.id).record_id == TYPED.id


def test_same_number_on_another_date_is_reported_not_linked(index):
    decision = index.match_existing_bill(invoice(issue_date=date(2025, 3, 2)), ACME.id)
    assert (decision.kind, decision.candidates, decision.record_id) == (AMBIGUOUS, (TYPED.id,), None)


def test_bill_with_the_same_date_and_total_is_linked(index):
    decision = index.match_existing_bill(invoice("FV 99", date(2026, 3, 5), "246.00"), KOWALSKI.id)
    assert (decision.kind, decision.record_id) == (NORMALISED, DRAFT.id)
    assert index.match_existing_bill(invoice("FV 99", date(2026, 3, 5), "246.01"), KOWALSKI.id).kind == NONE


def test_two_invoices_of_one_day_and_amount_are_two_bills():
    """A daily delivery billed at the same price: the bill made from yesterday's e-invoice is not today's."""
    imported = replace(DRAFT, ref="FV 98", from_einvoice=True)
    index = MatchIndex(bills=[imported])
    assert index.match_existing_bill(invoice("FV 99", date(2026, 3, 5), "246.00"), KOWALSKI.id).kind == NONE
    assert index.match_existing_bill(invoice("FV 98", date(2026, 3, 5), "246.00"), KOWALSKI.id).record_id == 301


def test_bills_of_other_vendors_refunds_and_cancelled_bills_are_not_linked(index):
    assert index.match_existing_bill(invoice(), KOWALSKI.id).kind == NONE
    assert index.match_existing_bill(invoice(type_code="381"), ACME.id).kind == NONE
    assert index.match_existing_bill(invoice("FV/7", date(2026, 3, 9), "50.00"), KOWALSKI.id).kind == NONE
    assert index.match_existing_bill(invoice(), None).kind == NONE


def test_credit_note_written_as_negative_invoice_is_matched_to_a_refund():
    refund = BillCandidate(310, ACME.id, "CN1", date(2026, 3, 2), D("121.00"), refund=True)
    decision = MatchIndex(bills=[refund]).match_existing_bill(invoice("cn-1", total="-121.00"), ACME.id)
    assert decision.record_id == refund.id


def test_several_bills_with_the_same_date_and_total_are_ambiguous():
    bills = [BillCandidate(n, ACME.id, None, date(2026, 3, 2), D("10")) for n in (320, 321)]
    decision = MatchIndex(bills=bills).match_existing_bill(invoice(None, total="10.00"), ACME.id)
    assert (decision.kind, decision.candidates) == (AMBIGUOUS, (320, 321))


def test_bills_of_another_company_are_not_seen():
    theirs = replace(TYPED, company_id=2)
    assert MatchIndex(bills=[theirs]).match_existing_bill(invoice(), ACME.id, company_id=1).kind == NONE


# the whole invoice, reasons, learning


def test_match_invoice_gives_every_decision_a_translatable_reason(index):
    received = invoice(
        seller=seller("RO12345678"),
        lines=(
            Line(seller_item_id="AC-001", unit_code="H87", vat_category="S", vat_rate=D("21")),
            Line(item_name="Transport", unit_code="XYZ", vat_category="AE", vat_rate=D("0")),
        ),
    )
    result = match_invoice(received, index, SETTINGS)
    assert result.vendor.record_id == ACME.id
    assert result.bill.record_id == TYPED.id
    assert [line.product.record_id for line in result.lines] == [SCREW.id, None]
    assert [line.tax.record_id for line in result.lines] == [VAT21.id, REVERSE.id]
    assert not result.needs_review
    for decision in result.decisions():
        assert isinstance(decision.reason, Message)
        assert translate(decision.reason, "ro")
    assert match_invoice(replace(received, seller=seller("RO555")), index, SETTINGS).needs_review


def test_every_reason_keeps_its_placeholders_filled(index):
    """Reasons are literal texts (so the catalogs extract them) that never show a raw placeholder."""
    import ast
    import inspect

    markers = [
        node
        for node in ast.walk(ast.parse(inspect.getsource(matching)))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_"
    ]
    assert all(isinstance(node.args[0], ast.Constant) for node in markers)  # catalogs only see literal texts
    results = [match_invoice(received, index, SETTINGS) for received in reason_cases()]
    seen = {decision.reason.msgid for result in results for decision in result.decisions()}
    for result in results:
        for decision in result.decisions():
            assert "%(" not in decision.reason
    assert len(seen) >= 15


def reason_cases():
    lines = (
        Line(seller_item_id="AC-001", unit_code="szt", vat_category="AE", vat_rate=D("0")),
        Line(item_name="surub inox m8 x 40", unit_code="LTR", vat_category="S", vat_rate=D("9")),
        Line(standard_id=Identifier("05901234123457"), vat_category="S"),
        Line(buyer_item_id="LZ1", unit_code="MTR", vat_category="E", vat_rate=D("0")),
    )
    yield invoice(seller=seller("RO12345678"), lines=lines)
    yield invoice(seller=seller("RO 1234 5678", legal_id=Identifier("x")), issue_date=date(2020, 1, 1))
    yield invoice(seller=Party(name="Kowalski", legal_id=Identifier("0000123456")))
    yield invoice(seller=seller("RO1"), lines=(Line(item_name="nothing like it"), Line()))
    yield invoice(seller=None)


def test_learning_round_trip(index):
    line = Line(seller_item_id="NEW-7", item_name="Something else entirely")
    assert index.match_product(line, ACME.id).kind == NONE
    posted = [
        PostedLine(FRIDGE.id, "NEW-7"),
        PostedLine(SCREW.id, "AC-001"),  # already known
        PostedLine(None, "X-1"),  # no product chosen
        PostedLine(CABLE.id, None),  # no code
        PostedLine(CABLE.id, "TWICE"),
        PostedLine(FRIDGE.id, "twice"),  # one code, two products: teaches nothing
    ]
    learned = index.codes_to_learn(ACME.id, posted)
    assert learned == (SupplierCode(ACME.id, "NEW-7", FRIDGE.id),)
    index.remember(learned)
    assert index.match_product(line, ACME.id).record_id == FRIDGE.id
    assert index.codes_to_learn(ACME.id, posted) == ()
    assert index.match_product(line, KOWALSKI.id).kind == NONE  # another vendor's code is another code


def test_a_corrected_product_replaces_the_code_learned_before(index):
    correction = index.codes_to_learn(ACME.id, [PostedLine(CABLE.id, "ac-001")])
    assert correction == (SupplierCode(ACME.id, "ac-001", CABLE.id),)
    index.remember(correction)
    assert index.match_product(Line(seller_item_id="AC-001"), ACME.id).record_id == CABLE.id


def test_one_code_on_two_products_is_ambiguous():
    codes = [SupplierCode(ACME.id, "AC-001", SCREW.id), SupplierCode(ACME.id, "ac-001", CABLE.id)]
    decision = MatchIndex(products=PRODUCTS, supplier_codes=codes).match_product(Line(seller_item_id="AC-001"), ACME.id)
    assert (decision.kind, decision.candidates) == (AMBIGUOUS, (SCREW.id, CABLE.id))


# real documents


def test_anaf_sample_against_a_catalogue():
    data = ro_sample("anaf-ubl-examples/ubl_b2g_example2.xml")
    received = ciusro.read(data).invoice
    vendor = PartnerCandidate(40, "Salescompany", vat="1111111111118", country="RO")
    laptop = ProductCandidate(41, "Laptop computer", barcode="1234567890128")
    book = ProductCandidate(42, "Computing for dummies (book)", default_code="JB009")
    cable = ProductCandidate(43, "Network cable Cat5")
    index = MatchIndex(
        [vendor],
        [laptop, book, cable],
        [SupplierCode(vendor.id, "jb011", cable.id)],
        [UomCandidate(50, "C62", "Units"), UomCandidate(51, "MTR", "m")],
        [
            TaxCandidate(60, "25%", "25", "S", "purchase", COMPANY),
            TaxCandidate(61, "15%", "15", "S", "purchase", COMPANY),
            TaxCandidate(62, "Exempt", "0", "E", "purchase", COMPANY),
        ],
        [
            BillCandidate(70, vendor.id, "tosl 108", date(2013, 6, 30), D("1")),
            BillCandidate(71, 99, "TOSL108", None, None),
        ],
    )
    result = match_invoice(received, index, SETTINGS)
    assert (result.vendor.kind, result.vendor.record_id) == (NORMALISED, vendor.id)  # RO prefix on the invoice only
    assert (result.bill.kind, result.bill.record_id) == (NORMALISED, 70)
    products = [(line.product.kind, line.product.record_id) for line in result.lines]
    assert products == [
        (EXACT, laptop.id),  # GTIN
        (NONE, None),  # a returned book we do not stock: the line keeps its text
        (EXACT, book.id),  # the vendor's code is our internal reference
        (NONE, None),
        (EXACT, cable.id),  # the vendor's code
    ]
    assert [line.uom.record_id for line in result.lines] == [50, 50, 50, 50, 51]  # EA counts pieces
    assert [line.tax.record_id for line in result.lines] == [60, 61, 61, 62, 60]


def test_ministry_fa3_sample_against_a_catalogue():
    received = fa3.read(pl_sample("mf-fa3-examples/FA_3_Przyklad_1.xml")).invoice
    vendor = PartnerCandidate(80, "ABC AGD", vat="999-999-99-99", country="PL")
    fridge = ProductCandidate(81, "Lodówka ZIMNOTECH MK1")
    index = MatchIndex(
        [vendor],
        [fridge, ProductCandidate(82, "Wniesienie i montaż sprzętu AGD")],
        uoms=[UomCandidate(90, "H87", "szt")],
        taxes=[
            TaxCandidate(91, "23%", "23", "S", "purchase", COMPANY),
            TaxCandidate(92, "5%", "5", "S", "purchase", COMPANY),
        ],
    )
    result = match_invoice(received, index, SETTINGS)
    assert (result.vendor.kind, result.vendor.record_id) == (NORMALISED, vendor.id)
    assert result.bill.kind == NONE
    assert [(line.product.kind, line.product.record_id) for line in result.lines] == [
        (SIMILAR, fridge.id),
        (NONE, None),  # half the words of a longer name: below the threshold
        (NONE, None),
    ]
    assert {line.uom.record_id for line in result.lines} == {90}
    assert [line.tax.record_id for line in result.lines] == [91, 91, 92]


# a batch the size of the inbound target


def synthetic_batch(seed=20260302, partners=20_000, products=100_000, invoices=1_000, lines=10):
    """A catalogue and invoices written the way suppliers write them, with the product each line must find.

    Returns ``(index_arguments, cases)``: the candidate lists, and ``(invoice, vendor id, expected product ids)``.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    nouns = ["șurub", "piuliță", "cablu", "lodówka", "zmywarka", "bec", "țeavă", "robinet", "filtru", "panou"]
    adjectives = ["inox", "zincat", "alb", "negru", "mare", "mic", "dublu", "solar", "rapid", "ușor"]
    partner_list = [
        PartnerCandidate(n, f"Vendor {n}", vat=f"RO{10_000_000 + n}" if n % 2 else f"PL{5_000_000_000 + n}")
        for n in range(1, partners + 1)
    ]
    product_list = [
        ProductCandidate(
            n,
            f"{nouns[n % 10]} {adjectives[n // 10 % 10]} {rng.choice(adjectives)} model K{n:06d}",
            default_code=f"P{n:06d}",
            barcode=f"590{n:010d}",
        )
        for n in range(1, products + 1)
    ]
    codes = [SupplierCode(1 + n // 4 % partners, f"S-{n}", n) for n in range(4, products + 1, 4)]
    codes_by_vendor = {}
    for code in codes:
        codes_by_vendor.setdefault(code.partner_id, []).append(code)

    def written_vat(vat):
        country, number = vat[:2], vat[2:]
        return rng.choice([vat, number, f"{country.lower()} {number}", "-".join([number[:3], number[3:]])])

    cases = []
    vendors = sorted(codes_by_vendor)
    for number in range(invoices):
        vendor = partner_list[rng.choice(vendors) - 1]
        invoice_lines, expected = [], []
        for position in range(lines):
            product = product_list[rng.randrange(products)]
            rule = position % 5
            if rule == 0:
                code = rng.choice(codes_by_vendor[vendor.id])
                line, found = Line(seller_item_id=code.code.lower()), code.product_id
            elif rule == 1:
                line, found = Line(standard_id=Identifier("0" + product.barcode, "0160")), product.id
            elif rule == 2:
                line, found = Line(buyer_item_id=product.default_code), product.id
            elif rule == 3:
                words = product.name.upper().split()
                line, found = Line(item_name=" ".join(reversed(words))), product.id
            else:
                line, found = Line(item_name=f"Transport comanda {number}-{position}"), None
            invoice_lines.append(replace(line, unit_code="H87", vat_category="S", vat_rate=D("21")))
            expected.append(found)
        received = Invoice(
            number=f"F{number}",
            issue_date=date(2026, 3, 2),
            seller=Party(name=vendor.name, vat_id=written_vat(vendor.vat)),
            lines=tuple(invoice_lines),
        )
        cases.append((received, vendor.id, expected))
    arguments = {
        "partners": partner_list,
        "products": product_list,
        "supplier_codes": codes,
        "uoms": [PIECES],
        "taxes": [VAT21],
    }
    return arguments, cases


def test_a_thousand_invoices_against_a_large_catalogue():
    arguments, cases = synthetic_batch()
    index = MatchIndex(**arguments)
    results = [match_invoice(received, index, SETTINGS) for received, _vendor, _expected in cases]
    sample = random.Random(7).sample(list(zip(cases, results, strict=True)), 200)  # noqa: S311 - reproducible
    for (received, vendor_id, expected), result in sample:
        assert result.vendor.record_id == vendor_id, received.seller.vat_id
        assert [line.product.record_id for line in result.lines] == expected
        assert [line.product.kind for line in result.lines][:5] == [EXACT, NORMALISED, EXACT, SIMILAR, NONE]
        assert {line.tax.record_id for line in result.lines} == {VAT21.id}
        assert result.bill.kind == NONE
