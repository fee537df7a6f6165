from . import controllers
from . import models


def _post_init_hook(env):
    """Companies whose Romanian chart was installed before this module get their taxes' e-invoice categories."""
    from .models.template_ro import RO_TAX_CATEGORIES, tax_values

    for company in env["res.company"].search([("chart_template", "=", "ro")]):
        for xmlid, values in RO_TAX_CATEGORIES.items():
            tax = env.ref(f"account.{company.id}_{xmlid}", raise_if_not_found=False)
            if tax and tax.einvoice_vat_category in (False, "S"):
                tax.write(tax_values(*values))
