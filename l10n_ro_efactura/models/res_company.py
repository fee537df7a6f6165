from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_ro_efactura_connection(self):
        """The ANAF connection serving this company (there is one per certificate holder)."""
        self.ensure_one()
        return self.env["l10n_ro_efactura.connection"].sudo().search([("company_ids", "in", self.id)], limit=1)

    def _l10n_ro_efactura_cif(self):
        """The company's CUI as ANAF wants it in a call: digits only."""
        return "".join(character for character in self.vat or "" if character.isdigit())
