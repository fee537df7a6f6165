from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_connection(self):
        """The company's KSeF connection (one per company), for everybody who sends: it is read as superuser."""
        self.ensure_one()
        return self.env["l10n_pl_ksef.connection"].sudo().search([("company_id", "=", self.id)], limit=1)
