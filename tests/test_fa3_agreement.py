"""Our FA(3) checks are never stricter than the official schema and KSeF's documented checks: over every FA(3)
sample, every generated scenario and seeded mutations of them (see tests/fa3_agreement.py), no document the oracle
accepts is refused by our checks of a received document, nor by its conversion."""

from datetime import date

from lxml import etree

from einvoice.pl import fa3
from einvoice.validation import fa3_schema

from . import fa3_agreement
from .artefacts import fa3_schema_folder
from .pl_scenarios import build

TODAY = date(2026, 12, 5)  # after every generated invoice's issue date, so that KSeF's date check lets them in


def test_our_checks_never_refuse_what_the_schema_and_ksef_accept():
    result = fa3_agreement.run(schema_folder=fa3_schema_folder(), today=TODAY)
    assert result.cases >= 2000
    assert result.stricter == []
    assert result.conversion_refused == []
    # the comparison can fail: both sides refuse some mutations, and accept the originals
    assert result.both_refuse > 0 and result.both_accept > 0


def test_the_oracle_refuses_a_wrong_nip_and_an_invoice_from_the_future():
    schema = fa3_schema(fa3_schema_folder())
    xml = fa3.write(build())
    assert fa3_agreement.oracle_refusals(xml, schema, TODAY) == []
    wrong_nip = xml.replace(b"<NIP>5260250274</NIP>", b"<NIP>5260250275</NIP>")
    assert fa3_agreement.oracle_refusals(wrong_nip, schema, TODAY) == ["NIP 5260250275"]
    assert fa3_agreement.oracle_refusals(xml, schema, date(2026, 11, 19)) == ["P_1 after the day KSeF takes it"]


def test_mutations_are_the_same_for_the_same_seed():
    documents = [("plain", fa3.write(build()))]
    first = [name for name, _data in fa3_agreement.cases(documents, 30)]
    assert first == [name for name, _data in fa3_agreement.cases(documents, 30)]
    assert len(set(first)) > 20


def test_every_mutation_is_still_xml():
    documents = [("plain", fa3.write(build()))]
    for _name, data in fa3_agreement.cases(documents, 50):
        etree.fromstring(data)
