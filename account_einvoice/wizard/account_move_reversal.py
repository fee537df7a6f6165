from odoo import models


class AccountMoveReversal(models.TransientModel):
    _inherit = "account.move.reversal"

    def _prepare_default_reversal(self, move):
        """The reason given for the credit note is kept as its own field as well as in its reference, in words the
        national platforms take as the reason of the correction (FA(3)'s PrzyczynaKorekty)."""
        values = super()._prepare_default_reversal(move)
        values["einvoice_correction_reason"] = self.reason or False
        return values
