"""Received files: the invoice is found in an XML or a platform archive, whatever its syntax; the rest is kept."""

import io
import zipfile

import pytest

from einvoice import ubl
from einvoice.inbound import ReceivedDocumentError, read_received
from einvoice.pl import fa3
from einvoice.ro import ciusro
from einvoice.xmlsafe import UnsafeInputError

from . import pl_scenarios, ro_scenarios
from .artefacts import ro_sample


def archive(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zip_file:
        for name, content in files.items():
            zip_file.writestr(name, content)
    return buffer.getvalue()


def test_ubl_file():
    xml = ciusro.render(ro_scenarios.build())
    received = read_received(xml, "ALF.xml")
    assert (received.syntax, received.xml_name, received.invoice.number) == ("UBL", "ALF.xml", "ALF-2026-0001")
    assert received.files == {} and received.pdf() is None


def test_anaf_archive_keeps_the_signature_apart():
    data = ro_sample("spv-downloads/5004552043.zip")
    received = read_received(data, "5004552043.zip")
    assert received.xml_name == "5004552043.xml"
    assert list(received.files) == ["semnatura_5004552043.xml"]
    assert received.invoice.seller.vat_id == "RO8486152"


def test_cii_with_its_embedded_pdf():
    data = ro_sample("anaf-cii-examples/CII_example0.xml")
    received = read_received(data, "CII_example0.xml")
    assert received.syntax == "CII" and received.invoice.number == "TOSL110"
    name, pdf = received.pdf()
    assert name == "EHF.pdf" and pdf == received.invoice.attachments[0].content


def test_fa3_file():
    xml = fa3.write(pl_scenarios.build())
    assert read_received(xml).syntax == "FA(3)"


def test_pdf_next_to_the_invoice_in_an_archive():
    data = archive({"invoice.xml": ubl.write(ro_scenarios.build()), "invoice.pdf": ro_scenarios.PDF})
    assert read_received(data, "a.zip").pdf() == ("invoice.pdf", ro_scenarios.PDF)


def test_archive_of_an_error_message_is_not_an_invoice():
    data = ro_sample("spv-downloads/3828.zip")
    with pytest.raises(ReceivedDocumentError, match="holds no e-invoice"):
        read_received(data, "3828.zip")


def test_two_invoices_in_one_archive_are_refused():
    xml = ubl.write(ro_scenarios.build())
    with pytest.raises(ReceivedDocumentError, match="several invoices"):
        read_received(archive({"a.xml": xml, "b.xml": xml}), "two.zip")


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE x [<!ENTITY a 'b'>]><Invoice>&a;</Invoice>",
        b"not xml at all",
        archive({"../escape.xml": b"<Invoice/>"}),
        b"PK\x03\x04 broken",
    ],
    ids=["entities", "not-xml", "path-traversal", "broken-zip"],
)
def test_hostile_or_broken_files_are_refused_clearly(data):
    with pytest.raises((UnsafeInputError, ReceivedDocumentError)):
        read_received(data, "hostile")
