from odoo import Command
from odoo.tests import HttpCase, tagged

from einvoice import ubl

from .common import LANGUAGES, speak
from .test_inbox import InboxCommon


@tagged("post_install", "-at_install")
class TestReviewTour(InboxCommon, HttpCase):
    """An accountant opens a received invoice that waits for review, checks and posts its bill, and finds the
    received invoice done, in each language the add-on speaks."""

    def test_the_accountant_reviews_a_received_invoice_to_the_end(self):
        accountant = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "einvoice_accountant",
                "password": "einvoice_accountant",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "group_ids": [
                    Command.link(self.env.ref("account.group_account_manager").id),
                    Command.link(self.env.ref("account_einvoice.group_einvoice_user").id),
                ],
            }
        )
        for index, lang in enumerate(LANGUAGES):
            with self.subTest(lang=lang):
                speak(accountant, lang, ["account_einvoice"])
                message = self.receive(ubl.write(self.invoice(number=f"PM-20{index}")))
                message.state = "to_review"  # whatever made it so, the accountant is to look
                self.start_tour(
                    f"/odoo/action-account_einvoice.action_account_einvoice_inbox/{message.id}",
                    "account_einvoice_review_received_bill",
                    login=accountant.login,
                )
                message.invalidate_recordset()
                self.assertEqual(message.state, "done")
                self.assertEqual(message.move_id.state, "posted")
