"""Translatable texts for a library that has no request context.

``_()`` returns a :class:`Message`: English text that also keeps its msgid and parameters, so a caller that knows
the user's language (the Odoo layer) renders it with :func:`translate`. Catalogs are the ``locale/<lang>.po``
files shipped with the package.
"""

import ast
import functools
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"


class Message(str):
    """English text that can be rendered again in another language."""

    msgid: str
    params: dict

    def __new__(cls, msgid, params=None):
        params = dict(params or {})
        message = super().__new__(cls, msgid % params if params else msgid)
        message.msgid = msgid
        message.params = params
        return message

    def __reduce__(self):
        return (Message, (self.msgid, self.params))


def _(msgid, **params):
    """Mark ``msgid`` for translation; ``params`` fill its ``%(name)s`` placeholders."""
    return Message(msgid, params)


def translate(text, lang):
    """Render ``text`` in ``lang``; parameters that are messages themselves are translated too."""
    if not isinstance(text, Message):
        return str(text)
    template = _catalog_for(lang).get(text.msgid)
    if template is None:
        return str(text)
    params = {key: translate(value, lang) for key, value in text.params.items()}
    rendered = template % params if params else template
    # a translation may open with a parameter ("%(what)s nu are conținut."): messages are sentences
    return rendered[:1].upper() + rendered[1:]


def _catalog_for(lang):
    lang = (lang or "").replace("-", "_")
    for candidate in (lang, lang.split("_")[0]):
        catalog = _load_catalog(candidate)
        if catalog:
            return catalog
    return {}


@functools.cache
def _load_catalog(lang):
    path = LOCALE_DIR / f"{lang}.po"
    if not lang or not path.is_file():
        return {}
    return read_po(path.read_text(encoding="utf-8"))


def read_po(text):
    """msgid -> msgstr of a gettext ``.po`` text; untranslated and fuzzy entries are left out."""
    return {msgid: msgstr for msgid, msgstr, fuzzy in po_entries(text) if msgid and msgstr and not fuzzy}


def po_entries(text):
    """Every entry of a ``.po`` or ``.pot`` text as ``(msgid, msgstr, fuzzy)``, the header included."""
    entry, field, fuzzy_flag_seen = None, None, False
    for line in (raw.strip() for raw in text.splitlines()):
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy_flag_seen = True
        elif line.startswith("msgid "):
            if entry:
                yield entry["msgid"], entry.get("msgstr", ""), entry["fuzzy"]
            entry = {"msgid": ast.literal_eval(line[6:]), "fuzzy": fuzzy_flag_seen}
            field, fuzzy_flag_seen = "msgid", False
        elif line.startswith("msgstr ") and entry is not None:
            field = "msgstr"
            entry[field] = ast.literal_eval(line[7:])
        elif line.startswith('"') and entry is not None and field:
            entry[field] += ast.literal_eval(line)
    if entry:
        yield entry["msgid"], entry.get("msgstr", ""), entry["fuzzy"]
