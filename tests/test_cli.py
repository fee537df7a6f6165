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
    result = subprocess.run([sys.executable, "-m", "einvoice.cli", "demo"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "ACCEPTED (this is a bug)" not in result.stdout
    assert "uploads the simulator received: 1" in result.stdout
    assert result.stdout.count("refused --") == 3
