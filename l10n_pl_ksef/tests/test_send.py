from datetime import datetime

from lxml import etree

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.account_einvoice.tests.common import list_columns, shown_on_form

from einvoice.pl.fa3 import NS
from einvoice.pl.ksef import Authenticator, KsefTokenLogin, OnlineSession
from einvoice.pl.xades import verify_enveloped

from .common import SELLER_NIP, ConnectedToKsef

FA = {"fa": NS}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToKsef(ConnectedToKsef):
    """Send -> processing -> accepted or rejected, lost answers and duplicates, against the KSeF simulator over
    HTTP."""

    def received(self, document):
        """The simulator's record of the invoice a document refers to."""
        return self.ksef.invoices[document._pl_ksef_references()[1]]

    def accepted_invoice(self, move=None):
        move = move or self.posted_invoice()
        if move.einvoice_state == "not_sent":
            move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")
        return move

    def test_sent_numbered_and_accepted_with_the_upo_as_received(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.assertEqual((document.state, move.einvoice_state), ("processing", "processing"))
        received = self.received(document)
        self.assertEqual(received.xml, document.attachment_id.raw)  # the exact XML sent is kept
        self.assertEqual(received.seller_nip, SELLER_NIP)
        move.action_einvoice_check()
        self.assertEqual(document.state, "processing")  # KSeF is still numbering it
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(document.platform_number, received.ksef_number)
        upo = document.response_attachment_id.raw
        self.assertEqual(upo, received.upo)  # byte for byte, as KSeF signed it
        verify_enveloped(upo)  # the signature still holds
        self.assertIn(received.ksef_number.encode(), upo)
        self.assertIn(received.ksef_number, move.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "never sent twice"):
            move.action_einvoice_send()
        with self.assertRaisesRegex(UserError, "credit note"):
            move.button_draft()
        self.assertEqual(len(self.sent_invoices()), 1)
        self.assertEqual(
            move.action_einvoice_download()["url"], f"/web/content/{document.response_attachment_id.id}?download=true"
        )

    def test_the_ksef_number_shows_on_the_invoice_and_as_an_optional_column(self):
        move = self.posted_invoice()
        on_the_form = "//field[@name='l10n_pl_ksef_number']"
        self.assertEqual(shown_on_form(move, on_the_form), [])
        self.accepted_invoice(move)
        self.assertEqual(move.l10n_pl_ksef_number, move.einvoice_document_id.platform_number)
        self.assertEqual(len(shown_on_form(move, on_the_form)), 1)
        found = self.env["account.move"].search([("l10n_pl_ksef_number", "=", move.l10n_pl_ksef_number)])
        self.assertEqual(found, move)  # stored: an invoice is found by the number KSeF gave it
        for view in ("account.view_out_invoice_tree", "account.view_out_credit_note_tree"):
            self.assertEqual(list_columns(self.env, view).get("l10n_pl_ksef_number"), "hide")

    def test_the_buyers_nip_without_prefix_identifies_the_buyer(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        buyer = etree.fromstring(move.einvoice_document_id.attachment_id.raw).find("fa:Podmiot2", FA)
        self.assertEqual(buyer.findtext("fa:DaneIdentyfikacyjne/fa:NIP", namespaces=FA), self.customer.vat)

    def test_rejected_with_ksefs_reasons_and_sent_again_as_a_new_attempt(self):
        self.addCleanup(setattr, self.ksef, "validator", self.ksef.validator)
        self.ksef.validator = lambda xml: ["Element 'P_2': niepoprawna wartość (symulacja)."]
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        rejected = move.einvoice_document_id
        self.assertEqual(rejected.state, "rejected")
        self.assertIn("does not match the FA(3) schema", rejected.error_message)
        self.assertIn("niepoprawna wartość (symulacja)", rejected.error_message)
        self.assertTrue(move.activity_ids)  # somebody is asked to look at it
        self.ksef.validator = lambda xml: []
        move.action_einvoice_send()
        self.assertEqual(len(move.einvoice_document_ids), 2)  # history kept: a new attempt
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")

    def test_a_lost_answer_is_resolved_by_the_invoice_hash_with_exactly_one_invoice(self):
        self.ksef.inject("lost", path=r"/sessions/online/[^/]+/invoices$")  # KSeF takes it, the answer is lost
        self.ksef.inject("status", status=503, path=r"^/sessions/[^/]+/invoices$", times=10)  # and cannot be asked
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.assertEqual(document.state, "unknown")
        self.assertIn("its answer was lost", move.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "never sent twice"):
            move.action_einvoice_send()
        self.ksef.clear_faults()
        self.processed()
        self.env["account.einvoice.document"]._cron_resolve()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.sent_invoices()), 1)
        self.assertEqual(document.platform_number, self.sent_invoices()[0].ksef_number)

    def test_an_invoice_that_never_arrived_is_sent_again_once(self):
        self.ksef.inject("reset", path=r"/sessions/online/[^/]+/invoices$")  # cut before KSeF reads it
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.assertEqual((document.state, self.sent_invoices()), ("unknown", []))
        self.env["account.einvoice.document"]._cron_resolve()
        self.assertEqual(document.state, "processing")
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.sent_invoices()), 1)
        self.assertEqual(self.sent_invoices()[0].xml, document.attachment_id.raw)  # the same document, not a new one

    def test_a_duplicate_answer_gives_the_original_ksef_number(self):
        """The first upload was cut, yet the invoice reached KSeF another way (a slow proxy delivering it later, in
        another session): sent again, KSeF answers 440 with the original's number, which this invoice takes."""
        self.ksef.inject("reset", path=r"/sessions/online/[^/]+/invoices$")
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.assertEqual(document.state, "unknown")
        client = self.connection._ksef_client()
        token = self.connection._decrypt(self.connection.sudo().ksef_token_encrypted)
        late = OnlineSession.open(client, Authenticator(client, SELLER_NIP, KsefTokenLogin(token)))
        late.send(document.attachment_id.raw)
        self.processed()
        self.env["account.einvoice.document"]._cron_resolve()  # not in its session: the same bytes go again
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(document.state, "accepted")
        accepted = self.ksef.accepted()
        self.assertEqual(len(accepted), 1)  # one invoice in KSeF; the second upload was a duplicate (440)
        self.assertEqual([invoice.code for invoice in self.sent_invoices()], [200, 440])
        self.assertEqual(document.platform_number, accepted[0].ksef_number)
        self.assertEqual(document.response_attachment_id.raw, accepted[0].upo)
        self.assertTrue(document.platform_reference.startswith(late.reference_number))

    def test_another_invoice_under_the_same_number_is_not_taken_for_this_one(self):
        move = self.posted_invoice()
        other = self.posted_invoice(amounts=[42.0])  # a different document under the same number, sent elsewhere
        xml = other._l10n_pl_ksef_xml().replace(f"<P_2>{other.name}<".encode(), f"<P_2>{move.name}<".encode())
        client = self.connection._ksef_client()
        token = self.connection._decrypt(self.connection.sudo().ksef_token_encrypted)
        elsewhere = OnlineSession.open(client, Authenticator(client, SELLER_NIP, KsefTokenLogin(token)))
        elsewhere.send(xml)
        self.processed()
        move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        document = move.einvoice_document_id
        self.assertEqual(document.state, "rejected")
        self.assertIn(self.ksef.accepted()[0].ksef_number, document.error_message)
        self.assertFalse(document.platform_number)

    def test_every_problem_is_shown_before_anything_is_sent(self):
        wrong_nip = self.customer.with_context(no_vat_validation=True).copy({"vat": "PL1234567891"})
        move = self.posted_invoice(partner=wrong_nip)
        with self.assertRaisesRegex(UserError, "PL-NIP"):
            move.action_einvoice_send()
        self.assertEqual(self.sent_invoices(), [])

    def test_prices_with_vat_included_are_shown_gross_on_the_fa3_invoice(self):
        included = self.pl_tax().copy({"name": "23% incl.", "price_include_override": "tax_included"})
        move = self.init_invoice("out_invoice", partner=self.customer, amounts=[123.0], taxes=included, post=True)
        move.action_einvoice_send()
        fa = etree.fromstring(move.einvoice_document_id.attachment_id.raw).find("fa:Fa", FA)
        row = fa.find("fa:FaWiersz", FA)
        self.assertEqual(row.findtext("fa:P_9B", namespaces=FA), "123")  # the price as the invoice shows it
        self.assertEqual(row.findtext("fa:P_11A", namespaces=FA), "123.00")
        self.assertEqual(row.findtext("fa:P_11", namespaces=FA), "100.00")  # the net FA(3) sums up
        self.assertEqual(fa.findtext("fa:P_13_1", namespaces=FA), "100.00")
        self.assertEqual(fa.findtext("fa:P_15", namespaces=FA), "123.00")
        self.assertEqual(self.sent_invoices()[-1].code, 200)  # KSeF took it

    def test_a_credit_note_is_a_correction_naming_the_ksef_number_of_the_invoice_it_corrects(self):
        original = self.posted_invoice()
        original.action_einvoice_send()
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=original.ids)
            .create({"reason": "obniżka ceny", "journal_id": original.journal_id.id})
        )
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit_note.action_post()
        with self.assertRaisesRegex(UserError, "no KSeF number yet"):
            credit_note.action_einvoice_send()
        self.accepted_invoice(original)
        credit_note.action_einvoice_send()
        fa = etree.fromstring(credit_note.einvoice_document_id.attachment_id.raw).find("fa:Fa", FA)
        self.assertEqual(fa.findtext("fa:RodzajFaktury", namespaces=FA), "KOR")
        self.assertEqual(fa.findtext("fa:PrzyczynaKorekty", namespaces=FA), "obniżka ceny")  # the reason given
        corrected = fa.find("fa:DaneFaKorygowanej", FA)
        self.assertEqual(corrected.findtext("fa:NrFaKorygowanej", namespaces=FA), original.name)
        self.assertEqual(corrected.findtext("fa:NrKSeF", namespaces=FA), "1")
        self.assertEqual(
            corrected.findtext("fa:NrKSeFFaKorygowanej", namespaces=FA), original.einvoice_document_id.platform_number
        )
        self.assertTrue(fa.findtext("fa:P_15", namespaces=FA).startswith("-"))  # the difference, with its sign
        self.processed()
        credit_note.action_einvoice_check()
        self.assertEqual(credit_note.einvoice_state, "accepted")

    def test_a_credit_note_must_name_the_invoice_it_corrects(self):
        credit_note = self.init_invoice(
            "out_refund", partner=self.customer, amounts=[100.0], taxes=self.pl_tax(), post=True
        )
        with self.assertRaisesRegex(UserError, "must name the invoice"):
            credit_note.action_einvoice_send()

    def test_the_send_wizard_sends_to_ksef_and_odoos_own_option_is_gone(self):
        move = self.posted_invoice()
        wizard = self.env["account.move.send.wizard"].with_context(active_model="account.move", active_ids=move.ids)
        wizard = wizard.create({})
        self.assertIn("einvoice_pl_ksef", wizard.extra_edis)  # offered and ticked for a Polish invoice
        self.assertNotIn("pl_ksef", wizard.extra_edi_checkboxes or {})  # one path to KSeF
        wizard.action_send_and_print()
        self.assertEqual(move.einvoice_state, "processing")
        self.assertEqual(len(self.sent_invoices()), 1)

    def test_a_clerk_sends_without_seeing_any_secret(self):
        clerk = new_test_user(self.env, login="pl_clerk", groups="account.group_account_invoice")
        with self.assertRaises(AccessError):
            self.connection.with_user(clerk).read(["name"])
        move = self.posted_invoice()
        move.with_user(clerk).action_einvoice_send()
        self.assertEqual(move.einvoice_state, "processing")

    def test_without_a_connection_there_is_no_ksef(self):
        move = self.posted_invoice()
        self.connection.company_id = self.setup_other_company(name="Gamma sp. z o.o.")["company"]
        self.assertFalse(move._einvoice_platform())
        with self.assertRaisesRegex(UserError, "connected company"):
            move.action_einvoice_send()

    def test_one_login_serves_many_invoices(self):
        moves = [self.posted_invoice(amounts=[amount]) for amount in (10.0, 20.0, 30.0)]
        for move in moves:
            move.action_einvoice_send()
        self.processed()
        for move in moves:
            move.action_einvoice_check()
        self.assertEqual([move.einvoice_state for move in moves], ["accepted"] * 3)
        self.assertLessEqual(len(self.ksef.requests_to("/auth/token/redeem")), 1)  # not one login per call
        self.assertEqual(len(self.ksef.sessions), 3)  # a session of its own for each invoice

    def test_a_connection_that_cannot_sign_in_stops_the_invoice_with_its_reason(self):
        self.connection.auth_method = "certificate"  # chosen, but nothing uploaded
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.assertEqual(move.einvoice_state, "error")
        self.assertIn("Upload the KSeF certificate", move.einvoice_document_id.error_message)
        self.assertEqual(self.sent_invoices(), [])

    def test_ksef_asking_to_slow_down_puts_the_invoice_back_in_the_queue(self):
        self.ksef.inject("status", status=429, headers={"Retry-After": "3600"}, path=r"/sessions/online$")
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.assertEqual((move.einvoice_state, self.sent_invoices()), ("to_send", []))
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        documents._cron_send()
        self.assertEqual(move.einvoice_state, "processing")
        self.assertEqual(len(move.einvoice_document_ids), 1)

    def test_a_session_that_may_not_have_opened_is_opened_again(self):
        self.ksef.inject("status", status=503, path=r"/sessions/online$")  # no invoice can have gone
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.assertEqual(move.einvoice_state, "unknown")
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        documents._cron_resolve()
        self.assertEqual(move.einvoice_state, "to_send")
        documents._cron_send()
        self.processed()
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(len(self.sent_invoices()), 1)

    def test_a_scheduled_run_sends_its_invoices_in_one_session_and_closes_it(self):
        self.env.company.einvoice_send_mode = "posting"
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        moves = [self.posted_invoice(amounts=[amount]) for amount in (10.0, 20.0, 30.0)]
        self.assertEqual([move.einvoice_state for move in moves], ["to_send"] * 3)
        for move in moves:
            move.einvoice_document_id.next_check_at = datetime(2000, 1, 1)  # due (the transaction's clock stands)
        documents._cron_send()
        self.assertEqual([move.einvoice_state for move in moves], ["processing"] * 3)
        (session,) = self.ksef.sessions.values()
        self.assertEqual(len(session["invoices"]), 3)
        self.assertTrue(session["closed_at"])
        self.processed()
        for move in moves:
            move.action_einvoice_check()
        self.assertEqual([move.einvoice_state for move in moves], ["accepted"] * 3)
