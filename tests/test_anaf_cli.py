"""``einvoice ro ...`` transport commands, run through their own parser against the ANAF simulator."""

import argparse
import html
import json
import re
import stat
import zipfile
from urllib.parse import urljoin

import pytest
import requests

from einvoice.ro import anaf_cli
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator

from .artefacts import RO_SAMPLES

CIF = "1111111111118"
CALLBACK = "https://erp.example.ro/callback"


def invoice_file():
    return RO_SAMPLES.require("anaf-ubl-examples", "ubl_b2g_example0.xml")


@pytest.fixture
def sim(clock):
    with AnafSimulator(clock=clock, processing_seconds=60, cifs=(CIF,)) as simulator:
        yield simulator


@pytest.fixture
def run(sim, tmp_path, monkeypatch):
    monkeypatch.setenv("EINVOICE_ANAF_CLIENT_SECRET", DEFAULT_CLIENT_SECRET)
    token_file = tmp_path / "tokens.json"

    def run(*argv):
        parser = argparse.ArgumentParser(prog="einvoice")
        ro = parser.add_subparsers(dest="command", required=True).add_parser("ro")
        anaf_cli.register(ro.add_subparsers(dest="ro_command", required=True))
        args = parser.parse_args(["ro", *argv, "--base-url", sim.url, "--token-file", str(token_file)])
        return args.run(args)

    run.token_file = token_file
    return run


def seed_tokens(sim, token_file):
    answer = sim.issue_tokens()
    token_file.write_text(
        json.dumps({"access_token": answer["access_token"], "refresh_token": answer["refresh_token"]})
    )
    return answer


def test_auth_login_refresh_and_status(run, sim, monkeypatch, capsys):
    def browser(prompt):
        url = re.search(r"^(http\S+authorize\S+)$", capsys.readouterr().out, re.MULTILINE).group(1)
        page = requests.get(url, timeout=5)
        link = html.unescape(re.search(r'id="approve" href="([^"]+)"', page.text).group(1))
        return requests.get(urljoin(url, link), allow_redirects=False, timeout=5).headers["Location"]

    monkeypatch.setattr(anaf_cli, "input", browser, raising=False)
    login = ["auth", "login", "--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", CALLBACK]
    assert run(*login) == 0
    saved = json.loads(run.token_file.read_text())
    assert stat.S_IMODE(run.token_file.stat().st_mode) == 0o600
    assert "access token: expires" in capsys.readouterr().out

    assert run("auth", "refresh", "--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", CALLBACK) == 0
    assert json.loads(run.token_file.read_text())["refresh_token"] != saved["refresh_token"]
    assert run("auth", "status", "--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", CALLBACK) == 0
    out = capsys.readouterr().out
    assert "ANAF test call: accepted" in out
    tokens = json.loads(run.token_file.read_text())
    assert tokens["access_token"] not in out and DEFAULT_CLIENT_SECRET not in out


def test_a_forged_callback_is_refused(run, monkeypatch, capsys):
    monkeypatch.setattr(anaf_cli, "input", lambda prompt: f"{CALLBACK}?code=abc&state=forged.sig", raising=False)
    assert run("auth", "login", "--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", CALLBACK) == 1
    assert "does not come from this server" in capsys.readouterr().err
    assert not run.token_file.exists()


def test_send_status_download_messages(run, sim, clock, tmp_path, capsys):
    seed_tokens(sim, run.token_file)
    assert run("send", str(invoice_file()), "--cif", CIF) == 0
    index = re.search(r"index (\d+)", capsys.readouterr().out).group(1)
    assert run("status", index) == 0
    assert "state: processing" in capsys.readouterr().out
    clock.now += 61
    assert run("status", index) == 0
    download_id = re.search(r"download id (\d+)", capsys.readouterr().out).group(1)
    output = tmp_path / "answer.zip"
    assert run("download", download_id, "--output", str(output)) == 0
    assert zipfile.ZipFile(output).read(f"{index}.xml") == invoice_file().read_bytes()
    assert output.read_bytes() == sim.uploads[index].archive
    capsys.readouterr()
    assert run("messages", "--cif", CIF, "--days", "3") == 0
    assert f"{download_id}    {index}  FACTURA TRIMISA" in capsys.readouterr().out


def test_env_chooses_the_paths_under_the_base_url(run, sim, capsys):
    """--env and --base-url together: a simulator (or a proxy) that serves ANAF's prod paths."""
    seed_tokens(sim, run.token_file)
    assert run("send", str(invoice_file()), "--cif", CIF, "--env", "prod") == 0
    assert "index" in capsys.readouterr().out
    assert [request.path for request in sim.requests_to("/upload")] == ["/prod/FCTEL/rest/upload"]


def test_send_reports_a_refusal(run, sim, tmp_path, capsys):
    seed_tokens(sim, run.token_file)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(
        invoice_file().read_bytes().replace(b"<Invoice", b"<Factura", 1).replace(b"</Invoice>", b"</Factura>")
    )
    assert run("send", str(broken), "--cif", CIF, "--standard", "UBL") == 1
    assert "ANAF refused the upload" in capsys.readouterr().err


def test_pdf(run, sim, tmp_path):
    seed_tokens(sim, run.token_file)
    output = tmp_path / "invoice.pdf"
    assert run("pdf", str(invoice_file()), "--output", str(output)) == 0
    assert output.read_bytes().startswith(b"%PDF-")


def test_transport_errors_are_reported_not_raised(run, sim, capsys):
    seed_tokens(sim, run.token_file)
    sim.inject("lost", path="/upload")
    assert run("send", str(invoice_file()), "--cif", CIF) == 1
    assert "checked with ANAF before anything is sent again" in capsys.readouterr().err


def test_missing_credentials_are_named(run, monkeypatch):
    monkeypatch.delenv("EINVOICE_ANAF_CLIENT_SECRET")
    with pytest.raises(SystemExit, match="--client-secret"):
        run("auth", "refresh", "--client-id", DEFAULT_CLIENT_ID, "--redirect-uri", CALLBACK)
