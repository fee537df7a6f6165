from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import ConnectedToKsef

LANGUAGES = ("en_US", "pl_PL", "ro_RO")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToKsefTour(ConnectedToKsef, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to KSeF and sees its KSeF number, in each
    language the add-on speaks."""

    def test_send_to_ksef_from_the_invoice_form(self):
        # KSeF numbers at once: the clock of the simulator does not move while the browser clicks
        self.patch(self.ksef, "processing_delay", timedelta(0))
        user = self.env.user  # an accountant of the Polish company only
        self.assertTrue(user.has_group("account_einvoice.group_einvoice_user"))
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                self.env["res.lang"]._activate_lang(lang)
                self.env["ir.module.module"]._load_module_terms(["account_einvoice", "l10n_pl_ksef"], [lang])
                user.lang = lang
                move = self.posted_invoice()
                sent = len(self.sent_invoices())
                self.start_tour(
                    f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
                    "l10n_pl_ksef_send_to_ksef",
                    login=user.login,
                )
                move.invalidate_recordset()
                self.assertEqual(move.einvoice_state, "accepted")
                self.assertEqual(len(self.sent_invoices()), sent + 1)
                self.assertEqual(move.l10n_pl_ksef_number, self.sent_invoices()[-1].ksef_number)
                env = move.with_context(lang=lang).env
                accepted = dict(move._fields["einvoice_state"]._description_selection(env))["accepted"]
                if lang != "en_US":
                    self.assertNotEqual(accepted, "Accepted")
                self.assertIn(accepted, move.message_ids[0].body)
