"""Our FA(3) checks against the oracle: the official FA(3) schema plus the checks KSeF documents
(rules/ksef-api/faktury/weryfikacja-faktury.md), over every FA(3) document we have and seeded mutations of them.

The corpus is the Ministry's examples and every other FA(3) in the Polish samples (the client templates with their
placeholders filled), and what the generated scenarios write. Each document is mutated deterministically: an
element removed, an amount changed (by a grosz, to the rounding edge, negated, scaled), a code swapped for another
of its list, a NIP's digit changed, a text blanked. For every case the oracle says accept or refuse, and so do our
checks of a received document (:func:`einvoice.pl.fa3.check_document`: fatal findings refuse). We may accept what
the oracle refuses (the schema checks far more than we do), never the reverse; converting a document the oracle
accepts must never be refused either. :func:`run` returns the figures; ``bench/bench_fa3_agreement.py`` prints them.
"""

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from lxml import etree

from einvoice.pl import fa3
from einvoice.validation import fa3_schema

from .artefacts import PL_SAMPLES
from .pl_scenarios import SCENARIOS

SEED = 20261205
MUTATIONS_PER_DOCUMENT = 40
MAX_SIZE = 1_000_000  # bytes of an invoice without attachments
# the placeholders of the Ministry's client templates (CIRFMF/ksef-client-csharp), filled as its tests fill them
PLACEHOLDERS = {
    "#nip#": "5260250274",
    "#nip_podmiot1#": "5260250274",
    "#nipOdbiorca#": "7740001454",
    "#nip_podmiot2#": "7740001454",
    "#nip1_podmiot3#": "1132853869",
    "#nip2_podmiot3#": "7740001454",
    "#idwew1_podmiot3#": "5260250274-00001",
    "#idwew2_podmiot3#": "5260250274-00002",
    "#invoice_number#": "FV/2026/11/1",
}
NS = {"fa": fa3.NS}
CODE_LISTS = {
    "P_12": ("23", "22", "8", "7", "5", "4", "3", "0 KR", "0 WDT", "0 EX", "zw", "oo", "np I", "np II", "24"),
    "RodzajFaktury": ("VAT", "KOR", "ZAL", "ROZ", "UPR", "KOR_ZAL", "KOR_ROZ", "FAKE"),
    "KodWaluty": ("PLN", "EUR", "USD", "XXX"),
    "Rola": ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"),
    "TypKorekty": ("1", "2", "3", "4"),
    "FormaPlatnosci": ("1", "2", "3", "4", "5", "6", "7", "8"),
    "KodKraju": ("PL", "DE", "US", "XX"),
    "JST": ("1", "2"),
    "GV": ("1", "2"),
    "P_16": ("1", "2"),
    "P_17": ("1", "2"),
    "P_18": ("1", "2"),
    "P_18A": ("1", "2"),
    "P_23": ("1", "2"),
    "StanPrzed": ("1", "2"),
}
AMOUNT = re.compile(r"-?\d+(\.\d+)?")


# -- the oracle --------------------------------------------------------------------------------------------------


def nip_check_digit_ok(nip):
    """KSeF's NIP check: weights 6,5,7,2,3,4,5,6,7, modulo 11 equals the last digit (written here again from the
    definition, not taken from the library under test)."""
    if not re.fullmatch(r"\d{10}", nip or ""):
        return False
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    return sum(int(digit) * weight for digit, weight in zip(nip, weights, strict=False)) % 11 == int(nip[9])


def oracle_refusals(data, schema, today):
    """Why the official schema or KSeF's documented checks refuse ``data``; empty when they accept it."""
    reasons = []
    if data.startswith(b"\xef\xbb\xbf"):
        reasons.append("BOM")
    if len(data) > MAX_SIZE:
        reasons.append("size")
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return ["XML"]
    if any(isinstance(node, etree._ProcessingInstruction) for node in root.itersiblings(preceding=True)) or any(
        isinstance(node, etree._ProcessingInstruction) for node in root.iter()
    ):
        reasons.append("processing instruction")
    if fa3.REFUSED_CHARACTERS.search(data.decode("utf-8", "replace")):
        reasons.append("characters")
    if not schema.validate(root):
        reasons.append(f"XSD: {schema.error_log[0].message}")
    for path in (
        "fa:Podmiot1/fa:DaneIdentyfikacyjne/fa:NIP",
        "fa:Podmiot2/fa:DaneIdentyfikacyjne/fa:NIP",
        "fa:Podmiot3/fa:DaneIdentyfikacyjne/fa:NIP",
        "fa:PodmiotUpowazniony/fa:DaneIdentyfikacyjne/fa:NIP",
    ):
        for element in root.findall(path, NS):
            if not nip_check_digit_ok((element.text or "").strip()):
                reasons.append(f"NIP {element.text}")
    for element in root.findall("fa:Podmiot3/fa:DaneIdentyfikacyjne/fa:IDWew", NS):
        if not nip_check_digit_ok((element.text or "")[:10]):
            reasons.append(f"IDWew {element.text}")
    issued = root.findtext("fa:Fa/fa:P_1", namespaces=NS)
    try:
        if issued and date.fromisoformat(issued.strip()) > today:
            reasons.append("P_1 after the day KSeF takes it")
    except ValueError:
        pass  # the schema refuses it already
    return reasons


# -- the corpus --------------------------------------------------------------------------------------------------


def sample_documents():
    """(name, bytes) of every FA(3) invoice in the Polish samples, templates filled."""
    folder = PL_SAMPLES.location()
    if folder is None:
        return []
    documents = []
    for path in sorted(folder.rglob("*.xml")):
        data = path.read_bytes()
        for placeholder, value in PLACEHOLDERS.items():
            data = data.replace(placeholder.encode(), value.encode())
        try:
            root = etree.fromstring(data)
        except etree.XMLSyntaxError:
            continue
        if etree.QName(root).namespace == fa3.NS:
            documents.append((str(path.relative_to(folder)), data))
    return documents


def generated_documents():
    return [(f"scenario {name}", fa3.write(make())) for name, make in sorted(SCENARIOS.items())]


def corpus():
    return sample_documents() + generated_documents()


# -- mutations ---------------------------------------------------------------------------------------------------


def _local(element):
    return etree.QName(element).localname


def _changed_amount(text, rng):
    value = text.strip()
    negative = value.startswith("-")
    whole, _, fraction = value.lstrip("-").partition(".")
    choice = rng.randrange(7)
    if choice == 0:  # a grosz up or down
        cents = int(whole) * 100 + int((fraction + "00")[:2])
        cents += rng.choice((-1, 1))
        result = f"{cents // 100}.{cents % 100:02d}" if cents >= 0 else f"-{-cents // 100}.{-cents % 100:02d}"
        return ("-" if negative and not result.startswith("-") else "") + result
    if choice == 1:  # half a grosz: the rounding edge, more decimals than the schema allows
        return f"{value}{'' if '.' in value else '.'}{'0' * max(0, 2 - len(fraction))}5"
    if choice == 2:
        return value[1:] if negative else f"-{value}"
    if choice == 3:
        return f"{whole}0.{fraction or '0'}" if not negative else f"-{whole}0.{fraction or '0'}"
    if choice == 4:
        return "0"
    if choice == 5:
        return f"{whole}.{(fraction + '00')[:2]}"  # the same value written with its two decimals
    return f"{value} "  # a blank after the number


def mutate(data, rng):
    """One mutated copy of ``data``: (description, bytes)."""
    root = etree.fromstring(data)
    elements = [element for element in root.iter() if isinstance(element.tag, str) and element is not root]
    leaves = [element for element in elements if len(element) == 0]
    kind = rng.choice(("remove", "remove", "amount", "amount", "amount", "code", "code", "nip", "blank", "duplicate"))
    if kind == "amount":
        amounts = [leaf for leaf in leaves if leaf.text and AMOUNT.fullmatch(leaf.text.strip())]
        if amounts:
            target = rng.choice(amounts)
            target.text = _changed_amount(target.text, rng)
            return f"amount {_local(target)} -> {target.text.strip()}", etree.tostring(root, encoding="UTF-8")
        kind = "remove"
    if kind == "code":
        coded = [leaf for leaf in leaves if _local(leaf) in CODE_LISTS]
        if coded:
            target = rng.choice(coded)
            target.text = rng.choice(CODE_LISTS[_local(target)])
            return f"code {_local(target)} -> {target.text}", etree.tostring(root, encoding="UTF-8")
        kind = "remove"
    if kind == "nip":
        nips = [leaf for leaf in leaves if _local(leaf) in ("NIP", "IDWew") and leaf.text]
        if nips:
            target = rng.choice(nips)
            position = rng.randrange(10)
            digit = str((int(target.text[position]) + rng.randrange(1, 10)) % 10)
            target.text = target.text[:position] + digit + target.text[position + 1 :]
            return f"nip {_local(target)} -> {target.text}", etree.tostring(root, encoding="UTF-8")
        kind = "remove"
    if kind == "blank":
        texts = [leaf for leaf in leaves if leaf.text and leaf.text.strip()]
        target = rng.choice(texts)
        target.text = rng.choice((" ", "", f"  {target.text}  "))
        return f"blank {_local(target)}", etree.tostring(root, encoding="UTF-8")
    if kind == "duplicate":
        target = rng.choice(elements)
        target.addnext(etree.fromstring(etree.tostring(target)))
        return f"duplicate {_local(target)}", etree.tostring(root, encoding="UTF-8")
    target = rng.choice(elements)
    target.getparent().remove(target)
    return f"remove {_local(target)}", etree.tostring(root, encoding="UTF-8")


def cases(documents, per_document=MUTATIONS_PER_DOCUMENT, seed=SEED):
    """(name, bytes) of every document and of its mutations, the same for the same seed."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    for name, data in documents:
        yield name, data
        for index in range(per_document):
            description, mutated = mutate(data, rng)
            yield f"{name} #{index} {description}", mutated


# -- the comparison ----------------------------------------------------------------------------------------------


@dataclass
class Agreement:
    cases: int = 0
    both_accept: int = 0
    both_refuse: int = 0
    only_oracle_refuses: int = 0
    warnings_on_accepted: int = 0  # cases the oracle accepts on which we only warn
    stricter: list = field(default_factory=list)  # (case, our fatal findings): we refuse what the oracle accepts
    # (case, why): a document the oracle accepts not converted, or converted into what the schema refuses
    conversion_refused: list = field(default_factory=list)
    warning_rules: Counter = field(default_factory=Counter)

    @property
    def agreeing(self):
        return self.both_accept + self.both_refuse


def ours(data):
    """Our verdict on a received document: its fatal findings (reading fails: a fatal finding of its own)."""
    try:
        findings = fa3.check_document(data)
    except fa3.EInvoiceError as error:
        return [f"unreadable: {error}"], []
    return [str(item) for item in findings if item.fatal], [item.rule for item in findings if not item.fatal]


def converted(data, schema):
    """Why a received document cannot be written again as FA(3) (a conversion), or why what is written is not valid
    FA(3); None when it can and is."""
    try:
        written = fa3.write(fa3.read(data).invoice, outgoing=False)
    except fa3.EInvoiceError as error:
        return str(error) + " " + "; ".join(str(item) for item in getattr(error, "findings", ()))
    except Exception as error:  # a crash of the writer is a finding of this comparison
        return f"{type(error).__name__}: {error}"
    if not schema.validate(etree.fromstring(written)):
        return f"written FA(3) not valid: {schema.error_log[0].message}"
    return None


def run(documents=None, per_document=MUTATIONS_PER_DOCUMENT, seed=SEED, schema_folder=None, today=None):
    schema = fa3_schema(schema_folder)
    today = today or date.today()
    result = Agreement()
    for name, data in cases(documents if documents is not None else corpus(), per_document, seed):
        result.cases += 1
        refused_by_oracle = bool(oracle_refusals(data, schema, today))
        fatal, warnings = ours(data)
        if refused_by_oracle:
            result.both_refuse += bool(fatal)
            result.only_oracle_refuses += not fatal
            continue
        if fatal:
            result.stricter.append((name, fatal))
        else:
            result.both_accept += 1
            result.warnings_on_accepted += bool(warnings)
            result.warning_rules.update(set(warnings))
            why = converted(data, schema)
            if why:
                result.conversion_refused.append((name, why))
    return result
