from odoo.tests import HttpCase, tagged

from .common import ConnectedToAnaf


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToAnafTour(ConnectedToAnaf, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to ANAF and sees it accepted."""

    processing_seconds = 0  # ANAF decides at once: the first status request after the upload has the answer

    def test_send_to_anaf_from_the_invoice_form(self):
        user = self.env.user  # an accountant of the Romanian company only
        self.assertTrue(user.has_group("account_einvoice.group_einvoice_user"))
        move = self.posted_invoice()
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
            "l10n_ro_efactura_send_to_anaf",
            login=user.login,
        )
        move.invalidate_recordset()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)
