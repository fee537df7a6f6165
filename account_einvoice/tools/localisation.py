"""What every country add-on does to its chart's taxes and to Odoo's own module for its platform, in one place."""


def tax_values(category, reason, code):
    """The e-invoice fields of a tax: VAT category (UNCL 5305), exemption reason (BT-120) and VATEX code (BT-121)."""
    return {"einvoice_vat_category": category, "einvoice_exemption_reason": reason, "einvoice_exemption_code": code}


def set_tax_categories(env, chart, categories):
    """The taxes of companies on ``chart`` installed before the add-on get their e-invoice categories
    (``categories``: tax xmlid -> (category, reason, code)); a category somebody chose is kept."""
    for company in env["res.company"].search([("chart_template", "=", chart)]):
        for xmlid, values in categories.items():
            tax = env.ref(f"account.{company.id}_{xmlid}", raise_if_not_found=False)
            if tax and tax.einvoice_vat_category in (False, "S"):  # S: the default of any positive rate
                tax.write(tax_values(*values))


def pause_crons(env, crons, parameter):
    """Deactivate the active ones of ``crons`` and remember which, under the system parameter ``parameter``."""
    crons = crons.filtered("active")
    crons.write({"active": False})
    env["ir.config_parameter"].sudo().set_param(parameter, ",".join(str(cron_id) for cron_id in crons.ids))


def restore_crons(env, parameter):
    """Reactivate the crons :func:`pause_crons` paused."""
    paused = env["ir.config_parameter"].sudo().get_param(parameter) or ""
    cron_ids = [int(cron_id) for cron_id in paused.split(",") if cron_id]
    env["ir.cron"].browse(cron_ids).exists().write({"active": True})
    env["ir.config_parameter"].sudo().set_param(parameter, False)
