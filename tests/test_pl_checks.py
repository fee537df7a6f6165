"""Our FA(3) checks: each rule reports a broken invoice or document under its id, with the FA(3) element it is
about; everything wrong is reported at once; the reader reports what it cannot read."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from lxml import etree

from einvoice.model import Address, Contact, Delivery, Note, Party, PaymentMeans
from einvoice.pl import checks, fa3
from einvoice.pl.model import (
    EXEMPTION_ACT,
    KOR,
    KOR_ZAL,
    MARGIN,
    ROLE_FACTOR,
    ROZ,
    UPR,
    ZAL,
    AdvanceInvoice,
    CorrectedInvoice,
    Correction,
    PartialAdvance,
    PartialPayment,
    PartyBefore,
    PlInvoice,
    PlLine,
    Settlement,
    SettlementItem,
    ThirdParty,
    nip_is_valid,
)

from .artefacts import pl_sample
from .pl_scenarios import BUYER, KSEF_NUMBER, ORDER, SCENARIOS, SELLER, build, line, pl_line
from .test_pl_documents import fa_values


def with_pl(invoice, **changes):
    return replace(invoice, extensions={"pl": replace(invoice.extensions["pl"], **changes)})


def with_totals(invoice, **changes):
    return replace(invoice, totals=replace(invoice.totals, **changes))


def correction(**fields):
    fields.setdefault("invoices", (CorrectedInvoice("FV/1", date(2026, 10, 1), KSEF_NUMBER),))
    return Correction(**fields)


def korekta(**fields):
    return build([line(1, quantity="-1")], type_code="384", pl=PlInvoice(kind=KOR, correction=correction(**fields)))


BROKEN = {
    "seller NIP check digit": (lambda: build(seller=replace(SELLER, vat_id="PL5260250275")), {"PL-NIP"}),
    "third party NIP check digit": (
        lambda: build(pl=PlInvoice(third_parties=(ThirdParty(Party(name="X", vat_id="1234567890"), ROLE_FACTOR),))),
        {"PL-NIP"},
    ),
    "seller without NIP": (lambda: build(seller=replace(SELLER, vat_id="DE811115368")), {"PL-REQ-01"}),
    "seller without address": (lambda: build(seller=replace(SELLER, address=None)), {"PL-REQ-02"}),
    "buyer address without country": (
        lambda: build(buyer=replace(BUYER, address=Address(None, "ul. Długa 5"))),
        {"PL-REQ-03"},
    ),
    "no number": (lambda: build(number=None), {"PL-REQ-04"}),
    "partial payment without its date": (
        lambda: build(pl=PlInvoice(partial_payments=(PartialPayment(D("10.00"), None),))),
        {"PL-REQ-05"},
    ),
    "item name over 512 characters": (lambda: build([line(1, item_name="x" * 513)]), {"PL-LEN"}),
    "phone number over 16 characters": (
        lambda: build(seller=replace(SELLER, contact=Contact(phone="+48 22 600 1234 wew. 12"))),
        {"PL-LEN"},
    ),
    "e-mail without @": (lambda: build(seller=replace(SELLER, contact=Contact(email="faktury.alfa.pl"))), {"PL-EMAIL"}),
    "bank account too short": (lambda: build(payment_means=(PaymentMeans("30", account_id="PL61"),)), {"PL-NRB"}),
    "third party without role": (
        lambda: build(pl=PlInvoice(third_parties=(ThirdParty(BUYER),))),
        {"PL-ROLE"},
    ),
    "JST without the unit": (lambda: build(pl=PlInvoice(jst=True)), {"PL-JST"}),
    "VAT group without the member": (lambda: build(pl=PlInvoice(gv=True)), {"PL-GV"}),
    "amount with three decimals": (
        lambda: build([line(1, quantity="1", price="10.005", net="10.005")]),
        {"PL-DEC", "PL-P13"},
    ),
    "rate FA(3) does not have": (lambda: build([line(1, rate="19")]), {"PL-RATE"}),
    "line sum differs from the rate group": (
        lambda: replace(build(), lines=(line(1, price="90.00"),)),
        {"PL-P13"},
    ),
    "VAT differs from net x rate": (
        lambda: build(tax_amounts={("S", D("23")): D("50.00")}),
        {"PL-P14"},
    ),
    "total due differs": (lambda: with_totals(build(), tax_inclusive=D("300.00")), {"PL-P15"}),
    "foreign currency without exchange rate": (lambda: build(currency="EUR"), {"PL-FX-01"}),
    "VAT in PLN contradicts the exchange rate": (
        lambda: build(currency="EUR", pl=PlInvoice(exchange_rate=D("4.30"), vat_in_pln=(("1", D("1.00")),))),
        {"PL-FX-02"},
    ),
    "exempt line without basis": (lambda: build([line(1, category="E", rate="0")]), {"PL-P19"}),
    "basis without exempt line": (
        lambda: build(pl=PlInvoice(exemption_basis=(EXEMPTION_ACT, "art. 43"))),
        {"PL-P19"},
    ),
    "margin line without scheme": (
        lambda: build([pl_line(1, PlLine(rate_code=MARGIN), category="E", rate="0")]),
        {"PL-MARGIN"},
    ),
    "split payment under the threshold": (lambda: build(pl=PlInvoice(split_payment=True)), {"PL-MPP"}),
    "simplified invoice over 450 PLN": (lambda: build([line(1, price="500")], pl=PlInvoice(kind=UPR)), {"PL-UPR"}),
    "supply period backwards": (
        lambda: build(period_start=date(2026, 11, 30), period_end=date(2026, 11, 1)),
        {"PL-P6"},
    ),
    "supply date and period": (
        lambda: build(
            delivery=Delivery(date=date(2026, 11, 3)), period_start=date(2026, 11, 1), period_end=date(2026, 11, 2)
        ),
        {"PL-P6"},
    ),
    "four footer notes": (lambda: build(notes=tuple(Note(f"uwaga {n}") for n in range(4))), {"PL-NOTES"}),
    "unknown kind": (lambda: build(pl=PlInvoice(kind="FAKE")), {"PL-KIND"}),
    "credit note with positive amounts": (
        lambda: build(type_code="381", pl=PlInvoice(kind=KOR, correction=correction())),
        {"PL-KIND"},
    ),
    "correction naming no invoice": (
        lambda: build(type_code="384", pl=PlInvoice(kind=KOR)),
        {"PL-KOR-01"},
    ),
    "correction data on a VAT invoice": (lambda: build(pl=PlInvoice(correction=correction())), {"PL-KOR-02"}),
    "KSeF number malformed": (
        lambda: korekta(invoices=(CorrectedInvoice("FV/1", date(2026, 10, 1), "5260250274-2026-XYZ"),)),
        {"PL-KOR-03"},
    ),
    "corrected invoice issued after the correction": (
        lambda: korekta(invoices=(CorrectedInvoice("FV/1", date(2026, 12, 1), KSEF_NUMBER),)),
        {"PL-KOR-04"},
    ),
    "correction type out of range": (lambda: korekta(effect=4), {"PL-KOR-05"}),
    "seller before the correction without address": (
        lambda: korekta(seller_before=PartyBefore(replace(SELLER, address=None))),
        {"PL-KOR-06"},
    ),
    "advance correction without the amount before": (
        lambda: build(
            [line(1, quantity="-1")],
            type_code="384",
            pl=PlInvoice(kind=KOR_ZAL, order=ORDER, correction=correction()),
        ),
        {"PL-KOR-05"},
    ),
    "advance invoice without order": (lambda: build(type_code="386", pl=PlInvoice(kind=ZAL)), {"PL-ZAL-01"}),
    "order value differs from its lines": (
        lambda: build(type_code="386", pl=PlInvoice(kind=ZAL, order=replace(ORDER, value=D("12000.00")))),
        {"PL-ZAL-02"},
    ),
    "advance in a foreign currency without rate": (
        lambda: build([line(1, category="K", rate="0")], currency="EUR", pl=PlInvoice(kind=ZAL, order=ORDER)),
        {"PL-ZAL-03"},
    ),
    "advance payments not adding up": (
        lambda: build(
            type_code="386",
            pl=PlInvoice(kind=ZAL, order=ORDER, partial_advances=(PartialAdvance(date(2026, 11, 1), D("1.00")),)),
        ),
        {"PL-ZAL-04"},
    ),
    "settlement without advance invoices": (lambda: build(pl=PlInvoice(kind=ROZ)), {"PL-ROZ-01"}),
    "advance invoice outside KSeF without number": (
        lambda: build(pl=PlInvoice(kind=ROZ, advance_invoices=(AdvanceInvoice(),))),
        {"PL-ROZ-01"},
    ),
    "amount left after deductions wrong": (
        lambda: build(
            pl=PlInvoice(settlement=Settlement(deductions=(SettlementItem(D("10.00"), "nadpłata"),), due=D("246.00")))
        ),
        {"PL-ROZL"},
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_invoice_is_reported_under_its_rule(name):
    make, expected = BROKEN[name]
    findings = checks.check(make())
    assert {finding.rule for finding in findings} == expected
    assert all(finding.location for finding in findings)


def test_every_rule_has_a_broken_invoice():
    covered = set().union(*(expected for _make, expected in BROKEN.values()))
    assert checks.RULES.implemented <= covered


def test_all_problems_are_reported_at_once():
    broken = build(seller=replace(SELLER, vat_id="PL5260250275"), pl=PlInvoice(jst=True))
    invoice = with_totals(broken, tax_inclusive=D(1))
    assert {finding.rule for finding in checks.check(invoice)} == {"PL-NIP", "PL-JST", "PL-P15"}


def test_one_grosz_rounding_of_the_total_is_a_warning():
    invoice = build()
    findings = checks.check(with_totals(invoice, tax_inclusive=invoice.totals.tax_inclusive + D("0.01")))
    assert [(finding.rule, finding.fatal) for finding in findings] == [("PL-P15", False)]


@pytest.mark.parametrize(
    ("nip", "valid"),
    [
        ("5260250274", True),
        ("7740001454", True),
        ("5260250275", False),
        ("0123456789", False),
        ("1002345672", False),
        ("123456789", False),
    ],
)
def test_nip_check_digit(nip, valid):
    assert nip_is_valid(nip) is valid


def test_nip_with_prefix_is_written_bare():
    xml = fa3.write(build(seller=replace(SELLER, vat_id="PL 526-025-02-74")))
    seller = etree.fromstring(xml).find(f"{{{fa3.NS}}}Podmiot1")
    assert [element.text for element in seller.iter(f"{{{fa3.NS}}}NIP")] == ["5260250274"]


# -- documents: what the reader finds, then the checks -----------------------------------------------------------


def edited(xml, tag, text):
    root = etree.fromstring(xml)
    next(root.iter(f"{{{fa3.NS}}}{tag}")).text = text
    return etree.tostring(root)


def rules_of(xml):
    return {finding.rule for finding in fa3.check_document(xml)}


def test_document_with_wrong_total_is_reported():
    assert rules_of(edited(fa3.write(build()), "P_15", "999.99")) == {"PL-P15"}


def test_document_with_wrong_rate_group_is_reported():
    assert rules_of(edited(fa3.write(build()), "P_13_1", "150.00")) == {"PL-P13", "PL-P14", "PL-P15"}


def test_document_with_wrong_nip_is_reported():
    assert rules_of(edited(fa3.write(build()), "NIP", "5260250275")) == {"PL-NIP"}


def test_document_with_unreadable_date_is_reported():
    assert "PL-READ-02" in rules_of(edited(fa3.write(build()), "P_1", "20.11.2026"))


@pytest.mark.parametrize("number", ["NaN", "1e5", "Infinity", "12,50"])
def test_document_with_a_number_xsd_does_not_allow_is_reported(number):
    assert "PL-READ-02" in rules_of(edited(fa3.write(build()), "P_15", number))


@pytest.mark.parametrize("example", ["FA_3_Przyklad_4.xml", "FA_3_Przyklad_11.xml"])
def test_a_document_missing_any_one_element_is_reported_not_crashed_on(example):
    original = etree.fromstring(pl_sample(f"mf-fa3-examples/{example}"))
    for index in range(1, sum(1 for _ in original.iter())):
        root = etree.fromstring(etree.tostring(original))
        element = list(root.iter())[index]
        element.getparent().remove(element)
        data = etree.tostring(root)
        findings = fa3.check_document(data)
        try:
            fa3.write(fa3.read(data).invoice)
        except fa3.Fa3Error as refused:
            assert refused.findings and all(finding.fatal for finding in refused.findings)
            assert {finding.rule for finding in refused.findings} <= {finding.rule for finding in findings} | {
                "PL-CHARS"
            }


def test_writer_refuses_characters_ksef_refuses_in_the_attachment():
    invoice = SCENARIOS["attachment_with_data_blocks"]()
    broken = with_pl(invoice, attachment=invoice.extensions["pl"].attachment.replace(b"G11", "G\u008611".encode()))
    with pytest.raises(fa3.Fa3Error) as refused:
        fa3.write(broken)
    assert [(finding.rule, finding.location) for finding in refused.value.findings] == [("PL-CHARS", "Zalacznik")]


def test_document_kind_unknown_is_reported():
    assert "PL-KIND" in rules_of(edited(fa3.write(build()), "RodzajFaktury", "XYZ"))


def test_parts_not_taken_over_are_reported_as_warnings():
    root = etree.fromstring(fa3.write(build()))
    fa = root.find(f"{{{fa3.NS}}}Fa")
    fa.find(f"{{{fa3.NS}}}FaWiersz").addnext(etree.Element(f"{{{fa3.NS}}}ZwrotAkcyzy"))
    findings = fa3.read(etree.tostring(root)).findings
    assert [(finding.rule, finding.location, finding.fatal) for finding in findings] == [
        ("PL-READ-01", "ZwrotAkcyzy", False)
    ]


def test_not_an_fa3_document_is_refused():
    with pytest.raises(fa3.Fa3ReadError):
        fa3.read(b"<Invoice xmlns='urn:oasis:names:specification:ubl:schema:xsd:Invoice-2'/>")


def test_scenarios_have_no_findings_at_all():
    assert {name: checks.check(make()) for name, make in SCENARIOS.items() if checks.check(make())} == {}


def test_settlement_invoice_listing_the_whole_supply_keeps_its_reduced_groups():
    advances = (AdvanceInvoice(ksef_number=KSEF_NUMBER),)
    whole = fa3.write(
        build([line(1, quantity="1", price="10000.00")], pl=PlInvoice(kind=ROZ, advance_invoices=advances))
    )
    reduced = edited(edited(edited(whole, "P_13_1", "8000.00"), "P_14_1", "1840.00"), "P_15", "9840.00")
    assert fa3.check_document(reduced) == []
    rewritten = fa3.write(fa3.read(reduced).invoice)
    assert [fa_values(rewritten, tag) for tag in ("P_13_1", "P_14_1", "P_15", "P_11")] == [
        ["8000.00"],
        ["1840.00"],
        ["9840.00"],
        ["10000.00"],
    ]


# -- how certain a finding is: received documents are refused only for what KSeF refuses --------------------------


def fatal_rules(findings):
    return {finding.rule for finding in findings if finding.fatal}


def test_our_arithmetic_only_warns_on_a_received_document_and_stops_only_our_own_beyond_rounding():
    wrong = edited(fa3.write(build()), "P_15", "999.99")
    assert [(finding.rule, finding.fatal) for finding in fa3.check_document(wrong)] == [("PL-P15", False)]
    received = fa3.read(wrong).invoice
    assert fa_values(fa3.write(received, outgoing=False), "P_15") == ["999.99"]  # converted as it is
    with pytest.raises(fa3.Fa3Error) as refused:
        fa3.write(received)
    assert fatal_rules(refused.value.findings) == {"PL-P15"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_what_the_law_forbids_stops_our_own_invoice_only(name):
    make, _expected = BROKEN[name]
    received = fatal_rules(checks.check(make()))
    outgoing = fatal_rules(checks.check(make(), outgoing=True))
    assert received <= outgoing
    # a received invoice is refused only for what the schema or KSeF itself refuses
    assert received <= {"PL-NIP", "PL-LEN", "PL-EMAIL", "PL-NRB", "PL-DEC", "PL-ROLE", "PL-NOTES", "PL-KIND"} | {
        "PL-REQ-01",
        "PL-REQ-02",
        "PL-REQ-03",
        "PL-REQ-04",
        "PL-REQ-05",
        "PL-KOR-03",
        "PL-KOR-04",
        "PL-KOR-05",
        "PL-KOR-06",
        "PL-ROZ-01",
    }


def test_the_nip_of_a_party_before_the_correction_is_not_checked_by_ksef():
    before = PartyBefore(replace(BUYER, vat_id="PL1234567890"))
    invoice = korekta(buyers_before=(before,))
    assert [(finding.rule, finding.fatal) for finding in checks.check(invoice, outgoing=True)] == [("PL-NIP", False)]


def test_ksef_checks_the_nip_of_an_internal_id():
    third = ThirdParty(Party(name="Oddział", address=SELLER.address), 8, internal_id="5260250275-00001")
    invoice = build(pl=PlInvoice(jst=True, third_parties=(third,)))
    assert [(finding.rule, finding.location, finding.fatal) for finding in checks.check(invoice)] == [
        ("PL-NIP", "Podmiot3[1]/IDWew", True)
    ]


# -- the Ministry's legal kinds our checks refused: each as its example states it ----------------------------------


def test_a_simplified_invoice_stating_only_its_total_is_accepted():
    # FA_3_Przyklad_16: RodzajFaktury UPR, P_15 450, one FaWiersz with P_7 and P_12 only
    xml = fa3.write(SCENARIOS["simplified_invoice_with_only_its_total"]())
    assert [fa_values(xml, tag) for tag in ("P_13_1", "P_15", "P_11")] == [[], ["450.00"], []]
    assert fa3.check_document(xml) == []


def test_gross_priced_lines_make_their_rate_group_from_the_gross():
    # Fa_3_Przyklad_19: P_9B/P_11A only; the Ministry shows P_13_1 813 and P_14_1 187 for 1000 gross at 23 %
    xml = fa3.write(SCENARIOS["gross_only_lines"]())
    assert fa3.check_document(xml) == []
    as_the_ministry = edited(edited(edited(xml, "P_13_1", "813"), "P_14_1", "187"), "P_15", "1054")
    assert not fatal_rules(fa3.check_document(as_the_ministry))
    assert fa_values(fa3.write(fa3.read(as_the_ministry).invoice, outgoing=False), "P_13_1") == ["813.00"]


def test_an_export_shown_in_another_zero_rate_group_is_only_a_warning():
    # stacking-hq KSEF_06_EXP: a line "0 EX" summed in P_13_6_2; the schema and KSeF accept it
    xml = fa3.write(SCENARIOS["zero_rate_export"]())
    moved = xml.replace(b"<P_13_6_3>", b"<P_13_6_2>").replace(b"</P_13_6_3>", b"</P_13_6_2>")
    findings = fa3.check_document(moved)
    assert {finding.rule for finding in findings} == {"PL-P13"} and not fatal_rules(findings)


def test_an_advance_correction_stating_its_order_value_net_is_only_a_warning():
    # stacking-hq KSEF_07_KOR_ZAL_A: WartoscZamowienia is the order's net value, not with VAT
    xml = fa3.write(SCENARIOS["advance_invoice_correction"]())
    net = edited(xml, "WartoscZamowienia", "11000.00")
    findings = fa3.check_document(net)
    assert {finding.rule for finding in findings} == {"PL-ZAL-02"} and not fatal_rules(findings)
    assert fa_values(fa3.write(fa3.read(net).invoice, outgoing=False), "WartoscZamowienia") == ["11000.00"]


def test_a_text_of_blanks_the_schema_allows_is_kept_and_written_again():
    blank = edited(fa3.write(build()), "P_2", " ")
    assert not fatal_rules(fa3.check_document(blank))
    assert fa_values(fa3.write(fa3.read(blank).invoice, outgoing=False), "P_2") == [" "]


def test_an_attachment_that_is_not_a_zalacznik_is_refused():
    invoice = SCENARIOS["attachment_with_data_blocks"]()
    wrong = with_pl(invoice, attachment=f'<Stopka xmlns="{fa3.NS}"/>'.encode())
    with pytest.raises(fa3.Fa3Error):
        fa3.write(wrong)
