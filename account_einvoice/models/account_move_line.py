from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    einvoice_supplier_code = fields.Char(
        string="Vendor item code",
        copy=False,
        help="The vendor's code of the item on the e-invoice this line came from: posting the bill remembers it.",
    )
