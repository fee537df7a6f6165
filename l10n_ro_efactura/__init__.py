from . import controllers
from . import models


def _post_init_hook(env):
    """Companies whose Romanian chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own e-Factura gives way."""
    _pause_odoo_edi(env)
    from .models.template_ro import RO_TAX_CATEGORIES, tax_values

    for company in env["res.company"].search([("chart_template", "=", "ro")]):
        for xmlid, values in RO_TAX_CATEGORIES.items():
            tax = env.ref(f"account.{company.id}_{xmlid}", raise_if_not_found=False)
            if tax and tax.einvoice_vat_category in (False, "S"):
                tax.write(tax_values(*values))


# Odoo's own e-Factura crons would poll and import beside ours: paused while this module is installed
ODOO_EDI_CRONS = (
    "l10n_ro_edi.ir_cron_l10n_ro_edi_synchronize_invoices",
    "l10n_ro_edi.ir_cron_l10n_ro_edi_refresh_access_token",
)
PAUSED_CRONS = "l10n_ro_efactura.paused_crons"


def _pause_odoo_edi(env):
    """One path to ANAF: Odoo's e-Factura crons stop, and the invoices it sent are followed up by ours."""
    crons = env["ir.cron"]
    for xmlid in ODOO_EDI_CRONS:
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron and cron.active:
            crons |= cron
    crons.write({"active": False})
    env["ir.config_parameter"].sudo().set_param(PAUSED_CRONS, ",".join(str(cron_id) for cron_id in crons.ids))
    if "l10n_ro_edi_state" in env["account.move"]._fields:
        env["account.move"].search([("l10n_ro_edi_state", "!=", False)])._l10n_ro_efactura_carry_over()


def _uninstall_hook(env):
    """Odoo's e-Factura crons that were running before this module are restored."""
    paused = env["ir.config_parameter"].sudo().get_param(PAUSED_CRONS) or ""
    cron_ids = [int(cron_id) for cron_id in paused.split(",") if cron_id]
    env["ir.cron"].browse(cron_ids).exists().write({"active": True})
    env["ir.config_parameter"].sudo().set_param(PAUSED_CRONS, False)
