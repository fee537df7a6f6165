from odoo import fields, models


class UomUom(models.Model):
    _inherit = "uom.uom"

    einvoice_unece_code = fields.Char(
        string="UN/ECE unit code",
        help="The UN/ECE Recommendation 20 code of this unit on e-invoices (H87 piece, C62 one, KGM kilogram...). "
        "A unit without a code is reported before an invoice is sent, never replaced by a default.",
    )
