from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import ConnectedToKsef


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToKsefTour(ConnectedToKsef, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to KSeF and sees its KSeF number."""

    def test_send_to_ksef_from_the_invoice_form(self):
        # KSeF numbers at once: the clock of the simulator does not move while the browser clicks
        self.patch(self.ksef, "processing_delay", timedelta(0))
        user = self.env.user  # an accountant of the Polish company only
        self.assertTrue(user.has_group("account_einvoice.group_einvoice_user"))
        move = self.posted_invoice()
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
            "l10n_pl_ksef_send_to_ksef",
            login=user.login,
        )
        move.invalidate_recordset()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(len(self.sent_invoices()), 1)
        self.assertEqual(move.l10n_pl_ksef_number, self.sent_invoices()[0].ksef_number)
