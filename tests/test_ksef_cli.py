"""``einvoice pl`` KSeF commands against the simulator, credentials from the environment."""

import argparse

import pytest
from cryptography.hazmat.primitives import serialization

from einvoice.pl.ksef_cli import register
from einvoice.sim.ksef import KsefSimulator
from einvoice.xmlsafe import parse_xml

from .test_ksef_crypto import ec_key, encrypted_pkcs8, make_certificate
from .test_ksef_flows import BUYER, SELLER, invoice


@pytest.fixture
def sim():
    with KsefSimulator(processing_delay=0, storage_delay=0, export_delay=0) as server:
        yield server


@pytest.fixture
def token(sim, monkeypatch):
    token = sim.issue_ksef_token(SELLER)
    monkeypatch.setenv("EINVOICE_KSEF_TOKEN", token)
    monkeypatch.setenv("EINVOICE_KSEF_NIP", SELLER)
    return token


def run(*argv):
    parser = argparse.ArgumentParser(prog="einvoice pl")
    register(parser.add_subparsers(dest="pl_command", required=True))
    args = parser.parse_args(argv)
    return args.run(args)


def test_auth_with_a_token_never_prints_it(sim, token, capsys):
    assert run("auth", "--base-url", sim.url) == 0
    out = capsys.readouterr().out
    assert f"NIP {SELLER}" in out
    assert token not in out
    assert "eyJ" not in out


def test_auth_with_certificate_files_and_a_password_from_the_environment(sim, tmp_path, monkeypatch, capsys):
    key = ec_key()
    (tmp_path / "ksef.crt").write_bytes(make_certificate(key, nip=SELLER).public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ksef.key").write_bytes(encrypted_pkcs8(key, b"tajne"))
    monkeypatch.setenv("EINVOICE_KSEF_KEY_PASSWORD", "tajne")
    argv = ["auth", "--base-url", sim.url, "--nip", SELLER, "--cert", str(tmp_path / "ksef.crt")]
    assert run(*argv, "--key", str(tmp_path / "ksef.key")) == 0
    assert sim.requests_to("/auth/xades-signature")
    monkeypatch.setenv("EINVOICE_KSEF_KEY_PASSWORD", "zle")
    assert run(*argv, "--key", str(tmp_path / "ksef.key")) == 1
    assert "password of the private key is wrong" in capsys.readouterr().err


def test_send_then_status_and_upo(sim, token, tmp_path, capsys):
    files = []
    for number in ("CLI/1", "CLI/2"):
        path = tmp_path / f"{number.replace('/', '-')}.xml"
        path.write_bytes(invoice(number))
        files.append(str(path))
    assert run("send", "--base-url", sim.url, *files) == 0
    out = capsys.readouterr().out
    assert out.count("accepted") == 2
    reference = next(ref for ref, session in sim.sessions.items() if session["type"] == "Online")
    assert run("status", "--base-url", sim.url, reference) == 0
    assert "Session processed." in capsys.readouterr().out
    upo = tmp_path / "upo.xml"
    assert run("upo", "--base-url", sim.url, reference, "--output", str(upo)) == 0
    assert upo.read_bytes() == sim.sessions[reference]["upo"][1]
    assert len(parse_xml(upo.read_bytes()).findall("{*}Dokument")) == 2


def test_sync_keeps_its_high_water_mark_and_download_writes_the_bytes(sim, token, tmp_path, capsys):
    bill = sim.seed_invoice(invoice("SUP/1", seller=BUYER, buyer=SELLER))
    state = tmp_path / "hwm.txt"
    argv = ["sync", "--base-url", sim.url, "--state-file", str(state), "--output-dir", str(tmp_path / "in")]
    assert run(*argv) == 0
    assert (tmp_path / "in" / f"{bill.ksef_number}.xml").read_bytes() == bill.xml
    assert state.read_text()
    assert "1 invoice received" in capsys.readouterr().out
    assert run(*argv) == 0
    assert "0 invoices received" in capsys.readouterr().out
    target = tmp_path / "one.xml"
    assert run("download", "--base-url", sim.url, bill.ksef_number, "--output", str(target)) == 0
    assert target.read_bytes() == bill.xml


def test_missing_credentials_are_explained(sim, monkeypatch, capsys):
    monkeypatch.delenv("EINVOICE_KSEF_TOKEN", raising=False)
    assert run("auth", "--base-url", sim.url, "--nip", SELLER) == 1
    assert "No KSeF credentials" in capsys.readouterr().err
