"""A fixed-seed slice of the standing campaigns (``make campaign`` runs them in full)."""

from campaign import faults, hostile


def test_a_slice_of_hostile_inputs_is_handled_within_the_limits():
    report = hostile.run(seed=7, count=500, limit=80)
    assert report.cases == 80
    assert report.bad == []


def test_a_slice_of_fault_runs_files_every_invoice_exactly_once():
    tally = faults.run(seed=7, runs=40)
    assert tally.runs == 40
    assert (tally.duplicates, tally.lost, tally.uncaught) == ([], [], [])


def test_the_fault_campaign_sees_a_sender_that_breaks_the_contract(monkeypatch):
    """Resending after a lost answer without asking the platform is what the campaign must catch."""
    monkeypatch.setattr(faults, "_anaf_resolve", lambda *_args: False)
    tally = faults.run(seed=1, runs=120)
    assert tally.duplicates
