"""The official-rules runner refuses clearly where it cannot run, instead of aborting the process."""

import subprocess
import sys
import textwrap

from .artefacts import CIUS_RO_RULES

PROBE = textwrap.dedent(
    """
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, resource.RLIM_INFINITY))
    from einvoice.validation import ValidationUnavailableError, official_rules
    try:
        official_rules(sys.argv[1])
    except ValidationUnavailableError as error:
        print("refused:", error)
    """
)


def test_a_memory_limit_too_small_for_saxon_is_a_clear_error():
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(CIUS_RO_RULES.require())], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "refused: The official rules cannot run under the process's memory limit of 2048 MiB" in result.stdout
    assert "limit_memory_hard" in result.stdout
