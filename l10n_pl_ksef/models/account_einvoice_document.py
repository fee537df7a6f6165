from odoo import fields, models


class AccountEinvoiceDocument(models.Model):
    _inherit = "account.einvoice.document"

    platform = fields.Selection(selection_add=[("pl_ksef", "KSeF (Poland)")], ondelete={"pl_ksef": "cascade"})
