import subprocess
import sys

from einvoice.cli import main
from einvoice.secrets import SecretBox


def test_genkey_prints_a_usable_key(capsys):
    assert main(["genkey"]) == 0
    key = capsys.readouterr().out.strip()
    box = SecretBox(key)
    assert box.decrypt_text(box.encrypt("x")) == "x"


def test_demo_runs_end_to_end():
    result = subprocess.run([sys.executable, "-m", "einvoice.cli", "demo"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("ANAF: ok") == 2  # the invoice and the credit note
    assert "not sent: ANAF would reject this invoice" in out
    assert "ANAF: nok" in out and "ANAF says: E: validari globale SCHEMATRON eroare: [BR-RO-111]" in out
    assert "asked ANAF: found" in out and "state ok" in out
    assert "uploads ANAF received for this invoice: 1 (never sent twice)" in out
    assert "FACTURA PRIMITA: Gama Materiale SRL GM-7781" in out
    assert out.count(", accepted, KSeF number 5260250274-") == 2
    assert out.count("UPO kept byte for byte") == 2
    assert "KSeF: duplicate (440)" in out
    assert "found in the session's invoice list by its hash: True; invoices KSeF holds: 1" in out
    assert "Gamma Materiały sp. z o.o. GM/7781, 607.62 PLN" in out
    assert out.rstrip().endswith("Demo finished.")
