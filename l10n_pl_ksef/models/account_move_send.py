from odoo import models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    def _get_all_extra_edis(self) -> dict:
        """One path to KSeF: Odoo's own "by KSeF (e-Faktura)" (l10n_pl_edi) gives way to ours."""
        extra_edis = super()._get_all_extra_edis()
        extra_edis.pop("pl_ksef", None)
        return extra_edis
