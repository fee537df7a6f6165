from odoo.addons.account_einvoice.tools.localisation import pause_crons, restore_crons, set_tax_categories

from . import models
from .models.template_pl import PL_TAX_CATEGORIES

PAUSED_CRONS = "l10n_pl_ksef.paused_crons"


def _odoo_edi_crons(env):
    """Every scheduled action of Odoo's own KSeF module, whatever its version ships (status, bills, offline queue)."""
    records = env["ir.model.data"].search([("module", "=", "l10n_pl_edi"), ("model", "=", "ir.cron")])
    return env["ir.cron"].browse(records.mapped("res_id")).exists()


def _post_init_hook(env):
    """Companies whose Polish chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own KSeF module gives way."""
    _pause_odoo_edi(env)
    set_tax_categories(env, "pl", PL_TAX_CATEGORIES)


def _pause_odoo_edi(env):
    """One path to KSeF: Odoo's own KSeF crons stop, and the invoices it sent are followed up by ours."""
    pause_crons(env, _odoo_edi_crons(env), PAUSED_CRONS)
    if "l10n_pl_edi_status" in env["account.move"]._fields:
        env["account.move"].search([("l10n_pl_edi_status", "!=", False)])._l10n_pl_ksef_carry_over()


def _uninstall_hook(env):
    """Odoo's own KSeF crons that were running before this module are restored."""
    restore_crons(env, PAUSED_CRONS)
