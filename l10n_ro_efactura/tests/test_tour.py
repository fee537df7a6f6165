from odoo.tests import HttpCase, tagged

from .common import ConnectedToAnaf

LANGUAGES = ("en_US", "ro_RO", "pl_PL")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToAnafTour(ConnectedToAnaf, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to ANAF and sees it accepted, in each language
    the add-on speaks."""

    processing_seconds = 0  # ANAF decides at once: the first status request after the upload has the answer

    def test_send_to_anaf_from_the_invoice_form(self):
        user = self.env.user  # an accountant of the Romanian company only
        self.assertTrue(user.has_group("account_einvoice.group_einvoice_user"))
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                self.env["res.lang"]._activate_lang(lang)
                self.env["ir.module.module"]._load_module_terms(["account_einvoice", "l10n_ro_efactura"], [lang])
                user.lang = lang
                move = self.posted_invoice()
                uploads = len(self.anaf.uploads_recorded())
                self.start_tour(
                    f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
                    "l10n_ro_efactura_send_to_anaf",
                    login=user.login,
                )
                move.invalidate_recordset()
                self.assertEqual(move.einvoice_state, "accepted")
                self.assertEqual(len(self.anaf.uploads_recorded()), uploads + 1)
                # what the server wrote while the accountant clicked is in the accountant's language
                accepted = dict(
                    move.with_context(lang=lang)
                    ._fields["einvoice_state"]
                    ._description_selection(move.with_context(lang=lang).env)
                )["accepted"]
                if lang != "en_US":
                    self.assertNotEqual(accepted, "Accepted")
                self.assertIn(accepted, move.message_ids[0].body)
