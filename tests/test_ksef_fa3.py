"""Our FA(3) invoices through a KSeF session: the simulator holds them against the official schema, as KSeF does."""

from dataclasses import replace

import pytest

from einvoice.pl import fa3
from einvoice.pl.ksef import ACCEPTED, REJECTED, Authenticator, KsefTokenLogin, OnlineSession

from .pl_scenarios import SCENARIOS
from .test_ksef_flows import client, clock, sim  # noqa: F401 - fixtures

SELLER_NIP = "5260250274"  # the seller of the generated scenarios


@pytest.fixture
def seller_auth(sim, client):  # noqa: F811 - fixtures
    return Authenticator(client, SELLER_NIP, KsefTokenLogin(sim.issue_ksef_token(SELLER_NIP)))


def test_written_invoices_are_accepted_and_a_schema_fault_is_refused(sim, clock, client, seller_auth):  # noqa: F811
    session = OnlineSession.open(client, seller_auth)
    written = [
        fa3.write(replace(SCENARIOS[name](), number=f"FV/2026/{name}"))
        for name in ("standard_rate_23", "domestic_reverse_charge", "exempt_under_the_vat_act", "zero_rate_export")
    ]
    sent = [session.send(xml) for xml in written]
    broken = session.send(written[0].replace(b"<P_2>", b"<P_2X>").replace(b"</P_2>", b"</P_2X>"))
    clock.advance(5)
    for item in sent:
        status = session.sessions.invoice_status(session.reference_number, item.reference_number)
        assert status.state == ACCEPTED, status.details
        assert status.ksef_number.startswith(SELLER_NIP)
    refused = session.sessions.invoice_status(session.reference_number, broken.reference_number)
    assert (refused.code, refused.state) == (450, REJECTED)
    assert any("P_2X" in detail for detail in refused.details)
