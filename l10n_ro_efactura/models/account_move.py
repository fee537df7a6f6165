import re
from dataclasses import replace
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from einvoice import model
from einvoice.ro import ciusro
from einvoice.ro.codes import BUCHAREST, SECTOR_CODES

# l10n_ro_edi's states of an invoice that went to ANAF -> ours
ODOO_EDI_STATES = {"invoice_sent": "processing", "invoice_validated": "accepted", "invoice_not_indexed": "unknown"}
DEADLINE_WORKING_DAYS = 5  # ANAF must receive a B2B invoice within 5 working days of its date
CNP = re.compile(r"[1-9]\d{12}")  # a Romanian personal numeric code
NO_CNP = "0000000000000"  # what ANAF accepts for a person who did not give a CNP
SECTOR_NUMBER = re.compile(r"sector\s*([1-6])\b", re.IGNORECASE)


class AccountMove(models.Model):
    _inherit = "account.move"

    l10n_ro_efactura_index = fields.Char(
        string="ANAF upload index",
        compute="_compute_l10n_ro_efactura_index",
        store=True,
        help="The index ANAF gave the latest upload of this invoice (index de încărcare): what ANAF's messages and "
        "SPV name it by.",
    )

    @api.depends("einvoice_document_ids.platform_reference")
    def _compute_l10n_ro_efactura_index(self):
        for move in self:
            uploads = move.einvoice_document_ids.filtered(
                lambda document: document.platform == "ro_efactura" and document.platform_reference
            )
            move.l10n_ro_efactura_index = uploads.sorted("id")[-1:].platform_reference

    def _einvoice_platform(self):
        if self.company_id.country_code == "RO" and self.company_id._l10n_ro_efactura_connection():
            return "ro_efactura"
        return super()._einvoice_platform()

    def _einvoice_deadline(self, platform):
        """ANAF must have the invoice within 5 working days of its date (weekends skipped; public holidays are not
        known here, so the warning comes a little early around them, never late)."""
        if platform != "ro_efactura" or not self.invoice_date:
            return super()._einvoice_deadline(platform)
        day, left = self.invoice_date, DEADLINE_WORKING_DAYS
        while left:
            day += timedelta(days=1)
            left -= day.weekday() < 5
        return day

    def _einvoice_refusal(self):
        self._l10n_ro_efactura_carry_over()
        return super()._einvoice_refusal()

    def _l10n_ro_efactura_carry_over(self):
        """Invoices Odoo's own l10n_ro_edi already sent become attempts of ours, with their ANAF index: they are
        followed up, never uploaded again."""
        if "l10n_ro_edi_state" not in self._fields:
            return
        sent = self.filtered(lambda m: m.l10n_ro_edi_state in ODOO_EDI_STATES and not m.einvoice_document_ids)
        self.env["account.einvoice.document"].create(
            [
                {
                    "move_id": move.id,
                    "platform": "ro_efactura",
                    "state": ODOO_EDI_STATES[move.l10n_ro_edi_state],
                    "platform_reference": move.l10n_ro_edi_index,
                }
                for move in sent
            ]
        )
        for move in sent:
            move.message_post(
                body=self.env._(
                    "E-invoice (RO e-Factura): carried over from Odoo's e-Factura module, ANAF index %(index)s.",
                    index=move.l10n_ro_edi_index or "-",
                )
            )

    def _einvoice_platform_problems(self, platform, invoice):
        """Everything ANAF's rules would refuse, at once, before anything is uploaded."""
        if platform != "ro_efactura":
            return super()._einvoice_platform_problems(platform, invoice)
        try:
            self._l10n_ro_efactura_xml(invoice)
        except ciusro.CiusRoError as refusal:
            return [self._einvoice_finding_text(finding) for finding in refusal.findings] or [
                refusal.translated(self.env.lang)
            ]
        return []

    def _einvoice_party(self, partner):
        """A person buying (B2C) is identified by the CNP when it was given (in the VAT or company ID field), else
        by the thirteen zeros ANAF accepts in its place."""
        party = super()._einvoice_party(partner)
        person = partner.commercial_partner_id
        if person.is_company or party.vat_id or party.legal_id:
            return party
        cnp = party.tax_registration_id if CNP.fullmatch(party.tax_registration_id or "") else None
        return replace(
            party,
            tax_registration_id=None if cnp else party.tax_registration_id,
            legal_id=model.Identifier(cnp or NO_CNP),
        )

    def _l10n_ro_efactura_xml(self, invoice=None):
        """The CIUS-RO XML of this invoice (``invoice``: its mapping, when already built), as uploaded; raises
        :class:`ciusro.CiusRoError` with every finding."""
        invoice = invoice or self._einvoice_invoice()[0]
        return ciusro.render(invoice, credit_note_as_invoice=self.company_id.l10n_ro_efactura_credit_note_as_invoice)

    def action_l10n_ro_efactura_pdf(self):
        """ANAF's own rendering of the XML sent, as a PDF attached to the invoice."""
        self.ensure_one()
        document = self.einvoice_document_id
        if not document.attachment_id:
            raise UserError(self.env._("Send the invoice to ANAF first."))
        result = document._ro_efactura_client().to_pdf(document.attachment_id.raw)
        if not result.pdf:
            raise UserError("\n".join([self.env._("ANAF could not render the invoice:"), *result.messages]))
        pdf = document._attach(f"{self.name.replace('/', '_')}_anaf.pdf", result.pdf, "application/pdf")
        return {"type": "ir.actions.act_url", "url": f"/web/content/{pdf.id}?download=true", "target": "download"}

    def _einvoice_address(self, partner):
        """In Bucharest ANAF wants the city written SECTOR1..SECTOR6 (BR-RO-100): "Sector 3", "sectorul 3",
        "București, Sector 3" all say which one; a city naming no sector stays as it is and the checks report it."""
        address = super()._einvoice_address(partner)
        if address.subdivision == BUCHAREST and address.city not in SECTOR_CODES:
            found = SECTOR_NUMBER.search(address.city or "") or SECTOR_NUMBER.search(partner.street2 or "")
            if found:
                address = replace(address, city=f"SECTOR{found.group(1)}")
        return address
