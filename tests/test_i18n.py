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
            assert sorted(placeholder.findall(msgid)) == sorted(placeholder.findall(msgstr)), (path.name, msgid)


def test_every_library_message_is_translated():
    """The catalogs cover every text marked with _() in the library, in both languages."""
    import ast
    from pathlib import Path

    import einvoice

    package = Path(einvoice.__file__).parent
    marked = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            is_marker = isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_" and node.args
            if is_marker and isinstance(node.args[0], ast.Constant):
                marked.add(node.args[0].value)
    assert marked
    for lang in ("ro", "pl"):
        catalog = read_po((package / "locale" / f"{lang}.po").read_text(encoding="utf-8"))
        missing = sorted(marked - set(catalog))
        assert not missing, (lang, missing)
