from odoo import models

from einvoice.http import AuthenticationError


class ResCompany(models.Model):
    _inherit = "res.company"

    def _l10n_pl_ksef_connection(self, required=False):
        """The company's KSeF connection (one per company), for everybody who sends: it is read as superuser.
        ``required``: none is an :class:`AuthenticationError` saying how to connect the company."""
        self.ensure_one()
        connection = self.env["l10n_pl_ksef.connection"].sudo().search([("company_id", "=", self.id)], limit=1)
        if required and not connection:
            raise AuthenticationError(
                self.env._(
                    "%(company)s is not connected to KSeF: an administrator connects it in Accounting > "
                    "Configuration > KSeF connections.",
                    company=self.display_name,
                )
            )
        return connection
