from odoo import models

from odoo.addons.account.models.chart_template import template
from odoo.addons.account_einvoice.tools.localisation import tax_values

# The Polish chart's sale taxes that are not a plain positive rate (those are standard, S, by default), with what
# each means on an e-invoice: category, exemption reason, VATEX code. Exempt supplies (zw) need the article of the
# exemption, which depends on what is sold: the administrator writes it on the tax (FA(3) P_19A).
PL_TAX_CATEGORIES = {
    "vs_kraj_0": ("Z", None, None),
    "vs_kraj_zw": ("E", None, None),
    "vs_kraj_zw_gold": ("E", None, None),
    "vs_stal": ("AE", "Odwrotne obciążenie", "VATEX-EU-AE"),
    "vs_dostu": ("AE", "Odwrotne obciążenie", "VATEX-EU-AE"),
    "vs_unia": ("K", "Wewnątrzwspólnotowa dostawa towarów", "VATEX-EU-IC"),
    "vs_unia_i42": ("K", "Wewnątrzwspólnotowa dostawa towarów", "VATEX-EU-IC"),
    "vs_unia_i63": ("K", "Wewnątrzwspólnotowa dostawa towarów", "VATEX-EU-IC"),
    "vs_eksp_tow": ("G", "Eksport towarów", "VATEX-EU-G"),
    "vs_ekspu": ("O", "Usługi poza terytorium kraju", "VATEX-EU-O"),
}


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @template("pl", "account.tax")
    def _get_pl_ksef_account_tax(self):
        return {xmlid: tax_values(*values) for xmlid, values in PL_TAX_CATEGORIES.items()}
