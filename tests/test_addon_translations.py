"""Each add-on ships its translations: every text of its template is translated in its languages, and a translation
keeps the placeholders and markup of its text, in the add-ons and in the library's own catalogs."""

import re
from pathlib import Path

import pytest

from einvoice.i18n import po_entries, read_po

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ["account_einvoice", "l10n_ro_efactura", "l10n_pl_ksef"]
# every add-on in both languages: a Polish accountant may keep the books of a Romanian subsidiary, and the reverse
LANGUAGES = {module: ["ro", "pl"] for module in ADDONS}
CATALOGS = sorted(ROOT.glob("*/i18n/*.po")) + sorted((ROOT / "einvoice" / "locale").glob("*.po"))
# what a translation must carry over unchanged: %(name)s, %s, {name} and HTML/XML tags with their attributes
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdfr]|%[sdfr]|\{[^{}\s]*\}|</?[A-Za-z][^>]*>")


def template_ids(module):
    text = (ROOT / module / "i18n" / f"{module}.pot").read_text(encoding="utf-8")
    return {msgid for msgid, _msgstr, _fuzzy in po_entries(text) if msgid}


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize(("module", "lang"), [(m, lang) for m, langs in LANGUAGES.items() for lang in langs])
def test_every_text_of_the_addon_is_translated(module, lang):
    expected = template_ids(module)
    assert expected
    text = (ROOT / module / "i18n" / f"{lang}.po").read_text(encoding="utf-8")
    assert sorted(expected - set(read_po(text))) == []
    assert [msgid for msgid, _msgstr, fuzzy in po_entries(text) if fuzzy] == []


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: str(path.relative_to(ROOT)))
def test_translations_keep_the_placeholders_of_their_text(catalog):
    wrong = []
    for msgid, msgstr, _fuzzy in po_entries(catalog.read_text(encoding="utf-8")):
        for translation in msgstr if isinstance(msgstr, tuple) else (msgstr,):
            if msgid and translation and placeholders(translation) != placeholders(msgid):
                wrong.append((msgid, translation))
    assert wrong == []


def test_placeholders_are_recognised():
    found = placeholders('%(count)s of %s in {name}: <a href="x" t-att-class="y">, </a> and 100% sure')
    assert found == sorted(["%(count)s", "%s", "{name}", '<a href="x" t-att-class="y">', "</a>"])
