from odoo import fields, models

from einvoice.http import AuthenticationError


class ResCompany(models.Model):
    _inherit = "res.company"

    l10n_ro_efactura_credit_note_as_invoice = fields.Boolean(
        string="Credit notes as negative invoices",
        help="Send credit notes to ANAF as invoices (type 380) with negative quantities, as some buyers' systems "
        "expect, instead of credit notes (type 381).",
    )
    l10n_ro_efactura_validate_first = fields.Boolean(
        string="Validate at ANAF before sending",
        help="Ask ANAF's validation service first; an invoice it refuses is not uploaded and its reasons are shown.",
    )
    l10n_ro_efactura_sync_days = fields.Integer(
        string="SPV messages window (days)",
        default=60,
        help="How many days back the SPV messages are listed at each synchronisation (ANAF keeps them 60 days). "
        "Messages already in the inbox are not downloaded again.",
    )

    _l10n_ro_efactura_sync_days_range = models.Constraint(
        "CHECK(l10n_ro_efactura_sync_days BETWEEN 1 AND 60)", "ANAF lists the messages of the last 1 to 60 days."
    )

    def _l10n_ro_efactura_connection(self):
        """The ANAF connection serving this company (there is one per certificate holder)."""
        self.ensure_one()
        return self.env["l10n_ro_efactura.connection"].sudo().search([("company_ids", "in", self.id)], limit=1)

    def _l10n_ro_efactura_client(self):
        """An ANAF client of the company's connection; none is an :class:`AuthenticationError` saying how to
        connect the company."""
        connection = self._l10n_ro_efactura_connection()
        if not connection:
            raise AuthenticationError(
                self.env._(
                    "%(company)s is not connected to ANAF: an administrator connects it in Accounting > "
                    "Configuration > ANAF connections.",
                    company=self.display_name,
                )
            )
        return connection._anaf_client()

    def _l10n_ro_efactura_cif(self):
        """The company's CUI as ANAF wants it in a call: digits only."""
        return "".join(character for character in self.vat or "" if character.isdigit())
