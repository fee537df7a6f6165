from datetime import datetime, timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.account_einvoice.tests.common import buttons_shown, list_columns, shown_on_form

from einvoice.http import AuthenticationError, counted_period
from einvoice.ro.anaf import Limits
from einvoice.ro.oauth import Tokens

from .common import SELLER_CIF, ConnectedToAnaf

SECOND_CIF = "123456703"  # a second company of the same certificate holder

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToAnaf(ConnectedToAnaf):
    """Send -> processing -> accepted or rejected, lost answers and secrets, against the ANAF simulator over HTTP."""

    def document(self, move):
        return move.einvoice_document_id

    def test_acceptance_closes_the_reminders_of_the_invoice(self):
        move = self.posted_invoice()
        move._einvoice_ask_for_attention("The deadline is near.")  # as the deadline job does
        other = move.activity_schedule("mail.mail_activity_data_todo", summary="Call the customer")
        move.action_einvoice_send()
        self.clock.advance(61)
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(move.activity_ids, other, "the e-invoice reminder is done, the others stay")
        done = move.message_ids.filtered(lambda message: "E-invoice needs attention" in (message.body or ""))
        self.assertTrue(done, "the reminder is marked done in the chatter")

    def test_reset_to_draft_is_not_offered_once_at_anaf_and_the_e_invoice_state_can_be_searched(self):
        form = self.env["account.move"].get_views([(False, "form")])["views"]["form"]["arch"]
        button = etree.fromstring(form).xpath("//button[@name='button_draft']")[0]
        self.assertIn("einvoice_state in ('sending', 'processing', 'accepted', 'unknown')", button.get("invisible"))
        move = self.posted_invoice()
        move.action_einvoice_send()
        found = self.env["account.move"].search(
            [("id", "=", move.id), ("einvoice_state", "in", ("to_send", "sending", "processing"))]
        )
        self.assertEqual(found, move)
        search = self.env["account.move"].get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="group_by_einvoice_state"', search)

    def test_sent_processed_and_accepted_with_anafs_signed_archive(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = self.document(move)
        self.assertEqual((document.state, move.einvoice_state), ("processing", "processing"))
        upload = self.anaf.uploads[document.platform_reference]
        self.assertEqual(upload.xml, document.attachment_id.raw)  # the exact XML sent is kept
        move.action_einvoice_check()
        self.assertEqual(document.state, "processing")  # ANAF is still processing
        self.clock.advance(61)
        move.action_einvoice_check()
        self.assertEqual(document.state, "accepted")
        archive = document.response_attachment_id.raw
        self.assertTrue(archive.startswith(b"PK"))
        again = self.connection._anaf_client().download(document.platform_number)
        self.assertEqual(archive, again.archive)  # byte for byte
        self.assertIn("Accepted", move.message_ids[0].body)

    def test_nok_shows_anafs_reasons_and_the_invoice_can_be_sent_again(self):
        self.anaf.validator = lambda xml: ["E: validari globale SCHEMATRON eroare: [BR-RO-999]-Motivul ANAF"]
        self.addCleanup(setattr, self.anaf, "validator", type(self.anaf).__init__.__kwdefaults__["validator"])
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.clock.advance(61)
        move.action_einvoice_check()
        rejected = self.document(move)
        self.assertEqual(rejected.state, "rejected")
        self.assertIn("[BR-RO-999]-Motivul ANAF", rejected.error_message)
        self.assertTrue(move.activity_ids)  # somebody is asked to look at it
        self.anaf.validator = lambda xml: []
        move.action_einvoice_send()
        self.assertEqual(len(move.einvoice_document_ids), 2)  # history kept: a new attempt
        self.assertEqual(self.document(move).state, "processing")

    def test_a_lost_upload_answer_is_resolved_with_exactly_one_upload(self):
        self.anaf.inject("lost", path="/upload")
        move = self.posted_invoice()
        move.action_einvoice_send()
        document = self.document(move)
        self.assertEqual(document.state, "unknown")
        with self.assertRaisesRegex(UserError, "never sent twice"):
            move.action_einvoice_send()
        self.clock.advance(180)
        self.env["account.einvoice.document"]._cron_resolve()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_an_upload_whose_worker_died_is_resolved_not_sent_again(self):
        move = self.posted_invoice()
        move.action_einvoice_send()  # ANAF has it...
        document = self.document(move)
        # ...but the worker died before writing it down: the attempt is left "sending", with nothing of the upload
        document.write({"state": "sending", "platform_reference": False, "attachment_id": False})
        self.env["account.einvoice.document"]._cron_resolve()
        self.assertEqual(document.state, "sending")  # an upload of a moment ago may still be under way
        document.sent_at = fields.Datetime.now() - timedelta(minutes=16)
        self.clock.advance(180)
        self.env["account.einvoice.document"]._cron_resolve()
        self.assertEqual(document.state, "accepted")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_an_accepted_invoice_is_never_sent_again_nor_reset_to_draft(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.clock.advance(61)
        move.action_einvoice_check()
        with self.assertRaisesRegex(UserError, "never sent twice"):
            move.action_einvoice_send()
        with self.assertRaisesRegex(UserError, "credit note"):
            move.button_draft()
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_every_problem_is_shown_before_anything_is_uploaded(self):
        nowhere = self.customer.copy({"state_id": False, "street": False})
        move = self.posted_invoice(partner=nowhere)
        with self.assertRaises(UserError) as caught:
            move.action_einvoice_send()
        self.assertIn("[BR-RO-082]", str(caught.exception))  # no street
        self.assertIn("[BR-RO-111]", str(caught.exception))  # no county
        # where to fix it, in words, with whom
        self.assertIn(f"(Buyer's postal address, BG-8): {nowhere.display_name}", str(caught.exception))
        self.assertEqual(self.anaf.uploads_recorded(), [])

    def test_the_problems_are_told_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("ro_RO")
        nowhere = self.customer.copy({"state_id": False, "street": False})
        move = self.posted_invoice(partner=nowhere).with_context(lang="ro_RO")
        with self.assertRaises(UserError) as caught:
            move.action_einvoice_send()
        self.assertIn("[BR-RO-082]", str(caught.exception))
        self.assertNotIn("is required", str(caught.exception))  # the library's texts, in Romanian too
        self.assertIn("obligatori", str(caught.exception))

    def test_secrets_are_encrypted_and_only_for_administrators(self):
        self.connection.client_secret = "client-secret-from-anaf"
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT client_secret_encrypted, access_token_encrypted FROM l10n_ro_efactura_connection WHERE id = %s",
            [self.connection.id],
        )
        secret, token = self.env.cr.fetchone()
        self.assertTrue(secret.startswith("einv1:") and "client-secret" not in secret)
        self.assertTrue(token.startswith("einv1:"))
        self.connection.invalidate_recordset(["client_secret"])
        self.assertFalse(self.connection.client_secret)  # write-only: a form never gets it back
        self.assertEqual(self.connection._decrypt(secret), "client-secret-from-anaf")
        clerk = new_test_user(self.env, login="ro_clerk", groups="account.group_account_invoice")
        with self.assertRaises(AccessError):
            self.connection.with_user(clerk).read(["name"])
        move = self.posted_invoice()
        move.with_user(clerk).action_einvoice_send()  # a clerk sends without seeing any secret
        self.assertEqual(move.einvoice_state, "processing")

    def test_administrators_write_secrets_but_never_read_a_ciphertext(self):
        admin = new_test_user(self.env, login="ro_admin_secrets", groups="account.group_account_manager")
        connection = self.connection.with_user(admin)
        connection.client_secret = "another-client-secret"  # the form's write-only field
        self.assertEqual(
            self.connection._decrypt(self.connection.sudo().client_secret_encrypted), "another-client-secret"
        )
        self.assertEqual(connection.read(["name"])[0]["name"], self.connection.name)
        readable = connection.fields_get()
        for field in ("client_secret_encrypted", "access_token_encrypted", "refresh_token_encrypted"):
            self.assertNotIn(field, readable)
            with self.assertRaises(AccessError):
                connection.read([field])
            with self.assertRaises(AccessError):
                connection.search_read([(field, "!=", False)], ["name"])
        connection.action_test_connection()  # what uses the secrets still works for them

    def test_a_connection_belongs_to_the_administrators_of_its_companies_only(self):
        other_company = self.setup_other_company(name="Gamma SRL")["company"]
        stranger = new_test_user(
            self.env,
            login="ro_admin_other",
            groups="account.group_account_manager",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        connections = self.env["l10n_ro_efactura.connection"].with_user(stranger)
        self.assertFalse(connections.search([("id", "=", self.connection.id)]))
        created = connections.create({"name": "Gamma's holder"})  # serves the creator's company by default
        self.assertEqual(created.company_ids, other_company)
        with self.assertRaises(ValidationError):  # serving no company would make it nobody's, or everybody's
            created.company_ids = False

    def test_the_send_wizard_sends_to_anaf(self):
        move = self.posted_invoice()
        wizard = self.env["account.move.send.wizard"].with_context(active_model="account.move", active_ids=move.ids)
        wizard = wizard.create({})
        self.assertIn("einvoice_ro_efactura", wizard.extra_edis)  # offered and ticked for a Romanian invoice
        self.assertNotIn("ro_edi", wizard.extra_edi_checkboxes or {})  # one path to ANAF
        wizard.action_send_and_print()
        self.assertEqual(move.einvoice_state, "processing")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)
        wizard = self.env["account.move.send.wizard"].with_context(active_model="account.move", active_ids=move.ids)
        self.assertNotIn("einvoice_ro_efactura", wizard.create({}).extra_edis or {})  # not offered twice

    def test_the_list_action_sends_what_can_go_and_tells_why_the_others_did_not(self):
        good, sent_before = self.posted_invoice(), self.posted_invoice()
        other = self.posted_invoice(partner=self.customer.copy({"state_id": False}))  # no county
        sent_before.action_einvoice_send()
        action = self.env.ref("account_einvoice.action_einvoice_send_selected")
        selection = good | other | sent_before
        answer = action.with_context(active_model="account.move", active_ids=selection.ids).run()
        self.assertEqual((good.einvoice_state, other.einvoice_state), ("processing", "not_sent"))
        self.assertEqual(len(self.anaf.uploads_recorded()), 2)  # the good one, and the earlier one never again
        self.assertEqual(answer["params"]["title"], "E-invoices sent: 1 of 3")
        lines = answer["params"]["message"].splitlines()
        self.assertIn(f"{other.name}:", lines)
        self.assertIn(f"{sent_before.name}:", lines)
        self.assertIn("never sent twice", lines[lines.index(f"{sent_before.name}:") + 1])
        self.assertIn("[BR-RO-111]", "".join(lines[lines.index(f"{other.name}:") :]))
        # the reasons stay on the invoice to fix, where it is worked on; the one sent before gets no noise
        noted = other.message_ids.filtered(lambda message: "[BR-RO-111]" in message.body)
        self.assertIn("E-invoice not sent", noted.body)
        self.assertFalse(sent_before.message_ids.filtered(lambda message: "not sent" in message.body))

    def test_the_signed_archive_is_downloaded_as_received(self):
        move = self.posted_invoice()
        with self.assertRaisesRegex(UserError, "not answered"):
            move.action_einvoice_download()
        move.action_einvoice_send()
        self.clock.advance(61)
        move.action_einvoice_check()
        action = move.action_einvoice_download()
        self.assertEqual(
            action["url"], f"/web/content/{move.einvoice_document_id.response_attachment_id.id}?download=true"
        )

    def test_a_token_anaf_refuses_is_told_with_what_to_do(self):
        move = self.posted_invoice()
        self.connection._store_tokens(Tokens("not-a-token-anaf-knows", "nor-this-one", None, None))
        move.action_einvoice_send()
        document = move.einvoice_document_id
        self.assertEqual(document.state, "error")
        self.assertIn("refused the credentials (HTTP 401: Unauthorized", document.error_message)
        self.assertNotIn("{", document.error_message)  # ANAF's JSON body read, not shown raw
        self.assertIn("Connect to ANAF", document.error_message)

    def test_anaf_out_of_reach_is_told_to_the_person_who_clicked_and_in_the_chatter(self):
        move = self.posted_invoice()
        self.connection.base_url = "http://127.0.0.1:9"  # nothing listens there: the upload never left
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        answer = move.action_einvoice_send()
        self.assertEqual(answer["tag"], "display_notification")
        self.assertEqual(answer["params"]["type"], "warning")
        self.assertIn(move.name, answer["params"]["message"])
        self.assertIn("ANAF", answer["params"]["message"])
        document = move.einvoice_document_id
        self.assertEqual(document.state, "to_send")  # nothing lost: the scheduler sends it later
        self.assertTrue(document.error_message)
        said = move.message_ids.filtered(lambda message: "not sent yet" in (message.body or ""))
        self.assertEqual(len(said), 1)
        document.next_check_at = False
        documents._cron_send()  # the next run meets the same reason: the chatter does not repeat it
        said = move.message_ids.filtered(lambda message: "not sent yet" in (message.body or ""))
        self.assertEqual(len(said), 1)
        self.connection.base_url = self.anaf.url
        documents._cron_send()
        self.assertEqual(document.state, "processing")
        self.assertFalse(document.error_message, "the reason it waited for is past")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_without_a_connection_the_cron_asks_once_and_does_not_stop(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.connection.unlink()  # the administrator removed it
        self.clock.advance(61)
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        move.einvoice_document_id.next_check_at = False
        documents._cron_check()
        documents._cron_check()
        self.assertEqual(move.einvoice_state, "processing")  # still followed, nothing lost
        attention = move.activity_ids.filtered(lambda activity: "not connected to ANAF" in (activity.note or ""))
        self.assertEqual(len(attention), 1)

    def test_a_person_is_sent_to_the_b2c_service_with_the_cnp_or_thirteen_zeros(self):
        for vat, expected in ((False, "0000000000000"), ("1800101221144", "1800101221144")):
            person = self.env["res.partner"].create(
                {
                    "name": "Ion Popescu",
                    "vat": vat,
                    "street": "Strada Florilor 2",
                    "city": "Cluj-Napoca",
                    "state_id": self.customer.state_id.id,
                    "country_id": self.customer.country_id.id,
                }
            )
            move = self.posted_invoice(partner=person)
            move.action_einvoice_send()
            upload = self.anaf.uploads_recorded()[-1]
            self.assertTrue(upload.path.endswith("/uploadb2c"))
            buyer = etree.fromstring(move.einvoice_document_id.attachment_id.raw).find(
                "cac:AccountingCustomerParty/cac:Party", NS
            )
            self.assertEqual(buyer.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS), expected)
            self.assertEqual(move.einvoice_state, "processing")

    def test_the_connection_says_whether_it_is_connected_and_renews_its_tokens_on_request(self):
        self.connection.unlink()  # a company has one connection: this one, from its start
        connection = self.env["l10n_ro_efactura.connection"].create(
            {
                "name": "ANAF (third holder)",
                "base_url": self.anaf.url,
                "client_id": self.anaf.client_id,
                "client_secret": self.anaf.client_secret,
            }
        )
        self.assertEqual(connection.status, "not_connected")
        with self.assertRaisesRegex(UserError, "Not connected yet"):
            connection.action_refresh_tokens()
        issued = self.anaf.issue_tokens()
        connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None), "Ana Pop")
        connection.invalidate_recordset(["status"])
        self.assertEqual(connection.status, "connected")
        answer = connection.action_refresh_tokens()
        self.assertEqual(answer["params"]["type"], "success")
        renewed = connection._decrypt(connection.sudo().access_token_encrypted)
        self.assertNotEqual(renewed, issued["access_token"])
        self.assertEqual(connection.authorised_by, "Ana Pop")  # a renewal is no new authorisation
        connection.refresh_expires_at = fields.Datetime.now() - timedelta(days=1)
        connection.invalidate_recordset(["status"])
        self.assertEqual(connection.status, "ended")
        connection.action_disconnect()
        connection.invalidate_recordset(["status"])
        self.assertEqual(connection.status, "not_connected")
        self.assertFalse(connection.authorised_by or connection.authorised_at, "nobody's authorisation is shown")

    def test_test_connection_and_disconnect(self):
        self.connection.unlink()  # a company has one connection: this one, from its start
        connection = self.env["l10n_ro_efactura.connection"].create(
            {
                "name": "ANAF (second holder)",
                "base_url": self.anaf.url,
                "client_id": self.anaf.client_id,
                "client_secret": self.anaf.client_secret,
            }
        )
        with self.assertRaisesRegex(UserError, "Not connected yet"):
            connection.action_test_connection()

        def connect():
            issued = self.anaf.issue_tokens()
            connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None))
            self.assertEqual(connection.action_test_connection()["params"]["type"], "success")
            return issued["access_token"]

        self.addCleanup(setattr, self.anaf, "revoke_reachable", self.anaf.revoke_reachable)
        self.anaf.revoke_reachable = True
        token = connect()
        connection.action_disconnect()
        self.assertFalse(connection.sudo().access_token_encrypted or connection.access_expires_at)
        self.assertIn("the tokens were revoked", connection.message_ids[0].body)
        self.assertEqual(len(self.anaf.requests_to("/revoke$", "POST")), 2)  # refresh and access token
        with self.assertRaises(AuthenticationError):  # ANAF no longer knows the token
            connection._oauth().smoke_test(token)
        with self.assertRaisesRegex(UserError, "Not connected yet"):
            connection.action_test_connection()

        self.anaf.revoke_reachable = False  # ANAF's usual answer to a server: its login wall
        connect()
        connection.action_disconnect()
        self.assertFalse(connection.sudo().refresh_token_encrypted)  # forgotten here all the same
        self.assertIn("withdraw the access in the ANAF portal", connection.message_ids[0].body)

    def test_posting_queues_the_invoice_and_the_scheduler_sends_it_after_the_hold(self):
        self.env.company.write({"einvoice_send_mode": "posting", "einvoice_hold_days": 2})
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        move = self.posted_invoice()
        queued = move.einvoice_document_id
        self.assertEqual(move.einvoice_state, "to_send")
        documents._cron_send()
        self.assertEqual((queued.state, self.anaf.uploads_recorded()), ("to_send", []))  # held for two days
        move.button_draft()  # corrected while held: the queued attempt goes
        self.assertFalse(move.einvoice_document_ids)
        move.action_post()
        queued = move.einvoice_document_id
        queued.next_check_at = datetime(2000, 1, 1)  # the hold is over
        documents._cron_send()
        documents._cron_send()
        self.assertEqual(queued.state, "processing")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)

    def test_an_invoice_with_a_problem_is_not_queued_and_somebody_is_asked(self):
        self.env.company.einvoice_send_mode = "posting"
        move = self.posted_invoice(partner=self.customer.copy({"state_id": False}))
        self.assertFalse(move.einvoice_document_ids)
        self.assertIn("BR-RO-111", move.activity_ids.note)

    def late_invoice(self):
        """An invoice issued ten days ago and not sent: past ANAF's five working days."""
        return self.init_invoice(
            "out_invoice",
            self.customer,
            fields.Date.today() - timedelta(days=10),
            post=True,
            amounts=[100.0],
            taxes=self.ro_tax("tvac_21"),
        )

    def test_the_five_working_day_deadline_is_announced(self):
        friday = self.init_invoice(
            "out_invoice", self.customer, "2026-11-13", amounts=[100.0], taxes=self.ro_tax("tvac_21")
        )
        self.assertEqual(str(friday._einvoice_deadline("ro_efactura")), "2026-11-20")
        late = self.late_invoice()
        on_time = self.posted_invoice()
        self.env["account.move"]._cron_einvoice_deadlines()
        self.assertIn("must reach RO e-Factura (ANAF) by", late.activity_ids.note)
        self.assertFalse(on_time.activity_ids)

    def test_the_scheduled_reminders_are_in_the_companys_language(self):
        self.env["res.lang"]._activate_lang("ro_RO")
        self.env.company.partner_id.lang = "ro_RO"
        late = self.late_invoice()
        self.env["account.move"].with_context(lang="en_US")._cron_einvoice_deadlines()  # a job has no user language
        self.assertIn("trebuie să ajungă la", late.activity_ids.note)

    def test_credit_notes_as_credit_notes_or_as_negative_invoices(self):
        for as_invoice, root, standard in ((False, "CreditNote", "CN"), (True, "Invoice", "UBL")):
            self.env.company.l10n_ro_efactura_credit_note_as_invoice = as_invoice
            refund = self.init_invoice(
                "out_refund", self.customer, post=True, amounts=[100.0], taxes=self.ro_tax("tvac_21")
            )
            refund.action_einvoice_send()
            upload = self.anaf.uploads_recorded()[-1]
            self.assertEqual(upload.arg("standard"), standard)
            self.assertEqual(etree.QName(etree.fromstring(upload.body)).localname, root)

    def test_validation_at_anaf_first_stops_a_refused_invoice_before_upload(self):
        self.env.company.l10n_ro_efactura_validate_first = True
        self.anaf.validator = lambda xml: ["E: validari globale SCHEMATRON eroare: [BR-RO-999]-Motivul ANAF"]
        self.addCleanup(setattr, self.anaf, "validator", type(self.anaf).__init__.__kwdefaults__["validator"])
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.assertEqual(move.einvoice_state, "rejected")
        self.assertIn("[BR-RO-999]", move.einvoice_document_id.error_message)
        self.assertEqual(self.anaf.uploads_recorded(), [])
        self.assertEqual(len(self.anaf.requests_to("/validare/FACT1$", "POST")), 1)

    def test_anafs_pdf_of_the_invoice_sent(self):
        move = self.posted_invoice()
        with self.assertRaisesRegex(UserError, "first"):
            move.action_l10n_ro_efactura_pdf()
        move.action_einvoice_send()
        action = move.action_l10n_ro_efactura_pdf()
        pdf = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        self.assertTrue(pdf.raw.startswith(b"%PDF"))
        self.assertEqual(
            self.anaf.requests_to("/transformare/", "POST")[-1].body, move.einvoice_document_id.attachment_id.raw
        )

    def test_a_self_billed_invoice_goes_as_389_in_the_suppliers_name(self):
        journal = self.env["account.journal"].create(
            {
                "name": "Self-billing",
                "code": "AUTOF",
                "type": "purchase",
                "is_self_billing": True,
                "default_account_id": self.company_data["default_account_expense"].id,
            }
        )
        supplier = self.customer
        bill = self.init_invoice(
            "in_invoice", supplier, "2026-11-20", amounts=[500.0], taxes=self.ro_tax("tvad_21"), journal=journal
        )
        bill.action_post()
        bill.action_einvoice_send()
        upload = self.anaf.uploads_recorded()[-1]
        self.assertEqual((upload.arg("autofactura"), upload.arg("cif")), ("DA", SELLER_CIF))
        document = etree.fromstring(upload.body)
        self.assertEqual(document.findtext("cbc:InvoiceTypeCode", namespaces=NS), "389")
        seller = document.findtext(
            "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS
        )
        self.assertEqual(seller, supplier.vat)  # the supplier is the seller; we are the buyer
        self.assertEqual(bill.einvoice_state, "processing")
        ordinary = self.init_invoice("in_invoice", supplier, "2026-11-20", post=True, amounts=[10.0])
        with self.assertRaisesRegex(UserError, "Only posted customer invoices"):
            ordinary.action_einvoice_send()  # a supplier's own invoice is theirs to send

    def test_a_company_has_one_anaf_connection(self):
        with self.assertRaisesRegex(ValidationError, "already served by the ANAF connection"):
            self.env["l10n_ro_efactura.connection"].create(
                {"name": "A stale one", "company_ids": [self.env.company.id]}
            )

    def test_one_connection_serves_two_companies(self):
        second = self.setup_other_company(name="Gamma Servicii SRL")["company"]
        second.partner_id.write(
            {
                "vat": f"RO{SECOND_CIF}",
                "street": "Strada Mare 1",
                "city": "Sector 1",
                "zip": "010011",
                "state_id": self.env.ref("base.RO_B").id,
            }
        )
        self.connection.company_ids |= second
        self.anaf.cifs.add(SECOND_CIF)
        self.addCleanup(self.anaf.cifs.discard, SECOND_CIF)
        first_invoice = self.posted_invoice()
        second_tax = self.env.ref(f"account.{second.id}_tvac_21")
        second_invoice = self.init_invoice(
            "out_invoice", self.customer, post=True, amounts=[300.0], taxes=second_tax, company=second
        )
        (first_invoice | second_invoice).with_context(
            allowed_company_ids=[self.env.company.id, second.id]
        ).action_einvoice_send()
        uploads = self.anaf.uploads_recorded()
        self.assertEqual(sorted(upload.arg("cif") for upload in uploads), sorted([SELLER_CIF, SECOND_CIF]))
        self.assertEqual(len({upload.headers.get("Authorization") for upload in uploads}), 1)  # one token
        self.assertEqual((first_invoice | second_invoice).mapped("einvoice_state"), ["processing", "processing"])

    def test_anafs_daily_status_limit_is_kept_across_runs(self):
        move = self.posted_invoice()
        move.action_einvoice_send()
        index = move.einvoice_document_id.platform_reference
        for _run in range(Limits().status_per_message + 3):  # ANAF still processing: asked again and again
            move.action_einvoice_check()
        self.assertEqual(len(self.anaf.requests_to("/stareMesaj", "GET")), Limits().status_per_message)
        self.assertEqual(move.einvoice_state, "processing")  # not lost: asked again tomorrow
        usage = self.env["l10n_ro_efactura.api.usage"].search([("subject", "=", index)])
        self.assertEqual((usage.limit_name, usage.count), ("status_per_message", Limits().status_per_message))
        self.clock.advance(24 * 3600)  # the next day in Romania
        move.action_einvoice_check()
        self.assertEqual(move.einvoice_state, "accepted")

    def test_anafs_calls_a_minute_are_counted_over_every_client_of_the_connection(self):
        """Each invoice and each received message gets its own client: the minute's calls are counted across them."""
        self.env["ir.config_parameter"].set_param("l10n_ro_efactura.calls_per_minute", "3")  # ANAF lowered it
        waits = []

        def wait(seconds):
            waits.append(seconds)
            self.clock.advance(seconds)

        self.patch(type(self.connection), "_sleep", staticmethod(wait))
        first, second = self.connection._anaf_client(), self.connection._anaf_client()
        for client in (first, second, first):
            client.messages(SELLER_CIF, days=1)
        self.assertEqual(waits, [])
        calls = self.env["account.einvoice.platform.call"]
        bucket = [("bucket", "=", f"anaf:{self.connection.id}")]
        self.assertEqual(calls.search_count(bucket), 3, "counted in the database, where every worker sees them")
        second.messages(SELLER_CIF, days=1)  # the minute's fourth call waits for the first one's minute to end
        self.assertEqual(len(waits), 1)
        self.assertAlmostEqual(waits[0], counted_period(60), delta=1e-3)
        self.assertEqual(len(self.anaf.requests_to("/listaMesajeFactura", "GET")), 4)
        self.assertEqual(calls.search_count(bucket), 1, "the calls that left the minute are forgotten")

    def test_the_calls_a_minute_setting_must_be_a_positive_number(self):
        parameters = self.env["ir.config_parameter"]
        for value in ("0", "-5", "many"):
            parameters.set_param("l10n_ro_efactura.calls_per_minute", value)
            with self.assertLogs("odoo.addons.l10n_ro_efactura.models.l10n_ro_efactura_connection", "WARNING"):
                self.assertEqual(self.connection._limits().calls_per_minute, Limits().calls_per_minute)
        parameters.set_param("l10n_ro_efactura.calls_per_minute", "100")  # the older OAuth guide's figure
        self.assertEqual(self.connection._limits().calls_per_minute, 100)
        self.assertEqual(self.connection._limits().status_per_message, Limits().status_per_message)

    def test_a_daily_limit_is_counted_in_one_step(self):
        usage = self.env["l10n_ro_efactura.api.usage"]
        key = ("2026-11-20", "downloads_per_message", "3000000001")
        self.assertEqual([usage.take(key, 2) for _call in range(3)], [True, True, False])
        self.assertEqual(usage.search([("subject", "=", key[2])]).count, 2)

    def test_sending_a_queued_invoice_by_hand_sends_it_once(self):
        self.env.company.write({"einvoice_send_mode": "posting", "einvoice_hold_days": 2})
        documents = self.env["account.einvoice.document"]
        self.patch(type(documents), "_commit", lambda self: None)
        move = self.posted_invoice()
        self.assertIn("Send now", buttons_shown(move))
        self.assertNotIn("Send to ANAF", buttons_shown(move))
        move.action_einvoice_send()  # no need to wait for the hold
        self.assertNotIn("Send now", buttons_shown(move))
        self.assertEqual(len(move.einvoice_document_ids), 1)  # the queued attempt went, no second one
        move.einvoice_document_id.next_check_at = datetime(2000, 1, 1)
        documents._cron_send()
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)
        self.assertEqual(move.einvoice_state, "processing")

    def test_fetch_messages_now_settles_the_invoices_anaf_answered(self):
        # the simulator outlives each test's rollback: this test starts an empty SPV
        self.anaf.messages.clear()
        self.anaf.uploads.clear()
        move = self.posted_invoice()
        move.action_einvoice_send()
        self.clock.advance(self.processing_seconds + 120)  # ANAF decided, and lists its message a moment later
        self.assertIn("Fetch messages now", buttons_shown(self.connection))
        answer = self.connection.action_fetch_messages()
        self.assertEqual(answer["params"]["message"], "1 new message(s) from ANAF's SPV.")
        self.assertEqual(move.einvoice_state, "accepted")
        answer = self.connection.action_fetch_messages()
        self.assertEqual(answer["params"]["message"], "0 new message(s) from ANAF's SPV.")  # stored once
        self.connection.base_url = "http://127.0.0.1:9"  # nothing listens there
        with self.assertRaisesRegex(UserError, "ANAF did not list the messages"):
            self.connection.action_fetch_messages()

    def test_the_anaf_upload_index_shows_on_the_invoice_and_as_an_optional_column(self):
        move = self.posted_invoice()
        on_the_form = "//field[@name='l10n_ro_efactura_index']"
        self.assertEqual(shown_on_form(move, on_the_form), [])
        move.action_einvoice_send()
        self.assertEqual(move.l10n_ro_efactura_index, move.einvoice_document_id.platform_reference)
        self.assertTrue(move.l10n_ro_efactura_index)
        self.assertEqual(len(shown_on_form(move, on_the_form)), 1)
        found = self.env["account.move"].search([("l10n_ro_efactura_index", "=", move.l10n_ro_efactura_index)])
        self.assertEqual(found, move)  # stored: ANAF's messages and SPV name it by its index
        for view in ("account.view_out_invoice_tree", "account.view_out_credit_note_tree"):
            self.assertEqual(list_columns(self.env, view).get("l10n_ro_efactura_index"), "hide")

    def test_posting_a_vendor_bill_leaves_the_queue_alone(self):
        self.env.company.einvoice_send_mode = "posting"
        bill = self.init_invoice("in_invoice", self.customer, "2026-11-20", post=True, amounts=[10.0])
        self.assertFalse(bill.einvoice_document_ids or bill.activity_ids)
