from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.account_einvoice.tests.common import list_columns, shown_on_form

from einvoice.pl.holidays import working_day_after

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

    def found_by_filter(self, name, moves):
        """Which of ``moves`` the invoice search's filter ``name`` finds, its domain evaluated as the browser does."""
        search = self.env["account.move"].get_views([(False, "search")])["views"]["search"]["arch"]
        (domain,) = etree.fromstring(search).xpath(f"//filter[@name='{name}']/@domain")
        today = fields.Date.context_today(moves)
        domain = safe_eval(domain, {"context_today": lambda: today, "relativedelta": relativedelta})
        return moves.filtered_domain(domain)

    def test_the_offline_deadline_is_on_the_invoice_and_filters_find_those_late_or_near(self):
        today = fields.Date.context_today(self.env.user)
        by_age = {days: self.offline_invoice(today - timedelta(days=days)) for days in (10, 1, 0, -10)}
        moves = self.env["account.move"].concat(*by_age.values())
        for move in moves:
            self.assertEqual(move.l10n_pl_ksef_offline_deadline, working_day_after(move.invoice_date))
            self.assertEqual(len(shown_on_form(move, "//field[@name='l10n_pl_ksef_offline_deadline']")), 1)
        online = self.offline_invoice(today - timedelta(days=10), offline24=False)
        self.assertFalse(online.l10n_pl_ksef_offline_deadline)
        self.assertEqual(shown_on_form(online, "//field[@name='l10n_pl_ksef_offline_deadline']"), [])
        for view in ("account.view_out_invoice_tree", "account.view_out_credit_note_tree"):
            self.assertEqual(list_columns(self.env, view).get("l10n_pl_ksef_offline_deadline"), "hide")

        late = moves.filtered(lambda move: move.l10n_pl_ksef_offline_deadline < today)
        near = moves.filtered(lambda move: move.l10n_pl_ksef_offline_deadline <= today + timedelta(days=1))
        self.assertIn(by_age[10], late)  # ten days ago is past any next working day
        self.assertNotIn(by_age[-10], near)  # nor is ten days ahead near
        self.assertEqual(self.found_by_filter("l10n_pl_ksef_offline_late", moves | online), late)
        self.assertEqual(self.found_by_filter("l10n_pl_ksef_offline_due", moves | online), near)
        self.env["account.einvoice.document"]._cron_send()  # KSeF takes them: no longer late
        self.assertEqual(by_age[10].einvoice_state, "processing")
        self.assertFalse(self.found_by_filter("l10n_pl_ksef_offline_late", moves))
