from odoo import fields
from odoo.tests import tagged

from einvoice.pl.ksef import ONLINE_INVOICES_PER_HOUR

from .common import ConnectedToKsef


@tagged("post_install_l10n", "post_install", "-at_install")
class TestBatchSessions(ConnectedToKsef):
    """A queue longer than KSeF takes online in the hour goes in a batch session, against the simulator."""

    def quota_spent(self):
        """The hour's online quota was spent by earlier invoices."""
        earlier = self.posted_invoice()
        self.env["account.einvoice.document"].create(
            [
                {"move_id": earlier.id, "platform": "pl_ksef", "state": "accepted", "sent_at": fields.Datetime.now()}
                for _sent in range(ONLINE_INVOICES_PER_HOUR)
            ]
        )

    def queued_invoices(self):
        moves = self.posted_invoice() | self.posted_invoice(amounts=[42.0]) | self.posted_invoice(amounts=[7.5])
        moves._einvoice_queue()
        return moves

    def test_a_queue_beyond_the_online_quota_goes_in_a_batch_and_each_invoice_gets_its_number(self):
        self.quota_spent()
        moves = self.queued_invoices()
        documents = self.env["account.einvoice.document"]
        documents._cron_send()
        self.assertEqual(len(self.ksef.requests_to(r"/sessions/batch$", "POST")), 1)
        self.assertFalse(self.ksef.requests_to(r"/sessions/online"))
        self.assertEqual(set(moves.mapped("einvoice_state")), {"processing"})
        self.assertEqual(len(self.sent_invoices()), 3)

        moves.action_einvoice_check()  # KSeF is still unpacking the batch: nothing is sent again
        self.assertEqual(set(moves.mapped("einvoice_state")), {"processing"})
        self.processed()
        self.ksef.requests.clear()
        moves.action_einvoice_check()
        self.assertEqual(set(moves.mapped("einvoice_state")), {"accepted"})
        batch = moves[0].einvoice_document_id._pl_ksef_references()[0]
        # the batch's invoices are listed once for the three of them (KSeF allows 20 such lists a minute)
        self.assertEqual(len(self.ksef.requests_to(rf"/sessions/{batch}/invoices$", "GET")), 1)
        self.assertEqual(len(self.ksef.requests_to(rf"/sessions/{batch}$", "GET")), 1)
        received = {invoice.hash: invoice for invoice in self.sent_invoices()}
        self.assertEqual(len(received), 3)
        for move in moves:
            document = move.einvoice_document_id
            sent = received[document._pl_ksef_hash()]
            self.assertEqual(
                (document.platform_number, document.response_attachment_id.raw), (sent.ksef_number, sent.upo)
            )
        self.assertFalse(self.ksef.requests_to(r"/sessions/online"))

    def test_a_batch_whose_opening_went_unanswered_is_sent_again_once(self):
        self.quota_spent()
        moves = self.queued_invoices()
        self.ksef.inject("status", status=503, path=r"/sessions/batch$")
        documents = self.env["account.einvoice.document"]
        documents._cron_send()
        self.assertEqual(set(moves.mapped("einvoice_state")), {"unknown"})  # KSeF may have opened the session
        self.assertEqual(self.sent_invoices(), [])
        self.ksef.clear_faults()
        documents._cron_resolve()  # no session was recorded: nothing was uploaded, nothing can be in KSeF
        self.assertEqual(set(moves.mapped("einvoice_state")), {"to_send"})
        documents._cron_send()
        self.assertEqual(set(moves.mapped("einvoice_state")), {"processing"})
        self.assertEqual(len(self.sent_invoices()), 3)
        self.assertFalse(self.ksef.requests_to(r"/sessions/online"))

    def test_a_short_queue_goes_online(self):
        move = self.posted_invoice()
        move._einvoice_queue()
        self.env["account.einvoice.document"]._cron_send()
        self.assertEqual(move.einvoice_state, "processing")
        self.assertFalse(self.ksef.requests_to(r"/sessions/batch"))
        self.assertEqual(len(self.ksef.requests_to(r"/sessions/online$", "POST")), 1)
