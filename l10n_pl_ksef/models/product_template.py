from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    l10n_pl_ksef_annex_15 = fields.Boolean(
        string="Annex 15 (split payment)",
        help="Goods or services listed in annex 15 to the Polish VAT act: an invoice of them for more than 15 000 PLN "
        "with VAT is paid by split payment (MPP), and its KSeF invoice marks them (P_12_Zal_15).",
    )
