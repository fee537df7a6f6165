from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

from odoo import models

from odoo.addons.account_einvoice.models.account_einvoice_document import AT_THE_PLATFORM
from odoo.addons.account_einvoice.models.account_move import PAYMENT_NOT_DEFINED, decimal

from einvoice.model import CORRECTED_INVOICE
from einvoice.pl import fa3
from einvoice.pl.model import (
    EXEMPTION_ACT,
    EXEMPTION_DIRECTIVE,
    GROUP_OF_CODE,
    KOR,
    TAXED_GROUPS,
    CorrectedInvoice,
    Correction,
    PlInvoice,
    bare_nip,
    category_code,
    nip_is_valid,
)
from einvoice.ro.ciusro import negated_invoice

from .account_einvoice_document import REFERENCE_SEPARATOR

SYSTEM_INFO = "Odoo"  # SystemInfo: the program that made the invoice
# l10n_pl_edi's states of an invoice that went to KSeF -> ours
ODOO_EDI_STATES = {"sent": "processing", "accepted": "accepted"}


class AccountMove(models.Model):
    _inherit = "account.move"

    def _einvoice_platform(self):
        if self.company_id.country_code == "PL" and self.company_id._l10n_pl_ksef_connection():
            return "pl_ksef"
        return super()._einvoice_platform()

    def _einvoice_platform_problems(self, platform, invoice):
        """Everything our FA(3) checks would refuse, at once, before anything goes to KSeF (which checks the
        structure only: a wrong sum would become a legal invoice)."""
        if platform != "pl_ksef":
            return super()._einvoice_platform_problems(platform, invoice)
        original = self.reversed_entry_id
        if original.einvoice_state in AT_THE_PLATFORM and not original._l10n_pl_ksef_number():
            # the correction must name the KSeF number of the invoice it corrects, which KSeF has not given yet
            return [
                self.env._(
                    "%(invoice)s has no KSeF number yet: send its correction once KSeF has numbered it.",
                    invoice=original.display_name,
                )
            ]
        try:
            self._l10n_pl_ksef_xml(invoice)
        except fa3.Fa3Error as refusal:
            return [str(finding) for finding in refusal.findings] or [refusal.translated(self.env.lang)]
        return []

    def _einvoice_refusal(self):
        self._l10n_pl_ksef_carry_over()
        return super()._einvoice_refusal()

    # -- FA(3) -------------------------------------------------------------------------------------------------------
    def _l10n_pl_ksef_xml(self, invoice=None):
        """The FA(3) bytes of this invoice (``invoice``: its neutral mapping, when already built), as sent; raises
        :class:`fa3.Fa3Error` with every finding."""
        invoice = invoice or self._einvoice_invoice()[0]
        return fa3.write(self._l10n_pl_ksef_invoice(invoice))

    def _l10n_pl_ksef_invoice(self, invoice):
        """The neutral invoice as FA(3) tells it. A credit note is a correction (KOR) showing its differences with
        their signs, and names the invoice it corrects with its KSeF number when KSeF numbered it."""
        extension = PlInvoice(system_info=SYSTEM_INFO)
        if invoice.is_credit_note:
            original = self.reversed_entry_id
            corrected = (
                (CorrectedInvoice(original.name, original.invoice_date, original._l10n_pl_ksef_number() or None),)
                if original
                else ()
            )
            invoice = replace(negated_invoice(invoice), type_code=CORRECTED_INVOICE)
            extension = replace(extension, kind=KOR, correction=Correction(invoices=corrected))
        extension = replace(extension, exemption_basis=self._l10n_pl_ksef_exemption_basis(invoice))
        if self.currency_id != self.company_id.currency_id:
            extension = replace(extension, vat_in_pln=self._l10n_pl_ksef_vat_in_pln(negate=invoice.is_credit_note))
        # "payment means not defined" is what EN 16931 says without a bank account; FA(3) just says nothing
        means = tuple(item for item in invoice.payment_means if item.code != PAYMENT_NOT_DEFINED)
        return replace(invoice, payment_means=means, extensions={**invoice.extensions, "pl": extension})

    def _l10n_pl_ksef_exemption_basis(self, invoice):
        """P_19A/B/C: the legal basis of an exempt supply, the exemption reason of its tax. A basis citing
        directive 2006/112/EC is the directive's (P_19B); any other is taken as the Polish VAT act's (P_19A)."""
        reason = next((vat.exemption_reason for vat in invoice.vat_breakdown if vat.category == "E"), None)
        if not reason:
            return None
        return (EXEMPTION_DIRECTIVE if "2006/112" in reason else EXEMPTION_ACT), reason

    def _l10n_pl_ksef_vat_in_pln(self, negate):
        """P_14_xW: the VAT of each taxed rate group in PLN as Odoo booked it, for an invoice in another currency;
        ``negate`` for a credit note, which FA(3) shows with negative differences."""
        sign = -1 if self.move_type in ("out_invoice", "in_refund") else 1
        sign = -sign if negate else sign
        amounts = defaultdict(Decimal)
        for line in self.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            code = category_code(tax.einvoice_vat_category, decimal(tax.amount, 4).normalize(), abroad=False)
            group = GROUP_OF_CODE.get(code)
            if group in TAXED_GROUPS:
                amounts[group] += decimal(sign * line.balance)
        return tuple(sorted(amounts.items()))

    def _l10n_pl_ksef_number(self):
        """The KSeF number this invoice received, through us or through Odoo's own KSeF module."""
        self.ensure_one()
        accepted = self.einvoice_document_ids.filtered(
            lambda document: document.platform == "pl_ksef" and document.state == "accepted"
        )
        number = accepted[:1].platform_number
        if not number and "l10n_pl_edi_number" in self._fields:
            number = self.l10n_pl_edi_number
        return number or False

    def _einvoice_party(self, partner):
        """A Polish NIP written without its PL prefix is still a VAT id: FA(3) identifies a Polish party by it."""
        party = super()._einvoice_party(partner)
        nip = bare_nip(party.tax_registration_id)
        domestic = self.company_id.country_code == "PL" and partner.country_id.code in (False, "PL")
        if not party.vat_id and nip and domestic and nip_is_valid(nip):
            party = replace(party, vat_id=f"PL{nip}", tax_registration_id=None)
        return party

    # -- Odoo's own KSeF module ---------------------------------------------------------------------------------------
    def _l10n_pl_ksef_carry_over(self):
        """Invoices Odoo's own l10n_pl_edi already sent become attempts of ours, with their KSeF references and
        number: they are followed up, never sent again."""
        if "l10n_pl_edi_status" not in self._fields:
            return
        sent = self.filtered(lambda m: m.l10n_pl_edi_status in ODOO_EDI_STATES and not m.einvoice_document_ids)
        self.env["account.einvoice.document"].create(
            [
                {
                    "move_id": move.id,
                    "platform": "pl_ksef",
                    "state": ODOO_EDI_STATES[move.l10n_pl_edi_status],
                    "platform_reference": REFERENCE_SEPARATOR.join(
                        (move.l10n_pl_edi_session_id or "", move.l10n_pl_edi_ref or "")
                    ),
                    "platform_number": move.l10n_pl_edi_number,
                    "attachment_id": move.l10n_pl_edi_attachment_id.id,
                    "response_attachment_id": move.l10n_pl_edi_upo_id.id,
                }
                for move in sent
            ]
        )
        for move in sent:
            move.message_post(
                body=self.env._(
                    "E-invoice (KSeF): carried over from Odoo's KSeF module, KSeF number %(number)s.",
                    number=move.l10n_pl_edi_number or "-",
                )
            )
