from odoo.addons.account_einvoice.tools.localisation import pause_crons, restore_crons, set_tax_categories

from . import controllers
from . import models
from .models.template_ro import RO_TAX_CATEGORIES


def _post_init_hook(env):
    """Companies whose Romanian chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own e-Factura gives way."""
    _pause_odoo_edi(env)
    set_tax_categories(env, "ro", RO_TAX_CATEGORIES)


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
        crons |= env.ref(xmlid, raise_if_not_found=False) or env["ir.cron"]
    pause_crons(env, crons, PAUSED_CRONS)
    if "l10n_ro_edi_state" in env["account.move"]._fields:
        env["account.move"].search([("l10n_ro_edi_state", "!=", False)])._l10n_ro_efactura_carry_over()


def _uninstall_hook(env):
    """Odoo's e-Factura crons that were running before this module are restored."""
    restore_crons(env, PAUSED_CRONS)
