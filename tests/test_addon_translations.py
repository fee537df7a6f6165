"""Each add-on ships its translations: every text of its template is translated in its languages."""

from pathlib import Path

import pytest

from einvoice.i18n import po_entries, read_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"account_einvoice": ["ro", "pl"], "l10n_ro_efactura": ["ro"], "l10n_pl_ksef": ["pl"]}


def template_ids(module):
    text = (ROOT / module / "i18n" / f"{module}.pot").read_text(encoding="utf-8")
    return {msgid for msgid, _msgstr, _fuzzy in po_entries(text) if msgid}


@pytest.mark.parametrize(("module", "lang"), [(m, lang) for m, langs in LANGUAGES.items() for lang in langs])
def test_every_text_of_the_addon_is_translated(module, lang):
    expected = template_ids(module)
    assert expected
    translated = read_po((ROOT / module / "i18n" / f"{lang}.po").read_text(encoding="utf-8"))
    assert sorted(expected - set(translated)) == []
