"""FA(3) documents: every generated scenario is valid for the official FA(3) schema and for our checks, and reads back
into what was written; every Ministry of Finance example survives reading and writing with the same content."""

import contextlib
from collections import Counter
from dataclasses import replace
from decimal import Decimal, InvalidOperation

import pytest
from lxml import etree

from einvoice import validation
from einvoice.pl import fa3
from einvoice.pl.model import ADVANCE_KINDS, buyer_abroad, pl_invoice, pl_line, rate_code, rate_groups
from einvoice.validation import FA3_XSD_ENV, ValidationUnavailableError, fa3_schema, fa3_xsd_folder, validate_fa3

from .artefacts import FA3_SCHEMA, PL_SAMPLES, fa3_schema_folder, files, pl_sample
from .pl_scenarios import SCENARIOS, build, line


@pytest.fixture(scope="module")
def schema_dir():
    return fa3_schema_folder()


def schema_errors(xml, schema_dir):
    return [str(finding) for finding in validate_fa3(etree.fromstring(xml), schema_dir)]


def comparable(invoice):
    """What FA(3) carries of an invoice: advance invoices show their order instead of lines, a line's VAT category
    and rate are its P_12 code (np II may be an O line marked so, or AE for a buyer abroad), and the VAT breakdown
    is compared through the FA(3) rate groups it yields."""
    pl = pl_invoice(invoice)
    abroad = buyer_abroad(invoice)
    lines = tuple(
        replace(
            line,
            vat_category=rate_code(line, abroad),
            vat_rate=None,
            extensions={"pl": replace(pl_line(line), rate_code=None)},
        )
        for line in ([] if pl.kind in ADVANCE_KINDS else invoice.lines)
    )
    totals = invoice.totals
    return replace(
        invoice,
        lines=lines,
        vat_breakdown=(),
        totals=(totals.tax_inclusive, totals.tax_exclusive, totals.tax_total),
        extensions={"pl": pl, "groups": rate_groups(invoice)},
    )


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_is_schema_valid_passes_our_checks_and_reads_back(name, schema_dir):
    invoice = SCENARIOS[name]()
    xml = fa3.write(invoice)
    assert not xml.startswith(b"\xef\xbb\xbf")
    assert schema_errors(xml, schema_dir) == []
    assert [str(finding) for finding in fa3.check_document(xml)] == []
    result = fa3.read(xml)
    assert comparable(result.invoice) == comparable(invoice)
    assert fa3.write(result.invoice) == xml


def test_a_folder_without_the_schema_is_reported(tmp_path):
    with pytest.raises(ValidationUnavailableError):
        fa3_schema(tmp_path)


def packaged_schema_folder():
    folder = validation.shipped_folder("ksef_client", *validation.FA3_PACKAGE_FOLDER)
    if folder is None:
        pytest.skip("the ksef-client package is not installed (make test installs it with --no-deps)")
    return folder


def comparable_text(path):
    """An XSD's text with line ends and trailing blanks evened out (the Ministry's files mix CR, LF and CRLF), and
    includes of the base types by their name: ksef-client's copies include them by the absolute address the
    Ministry publishes them under (crd.gov.pl, as the main schema imports them), the documentation repository's
    copies by the bare file name. Both resolve to the same local file."""
    text = path.read_bytes().decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace(f'schemaLocation="{validation.FA3_BASE_TYPES_URL}', 'schemaLocation="')
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def test_the_schema_in_the_ksef_client_package_is_the_ministrys():
    packaged, official = packaged_schema_folder(), FA3_SCHEMA.require()
    files = [official / validation.FA3_XSD_NAME, *sorted((official / "bazowe").glob("*.xsd"))]
    assert len(files) == 4
    for path in files:
        assert comparable_text(packaged / path.name) == comparable_text(path), path.name


def test_without_a_configured_folder_the_packaged_schema_validates(monkeypatch):
    packaged = packaged_schema_folder()
    monkeypatch.delenv(FA3_XSD_ENV, raising=False)
    assert fa3_xsd_folder() == packaged
    assert schema_errors(fa3.write(build()), None) == []
    broken = fa3.write(build()).replace(b"<P_2>", b"<P_2X>", 1).replace(b"</P_2>", b"</P_2X>", 1)
    assert any("P_2X" in error for error in schema_errors(broken, None))


def test_with_neither_a_folder_nor_the_package_the_error_says_how_to_get_the_schema(monkeypatch):
    monkeypatch.delenv(FA3_XSD_ENV, raising=False)
    monkeypatch.setattr(validation, "shipped_folder", lambda *_parts: None)
    with pytest.raises(ValidationUnavailableError, match="pip install --no-deps ksef-client"):
        fa3_xsd_folder()


def test_there_are_at_least_forty_scenarios():
    assert len(SCENARIOS) >= 40


def test_header_is_the_fa3_form():
    root = etree.fromstring(fa3.write(build()))
    code = root.find(f"{{{fa3.NS}}}Naglowek/{{{fa3.NS}}}KodFormularza")
    assert (code.text, code.get("kodSystemowy"), code.get("wersjaSchemy")) == ("FA", "FA (3)", "1-0E")


def fa_values(xml, tag):
    return [element.text for element in etree.fromstring(xml).iter(f"{{{fa3.NS}}}{tag}")]


def test_markers_are_derived_from_the_data():
    plain = fa3.write(build())
    assert [fa_values(plain, tag) for tag in ("P_16", "P_17", "P_18", "P_18A", "P_19N", "P_PMarzyN")] == [
        ["2"],
        ["2"],
        ["2"],
        ["2"],
        ["1"],
        ["1"],
    ]
    assert fa_values(fa3.write(SCENARIOS["self_billing"]()), "P_17") == ["1"]
    assert fa_values(fa3.write(SCENARIOS["domestic_reverse_charge"]()), "P_18") == ["1"]
    assert fa_values(fa3.write(SCENARIOS["exempt_under_the_vat_act"]()), "P_19A") == [
        "art. 43 ust. 1 pkt 37 ustawy o VAT"
    ]
    assert fa_values(fa3.write(SCENARIOS["margin_second_hand_goods"]()), "P_PMarzy_3_1") == ["1"]


def test_rate_codes_come_from_category_and_rate():
    invoice = build(
        [
            line(1, rate="5"),
            line(2, category="Z", rate="0"),
            line(3, category="K", rate="0"),
            line(4, category="G", rate="0"),
            line(5, category="AE", rate="0"),
            line(6, category="O", rate=None),
        ]
    )
    assert fa_values(fa3.write(invoice), "P_12") == ["5", "0 KR", "0 WDT", "0 EX", "oo", "np I"]


def test_reverse_charge_is_domestic_or_for_a_buyer_in_another_member_state():
    domestic = fa3.write(SCENARIOS["domestic_reverse_charge"]())
    assert (fa_values(domestic, "P_12"), fa_values(domestic, "P_13_10"), fa_values(domestic, "P_18")) == (
        ["oo"],
        ["200.00"],
        ["1"],
    )
    abroad = fa3.write(SCENARIOS["intra_community_services_reverse_charge"]())
    assert (fa_values(abroad, "P_12"), fa_values(abroad, "P_13_9"), fa_values(abroad, "P_18")) == (
        ["np II"],
        ["200.00"],
        ["1"],
    )


def test_exchange_rate_only_where_required():
    pln = fa3.write(build())
    assert fa_values(pln, "KursWalutyZ") == fa_values(pln, "KursWaluty") == fa_values(pln, "P_14_1W") == []
    euro = fa3.write(SCENARIOS["foreign_currency_with_exchange_rate"]())
    assert fa_values(euro, "KursWalutyZ") == []
    assert fa_values(euro, "P_14_1W") == ["489.18"]  # 115.00 EUR VAT x 4.2537
    advance = fa3.write(SCENARIOS["advance_invoice_in_foreign_currency"]())
    assert fa_values(advance, "KursWalutyZ") == ["4.25"]


def test_correction_names_the_ksef_number_or_the_outside_marker():
    with_number = fa3.write(SCENARIOS["correction_with_ksef_number"]())
    assert fa_values(with_number, "NrKSeF") == ["1"] and fa_values(with_number, "NrKSeFN") == []
    outside = fa3.write(SCENARIOS["correction_of_invoice_issued_outside_ksef"]())
    assert fa_values(outside, "NrKSeFN") == ["1"] and fa_values(outside, "NrKSeFFaKorygowanej") == []


def test_before_rows_show_the_corrected_values():
    xml = fa3.write(SCENARIOS["correction_with_ksef_number"]())
    assert fa_values(xml, "P_11") == ["1626.01", "1463.41"]
    assert fa_values(xml, "StanPrzed") == ["1"]
    assert fa_values(xml, "P_13_1") == ["-162.60"] and fa_values(xml, "P_14_1") == ["-37.40"]


def test_writer_refuses_wrong_arithmetic():
    invoice = build()
    wrong = replace(invoice, totals=replace(invoice.totals, tax_inclusive=invoice.totals.tax_inclusive + 5))
    with pytest.raises(fa3.Fa3Error) as refused:
        fa3.write(wrong)
    assert {finding.rule for finding in refused.value.findings} == {"PL-P15"}


def test_writer_refuses_characters_ksef_refuses():
    invoice = build([line(1, item_name="Towar\x86z kontrolnym znakiem")])
    with pytest.raises(fa3.Fa3Error) as refused:
        fa3.write(invoice)
    assert [finding.rule for finding in refused.value.findings] == ["PL-CHARS"]


# -- the Ministry of Finance examples ----------------------------------------------------------------------------

MF_FILES = files(PL_SAMPLES, "mf-fa3-examples")


def leaf_values(xml):
    """Every leaf element as (path, value); numbers compare by value (2051 == 2051.00)."""
    values = Counter()
    for element in etree.fromstring(xml).iter():
        if not isinstance(element.tag, str) or len(element):
            continue
        path = "/".join(etree.QName(node).localname for node in reversed(list(element.iterancestors())))
        text = " ".join((element.text or "").split())
        with contextlib.suppress(InvalidOperation):
            text = Decimal(text).normalize() if text and not text.isalpha() else text
        values[(f"{path}/{etree.QName(element).localname}", text)] += 1
    return values


def not_carried(path):
    return any(f"/{name}" in path for name in fa3.NOT_CARRIED)


@pytest.mark.parametrize("name", MF_FILES)
def test_ministry_example_survives_reading_and_writing(name, schema_dir):
    original = pl_sample(f"mf-fa3-examples/{name}")
    result = fa3.read(original)
    assert [finding for finding in result.findings if finding.fatal] == []
    written = fa3.write(result.invoice)
    assert schema_errors(written, schema_dir) == []
    before, after = leaf_values(original), leaf_values(written)
    lost = {key: count for key, count in (before - after).items() if not not_carried(key[0])}
    assert lost == {}
    assert after - before == Counter()
    names = {etree.QName(element).localname for element in etree.fromstring(original).iter()}
    present = names & set(fa3.NOT_CARRIED)
    assert {finding.location for finding in result.findings if finding.rule == "PL-READ-01"} == present


def test_ministry_examples_are_all_there():
    PL_SAMPLES.require("mf-fa3-examples")
    assert len(MF_FILES) >= 13
