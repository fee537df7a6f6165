from datetime import timedelta

from lxml import etree

from odoo.tests import HttpCase, tagged

from odoo.addons.account_einvoice.tests.common import LANGUAGES, speak, state_label
from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_connection import _LOGINS

from einvoice.pl.fa3 import NS

from .common import ConnectedToKsef, KsefCommon

ADDONS = ("account_einvoice", "l10n_pl_ksef")


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
                speak(user, lang, ADDONS)
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
                accepted = state_label(move, "accepted", lang)
                if lang != "en_US":
                    self.assertNotEqual(accepted, "Accepted")
                self.assertIn(accepted, move.message_ids[0].body)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestKsefSandboxTour(KsefCommon, HttpCase):
    """An administrator connects the company to the sandbox (a simulated KSeF served by this Odoo server) with a test
    certificate made in Odoo, verifies the connection, sends an invoice, refreshes its status until KSeF numbers
    it, then corrects it with a credit note made by Odoo's Credit Note wizard: a KOR naming the invoice's KSeF
    number. In each language the add-on speaks."""

    def test_connect_send_and_correct_in_the_sandbox(self):
        user = self.env.user
        user.group_ids |= self.env.ref("account_einvoice.group_einvoice_admin")
        connection = self.env["l10n_pl_ksef.connection"].create({"name": "KSeF sandbox", "environment": "sandbox"})
        ksef = connection._sandbox()
        ksef.forget_invoices()  # the sandbox outlives the rolled-back databases of other tests in this process
        # KSeF numbers at once: the sandbox keeps real time, which does not wait for the browser's clicks
        self.patch(ksef, "processing_delay", timedelta(0))
        self.patch(ksef, "storage_delay", timedelta(0))
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                _LOGINS.__dict__.pop("by_connection", None)  # signs in afresh, with the certificate it gets now
                speak(user, lang, ADDONS)
                before = connection.sudo().certificate_encrypted
                self.start_tour(
                    f"/odoo/action-l10n_pl_ksef.action_l10n_pl_ksef_connection/{connection.id}",
                    "l10n_pl_ksef_sandbox_connection",
                    login=user.login,
                )
                connection.invalidate_recordset()
                self.assertEqual(connection.auth_method, "certificate")
                self.assertNotEqual(connection.sudo().certificate_encrypted, before)  # made by this click
                self.assertTrue(connection.verified_at)  # and verified with it (a new certificate clears it)

                move = self.posted_invoice()
                self.start_tour(
                    f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
                    "l10n_pl_ksef_send_and_correct",
                    login=user.login,
                )
                move.invalidate_recordset()
                credit_note = self.env["account.move"].search([("reversed_entry_id", "=", move.id)])
                self.assertEqual(credit_note.move_type, "out_refund")
                self.assertEqual((move.einvoice_state, credit_note.einvoice_state), ("accepted", "accepted"))
                # KSeF received a KOR naming the corrected invoice's KSeF number, with the reason given
                received = {invoice.ksef_number: invoice for invoice in ksef.invoices.values()}
                self.assertIn(move.l10n_pl_ksef_number, received)
                fa = etree.fromstring(received[credit_note.l10n_pl_ksef_number].xml).find("fa:Fa", {"fa": NS})
                self.assertEqual(fa.findtext("fa:RodzajFaktury", namespaces={"fa": NS}), "KOR")
                self.assertEqual(fa.findtext("fa:PrzyczynaKorekty", namespaces={"fa": NS}), "obniżka ceny")
                self.assertEqual(
                    fa.findtext("fa:DaneFaKorygowanej/fa:NrKSeFFaKorygowanej", namespaces={"fa": NS}),
                    move.l10n_pl_ksef_number,
                )
                accepted = state_label(move, "accepted", lang)
                self.assertIn(accepted, credit_note.message_ids[0].body)  # in the administrator's language
