"""Translatable texts for a library that has no request context.

``_()`` returns a :class:`Message`: English text that also keeps its msgid and parameters, so a caller that knows
the user's language (the Odoo layer) renders it with :func:`translate`; :func:`ngettext` does the same for a text
whose form depends on a number ("1 error", "2 errors"). Catalogs are the ``locale/<lang>.po`` files shipped with
the package.
"""

import ast
import functools
import re
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"


class Message(str):
    """English text that can be rendered again in another language. A plural message also keeps its English
    ``plural`` and the number ``n`` that chooses the form."""

    msgid: str
    params: dict
    plural: str | None
    n: int | None

    def __new__(cls, msgid, params=None, plural=None, n=None):
        params = dict(params or {})
        english = plural if plural is not None and n != 1 else msgid
        message = super().__new__(cls, english % params if params else english)
        message.msgid = msgid
        message.params = params
        message.plural = plural
        message.n = n
        return message

    def __reduce__(self):
        return (Message, (self.msgid, self.params, self.plural, self.n))


def _(msgid, **params):
    """Mark ``msgid`` for translation; ``params`` fill its ``%(name)s`` placeholders."""
    return Message(msgid, params)


def ngettext(singular, plural, n, **params):
    """Mark a text whose form depends on the number ``n``: ``ngettext("%(count)s error", "%(count)s errors", n,
    count=n)``. The catalogs hold one form per plural category of their language."""
    return Message(singular, params, plural=plural, n=n)


# the plural category of a number, as the Plural-Forms header of each catalog states it
_PLURAL_FORMS = {
    "ro": lambda n: 0 if n == 1 else 1 if n == 0 or 0 < n % 100 < 20 else 2,
    "pl": lambda n: 0 if n == 1 else 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2,
}


def plural_form(lang, n):
    """The index of the ``msgstr[i]`` that fits the number ``n`` in ``lang``."""
    rule = _PLURAL_FORMS.get((lang or "").replace("-", "_").split("_")[0])
    if rule is None:
        return 0 if n == 1 else 1
    return rule(abs(int(n)))


def translate(text, lang):
    """Render ``text`` in ``lang``; parameters that are messages themselves are translated too."""
    if not isinstance(text, Message):
        return str(text)
    template = _catalog_for(lang).get(text.msgid)
    if template is None:
        return str(text)
    if isinstance(template, tuple):
        template = template[min(plural_form(lang, text.n or 0), len(template) - 1)]
    params = {key: translate(value, lang) for key, value in text.params.items()}
    rendered = template % params if params else template
    # a translation may open with a parameter ("%(what)s nu are conținut."): messages are sentences, but a value
    # given as it is (a path, an address, a code) keeps its case
    leading = re.match(r"%\((\w+)\)", template)
    if leading and not isinstance(text.params.get(leading.group(1)), Message):
        return rendered
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
    """msgid -> msgstr of a gettext ``.po`` text (a tuple of forms for a plural entry); untranslated and fuzzy
    entries are left out."""
    return {msgid: msgstr for msgid, msgstr, fuzzy in po_entries(text) if msgid and _translated(msgstr) and not fuzzy}


def _translated(msgstr):
    return all(msgstr) if isinstance(msgstr, tuple) else bool(msgstr)


_PLURAL_MSGSTR = re.compile(r"msgstr\[(\d+)\] ")


def po_entries(text):
    """Every entry of a ``.po`` or ``.pot`` text as ``(msgid, msgstr, fuzzy)``, the header included; the msgstr of
    a plural entry is the tuple of its ``msgstr[i]`` forms."""
    entry, field, fuzzy_flag_seen = None, None, False
    for line in (raw.strip() for raw in text.splitlines()):
        plural_form_line = _PLURAL_MSGSTR.match(line)
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy_flag_seen = True
        elif line.startswith("msgid "):
            if entry:
                yield _entry(entry)
            entry = {"msgid": ast.literal_eval(line[6:]), "fuzzy": fuzzy_flag_seen, "forms": {}}
            field, fuzzy_flag_seen = "msgid", False
        elif line.startswith("msgid_plural ") and entry is not None:
            field = None  # the English plural is in the source; the catalog keeps the translated forms
        elif line.startswith("msgstr ") and entry is not None:
            field = "msgstr"
            entry[field] = ast.literal_eval(line[7:])
        elif plural_form_line and entry is not None:
            field = int(plural_form_line.group(1))
            entry["forms"][field] = ast.literal_eval(line[plural_form_line.end() :])
        elif line.startswith('"') and entry is not None and field is not None:
            target = entry["forms"] if isinstance(field, int) else entry
            target[field] += ast.literal_eval(line)
    if entry:
        yield _entry(entry)


def _entry(entry):
    forms = entry["forms"]
    msgstr = tuple(forms[index] for index in sorted(forms)) if forms else entry.get("msgstr", "")
    return entry["msgid"], msgstr, entry["fuzzy"]
