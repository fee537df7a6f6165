import hashlib
import logging

import psycopg2
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import mute_logger

from einvoice.errors import EInvoiceError
from einvoice.http import PlatformUnavailableError, RateLimitedError
from einvoice.inbound import read_received

from ..tools.bill_import import BillImporter
from ..tools.notification import notification
from ..tools.queue import lock_next

_logger = logging.getLogger(__name__)

INBOX_STATES = [
    ("new", "New"),
    ("to_review", "To review"),
    ("imported", "Imported"),
    ("failed", "Failed"),
    ("done", "Done"),
    ("discarded", "Discarded"),
]
# a supplier invoice that became a bill, until the bill is posted or somebody says the message was reviewed
WITH_BILL = ("to_review", "imported")
KINDS = [
    ("invoice", "Supplier invoice"),
    ("sent", "Invoice we sent"),
    ("error", "Errors in an invoice we sent"),
    ("buyer_message", "Buyer's message"),
]
UPLOAD = "upload"  # the platform code of files imported by hand
# new messages taken a run: their downloads and PDFs stay inside the platforms' per-minute limits
PROCESS_BATCH = 200


class AccountEinvoiceInbox(models.Model):
    """One message received from a national platform (or one file imported by hand), kept forever.

    The message is stored as it came before anything reads it, keyed by its platform id, so fetching it twice
    (two runs, two workers) keeps one record, and a message that cannot be read stays with its error and a retry.
    Supplier invoices become draft vendor bills, or are linked to the bill already entered by hand. Messages about
    invoices we sent go to the platform add-on, which implements ``_<platform>_take_message()``; it may also
    implement ``_<platform>_fetch()`` to download a message stored without its content, and
    ``_<platform>_pdf(received)`` to render an invoice that came without its PDF.
    """

    _name = "account.einvoice.inbox"
    _description = "Received e-invoice message"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "received_at desc, id desc"
    _check_company_auto = True

    name = fields.Char(compute="_compute_name", store=True)
    platform = fields.Selection(
        selection=[(UPLOAD, "Imported by hand")], required=True, readonly=True, help="Where the message came from."
    )
    platform_id = fields.Char(
        string="Message id", required=True, readonly=True, help="The platform's id of the message (ANAF download id)."
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    kind = fields.Selection(KINDS, required=True, default="invoice", readonly=True)
    state = fields.Selection(
        INBOX_STATES,
        required=True,
        default="new",
        index=True,
        compute="_compute_state",
        store=True,
        readonly=False,  # the processing writes it; the views show it read-only
        help="A supplier invoice's message is done once its bill is posted or it is marked as reviewed. Discarded: "
        "kept for the record, not imported.",
    )
    received_at = fields.Datetime(readonly=True, help="When the platform made the message available.")
    partner_vat = fields.Char(string="Counterparty tax id", readonly=True)
    partner_name = fields.Char(string="Counterparty", readonly=True)
    details = fields.Text(readonly=True, help="What the platform says about the message.")
    platform_reference = fields.Char(
        readonly=True, help="The platform's reference of the upload the message is about (ANAF upload index)."
    )
    raw_attachment_id = fields.Many2one(
        "ir.attachment", string="Message as received", readonly=True, help="The file as the platform sent it."
    )
    invoice_number = fields.Char(readonly=True)
    invoice_date = fields.Date(readonly=True)
    # the messages are in many currencies: a sum of their amounts means nothing
    amount_total = fields.Monetary(string="Total", currency_field="currency_id", readonly=True, aggregator=None)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_difference = fields.Monetary(
        currency_field="currency_id",
        readonly=True,
        aggregator=None,
        help="The bill's total minus the total the invoice states: anything but zero needs a look.",
    )
    move_id = fields.Many2one("account.move", string="Vendor bill", readonly=True, index=True, check_company=True)
    document_id = fields.Many2one(
        "account.einvoice.document", string="Invoice sent", readonly=True, help="Our attempt the message is about."
    )
    match_report = fields.Text(string="How it was matched", readonly=True)
    error_message = fields.Text(string="Errors", readonly=True)
    notified = fields.Boolean(readonly=True, help="The accountants have been told about this message.")

    _unique_message = models.Constraint(
        "UNIQUE(platform, company_id, platform_id)", "This message is already in the inbox."
    )

    @api.depends("partner_name", "invoice_number", "invoice_date", "platform", "platform_id", "received_at")
    def _compute_name(self):
        """The supplier, the invoice's number and date once they are known; until then where the message came from,
        its id (a file imported by hand is known by the start of its SHA-256) and when it came."""
        for message in self:
            if message.partner_name or message.invoice_number:
                parts = [message.partner_name, message.invoice_number, message.invoice_date]
            else:
                platform_id = message.platform_id or ""
                parts = [
                    message._platform_label(),
                    platform_id[:12] if message.platform == UPLOAD else platform_id,
                    message.received_at and message.received_at.date(),
                ]
            message.name = " - ".join(str(part) for part in parts if part)

    @api.depends("move_id.state")
    def _compute_state(self):
        """A supplier invoice's message follows its bill: done once the bill is posted; back to review when the bill
        is cancelled or deleted, to be imported again or discarded."""
        for message in self:
            state = message.state or "new"
            if message.kind == "invoice":
                bill_state = message.move_id.state
                if bill_state == "posted" and state in WITH_BILL:
                    state = "done"
                elif bill_state in (False, "cancel") and state in ("imported", "done"):
                    state = "to_review"
            message.state = state

    # -- storing ---------------------------------------------------------------------------------------------------
    @api.model
    def _store(self, values, raw=None, raw_name=None):
        """The inbox record of a platform message, created from ``values`` the first time only.

        ``raw`` (bytes) is the message as received. Two workers fetching the same message at once both reach the
        unique constraint: the second one gets an empty recordset (the message is the other worker's; its
        transaction cannot see it yet) and goes on.
        """
        key = [
            ("platform", "=", values["platform"]),
            ("company_id", "=", values["company_id"]),
            ("platform_id", "=", values["platform_id"]),
        ]
        existing = self.search(key, limit=1)
        if existing:
            return existing
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():  # the clash is expected: not an error
                message = self.create(values)
        except psycopg2.IntegrityError:
            return self.search(key, limit=1)
        if raw is not None:
            message._keep_raw(raw, raw_name or f"{values['platform_id']}.xml")
        return message

    @api.model
    def _stored_ids(self, platform, company, platform_ids):
        """Which of ``platform_ids`` (a page of a platform's messages) ``company`` has stored already: one query."""
        stored = self.search(
            [("platform", "=", platform), ("company_id", "=", company.id), ("platform_id", "in", list(platform_ids))]
        )
        return set(stored.mapped("platform_id"))

    def _keep_raw(self, raw, name):
        self.raw_attachment_id = self.env["ir.attachment"].create(
            {"name": name, "raw": raw, "res_model": self._name, "res_id": self.id}
        )

    @api.model
    def _import_file(self, content, filename):
        """An e-invoice file (XML, or a platform's ZIP) imported by hand: stored, then read like a received one."""
        message = self._store(
            {
                "platform": UPLOAD,
                "platform_id": hashlib.sha256(content).hexdigest(),  # the same file imported twice is one message
                "company_id": self.env.company.id,
                "kind": "invoice",
                "received_at": fields.Datetime.now(),
            },
            content,
            filename,
        )
        if not message:
            raise UserError(self.env._("This file is being imported by somebody else right now."))
        if message.state == "new":
            message._process()
        return message

    # -- processing ------------------------------------------------------------------------------------------------
    @api.model
    def _lock_new(self, limit):
        return lock_next(self, [("state", "=", "new")], limit)

    @api.model
    def _cron_process(self):
        """Up to ``PROCESS_BATCH`` new messages a run; when more are waiting, the run is scheduled again at once."""
        limit = PROCESS_BATCH
        messages = self._lock_new(limit)
        for company, batch in messages.grouped("company_id").items():
            company._einvoice_in_lang(batch)._process()
        self.env["account.einvoice.document"]._commit()
        if len(messages) == limit and any(message.state != "new" for message in messages):
            self.env.ref("account_einvoice.ir_cron_einvoice_inbox_process")._trigger()

    def _without_bill(self):
        """The messages still to be imported: new or failed ones, and those whose bill was deleted."""
        return self.filtered(
            lambda message: message.state in ("new", "failed") or (message.state == "to_review" and not message.move_id)
        )

    def action_retry(self):
        """Read and import the messages again (a discarded one too); say what came of it."""
        retried = self._without_bill() | self.filtered(lambda message: message.state == "discarded")
        if not retried:
            raise UserError(
                self.env._("Only new, failed or discarded messages, or those whose bill was deleted, can be retried.")
            )
        retried.write({"state": "new", "error_message": False})
        retried._process()
        return retried._retry_notification()

    def _retry_notification(self):
        """What a retry did, for the person who asked for it."""
        failed = self.filtered(lambda message: message.state == "failed")
        waiting = self.filtered(lambda message: message.state == "new")
        if len(self) == 1 and failed:
            message = self.env._("%(name)s still fails: %(reason)s", name=self.name, reason=self.error_message)
        elif len(self) == 1 and self.move_id:
            message = (
                self.env._(
                    "%(name)s imported into %(bill)s; it needs a review.",
                    name=self.name,
                    bill=self.move_id.display_name,
                )
                if self.state == "to_review"
                else self.env._("%(name)s imported into %(bill)s.", name=self.name, bill=self.move_id.display_name)
            )
        elif len(self) == 1 and waiting:
            message = self.env._("%(name)s waits for the platform: it is retried at the next run.", name=self.name)
        elif len(self) == 1:
            message = self.env._("%(name)s processed.", name=self.name)
        else:
            message = self.env._(
                "%(done)s message(s) processed, %(failed)s still failing, %(waiting)s waiting for the platform.",
                done=len(self - failed - waiting),
                failed=len(failed),
                waiting=len(waiting),
            )
        kind = "danger" if failed else "warning" if waiting else "success"
        return notification(message, kind=kind, sticky=bool(failed), reload=True)

    def action_mark_reviewed(self):
        """The bills were checked: their messages are done, whether the bills are posted yet or not."""
        reviewed = self.filtered(lambda message: message.state in WITH_BILL)
        if not reviewed:
            raise UserError(self.env._("Only messages imported into a bill can be marked as reviewed."))
        reviewed.state = "done"
        for message in reviewed:
            message._message_log(body=self.env._("Marked as reviewed by %(user)s.", user=self.env.user.name))
        return notification(self.env._("%(count)s message(s) marked as reviewed.", count=len(reviewed)), reload=True)

    def action_discard(self):
        """Messages nobody will import: kept for the record, with what was received, and left alone by the runs."""
        discarded = self._without_bill()
        if not discarded:
            raise UserError(
                self.env._("Only new or failed messages, or those whose bill was deleted, can be discarded.")
            )
        discarded.state = "discarded"
        for message in discarded:
            message._message_log(body=self.env._("Discarded by %(user)s.", user=self.env.user.name))
        return notification(self.env._("%(count)s message(s) discarded.", count=len(discarded)), reload=True)

    def action_open_bill(self):
        self.ensure_one()
        return self.move_id._get_records_action() if self.move_id else False

    def _process(self):
        """Read, match and import the invoices; hand the other messages to their platform. Each message fails on
        its own: the others go on."""
        invoices = self.filtered(lambda message: message.kind == "invoice")
        for message in self - invoices:
            message._guarded(lambda message=message: message._take_platform_message())
        for message in invoices.filtered(lambda message: not message.raw_attachment_id):
            message._guarded(message._fetch)  # kept even if reading it fails next
        received = {}
        for message in invoices.filtered("raw_attachment_id"):
            message._guarded(lambda message=message: received.update({message: message._read()}))
        for company, messages in self.browse([message.id for message in received]).grouped("company_id").items():
            messages.with_company(company)._import_all({message: received[message] for message in messages})

    def _import_all(self, received):
        """The invoices of one company: matched one by one, their bills made together, then each finished."""
        importer = BillImporter(self.env, list(received.values()))
        pending = {}

        def prepare(message):
            pending[message] = importer._prepare(received[message])

        for message in self:
            message._guarded(lambda message=message: prepare(message))
        importer._create_bills(list(pending.values()))
        for message, bill in pending.items():
            message._guarded(lambda message=message, bill=bill: message._import(importer, bill))

    def _guarded(self, step):
        """Run ``step``; what it cannot do leaves the message failed with the reason, the rest of the run goes on."""
        try:
            with self.env.cr.savepoint():
                step()
        except (RateLimitedError, PlatformUnavailableError) as error:  # the platform asks us to come back later
            _logger.info("e-invoice inbox message %s waits: %s", self.id, error)
        except EInvoiceError as error:
            self._fail(error.translated(self.env.lang))
        except UserError as error:
            self._fail(str(error))
        # a message is never lost to one unforeseen case: it fails with the reason, and can be retried
        except Exception as error:  # pylint: disable=broad-exception-caught
            _logger.exception("e-invoice inbox message %s could not be processed", self.id)
            self._fail(self.env._("Unexpected error: %(error)s", error=error))

    def _fail(self, reason):
        self.write({"state": "failed", "error_message": reason})
        self.message_post(body=reason)

    def _take_platform_message(self):
        handler = getattr(self, f"_{self.platform}_take_message", None)
        if handler:
            handler()
        else:
            self.state = "done"

    def _fetch(self):
        """Get the message's content from its platform (it was stored before it could be downloaded)."""
        fetch = getattr(self, f"_{self.platform}_fetch", None)
        if not fetch:
            raise UserError(self.env._("The message has no content and its platform cannot give it again."))
        fetch()

    def _read(self):
        received = read_received(self.raw_attachment_id.raw, self.raw_attachment_id.name)
        invoice = received.invoice
        self.write(
            {
                "invoice_number": invoice.number,
                "invoice_date": invoice.issue_date,
                "partner_name": self.partner_name or (invoice.seller and invoice.seller.name),
                "partner_vat": self.partner_vat or (invoice.seller and invoice.seller.vat_id),
            }
        )
        return received

    def _import(self, importer, pending):
        """Make the bill of the pending invoice, link this message to it and say how it was matched; the outcome is
        returned."""
        outcome = importer._finish(pending)
        bill, received = outcome.bill, pending.received
        self._attach_to(bill, received)
        report = outcome.report
        self.write(
            {
                "move_id": bill.id,
                "state": "to_review" if outcome.needs_review else "imported",
                "currency_id": bill.currency_id.id,
                "amount_total": outcome.stated_total,
                "amount_difference": outcome.difference,
                "match_report": "\n".join(report),
                "error_message": False,
            }
        )
        bill._message_log(
            body=self.env._(
                "E-invoice %(number)s received through %(platform)s:\n%(report)s",
                number=received.invoice.number or "",
                platform=self._platform_label(),
                report="\n".join(report),
            )
        )
        return outcome

    def _attach_to(self, bill, received):
        """The invoice's files on the bill: the platform's original, the XML, its signature and a PDF."""
        files = {}
        if self.raw_attachment_id.name != received.xml_name:
            files[self.raw_attachment_id.name] = self.raw_attachment_id.raw
        files[received.xml_name] = received.xml
        files.update(received.files)
        pdf = received.pdf() or self._platform_pdf(received)
        if pdf:
            files.setdefault(*pdf)
        known = set(
            self.env["ir.attachment"]
            .search([("res_model", "=", "account.move"), ("res_id", "=", bill.id), ("name", "in", list(files))])
            .mapped("name")
        )
        attachments = self.env["ir.attachment"].create(
            [
                {"name": name, "raw": content, "res_model": "account.move", "res_id": bill.id}
                for name, content in files.items()
                if name not in known
            ]
        )
        pdf_attachment = attachments.filtered(lambda attachment: attachment.mimetype == "application/pdf")[:1]
        if pdf_attachment and not bill.message_main_attachment_id:
            bill.message_main_attachment_id = pdf_attachment

    def _platform_pdf(self, received):
        renderer = getattr(self, f"_{self.platform}_pdf", None)
        try:
            return renderer(received) if renderer else None
        except EInvoiceError as error:  # the bill is complete without it: say why it is missing
            self.message_post(body=self.env._("No PDF: %(error)s", error=error.translated(self.env.lang)))
            return None

    def _platform_label(self):
        return dict(self._fields["platform"]._description_selection(self.env)).get(self.platform, self.platform)

    # -- telling the accountants -----------------------------------------------------------------------------------
    @api.model
    def _cron_notify(self):
        """One digest per company: a mail and an activity for each accountant, about new bills and failures."""
        pending = self.search(
            [("notified", "=", False), "|", ("state", "=", "failed"), ("move_id", "!=", False)], order="id"
        )
        for company, messages in pending.grouped("company_id").items():
            # each accountant reads the digest in their own language
            for lang, users in company.einvoice_accountant_ids.grouped(lambda user: user.lang or "en_US").items():
                messages.with_context(lang=lang)._send_digest(users)
            messages.notified = True

    def _send_digest(self, users):
        bills = self.filtered("move_id")
        failed = self.filtered(lambda message: message.state == "failed")
        summary = self.env._(
            "E-invoices received: %(bills)s bill(s) to check, %(failed)s message(s) failed",
            bills=len(bills),
            failed=len(failed),
        )
        states = dict(self._fields["state"]._description_selection(self.env))
        lines = [
            self.env._(
                "%(name)s: %(state)s %(bill)s",
                name=message.name,
                state=states[message.state],
                bill=message.move_id.display_name or message.error_message or "",
            )
            for message in self
        ]
        body = Markup("<p>%s</p><ul>%s</ul>") % (summary, Markup().join(Markup("<li>%s</li>") % line for line in lines))
        self.env["mail.mail"].sudo().create(
            {
                "subject": summary,
                "body_html": body,
                "recipient_ids": [(6, 0, users.partner_id.ids)],
                "auto_delete": True,
            }
        )
        latest = self[-1]
        for user in users:
            latest.activity_schedule("mail.mail_activity_data_todo", user_id=user.id, summary=summary, note=body)
