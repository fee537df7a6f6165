import base64
import hashlib
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import tagged

from odoo.addons.account_einvoice.tests.common import shown_on_form

from einvoice.pl.holidays import working_day_after
from einvoice.pl.ksef import format_datetime
from einvoice.pl.offline import polish_date

from .common import ConnectedToKsef

SEND = r"/sessions/online/[^/]+/invoices$"


def announcement(event, category, kind, title, start, end=None, version=1):
    """One of Latarnia's announcements (``/messages``)."""
    message = {
        "id": f"{event}-{version}",
        "eventId": event,
        "category": category,
        "type": kind,
        "title": title,
        "text": f"{title}.",
        "start": format_datetime(start),
        "version": version,
        "published": format_datetime(start),
    }
    return {**message, "end": format_datetime(end)} if end else message


@tagged("post_install_l10n", "post_install", "-at_install")
class TestOutage(ConnectedToKsef):
    """KSeF's outages as Latarnia announces them: invoices issued offline in the outage's mode with its legal
    deadline, held while KSeF is down and sent in the order they were issued once it is back."""

    def setUp(self):
        super().setUp()
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.addCleanup(self.latarnia, "AVAILABLE", [])

    def latarnia(self, status, messages):
        """Latarnia says ``status`` with ``messages``, and the scheduler reads it."""
        self.ksef.availability, self.ksef.availability_messages = status, messages
        self.env["l10n_pl_ksef.connection"]._cron_read_availability()

    def invoice_of_today(self):
        return self.init_invoice(
            "out_invoice",
            partner=self.customer,
            invoice_date=fields.Date.today(),
            amounts=[1000.0],
            taxes=self.pl_tax(),
            post=True,
        )

    def test_a_failure_issues_invoices_in_emergency_mode_and_its_end_sends_them_in_order(self):
        queued_before = self.posted_invoice()  # posted online, not sent yet
        start = self.now - timedelta(hours=1)
        failure = announcement("e-1", "FAILURE", "FAILURE_START", "Awaria KSeF", start)
        self.latarnia("FAILURE", [failure])
        self.assertEqual(
            (self.connection.ksef_status, self.connection.outage_id.title, self.connection.outage_start),
            ("failure", "Awaria KSeF", start.replace(tzinfo=None)),
        )
        self.assertIn("failure", self.connection.message_ids[0].body)

        first, second = self.posted_invoice(), self.posted_invoice()
        for move in first | second:
            self.assertEqual(
                (move.l10n_pl_ksef_offline, move.l10n_pl_ksef_offline_mode, move.l10n_pl_ksef_outage_id),
                (True, "emergency", self.connection.outage_id),
            )
            self.assertFalse(move.l10n_pl_ksef_offline_deadline)  # counted from the failure's end, not known yet
            self.assertIn("emergency", move.l10n_pl_ksef_outage_warning)
            self.assertEqual([code["label"] for code in move._l10n_pl_ksef_qr_codes()], ["OFFLINE"])  # KOD I
            self.assertEqual(
                len(shown_on_form(move, "//div[hasclass('alert')][field[@name='l10n_pl_ksef_outage_warning']]")), 1
            )
        # sent by hand during the failure: issued offline too, and held
        queued_before.action_einvoice_send()
        self.assertEqual(
            (queued_before.l10n_pl_ksef_offline_mode, queued_before.einvoice_state), ("emergency", "to_send")
        )
        self.env["account.einvoice.document"]._cron_send()
        self.assertEqual(self.ksef.requests_to(SEND, "POST"), [])  # nothing goes while KSeF is down
        self.assertEqual((first | second).mapped("einvoice_state"), ["to_send", "to_send"])

        end = self.now - timedelta(minutes=1)
        self.latarnia("AVAILABLE", [announcement("e-1", "FAILURE", "FAILURE_END", "Koniec awarii", start, end, 2)])
        self.assertEqual((self.connection.ksef_status, self.connection.outage_id.id), ("available", False))
        self.assertEqual(first.l10n_pl_ksef_outage_id.end, end.replace(tzinfo=None))
        due = working_day_after(polish_date(end), 7)
        self.assertEqual([m.l10n_pl_ksef_offline_deadline for m in queued_before | first | second], [due] * 3)
        self.assertFalse(first.l10n_pl_ksef_outage_warning)

        self.env["account.einvoice.document"]._cron_send()
        sent = self.ksef.requests_to(SEND, "POST")
        self.assertEqual([request.json()["offlineMode"] for request in sent], [True, True, True])
        # in the order they were issued, not the order they joined the queue
        self.assertEqual(
            [invoice.number for invoice in self.sent_invoices()], [queued_before.name, first.name, second.name]
        )
        self.processed()
        (queued_before | first | second).action_einvoice_check()
        self.assertEqual((queued_before | first | second).mapped("einvoice_state"), ["accepted"] * 3)

    def test_a_failure_during_maintenance_moves_the_deadline_to_seven_working_days_after_it(self):
        start, end = self.now - timedelta(hours=1), self.now + timedelta(hours=2)
        maintenance = announcement("m-1", "MAINTENANCE", "MAINTENANCE_ANNOUNCEMENT", "Prace serwisowe", start, end)
        self.latarnia("MAINTENANCE", [maintenance])
        move = self.posted_invoice()
        self.assertEqual(move.l10n_pl_ksef_offline_mode, "offline")
        # the unavailability's announced end: due the next working day after it
        self.assertEqual(move.l10n_pl_ksef_offline_deadline, working_day_after(polish_date(end)))
        self.assertIn(fields.Date.to_string(move.l10n_pl_ksef_offline_deadline), move.message_ids[0].body)

        failure = announcement("e-2", "FAILURE", "FAILURE_START", "Awaria KSeF", self.now)
        self.latarnia("FAILURE", [maintenance, failure])
        self.assertFalse(move.l10n_pl_ksef_offline_deadline)  # until the failure ends
        failure_end = self.now + timedelta(minutes=30)
        ended = announcement("e-2", "FAILURE", "FAILURE_END", "Awaria usunięta", self.now, failure_end, 2)
        self.latarnia("MAINTENANCE", [maintenance, ended])
        self.assertEqual(move.l10n_pl_ksef_offline_mode, "offline")
        self.assertEqual(move.l10n_pl_ksef_offline_deadline, working_day_after(polish_date(failure_end), 7))

    def test_the_deadline_reminder_asks_for_an_invoice_waiting_offline(self):
        start, end = self.now - timedelta(days=3), self.now - timedelta(days=2)
        self.latarnia(
            "MAINTENANCE", [announcement("m-2", "MAINTENANCE", "MAINTENANCE_ANNOUNCEMENT", "Prace", start, end)]
        )
        self.assertEqual(self.connection.ksef_status, "maintenance")  # Latarnia still says so: the status decides
        move = self.invoice_of_today()
        deadline = move.l10n_pl_ksef_offline_deadline
        self.assertEqual(deadline, working_day_after(polish_date(end)))
        today = fields.Date.today()
        self.env["account.move"]._cron_einvoice_deadlines(warn_days=max((deadline - today).days, 0))
        self.assertIn(fields.Date.to_string(deadline), move.activity_ids.note)

    def test_a_total_failure_lifts_the_obligation_and_is_shown(self):
        self.connection.offline24 = True
        waiting = self.invoice_of_today()
        self.assertTrue(waiting.l10n_pl_ksef_offline_deadline)
        self.latarnia(
            "TOTAL_FAILURE", [announcement("t-1", "TOTAL_FAILURE", "FAILURE_START", "Awaria całkowita", self.now)]
        )
        self.assertEqual(self.connection.ksef_status, "total_failure")
        self.assertEqual(len(shown_on_form(self.connection, "//div[hasclass('alert-danger')]")), 1)
        self.assertEqual((waiting.l10n_pl_ksef_send_lifted, waiting.l10n_pl_ksef_offline_deadline), (True, False))
        self.assertIn("no longer asks", waiting.l10n_pl_ksef_outage_warning)
        self.env["account.move"]._cron_einvoice_deadlines(warn_days=30)
        self.assertFalse(waiting.activity_ids)  # no deadline, no reminder

        self.connection.offline24 = False
        during = self.invoice_of_today()  # issued outside KSeF: not offline, and told so
        self.assertFalse(during.l10n_pl_ksef_offline)
        self.assertIn("total failure", during.l10n_pl_ksef_outage_warning)
        self.assertEqual(during._l10n_pl_ksef_qr_codes(), [])  # issued outside KSeF: no QR codes


@tagged("post_install_l10n", "post_install", "-at_install")
class TestTechnicalCorrection(ConnectedToKsef):
    """An invoice issued offline that KSeF rejects for a technical reason is sent again as its technical correction
    (offline/korekta-techniczna.md): offline, with the hash of the rejected file, once."""

    def test_a_rejected_offline_invoice_is_corrected_once(self):
        seen = []

        def schema_once(xml):  # KSeF's schema check refuses the first file it sees
            seen.append(xml)
            return ["cvc-complex-type.2.4.a: Invalid content was found."] if len(seen) == 1 else []

        self.patch(self.ksef, "validator", schema_once)
        self.connection.offline24 = True
        move = self.posted_invoice()
        self.env["account.einvoice.document"]._cron_send()
        self.processed()
        move.action_einvoice_check()
        rejected = move.einvoice_document_id
        self.assertEqual((rejected.state, rejected.l10n_pl_ksef_code), ("rejected", 450))
        rejected_file = rejected.attachment_id.raw

        # corrected and issued again
        move.button_draft()
        self.customer.street = "ul. Długa 5A"  # what made the file fail, fixed
        move.action_post()
        correction = move.einvoice_document_id
        self.assertNotEqual(correction, rejected)
        self.assertNotEqual(correction.attachment_id.raw, rejected_file)
        self.assertEqual(correction.l10n_pl_ksef_corrected_id, rejected)
        self.assertIn("technical correction", "".join(move.message_ids[:2].mapped("body")))
        self.env["account.einvoice.document"]._cron_send()
        sent = self.ksef.requests_to(SEND, "POST")[-1].json()
        self.assertEqual(
            (sent["offlineMode"], sent["hashOfCorrectedInvoice"]),
            (True, base64.b64encode(hashlib.sha256(rejected_file).digest()).decode()),
        )
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")
        # the history stays: the rejected attempt with its file, beside the correction KSeF numbered
        self.assertEqual((rejected.state, rejected.attachment_id.raw), ("rejected", rejected_file))
        (original,) = [invoice for invoice in self.sent_invoices() if invoice.xml == rejected_file]
        self.assertEqual(original.corrected_by, move.l10n_pl_ksef_number)
        # the printed QR code is the corrected file's
        self.assertNotIn(
            base64.urlsafe_b64encode(hashlib.sha256(rejected_file).digest()).rstrip(b"=").decode(),
            move._l10n_pl_ksef_qr_codes()[0]["link"],
        )

        # KSeF takes one technical correction of an invoice: a second one is refused, and the attempt says why
        again = self.env["account.einvoice.document"].create(
            {"move_id": move.id, "platform": "pl_ksef", "l10n_pl_ksef_corrected_id": rejected.id}
        )
        again._send()
        self.assertEqual(again.state, "error")
        self.assertIn("21166", again.error_message)
