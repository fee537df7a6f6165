from odoo import fields, models

# PMarzy: the margin schemes of the Polish VAT act (einvoice.pl.model.MARGIN_SCHEMES), as a sales tax is set up for
MARGIN_SCHEME_SELECTION = [
    ("P_PMarzy_2", "Travel agencies (art. 119)"),
    ("P_PMarzy_3_1", "Second-hand goods (art. 120)"),
    ("P_PMarzy_3_2", "Works of art (art. 120)"),
    ("P_PMarzy_3_3", "Collectors' items and antiques (art. 120)"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    l10n_pl_ksef_margin_scheme = fields.Selection(
        MARGIN_SCHEME_SELECTION,
        string="Margin scheme (KSeF)",
        help="Sales under this tax follow the margin scheme (procedura marży): the invoice shows the price with VAT "
        "and no VAT amount, and KSeF receives them as such (P_13_11, PMarzy). Such a tax is 0 %, VAT category E.",
    )
