"""The ``einvoice`` command line as a Unix tool: it says what it did and did not do, writes files it names, takes
its options where a user puts them, keeps quiet on a closed pipe, and prints times, counts, findings and network
failures so that a person can read them."""

import argparse
import base64
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.serialization import pkcs12

from einvoice import cli, demo
from einvoice.cli import build_parser, main
from einvoice.cli_support import report
from einvoice.http import HttpClient, OutcomeUnknownError, PlatformUnavailableError
from einvoice.i18n import _
from einvoice.pl import fa3, ksef_cli
from einvoice.ro import ciusro
from einvoice.ro.anaf import AnafClient, Endpoints
from einvoice.rules import Finding
from einvoice.sim import SimServer, TlsFront
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator
from einvoice.sim.ksef import KsefSimulator
from einvoice.validation import validate_ubl
from einvoice.xmlsafe import parse_xml

from . import pl_scenarios, ro_scenarios
from .artefacts import CIUS_RO_RULES
from .test_ksef_crypto import ec_key, encrypted_pkcs8, make_certificate

CIF = "18547290"  # the seller of the Romanian scenarios
PL_SELLER, PL_BUYER = "5260250274", "7740001454"  # the parties of the Polish scenarios
ISO_WITH_OFFSET = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
LIBRARY_INTERNALS = ("object at 0x", "Max retries", "Pool(", "Caused by")


def einvoice(*args, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "einvoice.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )


def good_invoice(tmp_path):
    path = tmp_path / "good.xml"
    path.write_bytes(ciusro.render(ro_scenarios.build()))
    return path


def invoice_with_a_wrong_county(tmp_path):
    path = tmp_path / "county.xml"
    path.write_bytes(ciusro.render(ro_scenarios.build()).replace(b"RO-B", b"Bucuresti"))
    return path


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def leaf_parsers(parser, name="einvoice"):
    """Every command's own parser, by its full name ("einvoice ro auth login")."""
    commands = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    if not commands:
        yield name, parser
    for action in commands:
        for child_name, child in action.choices.items():
            yield from leaf_parsers(child, f"{name} {child_name}")


# -- 1. validate says whether ANAF's official rules ran ---------------------------------------------------------
def test_validate_says_when_the_official_rules_were_not_configured(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "EINVOICE_CIUS_RO_RULES"}
    result = subprocess.run(
        [sys.executable, "-m", "einvoice.cli", "ro", "validate", str(good_invoice(tmp_path))],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (
        "ANAF's official rules (CIUS-RO Schematron) were not run: set EINVOICE_CIUS_RO_RULES or give --rules FILE."
        in result.stdout
    )
    assert result.stdout.rstrip().endswith("0 errors, 0 warnings")


def test_validate_says_when_the_official_rules_cannot_run_without_saxonche(tmp_path):
    rules = tmp_path / "rules.xslt"
    rules.write_text("<xsl:stylesheet/>")
    program = (
        "import sys; sys.modules['saxonche'] = None\n"  # as when the package is not installed
        "from einvoice.cli import main\n"
        f"sys.exit(main(['ro', 'validate', {str(good_invoice(tmp_path))!r}, '--rules', {str(rules)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ANAF's official rules (CIUS-RO Schematron) were not run: The official rules need the saxonche" in (
        result.stdout
    )


def test_validate_with_a_rules_file_that_does_not_exist_is_an_error(tmp_path):
    result = einvoice("ro", "validate", good_invoice(tmp_path), "--rules", tmp_path / "missing.xslt")
    assert result.returncode == 2
    assert "does not exist" in result.stderr


def test_validate_says_when_the_official_rules_ran(tmp_path):
    rules = CIUS_RO_RULES.require()
    result = einvoice("ro", "validate", invoice_with_a_wrong_county(tmp_path), "--rules", rules)
    assert result.returncode == 1
    assert f"ANAF's official rules: run ({rules})" in result.stdout
    assert "were not run" not in result.stdout


# -- 2. -o wherever --output is ---------------------------------------------------------------------------------
def test_every_command_with_output_also_takes_dash_o():
    with_output = {}
    for name, parser in leaf_parsers(build_parser()):
        for action in parser._actions:
            if "--output" in action.option_strings:
                with_output[name] = action.option_strings
    assert {"einvoice ro convert", "einvoice ro download", "einvoice ro pdf", "einvoice pl convert"} <= set(with_output)
    assert {"einvoice pl upo", "einvoice pl download"} <= set(with_output)
    assert all("-o" in options for options in with_output.values()), with_output


# -- 3. every file written is named --------------------------------------------------------------------------------
@pytest.fixture
def anaf(clock, monkeypatch):
    with AnafSimulator(clock=clock, processing_seconds=0, cifs=(CIF,)) as simulator:
        monkeypatch.setenv("EINVOICE_ANAF_ACCESS_TOKEN", simulator.issue_tokens()["access_token"])
        yield simulator


def ro(anaf, *argv):
    return main(["ro", *map(str, argv), "--base-url", anaf.url])


def upload(anaf, path, capsys):
    assert ro(anaf, "send", path, "--cif", CIF) == 0
    return re.search(r"index (\d+)", capsys.readouterr().out).group(1)


def test_anaf_commands_say_which_files_they_wrote(anaf, tmp_path, monkeypatch, capsys):
    index = upload(anaf, good_invoice(tmp_path), capsys)
    assert ro(anaf, "status", index) == 0
    download_id = re.search(r"download id (\d+)", capsys.readouterr().out).group(1)

    archive = tmp_path / "answer.zip"
    assert ro(anaf, "download", download_id, "-o", archive) == 0
    assert f"{archive}: written" in capsys.readouterr().out.splitlines()
    assert archive.read_bytes() == anaf.uploads[index].archive

    pdf = tmp_path / "invoice.pdf"
    assert ro(anaf, "pdf", good_invoice(tmp_path), "-o", pdf) == 0
    assert capsys.readouterr().out.splitlines() == [f"{pdf}: written"]
    assert pdf.read_bytes().startswith(b"%PDF-")

    token_file = tmp_path / "tokens.json"
    assert refresh_tokens(anaf, token_file, monkeypatch) == 0
    assert f"{token_file}: written" in capsys.readouterr().out.splitlines()


def test_document_commands_say_which_files_they_wrote(tmp_path):
    output = tmp_path / "out.xml"
    result = einvoice("ro", "convert", good_invoice(tmp_path), "-o", output)
    assert result.stdout.splitlines()[0] == f"{output}: written"
    fa3_output = tmp_path / "out-fa3.xml"
    source = tmp_path / "fa3.xml"
    source.write_bytes(fa3.write(pl_scenarios.build()))
    result = einvoice("pl", "convert", source, "-o", fa3_output, "--lang", "pl")
    assert result.stdout.splitlines()[0] == f"{fa3_output}: zapisano"


@pytest.fixture
def ksef(monkeypatch):
    with KsefSimulator(processing_delay=0, storage_delay=0, export_delay=0) as simulator:
        monkeypatch.setenv("EINVOICE_KSEF_TOKEN", simulator.issue_ksef_token(PL_BUYER))
        monkeypatch.setenv("EINVOICE_KSEF_NIP", PL_BUYER)
        yield simulator


def pl(ksef, *argv):
    return main(["pl", *map(str, argv), "--base-url", ksef.url])


def test_ksef_commands_say_which_files_they_wrote(ksef, tmp_path, capsys):
    bill = ksef.seed_invoice(fa3.write(pl_scenarios.build()))
    state, folder = tmp_path / "hwm.txt", tmp_path / "in"
    assert pl(ksef, "sync", "--state-file", state, "--output-dir", folder) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{folder / (bill.ksef_number + '.xml')}: written" in lines
    assert f"{state}: written" in lines

    target = tmp_path / "one.xml"
    assert pl(ksef, "download", bill.ksef_number, "-o", target) == 0
    assert capsys.readouterr().out.splitlines() == [f"{target}: written"]
    assert target.read_bytes() == bill.xml


# -- 4. --lang after the command, and only languages we speak -----------------------------------------------------
def test_lang_may_follow_the_command(tmp_path, capsys):
    path = invoice_with_a_wrong_county(tmp_path)
    assert main(["ro", "check", str(path), "--lang", "ro"]) == 1
    assert "1 eroare, 0 avertismente" in capsys.readouterr().out
    assert main(["--lang", "pl", "ro", "check", str(path), "--lang", "ro"]) == 1  # the command's own one wins
    assert "Județul trebuie" in capsys.readouterr().out
    assert main(["--lang", "pl", "ro", "check", str(path)]) == 1
    assert "1 błąd, 0 ostrzeżeń" in capsys.readouterr().out


def test_every_command_takes_lang():
    for name, parser in leaf_parsers(build_parser()):
        assert any("--lang" in action.option_strings for action in parser._actions), name


@pytest.mark.parametrize(
    "argv",
    [["--lang", "de", "ro", "check", "x.xml"], ["ro", "check", "x.xml", "--lang", "de"], ["genkey", "--lang", "xx"]],
)
def test_an_unknown_language_is_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("C.UTF-8", "en"),
        ("en_US.UTF-8", "en"),
        ("ro_RO.UTF-8", "ro"),
        ("pl_PL", "pl"),
        ("de_DE.UTF-8", "en"),
        ("", "en"),
    ],
)
def test_the_default_language_comes_from_the_locale_and_falls_back_to_english(locale, language, monkeypatch):
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", locale)
    assert build_parser().parse_args(["ro", "check", "x.xml"]).lang == language


# -- 5. the status of a rejected upload shows ANAF's reasons ------------------------------------------------------
def test_status_of_a_rejected_upload_shows_anafs_reasons(anaf, tmp_path, capsys):
    index = upload(anaf, invoice_with_a_wrong_county(tmp_path), capsys)
    assert ro(anaf, "status", index) == 1
    out = capsys.readouterr().out
    assert out.startswith("state: nok, download id ")
    assert "  E: validari globale SCHEMATRON eroare: [BR-RO-110]" in out


def test_status_says_how_to_get_the_reasons_when_it_cannot_read_them(clock, tmp_path, monkeypatch, capsys):
    with AnafSimulator(clock=clock, processing_seconds=0, cifs=(CIF,), downloads_per_message=0) as anaf:
        monkeypatch.setenv("EINVOICE_ANAF_ACCESS_TOKEN", anaf.issue_tokens()["access_token"])
        index = upload(anaf, invoice_with_a_wrong_county(tmp_path), capsys)
        assert ro(anaf, "status", index) == 1
    out = capsys.readouterr().out
    download_id = re.search(r"download id (\d+)", out).group(1)
    assert f"get it with 'einvoice ro download {download_id}'" in out


def refresh_tokens(anaf, token_file, monkeypatch):
    """``ro auth refresh`` with a refresh token the simulator issued, written to ``token_file``."""
    token_file.write_text(json.dumps({"access_token": "-", "refresh_token": anaf.issue_tokens()["refresh_token"]}))
    monkeypatch.setenv("EINVOICE_ANAF_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    oauth = ["--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", "https://erp.example.ro/cb"]
    return ro(anaf, "auth", "refresh", *oauth, "--token-file", token_file)


# -- 6. times with their offset ------------------------------------------------------------------------------------
def test_anaf_times_are_printed_with_their_offset(anaf, tmp_path, monkeypatch, capsys):
    upload(anaf, good_invoice(tmp_path), capsys)
    assert ro(anaf, "messages", "--cif", CIF) == 0
    listed = capsys.readouterr().out
    assert re.match(rf"{ISO_WITH_OFFSET}  ", listed), listed  # Romanian time, +02:00 or +03:00

    token_file = tmp_path / "tokens.json"
    assert refresh_tokens(anaf, token_file, monkeypatch) == 0
    assert re.search(rf"access token: expires {ISO_WITH_OFFSET} \(\d+ days left\)", capsys.readouterr().out)


def test_ksef_times_are_printed_with_their_offset(ksef, tmp_path, capsys):
    assert pl(ksef, "auth") == 0
    signed_in = capsys.readouterr().out
    assert re.search(rf"Access valid until {ISO_WITH_OFFSET}; refresh until {ISO_WITH_OFFSET}\.", signed_in)
    assert pl(ksef, "sync", "--output-dir", tmp_path) == 0
    assert re.search(rf"next sync from {ISO_WITH_OFFSET}\.", capsys.readouterr().out)


# -- 7. counts in proper English, and in each language's plural forms -----------------------------------------------
def finding(rule, fatal=True):
    return Finding(rule, _("The invoice number is required."), "BT-1", fatal=fatal)


@pytest.mark.parametrize(
    ("findings", "lang", "count"),
    [
        ([], "en", "0 errors, 0 warnings"),
        ([finding("BR-02")], "en", "1 error, 0 warnings"),
        ([finding("BR-02"), finding("BR-03"), finding("BR-04", fatal=False)], "en", "2 errors, 1 warning"),
        ([finding("BR-02"), finding("BR-03"), finding("BR-04", fatal=False)], "ro", "2 erori, 1 avertisment"),
        ([finding("BR-02")] * 5 + [finding("BR-04", fatal=False)] * 2, "pl", "5 błędów, 2 ostrzeżenia"),
        ([finding("BR-02")] * 20, "ro", "20 de erori, 0 avertismente"),
    ],
)
def test_the_count_of_findings_is_in_words(findings, lang, count, capsys):
    report(findings, lang)
    assert capsys.readouterr().out.splitlines()[-1] == count


def test_one_invoice_received_is_singular(ksef, tmp_path, capsys):
    ksef.seed_invoice(fa3.write(pl_scenarios.build()))
    assert pl(ksef, "sync", "--output-dir", tmp_path) == 0
    assert "1 invoice received; next sync from" in capsys.readouterr().out


# -- 8. a closed pipe ends the command quietly ---------------------------------------------------------------------
@pytest.mark.parametrize("command", [["genkey"], ["ro", "check"]])
def test_a_closed_pipe_ends_the_command_quietly(command, tmp_path):
    if command[-1] == "check":
        command = [*command, str(invoice_with_a_wrong_county(tmp_path))]
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone, as after `einvoice ... | head -0`
    try:
        result = subprocess.run(
            [sys.executable, "-m", "einvoice.cli", *command], stdout=write_end, stderr=subprocess.PIPE, timeout=120
        )
    finally:
        os.close(write_end)
    assert result.stderr == b""
    assert result.returncode == cli.BROKEN_PIPE


# -- 9. one line per finding, the rule id once, a place a person can read ------------------------------------------
def test_an_official_finding_is_one_readable_line(capsys):
    ns = "[namespace-uri()='urn:oasis:names:specification:ubl:schema:xsd:{}-2'][1]"
    location = "/*:Invoice{0}/*:AccountingSupplierParty{1}/*:Party{1}/*:PartyTaxScheme{1}/*:CompanyID{2}".format(
        ns.format("Invoice"), ns.format("CommonAggregateComponents"), ns.format("CommonBasicComponents")
    )
    third_line = "/Q{urn:a}Invoice[1]/Q{urn:b}InvoiceLine[3]/Q{urn:b}Price[1]/Q{urn:c}PriceAmount[1]"
    findings = [
        Finding("BR-CO-09", "[BR-CO-09]-The Seller VAT identifier\n   shall have a prefix.", location),
        Finding("BR-03", "[BR-03]-An Invoice shall have an Invoice issue date (BT-2).", f"/*:Invoice{ns}"),
        Finding("BR-27", "[BR-27]-The Item net price (BT-146) shall NOT be negative.", third_line, fatal=False),
        Finding("BR-RO-110", _("The invoice number is required."), "BG-5"),
    ]
    report(findings, "en")
    assert capsys.readouterr().out.splitlines() == [
        "error: [BR-CO-09]-The Seller VAT identifier shall have a prefix. "
        "(AccountingSupplierParty/Party/PartyTaxScheme/CompanyID)",
        "error: [BR-03]-An Invoice shall have an Invoice issue date (BT-2).",
        "warning: [BR-27]-The Item net price (BT-146) shall NOT be negative. (InvoiceLine[3]/Price/PriceAmount)",
        "error: [BR-RO-110] The invoice number is required. (Seller's postal address, BG-5)",
        "3 errors, 1 warning",
    ]


def test_a_schema_finding_names_its_line_once_and_elements_without_namespaces(tmp_path, capsys):
    xml = ciusro.render(ro_scenarios.build()).replace(b"cbc:IssueDate>", b"cbc:IssueDateX>")
    report(validate_ubl(parse_xml(xml)), "en")
    line = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(r"error: \[UBL-XSD\] Line \d+: Element 'IssueDateX': This element is not expected\..*", line)
    assert "{urn:" not in line and not re.search(r"\(line \d+\)$", line)


def test_a_reader_finding_names_elements_without_prefixes(capsys):
    report([Finding("UBL-NUMBER", "'x' is not a number.", "cac:LegalMonetaryTotal/cbc:PayableAmount")], "en")
    assert capsys.readouterr().out.splitlines()[0] == (
        "error: [UBL-NUMBER] 'x' is not a number. (LegalMonetaryTotal/PayableAmount)"
    )


# -- 10. network failures in plain words -----------------------------------------------------------------------------
def test_a_closed_port_is_told_in_plain_words():
    port = closed_port()
    client = HttpClient(f"http://127.0.0.1:{port}", platform="TestPlatform")
    with pytest.raises(PlatformUnavailableError) as caught:
        client.post("/upload", data=b"<Invoice/>")
    text = str(caught.value)
    assert text == f"TestPlatform cannot be reached (POST /upload): http://127.0.0.1:{port} refused the connection"
    assert not any(internal in text for internal in LIBRARY_INTERNALS)


def test_the_cli_tells_a_network_failure_without_library_internals(tmp_path):
    port = closed_port()
    result = einvoice(
        "ro", "send", good_invoice(tmp_path), "--cif", CIF, "--base-url", f"http://127.0.0.1:{port}",
        env={"EINVOICE_ANAF_ACCESS_TOKEN": "test-token"},
    )  # fmt: skip
    assert result.returncode == 1
    assert re.fullmatch(
        rf"einvoice: ANAF cannot be reached \(POST \S*upload\): http://127\.0\.0\.1:{port} refused the connection\n",
        result.stderr,
    )
    romanian = einvoice(
        "ro", "send", good_invoice(tmp_path), "--cif", CIF, "--base-url", f"http://127.0.0.1:{port}", "--lang", "ro",
        env={"EINVOICE_ANAF_ACCESS_TOKEN": "test-token"},
    )  # fmt: skip
    assert f"http://127.0.0.1:{port} a refuzat conexiunea" in romanian.stderr


def test_tls_failures_are_told_in_plain_words():
    with SimServer() as backend, TlsFront(backend) as front, TlsFront(backend) as other:
        untrusted = HttpClient(front.url, platform="TestPlatform", verify=other.ca_bundle, sleep=lambda _: None)
        with pytest.raises(PlatformUnavailableError) as caught:
            untrusted.get("/status")
        assert str(caught.value).startswith(
            f"The secure connection to TestPlatform failed: {front.url}: its certificate cannot be verified ("
        )
        front.inject("garbage", path="/upload")
        with pytest.raises(OutcomeUnknownError) as lost:
            HttpClient(front.url, platform="TestPlatform", verify=front.ca_bundle).post("/upload", data=b"<x/>")
        assert lost.value.detail == f"{front.url}: the secure connection broke (wrong version number)"
    assert not any(internal in str(caught.value) for internal in LIBRARY_INTERNALS)


# -- 11. a password asked at the terminal ----------------------------------------------------------------------------
class Terminal:
    def __init__(self, is_terminal):
        self.is_terminal = is_terminal

    def isatty(self):
        return self.is_terminal


@pytest.fixture
def encrypted_credentials(tmp_path):
    key = ec_key()
    certificate = make_certificate(key, nip=PL_BUYER)
    (tmp_path / "ksef.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ksef.key").write_bytes(encrypted_pkcs8(key, b"tajne"))
    encryption = serialization.BestAvailableEncryption(b"tajne")
    (tmp_path / "ksef.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(b"ksef", key, certificate, None, encryption)
    )
    return {
        "key": ["--cert", tmp_path / "ksef.crt", "--key", tmp_path / "ksef.key"],
        "p12": ["--p12", tmp_path / "ksef.p12"],
    }


@pytest.mark.parametrize("kind", ["key", "p12"])
def test_an_encrypted_key_asks_for_its_password_at_a_terminal(kind, ksef, encrypted_credentials, monkeypatch, capsys):
    monkeypatch.delenv("EINVOICE_KSEF_KEY_PASSWORD", raising=False)
    prompts = []
    monkeypatch.setattr(ksef_cli.sys, "stdin", Terminal(True))
    monkeypatch.setattr(ksef_cli.getpass, "getpass", lambda prompt: prompts.append(prompt) or "tajne")
    assert pl(ksef, "auth", *encrypted_credentials[kind]) == 0
    assert f"NIP {PL_BUYER}" in capsys.readouterr().out
    assert prompts == [f"Password of {encrypted_credentials[kind][-1]}: "]
    assert ksef.requests_to("/auth/xades-signature")


def test_without_a_terminal_an_encrypted_key_without_password_is_an_error(
    ksef, encrypted_credentials, monkeypatch, capsys
):
    monkeypatch.delenv("EINVOICE_KSEF_KEY_PASSWORD", raising=False)
    monkeypatch.setattr(ksef_cli.sys, "stdin", Terminal(False))
    monkeypatch.setattr(ksef_cli.getpass, "getpass", lambda prompt: pytest.fail("asked for a password"))
    assert pl(ksef, "auth", *encrypted_credentials["key"]) == 1
    assert "The private key is protected by a password" in capsys.readouterr().err


# -- 12. the demo quotes ANAF without cutting words ------------------------------------------------------------------
def test_the_demo_quotes_anafs_reasons_without_cutting_a_word(clock, capsys):
    with AnafSimulator(cifs=(demo.SELLER_CIF,), processing_seconds=30, clock=clock) as anaf:
        client = AnafClient(anaf.issue_tokens()["access_token"], endpoints=Endpoints.at(anaf.url), clock=clock)
        demo._rejected_invoice(client, clock)
        errors = [error for upload in anaf.uploads.values() for error in upload.errors]
    quoted = [line.split("ANAF says: ", 1)[1] for line in capsys.readouterr().out.splitlines() if "ANAF says: " in line]
    assert quoted and errors
    assert any(len(error) > 110 for error in errors)  # something had to be shortened
    for text in quoted:
        assert len(text) <= 110
        if text.endswith(" …"):
            start = text[: -len(" …")]
            assert any(error.startswith(start) and error[len(start)] == " " for error in errors), text
        else:
            assert text in errors


# -- 13. a simulator says how to use it ------------------------------------------------------------------------------
def start_simulator(name, last_line):
    process = subprocess.Popen(
        [sys.executable, "-m", "einvoice.sim", name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    lines = []
    try:
        while not lines or last_line not in lines[-1]:
            line = process.stdout.readline()
            assert line, f"the simulator stopped: {process.stderr.read()}"
            lines.append(line.rstrip("\n"))
    finally:
        watchdog.cancel()
    return process, lines


def stop(process):
    process.terminate()
    process.wait(timeout=10)


def exported(lines, name):
    for line in (line for line in lines if f"{name}=" in line):
        for word in shlex.split(line):
            if word.startswith(f"{name}="):
                return word.split("=", 1)[1]
    raise AssertionError(f"{name} is not shown")


def test_the_anaf_simulator_says_how_to_use_it(tmp_path):
    process, lines = start_simulator("anaf", "einvoice ro auth login")
    try:
        url = re.fullmatch(r"ANAF simulator listening on (http://127\.0\.0\.1:\d+)", lines[0]).group(1)
        guide = "\n".join(lines)
        assert f"id {DEFAULT_CLIENT_ID}, secret {DEFAULT_CLIENT_SECRET}" in guide
        assert exported(lines, "EINVOICE_ANAF_CLIENT_ID") == DEFAULT_CLIENT_ID
        assert exported(lines, "EINVOICE_ANAF_CLIENT_SECRET") == DEFAULT_CLIENT_SECRET
        assert exported(lines, "EINVOICE_ANAF_REDIRECT_URI").startswith("https://")
        assert "companies (CUI) with SPV rights: 8000000000" in guide
        assert f"--base-url {url}" in guide
        token = exported(lines, "EINVOICE_ANAF_ACCESS_TOKEN")
        listed = einvoice(
            "ro", "messages", "--cif", "8000000000", "--base-url", url, env={"EINVOICE_ANAF_ACCESS_TOKEN": token}
        )
        assert listed.returncode == 0, listed.stderr
    finally:
        stop(process)


def printed(lines, pattern):
    """The first match of ``pattern`` in the guide's lines."""
    for line in lines:
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"the guide shows nothing like {pattern}")


def test_the_ksef_simulator_says_how_to_use_it(tmp_path):
    """Each way in the guide is followed as it is printed: the command line with the KSeF token, the same login over
    HTTP (challenge, public key, encrypted token, status, redeem), a KSeF token of one's own, a self-signed
    certificate made with the printed openssl command and the login with it, and Latarnia."""
    process, lines = start_simulator("ksef", "stop with Ctrl+C")
    try:
        url = re.fullmatch(r"KSeF simulator listening on (http://127\.0\.0\.1:\d+/v2)", lines[0]).group(1)
        guide = "\n".join(lines)
        assert f"base URL (like https://api-test.ksef.mf.gov.pl/v2 of KSeF TEST): {url}" in guide
        assert "any NIP" in guide and "TINPL-<NIP>" in guide and "VATPL-<NIP>" in guide and "--p12" in guide
        nip, token = exported(lines, "EINVOICE_KSEF_NIP"), exported(lines, "EINVOICE_KSEF_TOKEN")
        assert printed(lines, r"einvoice pl auth --base-url (\S+)$").group(1) == url
        signed_in = einvoice(
            "pl", "auth", "--base-url", url, env={"EINVOICE_KSEF_NIP": nip, "EINVOICE_KSEF_TOKEN": token}
        )
        assert signed_in.returncode == 0, signed_in.stderr
        assert f"Signed in to KSeF for NIP {nip}" in signed_in.stdout

        # 1. over HTTP
        challenge = requests.post(printed(lines, r"POST (\S+/auth/challenge)").group(1), timeout=10).json()
        keys = requests.get(printed(lines, r"GET (\S+/security/public-key-certificates)").group(1), timeout=10).json()
        key = next(k for k in keys if "KsefTokenEncryption" in k["usage"])
        certificate = x509.load_der_x509_certificate(base64.b64decode(key["certificate"]))
        encrypted = certificate.public_key().encrypt(
            f"{token}|{challenge['timestampMs']}".encode(),
            asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None),
        )
        login = printed(lines, r"POST (\S+/auth/ksef-token) (\{.*\}) ->")
        body = (
            login.group(2)
            .replace("<challenge>", challenge["challenge"])
            .replace("<base64>", base64.b64encode(encrypted).decode())
            .replace("<publicKeyId>", key["publicKeyId"])
        )
        started = requests.post(login.group(1), json=json.loads(body), timeout=10)
        assert started.status_code == 202, started.text
        access = follow_login(lines, started.json())

        # 4. a KSeF token of one's own, then the command line with it
        own = printed(lines, r"POST (\S+/tokens) (\{.*\}) with")
        generated = requests.post(
            own.group(1), json=json.loads(own.group(2)), headers={"Authorization": f"Bearer {access}"}, timeout=10
        )
        assert generated.status_code == 202, generated.text
        signed_in = einvoice(
            "pl",
            "auth",
            "--base-url",
            url,
            env={"EINVOICE_KSEF_NIP": nip, "EINVOICE_KSEF_TOKEN": generated.json()["token"]},
        )
        assert signed_in.returncode == 0, signed_in.stderr

        # 2. a self-signed certificate as printed, and the login with it
        made = subprocess.run(
            shlex.split(printed(lines, r"(openssl req .*)$").group(1)), cwd=tmp_path, capture_output=True, timeout=120
        )
        assert made.returncode == 0, made.stderr
        command = shlex.split(printed(lines, r"einvoice (pl auth .* --cert .*)$").group(1))
        signed_in = einvoice(*command, cwd=tmp_path, env={"EINVOICE_KSEF_NIP": ""})
        assert signed_in.returncode == 0, signed_in.stderr
        assert f"Signed in to KSeF for NIP {nip}" in signed_in.stdout

        # Latarnia
        latarnia = printed(lines, r"GET (\S+/latarnia/status), GET (\S+/latarnia/messages)")
        assert requests.get(latarnia.group(1), timeout=10).json()["status"] == "AVAILABLE"
        assert requests.get(latarnia.group(2), timeout=10).json() == []
    finally:
        stop(process)


def follow_login(lines, started):
    """Step 3 of the guide: the status until 200, then the tokens; the access token."""
    reference, operation = started["referenceNumber"], started["authenticationToken"]["token"]
    headers = {"Authorization": f"Bearer {operation}"}
    status_url = printed(lines, r"GET (\S+/auth/)<referenceNumber>").group(1) + reference
    assert requests.get(status_url, headers=headers, timeout=10).json()["status"]["code"] == 200
    redeemed = requests.post(printed(lines, r"POST (\S+/auth/token/redeem)").group(1), headers=headers, timeout=10)
    assert redeemed.status_code == 200, redeemed.text
    return redeemed.json()["accessToken"]["token"]
