from odoo.addons.account_einvoice.tools.localisation import give_way, restore, set_tax_categories

from . import models
from . import wizard
from .models.template_pl import PL_TAX_CATEGORIES

ODOO_EDI = "l10n_pl_edi"
# what of Odoo's own KSeF module was set aside while this module is installed (its crons would send and import
# beside ours; its settings and buttons would stand beside ours)
SET_ASIDE = "l10n_pl_ksef.odoo_edi_set_aside"


def _post_init_hook(env):
    """Companies whose Polish chart was installed before this module get their taxes' e-invoice categories; Odoo's
    own KSeF module gives way."""
    _pause_odoo_edi(env)
    set_tax_categories(env, "pl", PL_TAX_CATEGORIES)


def _pause_odoo_edi(env):
    """One path to KSeF: Odoo's own KSeF crons stop, its screens and actions hide, and the invoices it sent are
    followed up by ours."""
    give_way(env, ODOO_EDI, SET_ASIDE)
    if "l10n_pl_edi_status" in env["account.move"]._fields:
        env["account.move"].search([("l10n_pl_edi_status", "!=", False)])._l10n_pl_ksef_carry_over()


def _uninstall_hook(env):
    """What of Odoo's own KSeF module was running and showing before this module is restored."""
    restore(env, SET_ASIDE)
