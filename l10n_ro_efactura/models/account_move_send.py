from odoo import models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    def _get_all_extra_edis(self) -> dict:
        """One path to ANAF: Odoo's own "Send E-Factura to SPV" (l10n_ro_edi) gives way to ours."""
        extra_edis = super()._get_all_extra_edis()
        extra_edis.pop("ro_edi", None)
        return extra_edis
