from . import models
from .models.template_pl import PL_TAX_CATEGORIES, tax_values

PAUSED_CRONS = "l10n_pl_ksef.paused_crons"


def _odoo_edi_crons(env):
    """Every scheduled action of Odoo's own KSeF module, whatever its version ships (status, bills, offline queue)."""
    records = env["ir.model.data"].search([("module", "=", "l10n_pl_edi"), ("model", "=", "ir.cron")])
    return env["ir.cron"].browse(records.mapped("res_id")).exists()


def _post_init_hook(env):
    """Companies whose Polish chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own KSeF module gives way."""
    _pause_odoo_edi(env)
    for company in env["res.company"].search([("chart_template", "=", "pl")]):
        for xmlid, values in PL_TAX_CATEGORIES.items():
            tax = env.ref(f"account.{company.id}_{xmlid}", raise_if_not_found=False)
            if tax and not tax.einvoice_vat_category:
                tax.write(tax_values(*values))


def _pause_odoo_edi(env):
    """One path to KSeF: Odoo's own KSeF crons stop, and the invoices it sent are followed up by ours."""
    crons = _odoo_edi_crons(env).filtered("active")
    crons.write({"active": False})
    env["ir.config_parameter"].sudo().set_param(PAUSED_CRONS, ",".join(str(cron_id) for cron_id in crons.ids))
    if "l10n_pl_edi_status" in env["account.move"]._fields:
        env["account.move"].search([("l10n_pl_edi_status", "!=", False)])._l10n_pl_ksef_carry_over()


def _uninstall_hook(env):
    """Odoo's own KSeF crons that were running before this module are restored."""
    paused = env["ir.config_parameter"].sudo().get_param(PAUSED_CRONS) or ""
    cron_ids = [int(cron_id) for cron_id in paused.split(",") if cron_id]
    env["ir.cron"].browse(cron_ids).exists().write({"active": True})
    env["ir.config_parameter"].sudo().set_param(PAUSED_CRONS, False)
