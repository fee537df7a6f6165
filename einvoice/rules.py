"""Findings: what a check or a reader reports, under the official rule id, in words a user can act on."""

from dataclasses import dataclass

from .i18n import translate


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
        where = f" ({self.location})" if self.location else ""
        return f"[{self.rule}] {translate(self.message, lang)}{where}"


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
