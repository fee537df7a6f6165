"""``einvoice pl check|validate|convert`` as a user runs them (the ``pl`` group with only these commands)."""

import argparse
from dataclasses import replace

import pytest

from einvoice import ubl, validation
from einvoice.pl import documents_cli, fa3
from einvoice.validation import FA3_XSD_ENV

from .artefacts import PL_SAMPLES, fa3_schema_folder
from .pl_scenarios import build
from .test_pl_documents import fa_values


def run(*args):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="en")
    documents_cli.register(parser.add_subparsers(dest="pl_command", required=True))
    parsed = parser.parse_args([str(arg) for arg in args])
    return parsed.run(parsed)


@pytest.fixture
def schema_folder(monkeypatch):
    monkeypatch.setenv(FA3_XSD_ENV, str(fa3_schema_folder()))


def test_check_passes_a_good_invoice(tmp_path, capsys):
    path = tmp_path / "good.xml"
    path.write_bytes(fa3.write(build()))
    assert run("check", path) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_check_reports_every_problem(tmp_path, capsys):
    path = tmp_path / "broken.xml"
    path.write_bytes(
        fa3.write(build())
        .replace(b"<NIP>5260250274</NIP>", b"<NIP>5260250275</NIP>")
        .replace(b"<P_15>246.00</P_15>", b"<P_15>250.00</P_15>")
    )
    assert run("check", path) == 1
    out = capsys.readouterr().out
    # KSeF checks the NIP, not the arithmetic: a received invoice's wrong total is a warning
    assert "error: [PL-NIP]" in out and "warning: [PL-P15]" in out and "1 error, 1 warning" in out


def test_check_of_something_that_is_not_xml_exits_2(tmp_path, capsys):
    path = tmp_path / "junk.xml"
    path.write_bytes(b"not xml")
    assert run("check", path) == 2
    assert "einvoice:" in capsys.readouterr().err


def test_validate_adds_the_official_schema(tmp_path, capsys, schema_folder):
    path = tmp_path / "invalid.xml"
    path.write_bytes(fa3.write(build()).replace(b"<P_2>", b"<P_2X>").replace(b"</P_2>", b"</P_2X>"))
    assert run("validate", path) == 1
    out = capsys.readouterr().out
    assert "[FA3-XSD]" in out and "P_2X" in out
    assert "[PL-REQ-04]" in out


def test_validate_passes_a_ministry_example(capsys, schema_folder):
    assert run("validate", PL_SAMPLES.require("mf-fa3-examples", "FA_3_Przyklad_9.xml")) == 0


def test_validate_without_a_schema_folder_says_how_to_configure_it(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(FA3_XSD_ENV, raising=False)
    monkeypatch.setattr(validation, "shipped_folder", lambda *_parts: None)  # nor the ksef-client package
    path = tmp_path / "good.xml"
    path.write_bytes(fa3.write(build()))
    assert run("validate", path) == 2
    assert FA3_XSD_ENV in capsys.readouterr().err


def test_convert_writes_fa3_from_ubl(tmp_path, capsys):
    source, target = tmp_path / "invoice-ubl.xml", tmp_path / "fa3.xml"
    source.write_bytes(ubl.write(build()))
    assert run("convert", source, "--to", "fa3", "-o", target) == 0
    assert fa_values(target.read_bytes(), "P_15") == ["246.00"]
    assert fa_values(target.read_bytes(), "RodzajFaktury") == ["VAT"]


def test_convert_refuses_a_credit_note_without_the_corrected_invoices(tmp_path, capsys):
    source, target = tmp_path / "credit-note.xml", tmp_path / "fa3.xml"
    source.write_bytes(ubl.write(replace(build(), type_code="381")))
    assert run("convert", source, "-o", target) == 1
    out = capsys.readouterr().out
    assert "[PL-KOR-01]" in out and "[PL-KIND]" not in out
    assert not target.exists()


def test_convert_rewrites_a_ministry_example(tmp_path, capsys):
    target = tmp_path / "fa3.xml"
    assert run("convert", PL_SAMPLES.require("mf-fa3-examples", "FA_3_Przyklad_4.xml"), "-o", target) == 0
    assert fa_values(target.read_bytes(), "DoZaplaty") == ["63279.92"]


def test_convert_writes_again_a_received_invoice_our_arithmetic_doubts(tmp_path, capsys):
    source, target = tmp_path / "received.xml", tmp_path / "fa3.xml"
    source.write_bytes(fa3.write(build()).replace(b"<P_15>246.00</P_15>", b"<P_15>250.00</P_15>"))
    assert run("convert", source, "-o", target) == 0
    assert fa_values(target.read_bytes(), "P_15") == ["250.00"]
    assert "warning: [PL-P15]" in capsys.readouterr().out
