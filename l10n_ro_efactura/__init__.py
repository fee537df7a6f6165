from odoo.addons.account_einvoice.tools.localisation import give_way, restore, set_tax_categories

from . import controllers
from . import models
from .models.template_ro import RO_TAX_CATEGORIES

ODOO_EDI = "l10n_ro_edi"
# what of Odoo's own e-Factura was set aside while this module is installed (its crons would poll and import beside
# ours; its settings, filters and actions would stand beside ours and show nothing)
SET_ASIDE = "l10n_ro_efactura.odoo_edi_set_aside"


def _post_init_hook(env):
    """Companies whose Romanian chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own e-Factura gives way."""
    _pause_odoo_edi(env)
    set_tax_categories(env, "ro", RO_TAX_CATEGORIES)


def _pause_odoo_edi(env):
    """One path to ANAF: Odoo's e-Factura crons stop, its screens and actions hide, and the invoices it sent are
    followed up by ours."""
    give_way(env, ODOO_EDI, SET_ASIDE)
    if "l10n_ro_edi_state" in env["account.move"]._fields:
        env["account.move"].search([("l10n_ro_edi_state", "!=", False)])._l10n_ro_efactura_carry_over()


def _uninstall_hook(env):
    """What of Odoo's e-Factura was running and showing before this module is restored."""
    restore(env, SET_ASIDE)
