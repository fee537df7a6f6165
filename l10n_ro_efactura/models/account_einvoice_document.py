from odoo import fields, models


class AccountEinvoiceDocument(models.Model):
    _inherit = "account.einvoice.document"

    platform = fields.Selection(
        selection_add=[("ro_efactura", "RO e-Factura (ANAF)")], ondelete={"ro_efactura": "cascade"}
    )
