from odoo.tests import HttpCase, tagged

from odoo.addons.account_einvoice.tests.common import LANGUAGES, speak, state_label

from .common import ConnectedToAnaf

ADDONS = ("account_einvoice", "l10n_ro_efactura")


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToAnafTour(ConnectedToAnaf, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to ANAF and sees it accepted, in each language
    the add-on speaks."""

    processing_seconds = 0  # ANAF decides at once: the first status request after the upload has the answer

    def speak(self, lang):
        """The accountant, who now works in ``lang``."""
        return speak(self.env.user, lang, ADDONS)

    def assert_told_accepted(self, move, lang):
        """The chatter says, in ``lang``, that ANAF accepted ``move``: what the server wrote while the accountant
        clicked is in the accountant's language."""
        accepted = state_label(move, "accepted", lang)
        if lang != "en_US":
            self.assertNotEqual(accepted, "Accepted")
        self.assertIn(accepted, move.message_ids[0].body)

    def test_send_to_anaf_from_the_invoice_form(self):
        self.assertTrue(self.env.user.has_group("account_einvoice.group_einvoice_user"))  # of the Romanian company only
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                user = self.speak(lang)
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
                self.assert_told_accepted(move, lang)

    def test_refused_fixed_on_the_customer_then_accepted(self):
        """The clerk's day: the invoice is refused before anything is uploaded (the customer has neither street nor
        county, rules BR-RO-082 and BR-RO-111), the clerk opens the customer from the invoice, completes the address,
        sends again, and ANAF accepts it."""
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                user = self.speak(lang)
                nowhere = self.customer.copy({"state_id": False, "street": False})
                move = self.posted_invoice(partner=nowhere)
                uploads = len(self.anaf.uploads_recorded())
                self.start_tour(
                    f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
                    "l10n_ro_efactura_refused_fixed_accepted",
                    login=user.login,
                )
                nowhere.invalidate_recordset()
                move.invalidate_recordset()
                self.assertEqual(nowhere.street, "Strada Memorandumului 28")
                self.assertEqual(nowhere.state_id, self.env.ref("base.RO_CJ"))
                self.assertEqual(move.einvoice_state, "accepted")
                uploaded = self.anaf.uploads_recorded()[uploads:]
                self.assertEqual(len(uploaded), 1)  # the refused attempt uploaded nothing
                self.assertIn(b"Strada Memorandumului 28", uploaded[0].body)  # the address as the clerk fixed it
                self.assertIn(b"RO-CJ", uploaded[0].body)
                self.assert_told_accepted(move, lang)
