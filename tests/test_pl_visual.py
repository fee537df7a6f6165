"""The PDF of an FA(3) invoice read back as text: what the invoice says is there, nothing is lost, Polish letters
survive, long invoices go on over pages, and the QR codes carry KSeF's links."""

import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from einvoice.pl import fa3
from einvoice.pl.qr import invoice_link
from einvoice.pl.visual import render_pdf

from .artefacts import PL_SAMPLES
from .pl_scenarios import SCENARIOS, build, line
from .test_pl_cli import run

NS = {"fa": fa3.NS}
KSEF_NUMBER = "5260250274-20261120-0A1B2C3D4E5F-7A"


def pdf_text(pdf):
    """The text of ``pdf`` as poppler's pdftotext reads it, with its non-breaking spaces as plain ones."""
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) is not installed")
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return result.stdout.decode("utf-8").replace("\u00a0", " ")


def polish(text):
    """An amount as a Polish reader expects it: 1234.5 -> 1 234,50."""
    return f"{Decimal(text):,.2f}".replace(",", " ").replace(".", ",")


def facts(xml):
    """What a reader must find on the page: number, NIPs, the total and each rate group's amounts."""
    root = etree.fromstring(xml)
    wanted = [root.findtext("fa:Fa/fa:P_2", namespaces=NS)]
    for path in ("fa:Podmiot1/fa:DaneIdentyfikacyjne/fa:NIP", "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:NIP"):
        nip = root.findtext(path, namespaces=NS)
        if nip:
            wanted.append(nip)
    fa = root.find("fa:Fa", NS)
    amounts = [
        element.text
        for element in fa
        if etree.QName(element).localname == "P_15" or etree.QName(element).localname.startswith(("P_13_", "P_14_"))
    ]
    return wanted + [polish(value) for value in amounts]


def sample_invoices():
    folder = PL_SAMPLES.location()
    if folder is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=PL_SAMPLES.reason()))]
    paths = sorted(path for path in folder.rglob("*.xml") if b"<Faktura" in path.read_bytes()[:2000])
    return [pytest.param(path, id=path.name) for path in paths]


@pytest.mark.parametrize("path", sample_invoices())
def test_every_ministry_example_reads_back_with_its_number_nips_total_and_rate_amounts(path):
    xml = path.read_bytes()
    text = pdf_text(render_pdf(xml, environment="test"))
    for fact in facts(xml):
        assert fact in text, f"{fact!r} missing from the PDF of {path.name}"
    assert "Pozostałe dane" not in text, "every element of the Ministry's examples has its place"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_generated_invoice_reads_back_with_its_number_nips_total_and_rate_amounts(name):
    xml = fa3.write(SCENARIOS[name]())
    text = pdf_text(render_pdf(xml))
    for fact in facts(xml):
        assert fact in text, f"{fact!r} missing from the PDF of {name}"
    assert "Pozostałe dane" not in text


def test_the_ksef_number_labels_kod_i_and_the_link_is_the_invoices_own():
    invoice = SCENARIOS["standard_rate_23"]()
    xml = fa3.write(invoice)
    text = pdf_text(render_pdf(xml, ksef_number=KSEF_NUMBER, environment="test"))
    assert text.count(KSEF_NUMBER) >= 2  # in the header and under KOD I
    assert "OFFLINE" not in text
    link = invoice_link("test", "5260250274", invoice.issue_date, xml)
    assert link in "".join(text.split())


def test_an_invoice_without_its_ksef_number_says_offline_and_kod_ii_says_certyfikat():
    xml = fa3.write(SCENARIOS["standard_rate_23"]())
    signed = "https://qr-test.ksef.mf.gov.pl/certificate/Nip/5260250274/5260250274/01F20A5D352AE590/abc/def"
    text = pdf_text(render_pdf(xml, environment="test", certificate_link=signed))
    assert "OFFLINE" in text
    assert "CERTYFIKAT" in text
    assert signed in "".join(text.split())


def test_the_qr_codes_on_the_page_decode_to_kod_i_and_kod_ii(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp (a QR decoder) is not installed")
    image = pytest.importorskip("PIL.Image", reason="Pillow is not installed")
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    invoice = SCENARIOS["standard_rate_23"]()
    xml = fa3.write(invoice)
    signed = "https://qr-test.ksef.mf.gov.pl/certificate/Nip/5260250274/5260250274/01F20A5D352AE590/abc/def"
    (tmp_path / "fv.pdf").write_bytes(render_pdf(xml, environment="test", certificate_link=signed))
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "fv.pdf", "page"], cwd=tmp_path, check=True)
    found = {code.text for code in zxingcpp.read_barcodes(image.open(next(tmp_path.glob("page*.png"))))}
    assert found == {invoice_link("test", "5260250274", invoice.issue_date, xml), signed}


def test_an_element_no_section_knows_is_still_printed_with_its_path():
    xml = fa3.write(SCENARIOS["standard_rate_23"]())
    unknown = xml.replace(b"</Fa>", "<NowePole>wartość z przyszłej wersji</NowePole></Fa>".encode())
    text = pdf_text(render_pdf(unknown))
    assert "Pozostałe dane" in text
    assert "Fa/NowePole" in text
    assert "wartość z przyszłej wersji" in text


def test_polish_letters_print_and_a_long_invoice_goes_on_over_pages_with_its_header_repeated():
    name = "Zażółć gęślą jaźń: " + "bardzo długa nazwa towaru z opisem " * 6
    lines = [line(str(number), item_name=f"{name} nr {number}") for number in range(1, 121)]
    invoice = replace(build(lines=lines), number="FV/ŻÓŁW/2026/1")
    xml = fa3.write(invoice)
    pdf = render_pdf(xml)
    text = pdf_text(pdf)
    pages = text.count("\f")
    assert pages > 3
    assert "FV/ŻÓŁW/2026/1" in text
    assert "Zażółć gęślą jaźń" in text
    flat = " ".join(text.split())
    for number in (1, 60, 120):
        assert f"nr {number}" in flat
    # the table's header is drawn again on every page the lines run over
    assert text.count("Nazwa towaru lub usługi") >= pages - 1
    assert f"Strona {pages} z {pages}" in text
    for fact in facts(xml):
        assert fact in text


def test_a_correction_shows_its_reason_and_the_corrected_invoices():
    xml = fa3.write(SCENARIOS["correction_with_ksef_number"]())
    text = pdf_text(render_pdf(xml))
    root = etree.fromstring(xml)
    assert "Faktura korygująca" in text
    for path in ("fa:Fa/fa:DaneFaKorygowanej/fa:NrFaKorygowanej", "fa:Fa/fa:DaneFaKorygowanej/fa:NrKSeFFaKorygowanej"):
        assert root.findtext(path, namespaces=NS) in text


def test_something_that_is_not_an_fa3_invoice_is_refused_in_words():
    with pytest.raises(fa3.Fa3ReadError) as refused:
        render_pdf(b"<Invoice/>")
    assert "not an FA(3) invoice" in str(refused.value)


def test_the_command_writes_the_pdf_beside_the_invoice_or_where_asked(tmp_path, capsys):
    invoice = tmp_path / "fv.xml"
    invoice.write_bytes(fa3.write(SCENARIOS["standard_rate_23"]()))
    assert run("pdf", invoice) == 0
    assert (tmp_path / "fv.pdf").read_bytes().startswith(b"%PDF")
    assert run("pdf", invoice, "--ksef-number", KSEF_NUMBER, "--env", "test", "--output", tmp_path / "out.pdf") == 0
    assert KSEF_NUMBER in pdf_text((tmp_path / "out.pdf").read_bytes())
    assert "out.pdf: written" in capsys.readouterr().out


def test_the_command_says_why_it_cannot_draw_a_file(tmp_path, capsys):
    other = tmp_path / "other.xml"
    other.write_bytes(b"<Invoice/>")
    assert run("pdf", other) == 2
    assert "not an FA(3) invoice" in capsys.readouterr().err
    assert not (tmp_path / "other.pdf").exists()


def test_an_invoice_issued_on_a_date_kod_i_cannot_read_is_still_drawn_without_the_code():
    xml = fa3.write(SCENARIOS["standard_rate_23"]()).replace(
        f"<P_1>{date(2026, 11, 20).isoformat()}</P_1>".encode(), b"<P_1>20.11.2026</P_1>"
    )
    text = pdf_text(render_pdf(xml))
    assert "20.11.2026" in text
