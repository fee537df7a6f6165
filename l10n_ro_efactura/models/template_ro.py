from odoo import models

from odoo.addons.account.models.chart_template import template
from odoo.addons.account_einvoice.tools.localisation import tax_values

# The Romanian chart's taxes that are not a plain positive rate (those are standard, S, by default), with what the
# law behind each means on an e-invoice: category, exemption reason, VATEX code.
RO_TAX_CATEGORIES = {
    "tvac_00": ("Z", None, None),
    "tvac_00_s": ("Z", None, None),
    "tvaic_00": ("Z", None, None),
    "tvati": ("AE", "Taxare inversă", "VATEX-EU-AE"),
    "tvatiscded": ("E", "Scutit cu drept de deducere", None),
    "tvatiscnoded": ("E", "Scutit fără drept de deducere", None),
    "tvatine": ("O", "Operațiune neimpozabilă în România", "VATEX-EU-O"),
    "tvati_intrab": ("K", "Livrare intracomunitară de bunuri scutită", "VATEX-EU-IC"),
    "tvati_intras": ("K", "Prestare intracomunitară de servicii", "VATEX-EU-IC"),
    "tvati_extra": ("G", "Export de bunuri scutit", "VATEX-EU-G"),
    "tvati_extras": ("G", "Export de servicii scutit", "VATEX-EU-G"),
}


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    @template("ro", "account.tax")
    def _get_ro_efactura_account_tax(self):
        return {xmlid: tax_values(*values) for xmlid, values in RO_TAX_CATEGORIES.items()}
