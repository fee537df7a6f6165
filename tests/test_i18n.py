from einvoice.i18n import Message, _, read_po, translate


def test_message_is_english_text_that_remembers_its_source():
    message = _("The %(what)s is empty.", what="file")
    assert message == "The file is empty."
    assert isinstance(message, str)
    assert message.msgid == "The %(what)s is empty."
    assert message.params == {"what": "file"}


def test_translation_falls_back_to_the_base_language_then_english():
    message = _("The %(what)s is empty.", what=_("ZIP archive"))
    assert translate(message, "ro_RO") == translate(message, "ro")
    assert translate(message, "ro") == "Arhiva ZIP nu are conținut."
    assert translate(message, "pl_PL") == "Archiwum ZIP: brak treści."
    assert translate(message, "de_DE") == "The ZIP archive is empty."
    assert translate("plain", "ro") == "plain"


def test_messages_survive_pickling():
    import pickle

    message = _("The %(what)s is empty.", what="file")
    copy = pickle.loads(pickle.dumps(message))  # noqa: S301 - our own data
    assert isinstance(copy, Message)
    assert copy.params == {"what": "file"}


def test_po_reader_handles_continuations_and_skips_fuzzy_and_empty():
    catalog = read_po(
        """
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\\n"

#. a comment
msgid "Hello"
msgstr "Salut"

msgid ""
"Long "
"text"
msgstr ""
"Text "
"lung"

#, fuzzy
msgid "Guess"
msgstr "Ghici"

msgid "Untranslated"
msgstr ""
"""
    )
    assert catalog == {"Hello": "Salut", "Long text": "Text lung"}


def test_every_catalog_entry_keeps_the_placeholders_of_its_source():
    import re
    from pathlib import Path

    import einvoice

    placeholder = re.compile(r"%\(\w+\)[sdr]")
    for path in (Path(einvoice.__file__).parent / "locale").glob("*.po"):
        for msgid, msgstr in read_po(path.read_text(encoding="utf-8")).items():
            for form in msgstr if isinstance(msgstr, tuple) else (msgstr,):
                assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(form)), (path.name, msgid)


def test_every_library_message_is_translated():
    """The catalogs cover every text marked with _() in the library, in both languages."""
    import ast
    from pathlib import Path

    import einvoice

    package = Path(einvoice.__file__).parent
    marked, plurals = set(), set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            marker = getattr(node.func, "id", None) if isinstance(node, ast.Call) and node.args else None
            if marker in ("_", "ngettext") and isinstance(node.args[0], ast.Constant):
                marked.add(node.args[0].value)
                if marker == "ngettext":
                    plurals.add(node.args[0].value)
    assert marked and plurals
    for lang in ("ro", "pl"):
        catalog = read_po((package / "locale" / f"{lang}.po").read_text(encoding="utf-8"))
        missing = sorted(marked - set(catalog))
        assert not missing, (lang, missing)
        # Romanian and Polish have three plural forms (one, few, many)
        assert all(isinstance(catalog[msgid], tuple) and len(catalog[msgid]) == 3 for msgid in plurals), lang


def test_plurals_follow_each_languages_rule():
    from einvoice.i18n import ngettext

    def errors(count, lang):
        return translate(ngettext("%(count)s error", "%(count)s errors", count, count=count), lang)

    assert [errors(n, "en") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert [errors(n, "ro") for n in (1, 2, 19, 20, 101, 120)] == [
        "1 eroare",
        "2 erori",
        "19 erori",
        "20 de erori",
        "101 erori",
        "120 de erori",
    ]
    assert [errors(n, "pl_PL") for n in (1, 2, 4, 5, 12, 22, 25)] == [
        "1 błąd",
        "2 błędy",
        "4 błędy",
        "5 błędów",
        "12 błędów",
        "22 błędy",
        "25 błędów",
    ]


def test_plural_entries_are_read_from_a_catalog():
    catalog = read_po(
        """
msgid "%(count)s file"
msgid_plural "%(count)s files"
msgstr[0] "%(count)s plik"
msgstr[1] "%(count)s pliki"
msgstr[2] ""
"%(count)s plików"

msgid "%(count)s day"
msgid_plural "%(count)s days"
msgstr[0] "%(count)s zi"
msgstr[1] ""
"""
    )
    assert catalog == {"%(count)s file": ("%(count)s plik", "%(count)s pliki", "%(count)s plików")}


def test_a_value_that_opens_a_translation_keeps_its_case():
    assert translate(_("%(path)s: written", path="out.xml"), "ro") == "out.xml: scris"
    assert translate(_("The %(what)s is empty.", what=_("ZIP archive")), "ro") == "Arhiva ZIP nu are conținut."
