import re
from dataclasses import replace

from odoo import models

from einvoice.ro import ciusro
from einvoice.ro.codes import BUCHAREST, SECTOR_CODES

# l10n_ro_edi's states of an invoice that went to ANAF -> ours
ODOO_EDI_STATES = {"invoice_sent": "processing", "invoice_validated": "accepted", "invoice_not_indexed": "unknown"}
SECTOR_NUMBER = re.compile(r"sector\s*([1-6])\b", re.IGNORECASE)


class AccountMove(models.Model):
    _inherit = "account.move"

    def _einvoice_platform(self):
        if self.company_id.country_code == "RO" and self.company_id._l10n_ro_efactura_connection():
            return "ro_efactura"
        return super()._einvoice_platform()

    def _einvoice_refusal(self):
        self._l10n_ro_efactura_carry_over()
        return super()._einvoice_refusal()

    def _l10n_ro_efactura_carry_over(self):
        """Invoices Odoo's own l10n_ro_edi already sent become attempts of ours, with their ANAF index: they are
        followed up, never uploaded again."""
        if "l10n_ro_edi_state" not in self._fields:
            return
        for move in self.filtered(lambda m: m.l10n_ro_edi_state in ODOO_EDI_STATES and not m.einvoice_document_ids):
            self.env["account.einvoice.document"].create(
                {
                    "move_id": move.id,
                    "platform": "ro_efactura",
                    "state": ODOO_EDI_STATES[move.l10n_ro_edi_state],
                    "platform_reference": move.l10n_ro_edi_index,
                }
            )
            move.message_post(
                body=self.env._(
                    "E-invoice (RO e-Factura): carried over from Odoo's e-Factura module, ANAF index %(index)s.",
                    index=move.l10n_ro_edi_index or "-",
                )
            )

    def _einvoice_problems(self):
        """Before anything is uploaded: the mapping, then everything ANAF's rules would refuse, at once."""
        problems = super()._einvoice_problems()
        if problems or self._einvoice_platform() != "ro_efactura":
            return problems
        invoice, _findings = self._einvoice_invoice()
        try:
            ciusro.render(invoice)
        except ciusro.CiusRoError as refusal:
            problems += [str(finding) for finding in refusal.findings] or [refusal.translated(self.env.lang)]
        return problems

    def _einvoice_address(self, partner):
        """In Bucharest ANAF wants the city written SECTOR1..SECTOR6 (BR-RO-100): "Sector 3", "sectorul 3",
        "București, Sector 3" all say which one; a city naming no sector stays as it is and the checks report it."""
        address = super()._einvoice_address(partner)
        if address.subdivision == BUCHAREST and address.city not in SECTOR_CODES:
            found = SECTOR_NUMBER.search(address.city or "") or SECTOR_NUMBER.search(partner.street2 or "")
            if found:
                address = replace(address, city=f"SECTOR{found.group(1)}")
        return address
