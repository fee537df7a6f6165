"""``einvoice ro check|validate|convert`` as a user runs them."""

import subprocess
import sys

from einvoice.ro import ciusro

from .artefacts import CIUS_RO_RULES, RO_SAMPLES
from .ro_scenarios import build


def einvoice(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "einvoice.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_check_passes_a_good_invoice(tmp_path):
    path = tmp_path / "good.xml"
    path.write_bytes(ciusro.render(build()))
    result = einvoice("ro", "check", path)
    assert result.returncode == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_check_reports_every_problem_in_the_users_language():
    path = RO_SAMPLES.require("anaf-ubl-examples", "ubl_b2g_example6.xml")
    english = einvoice("--lang", "en", "ro", "check", path)
    romanian = einvoice("--lang", "ro", "ro", "check", path)
    assert english.returncode == romanian.returncode == 1
    assert "[BR-RO-111]" in english.stdout and "[BR-S-08]" in english.stdout and "[BR-RO-170]" in english.stdout
    assert "The county must be" in english.stdout
    assert "Județul trebuie" in romanian.stdout


def test_validate_adds_the_schema_and_the_official_rules(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_bytes(
        ciusro.render(build())
        .replace(b"<cbc:IssueDate>", b"<cbc:IssueDateX>")
        .replace(b"</cbc:IssueDate>", b"</cbc:IssueDateX>")
    )
    result = einvoice("ro", "validate", path, "--rules", CIUS_RO_RULES.require())
    assert result.returncode == 1
    assert "[UBL-XSD]" in result.stdout
    assert "IssueDateX" in result.stdout
    assert "[BR-03]" in result.stdout


def test_convert_writes_cius_ro_from_cii(tmp_path):
    output = tmp_path / "out.xml"
    result = einvoice(
        "ro",
        "convert",
        RO_SAMPLES.require("anaf-cii-examples", "CII_example2.xml"),
        "--to",
        "cius-ro",
        "-o",
        output,
    )
    assert output.exists()
    written = ciusro.read(output.read_bytes()).invoice
    assert written.customization_id == ciusro.CIUS_RO_ID
    assert "[BR-RO-001]" not in result.stdout


def test_unreadable_input_is_exit_status_two(tmp_path):
    path = tmp_path / "bad.xml"
    path.write_bytes(b"<Invoice><oops></Invoice>")
    result = einvoice("ro", "check", path)
    assert result.returncode == 2
    assert "not well-formed" in result.stderr
