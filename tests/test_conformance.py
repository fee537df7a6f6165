"""The conformance page of the README: every operation of the official descriptions, served or not."""

import pytest

from einvoice.sim.anaf import AnafSimulator
from tests import conformance
from tests.contract import ANAF, KSEF, Contract


def test_a_simulator_never_started_stops_at_once():
    simulator = AnafSimulator()
    simulator.stop()  # a simulator built only to read its routes; stop() once waited for a loop that never ran


@pytest.mark.parametrize("platform", [KSEF, ANAF], ids=lambda platform: platform.name)
def test_every_described_operation_has_a_row(platform):
    contract = Contract.load(platform)
    if contract is None:
        pytest.skip(f"the official description of {platform.name} (or openapi-core) is not available")
    described = {f"{method} {template}" for d in contract.descriptions for method, template, _regex in d.operations}
    lines = conformance.table(platform.name, contract, used={next(iter(sorted(described)))})
    rows = [line for line in lines if line.startswith("   * - ``")]
    assert len(rows) == len(described)
    assert f"{len(described)} operations described" in "\n".join(lines)
    assert "our client uses 1." in "\n".join(lines)


def test_every_anaf_operation_is_served_by_the_simulator():
    contract = Contract.load(ANAF)
    if contract is None:
        pytest.skip("ANAF's swagger pages (or openapi-core) are not available")
    routes = conformance.simulator_routes("anaf")
    missing = [
        f"{method} {template}"
        for description in contract.descriptions
        for method, template, _regex in description.operations
        if not conformance.served(routes, method, template, conformance.SERVED_UNDER["anaf"])
    ]
    assert missing == []
