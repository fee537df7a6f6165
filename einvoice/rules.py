"""Findings: what a check or a reader reports, under the official rule id, in words a user can act on."""

from dataclasses import dataclass

from .i18n import _, translate

# the parts of an invoice a person finds on it, by their EN 16931 business group: a finding located there says so in
# words, with the id for whoever looks it up
PLACES = {
    "BG-3": _("Preceding invoice"),
    "BG-4": _("Seller"),
    "BG-5": _("Seller's postal address"),
    "BG-7": _("Buyer"),
    "BG-8": _("Buyer's postal address"),
    "BG-13": _("Delivery"),
    "BG-14": _("Invoicing period"),
    "BG-16": _("Payment instructions"),
    "BG-17": _("Credit transfer"),
    "BG-20": _("Document-level allowance"),
    "BG-21": _("Document-level charge"),
    "BG-22": _("Document totals"),
    "BG-23": _("VAT breakdown"),
    "BG-25": _("Invoice line"),
}


def described(location, lang):
    """``location`` with the part of the invoice it is in words, when it is one of :data:`PLACES` (``Buyer's postal
    address, BG-8``); any other place as it is."""
    name = PLACES.get(location)
    return f"{translate(name, lang)}, {location}" if name else location


@dataclass(frozen=True)
class Finding:
    rule: str  # the official rule id (BR-RO-110, BR-CO-10...) or our own for what no rule covers
    message: object  # an einvoice.i18n.Message
    location: str = ""  # where: a business term (BT-n) and, for lines, the line id
    fatal: bool = True

    def __str__(self):
        return self.translated("en_US")

    def translated(self, lang):
        """The finding in ``lang``: ``[rule] message (location)``."""
        where = described(self.location, lang)
        return f"[{self.rule}] {translate(self.message, lang)}" + (f" ({where})" if where else "")


class RuleSet:
    """Checks registered with :meth:`rule`, each declaring the official rule ids it may report."""

    def __init__(self):
        self.checks = []
        self.implemented = set()

    def rule(self, *ids):
        def register(function):
            self.checks.append(function)
            self.implemented.update(ids)
            return function

        return register

    def run(self, invoice, facts):
        findings = []
        for function in self.checks:
            findings.extend(function(invoice, facts))
        return findings
