"""Differential testing: our checks against the official validators, rule id by rule id.

The oracles are the official artefacts (see ``artefacts.py``): for UBL, ANAF's CIUS-RO Schematron (compiled XSLT 2.0)
and the UBL 2.1 schema; for CII, CEN's EN 16931 CII Schematron and the UN/CEFACT D16B schema it is written for. Each
document is judged by both sides; a document the official side accepts (no fatal assertion, schema-valid) and we
refuse (a fatal finding) is a *refusal*, the one disagreement never allowed: a received invoice must never be lost to
our strictness. Every other difference, rule id by rule id, is counted and listed.

The documents: ANAF's UBL and CII examples, CEN's CII examples and unit tests, the CEN UBL unit tests, every
generated Romanian scenario, and seeded deterministic mutations of all of them (an element removed or emptied, an
amount changed or pushed to a rounding edge, a code swapped), the same for a given seed on every machine.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree

from einvoice import en16931
from einvoice.errors import EInvoiceError
from einvoice.ro import checks, ciusro
from einvoice.validation import load_schema, official_rules, ubl_schema

from .artefacts import CEN_CII_RULES, CEN_UNIT_TESTS, CIUS_RO_RULES, RO_SAMPLES

VEFA = "{http://difi.no/xsd/vefa/validator/1.0}"
CII_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
CII_SCHEMA = "uncoupled clm/CII/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd"
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)

# what a mutation may put in place of a code, by the local name of the element or attribute holding it
CODE_SWAPS = {
    "ID": None,  # only under a tax category or scheme: see _code_values
    "CategoryCode": ["S", "Z", "E", "AE", "K", "G", "O", "L", "M", "X"],
    "PaymentMeansCode": ["30", "58", "31", "42", "48", "49", "59", "10", "1", "ZZZ"],
    "TypeCode": ["30", "58", "380", "381", "384", "389", "751", "VAT", "48", "49"],
    "InvoiceTypeCode": ["380", "381", "384", "389", "751", "326", "999"],
    "CreditNoteTypeCode": ["381", "380", "396", "999"],
    "DocumentCurrencyCode": ["RON", "EUR", "USD", "XXX"],
    "InvoiceCurrencyCode": ["RON", "EUR", "USD", "XXX"],
    "TaxCurrencyCode": ["RON", "EUR"],
    "IdentificationCode": ["RO", "DE", "FR", "XX"],
    "CountryID": ["RO", "DE", "FR", "XX"],
    "ChargeIndicator": ["true", "false"],
    "Indicator": ["true", "false"],
    "currencyID": ["RON", "EUR", "USD"],
    "unitCode": ["H87", "C62", "XYZ", "KGM"],
    "CountrySubentity": ["RO-B", "RO-CJ", "RO-XX", "Bucuresti"],
    "CityName": ["SECTOR1", "SECTOR9", "Cluj-Napoca"],
}
AMOUNT_CHANGES = ("0.01", "-0.01", "0.005", "-0.005", "0.004", "0.006", "0.499", "0.5", "1", "-1", "1.01", "negate")


@dataclass(frozen=True)
class Document:
    name: str
    syntax: str  # UBL or CII
    xml: bytes


@dataclass
class Judgement:
    """One document as both sides see it."""

    document: Document
    theirs: frozenset  # the official fatal rule ids (schema errors as UBL-XSD / CII-XSD)
    ours: frozenset  # our fatal rule ids, among those we compare

    @property
    def refused(self):
        """We refuse what the official rules accept."""
        return bool(self.ours) and not self.theirs


@dataclass
class Agreement:
    """Agreement figures per syntax and per rule id over a run."""

    documents: Counter = field(default_factory=Counter)  # syntax -> documents judged
    mutations: Counter = field(default_factory=Counter)  # syntax -> mutated documents among them
    accepted: Counter = field(default_factory=Counter)  # syntax -> documents the official rules accept
    same_verdict: Counter = field(default_factory=Counter)  # syntax -> both accept or both refuse
    rules: dict = field(default_factory=dict)  # (syntax, rule) -> Counter(both, theirs_only, ours_only)
    refusals: list = field(default_factory=list)  # Judgements: we refuse what they accept
    differences: list = field(default_factory=list)  # Judgements with another difference (listed, allowed)

    def add(self, judgement, mutated):
        syntax = judgement.document.syntax
        self.documents[syntax] += 1
        self.mutations[syntax] += mutated
        self.accepted[syntax] += not judgement.theirs
        self.same_verdict[syntax] += bool(judgement.theirs) == bool(judgement.ours)
        theirs, ours = judgement.theirs & self.compared(syntax), judgement.ours
        for rule in theirs | ours:
            counts = self.rules.setdefault((syntax, rule), Counter())
            counts["both" if rule in theirs and rule in ours else "theirs_only" if rule in theirs else "ours_only"] += 1
        if judgement.refused:
            self.refusals.append(judgement)
        elif theirs != ours:
            self.differences.append(judgement)

    @staticmethod
    def compared(syntax):
        return checks.IMPLEMENTED if syntax == "UBL" else en16931.RULES.implemented

    def report_lines(self):
        lines = []
        for syntax in sorted(self.documents):
            total = self.documents[syntax]
            lines.append(
                f"{syntax}: {total} documents ({self.mutations[syntax]} mutations), {self.accepted[syntax]} accepted "
                f"by the official rules, same verdict on {self.same_verdict[syntax]} "
                f"({100 * self.same_verdict[syntax] / total:.2f} %), "
                f"refused by us and accepted by them: {sum(j.document.syntax == syntax for j in self.refusals)}"
            )
        lines.append(f"{'syntax':6} {'rule':14} {'both':>7} {'theirs':>7} {'ours':>7} {'agree %':>8}")
        for (syntax, rule), counts in sorted(self.rules.items()):
            seen = counts["both"] + counts["theirs_only"] + counts["ours_only"]
            lines.append(
                f"{syntax:6} {rule:14} {counts['both']:7} {counts['theirs_only']:7} {counts['ours_only']:7} "
                f"{100 * counts['both'] / seen:8.2f}"
            )
        return lines


# -- the oracles and our side ------------------------------------------------------------------------------------


class Judge:
    """Both sides for both syntaxes; the official rules are compiled once per process."""

    def __init__(self):
        self.ubl_rules = official_rules(CIUS_RO_RULES.require())
        self.cii_rules = official_rules(CEN_CII_RULES.require("xslt", "EN16931-CII-validation.xslt"))
        self.cii_schema = load_schema(CEN_CII_RULES.require("schema", *CII_SCHEMA.split("/")))

    def theirs(self, document):
        try:
            root = etree.fromstring(document.xml, PARSER)
        except etree.XMLSyntaxError:
            return frozenset({"XML"})
        if document.syntax == "UBL":
            schema, rules, schema_rule = ubl_schema(etree.QName(root).localname), self.ubl_rules, "UBL-XSD"
        else:
            schema, rules, schema_rule = self.cii_schema, self.cii_rules, "CII-XSD"
        fatal = set() if schema.validate(root) else {schema_rule}
        try:
            fatal.update(finding.rule for finding in rules.findings(document.xml) if finding.fatal)
        except Exception as error:
            if "PySaxonApiError" not in type(error).__name__:
                raise
            fatal.add("XSLT-ERROR")  # the official validator does not accept what it cannot evaluate
        return frozenset(fatal)

    @staticmethod
    def ours(document):
        try:
            findings = ciusro.check_document(document.xml)
        except EInvoiceError:  # not read at all: refused
            return frozenset({"UNREADABLE"})
        fatal = {finding.rule for finding in findings if finding.fatal}
        if document.syntax == "CII":  # the CEN CII rules are EN 16931 without CIUS-RO
            fatal = {rule for rule in fatal if not rule.startswith("BR-RO")}
        return frozenset(fatal)

    def judge(self, document):
        return Judgement(document, self.theirs(document), self.ours(document))


# -- the corpus --------------------------------------------------------------------------------------------------


def syntax_of(xml):
    return "CII" if etree.QName(etree.fromstring(xml, PARSER)).namespace == CII_RSM else "UBL"


def folder_documents(folder, prefix):
    return [
        Document(f"{prefix}/{path.name}", syntax_of(path.read_bytes()), path.read_bytes())
        for path in sorted(Path(folder).glob("*.xml"))
    ]


def unit_test_documents(paths, prefix):
    """Every invoice embedded in the CEN unit-test files (VEFA test sets)."""
    documents = []
    for path in paths:
        for number, test in enumerate(etree.parse(str(path), PARSER).iter(f"{VEFA}test")):
            for child in test:
                if isinstance(child.tag, str) and etree.QName(child).localname in (
                    "Invoice",
                    "CreditNote",
                    "CrossIndustryInvoice",
                ):
                    xml = etree.tostring(child)
                    documents.append(Document(f"{prefix}/{path.name}#{number}", syntax_of(xml), xml))
    return documents


def scenario_documents():
    from .ro_scenarios import SCENARIOS

    return [
        Document(f"scenario/{name}", "UBL", ciusro.render(build(), strict=False)) for name, build in SCENARIOS.items()
    ]


def corpus():
    """Every original document: (name, syntax, xml), in a fixed order."""
    samples = RO_SAMPLES.require()
    cii = CEN_CII_RULES.require()
    cen_ubl = CEN_UNIT_TESTS.require()
    return (
        folder_documents(samples / "anaf-ubl-examples", "anaf-ubl")
        + folder_documents(samples / "anaf-cii-examples", "anaf-cii")
        + folder_documents(cii / "examples", "cen-cii")
        + unit_test_documents(sorted((cii / "unit-tests").glob("*.xml")), "cen-cii-unit")
        + unit_test_documents(sorted(cen_ubl.glob("*-unit-UBL/*.xml")), "cen-ubl-unit")
        + scenario_documents()
    )


def mutation_bases(documents):
    """The whole documents worth mutating: the examples and scenarios (the unit tests are fragments)."""
    return [document for document in documents if "-unit" not in document.name]


# -- mutations ---------------------------------------------------------------------------------------------------


def _amount_elements(root):
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str) or len(element) or not element.text:
            continue
        try:
            Decimal(element.text.strip())
        except InvalidOperation:
            continue
        found.append(element)
    return found


def _code_slots(root):
    """(element, attribute or None, values) of every code a mutation may swap."""
    slots = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        values = CODE_SWAPS.get(name)
        if name == "ID" and element.getparent() is not None:
            parent = etree.QName(element.getparent()).localname
            values = CODE_SWAPS["CategoryCode"] if parent in ("TaxCategory", "ClassifiedTaxCategory") else None
        if values and len(element) == 0:
            slots.append((element, None, values))
        for attribute in element.attrib:
            if attribute in CODE_SWAPS:
                slots.append((element, attribute, CODE_SWAPS[attribute]))
    return slots


def _remove(root, rng):
    elements = [element for element in root.iter() if isinstance(element.tag, str) and element is not root]
    victim = rng.choice(elements)
    victim.getparent().remove(victim)
    return f"removed {etree.QName(victim).localname}"


def _empty(root, rng):
    leaves = [element for element in root.iter() if isinstance(element.tag, str) and len(element) == 0]
    victim = rng.choice(leaves)
    victim.text = rng.choice(["", " "])
    return f"emptied {etree.QName(victim).localname}"


def _change_amount(root, rng, change, names=None):
    """One amount (of an element named in ``names``, or any) replaced by ``change(value, rng)``: (new value, what
    was done); an element removed instead when there is none."""
    elements = [e for e in _amount_elements(root) if names is None or etree.QName(e).localname in names]
    if not elements:
        return _remove(root, rng)
    victim = rng.choice(elements)
    value, done = change(Decimal(victim.text.strip()), rng)
    victim.text = str(value)
    return f"{etree.QName(victim).localname} {done}"


def _shifted(value, rng):
    change = rng.choice(AMOUNT_CHANGES)
    return (-value if change == "negate" else value + Decimal(change)), change


def _at_rounding_edge(value, rng):
    """Three decimals at half a cent from where it was: the official rounding decides."""
    shift = rng.choice([Decimal("0.005"), Decimal("-0.005"), Decimal("0.004"), Decimal("0.0051")])
    return value.quantize(Decimal("0.01")) + shift, "at a rounding edge"


def _at_tolerance_edge(value, rng):
    """Moved by exactly 1: the edge of the official rules' tolerance on VAT breakdowns."""
    return value + rng.choice([Decimal(1), Decimal(-1)]), "at the tolerance edge"


def _amount(root, rng):
    return _change_amount(root, rng, _shifted)


def _rounding_edge(root, rng):
    return _change_amount(root, rng, _at_rounding_edge)


def _tolerance_edge(root, rng):
    """A VAT breakdown's taxable or VAT amount (UBL or CII) at the tolerance edge."""
    return _change_amount(
        root, rng, _at_tolerance_edge, ("TaxableAmount", "BasisAmount", "TaxAmount", "CalculatedAmount")
    )


def _swap_code(root, rng):
    slots = _code_slots(root)
    if not slots:
        return _remove(root, rng)
    element, attribute, values = rng.choice(slots)
    value = rng.choice(values)
    if attribute:
        element.set(attribute, value)
    else:
        element.text = value
    return f"{attribute or etree.QName(element).localname} = {value}"


MUTATORS = (_remove, _remove, _empty, _amount, _amount, _rounding_edge, _tolerance_edge, _swap_code, _swap_code)


def mutations(bases, count, seed=16931):
    """``count`` mutated documents, deterministic for ``seed``: one to three changes each to one of ``bases``."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test data, not secrets
    parsed = [(base, etree.fromstring(base.xml, PARSER)) for base in bases]
    for number in range(count):
        base, root = parsed[number % len(parsed)]
        copy = etree.fromstring(etree.tostring(root), PARSER)
        done = [rng.choice(MUTATORS)(copy, rng) for _ in range(rng.choice((1, 1, 2, 3)))]
        yield Document(f"{base.name}~{number}: {'; '.join(done)}", base.syntax, etree.tostring(copy))


def run(count, seed=16931, judge=None):
    """The :class:`Agreement` of every original document and ``count`` mutations."""
    judge = judge or Judge()
    agreement = Agreement()
    documents = corpus()
    for document in documents:
        agreement.add(judge.judge(document), mutated=False)
    for document in mutations(mutation_bases(documents), count, seed):
        agreement.add(judge.judge(document), mutated=True)
    return agreement
