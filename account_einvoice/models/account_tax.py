from odoo import api, fields, models

VAT_CATEGORIES = [
    ("S", "Standard rate"),
    ("Z", "Zero rated"),
    ("E", "Exempt"),
    ("AE", "Reverse charge"),
    ("K", "Intra-community supply"),
    ("G", "Export outside the EU"),
    ("O", "Outside the scope of VAT"),
    ("L", "Canary Islands"),
    ("M", "Ceuta and Melilla"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    einvoice_vat_category = fields.Selection(
        VAT_CATEGORIES,
        string="E-invoice VAT category",
        compute="_compute_einvoice_vat_category",
        store=True,
        readonly=False,
        copy=False,  # a copy usually gets another rate: its category is decided afresh
        help="The VAT category (UNCL 5305) of this tax on e-invoices. A positive rate is standard; every other tax "
        "needs its category chosen, as the law behind it decides (exempt, reverse charge, export...).",
    )
    einvoice_exemption_reason = fields.Char(
        string="E-invoice exemption reason", help="Why no VAT is due, in words, on e-invoices (BT-120)."
    )
    einvoice_exemption_code = fields.Char(
        string="E-invoice exemption code", help="The VATEX code of the exemption (BT-121), e.g. VATEX-EU-AE."
    )

    @api.depends("amount", "amount_type")
    def _compute_einvoice_vat_category(self):
        for tax in self:
            positive = tax.amount_type == "percent" and tax.amount > 0
            if positive and not tax.einvoice_vat_category:
                tax.einvoice_vat_category = "S"
            elif not positive and tax.einvoice_vat_category == "S":  # a standard rate is above zero (BR-S-05)
                tax.einvoice_vat_category = False
