import unittest

from odoo.tests import tagged

from odoo.addons.account_einvoice.tests.common import OdooModuleGivesWay

from einvoice.pl.ksef import OnlineSession

from .. import ODOO_EDI, _pause_odoo_edi, _uninstall_hook
from .common import ConnectedToKsef

KSEF_NUMBER = "5260250274-20261015-0A1B2C3D4E5F-7A"
# what Odoo's KSeF module shows beside ours: "Allow KSeF integration" and its certificate in the settings, its
# Check Sending button and KSeF fields on the invoice
ODOO_EDI_SCREENS = (
    "l10n_pl_edi_register",
    "l10n_pl_edi_certificate",
    "action_l10n_pl_edi_update_invoice_status",
    "l10n_pl_edi_number",
)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestOdooKsefGivesWay(OdooModuleGivesWay, ConnectedToKsef):
    """With Odoo's own l10n_pl_edi installed: its crons pause, its screens hide, its sent invoices are ours to
    follow, never re-sent."""

    odoo_module, odoo_screens, our_screen = ODOO_EDI, ODOO_EDI_SCREENS, "action_l10n_pl_ksef_issue_offline"
    set_aside, bring_back = staticmethod(_pause_odoo_edi), staticmethod(_uninstall_hook)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "l10n_pl_edi_status" not in cls.env["account.move"]._fields:
            raise unittest.SkipTest("Odoo's l10n_pl_edi is not installed in this database")

    def test_odoos_send_option_gives_way_to_ours(self):
        extra_edis = self.env["account.move.send"]._get_all_extra_edis()
        self.assertNotIn("pl_ksef", extra_edis)
        self.assertIn("einvoice_pl_ksef", extra_edis)

    def test_invoices_odoo_already_sent_are_accepted_with_their_number_and_never_sent_again(self):
        accepted = self.posted_invoice()
        accepted.write({"l10n_pl_edi_status": "accepted", "l10n_pl_edi_number": KSEF_NUMBER})
        _pause_odoo_edi(self.env)  # what installing does for every invoice
        self.assertEqual(accepted.einvoice_state, "accepted")
        self.assertEqual(accepted.einvoice_document_id.platform_number, KSEF_NUMBER)
        self.assertIn("never sent twice", accepted._einvoice_refusal()[0])
        self.assertEqual(self.sent_invoices(), [])
        _pause_odoo_edi(self.env)
        self.assertEqual(len(accepted.einvoice_document_ids), 1)  # carried over once

    def test_an_invoice_odoo_sent_and_ksef_is_numbering_is_followed_to_its_number(self):
        move = self.posted_invoice()
        xml = move._l10n_pl_ksef_xml()
        client = self.connection._ksef_client()  # sent as Odoo's module does: its own session, then its status
        sent = OnlineSession.open(client, self.connection._ksef_authenticator(client)).send(xml)
        move.write(
            {
                "l10n_pl_edi_status": "sent",
                "l10n_pl_edi_session_id": sent.session_reference,
                "l10n_pl_edi_ref": sent.reference_number,
            }
        )
        self.assertIn("never sent twice", move._einvoice_refusal()[0])
        self.assertEqual(move.einvoice_state, "processing")
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(move.einvoice_document_id.platform_number, self.ksef.accepted()[0].ksef_number)
        self.assertEqual(len(self.sent_invoices()), 1)

    def test_a_correction_of_an_invoice_odoo_sent_names_its_ksef_number(self):
        original = self.posted_invoice()
        original.write({"l10n_pl_edi_status": "accepted", "l10n_pl_edi_number": KSEF_NUMBER})
        credit_note = original._reverse_moves()
        credit_note.action_post()
        self.assertIn(f"<NrKSeFFaKorygowanej>{KSEF_NUMBER}<".encode(), credit_note._l10n_pl_ksef_xml())
