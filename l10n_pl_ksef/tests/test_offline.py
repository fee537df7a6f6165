from datetime import date

from odoo.tests import tagged

from .common import ConnectedToKsef


@tagged("post_install_l10n", "post_install", "-at_install")
class TestOffline24(ConnectedToKsef):
    """Invoices issued offline: fixed when issued, sent with KSeF's offline flag by the next working day."""

    def offline_invoice(self, invoice_date, offline24=True):
        self.connection.offline24 = offline24
        return self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=invoice_date,
            amounts=[1000.0],
            taxes=self.pl_tax(),
            post=True,
        )

    def test_an_offline_invoice_issued_before_christmas_is_due_after_the_holidays(self):
        move = self.offline_invoice("2026-12-23")
        self.assertTrue(move.l10n_pl_ksef_offline)
        # 24 to 26 December are public holidays, then a Sunday
        self.assertEqual(move._einvoice_deadline("pl_ksef"), date(2026, 12, 28))
        self.assertIn("2026-12-28", move.message_ids[0].body)
        document = move.einvoice_document_id
        self.assertEqual(document.state, "to_send")
        issued = document.attachment_id.raw
        self.assertTrue(issued)  # fixed when issued: the buyer's QR code is made of these bytes

        self.env["account.einvoice.document"]._cron_send()
        self.assertEqual(document.state, "processing")
        sent = self.ksef.requests_to(r"/sessions/online/[^/]+/invoices$", "POST")
        self.assertEqual([request.json()["offlineMode"] for request in sent], [True])
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(document.state, "accepted")
        (received,) = self.sent_invoices()
        self.assertEqual((received.xml, received.offline), (issued, True))

    def test_an_offline_invoice_issued_on_good_friday_is_due_after_easter_monday(self):
        move = self.offline_invoice("2026-04-03")
        self.assertEqual(move._einvoice_deadline("pl_ksef"), date(2026, 4, 7))

    def test_an_online_invoice_has_no_deadline_until_issued_offline_by_hand(self):
        move = self.offline_invoice("2026-11-20", offline24=False)  # a Friday
        self.assertFalse(move.l10n_pl_ksef_offline)
        self.assertFalse(move._einvoice_deadline("pl_ksef"))
        move.action_l10n_pl_ksef_issue_offline()
        self.assertEqual((move.l10n_pl_ksef_offline, move.einvoice_state), (True, "to_send"))
        self.assertEqual(move._einvoice_deadline("pl_ksef"), date(2026, 11, 23))
