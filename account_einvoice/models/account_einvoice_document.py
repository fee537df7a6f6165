import logging
from datetime import timedelta

import psycopg2

from odoo import api, fields, models, modules

from einvoice.http import (
    AuthenticationError,
    OutcomeUnknownError,
    PlatformUnavailableError,
    RateLimitedError,
    TransportError,
)

from ..tools.queue import lock_next

_logger = logging.getLogger(__name__)

STATES = [
    ("to_send", "To send"),
    ("sending", "Sending"),
    ("processing", "Processing"),
    ("accepted", "Accepted"),
    ("rejected", "Rejected"),
    ("unknown", "Outcome unknown"),
    ("error", "Error"),
]
# far beyond any upload's timeouts: an attempt "sending" for longer was left by a worker that died
STUCK = timedelta(minutes=15)
# an invoice with a document in one of these states is at the platform, or may be: it is never sent again
AT_THE_PLATFORM = ("sending", "processing", "accepted", "unknown")


def due():
    """The domain of the queued or processing documents whose next try or check has come."""
    return ["|", ("next_check_at", "=", False), ("next_check_at", "<=", fields.Datetime.now())]


class AccountEinvoiceDocument(models.Model):
    """One attempt to clear an invoice through a national platform; every attempt is kept.

    The platform add-ons implement, per ``platform`` code: ``_<platform>_upload()`` (send, and say what became of
    it), ``_<platform>_check()`` (ask how a processing document stands) and ``_<platform>_resolve()`` (find out what
    became of an upload whose answer was lost). Each returns nothing and moves the document on with
    :meth:`_set_state`; transport problems are raised as the library's typed errors and handled here, once.
    """

    _name = "account.einvoice.document"
    _description = "E-invoice document"
    _order = "create_date desc, id desc"

    move_id = fields.Many2one("account.move", string="Invoice", required=True, ondelete="restrict", index=True)
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    platform = fields.Selection(selection=[], required=True, help="The national platform this attempt goes through.")
    state = fields.Selection(STATES, required=True, default="to_send", index=True)
    error_message = fields.Text(string="Errors", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", string="Document sent", readonly=True, help="The exact XML sent.")
    response_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Platform's answer",
        readonly=True,
        help="What the platform returned, byte for byte (ANAF's signed archive, KSeF's UPO): the legal original.",
    )
    platform_reference = fields.Char(
        readonly=True, help="The platform's reference of the upload (ANAF upload index, KSeF invoice reference)."
    )
    platform_number = fields.Char(
        readonly=True, help="The platform's number of the result (ANAF download id, KSeF number)."
    )
    sent_at = fields.Datetime(readonly=True)
    next_check_at = fields.Datetime(readonly=True, index=True)
    check_count = fields.Integer(readonly=True)

    # -- transitions ---------------------------------------------------------------------------------------------
    def _set_state(self, state, message=None, **values):
        """Move to ``state`` and say so in the invoice's chatter (with ``message``, the platform's words)."""
        self.ensure_one()
        values["state"] = state
        if state in ("rejected", "error") and message:
            values["error_message"] = message
        elif state in ("processing", "accepted"):
            values["error_message"] = False  # a reason the upload waited for is past
        self.write(values)
        label = dict(self._fields["state"]._description_selection(self.env))[state]  # in the reader's language
        body = self.env._("E-invoice (%(platform)s): %(state)s.", platform=self._platform_label(), state=label)
        self.move_id.message_post(body=f"{body} {message}" if message else body)
        if state in ("rejected", "error", "unknown"):
            self.move_id._einvoice_ask_for_attention(message or label)
        elif state == "accepted":
            self.move_id._einvoice_attention_done(body)

    @api.model
    def _platform_labels(self):
        """Each platform code with its name, in the user's language."""
        return dict(self._fields["platform"]._description_selection(self.env))

    def _platform_label(self):
        return self._platform_labels().get(self.platform, self.platform)

    def _attach(self, name, content, mimetype):
        return self.env["ir.attachment"].create(
            {"name": name, "raw": content, "mimetype": mimetype, "res_model": "account.move", "res_id": self.move_id.id}
        )

    # -- the queue -------------------------------------------------------------------------------------------------
    def _commit(self):
        """Make the step durable before the next network call (not inside tests, which roll back)."""
        if not modules.module.current_test:
            # the design needs it: "sending" is durable before the platform is called, so nothing is sent twice
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cron_send(self, limit=50):
        for document in lock_next(self, [("state", "=", "to_send"), *due()], limit):
            document.company_id._einvoice_in_lang(document)._send()

    def _still_ours(self, state):
        """Whether this document of the run is still in ``state``, locked again for this transaction: the run
        commits after each document, which frees the others it had locked, and another worker may have taken one
        since. The lock is taken without waiting (SKIP LOCKED); a row another worker changed since this transaction
        began cannot be locked under Odoo's repeatable-read transactions (a serialization failure): it is theirs."""
        self.ensure_one()
        self.flush_recordset()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT state FROM account_einvoice_document WHERE id = %s FOR UPDATE SKIP LOCKED",
                    [self.id],
                    log_exceptions=False,
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            row = None
        self.invalidate_recordset()  # what the cache holds may be older than the last commit
        return bool(row) and row[0] == state

    @api.model
    def _cron_check(self, limit=100):
        for document in lock_next(self, [("state", "=", "processing"), *due()], limit):
            if document._still_ours("processing"):
                document.company_id._einvoice_in_lang(document)._platform_call("check")
                document._commit()

    @api.model
    def _cron_resolve(self, limit=50):
        # a worker that died during an upload left its attempt "sending": what became of it is asked, like a lost
        # answer
        stuck = [("state", "=", "sending"), ("sent_at", "<", fields.Datetime.now() - STUCK)]
        for document in lock_next(self, stuck, limit):
            document = document.company_id._einvoice_in_lang(document)
            document._set_state(
                "unknown", document.env._("The upload was interrupted before its answer came: the platform is asked.")
            )
        for document in lock_next(self, [("state", "=", "unknown")], limit):
            if document._still_ours("unknown"):
                document.company_id._einvoice_in_lang(document)._platform_call("resolve")
                document._commit()

    def _send(self):
        """Upload one document: ``sending`` is committed first, so a crash mid-call leaves a trace that is resolved
        by asking the platform, never by sending again."""
        self.ensure_one()
        # a person and the scheduler, or two workers, may reach the same queued attempt at once: one takes it
        if not self._still_ours("to_send"):
            return
        self.write({"state": "sending", "sent_at": fields.Datetime.now()})
        self._commit()
        self._platform_call("upload")
        self._commit()

    def _platform_call(self, step):
        try:
            getattr(self, f"_{self.platform}_{step}")()
        except TransportError as error:
            self._platform_failed(step, error)

    def _back_in_queue(self, reason):
        """The upload did not take effect (the platform out of reach, its limits reached): the attempt waits in the
        queue for the next scheduled run, with ``reason`` shown on it. The invoice's chatter says so once for each
        new reason, not at every run that meets the same one."""
        first_time = self.error_message != reason
        self.write({"state": "to_send", "error_message": reason})
        if first_time:
            self.move_id.message_post(
                body=self.env._(
                    "E-invoice (%(platform)s): not sent yet. %(reason)s It waits in the queue and goes with the next "
                    "scheduled run.",
                    platform=self._platform_label(),
                    reason=reason,
                )
            )

    def _platform_failed(self, step, error):
        """What a transport problem of ``step`` leaves the document in (a platform add-on that sends several
        documents in one call hands the one answer to each)."""
        text = self._platform_error_text(error)
        if isinstance(error, OutcomeUnknownError):
            self._set_state("unknown", text)
        elif isinstance(error, (RateLimitedError, PlatformUnavailableError)):
            if step == "upload":  # refused before taking effect: back in the queue
                self._back_in_queue(text)
            level = logging.INFO if isinstance(error, RateLimitedError) else logging.WARNING
            _logger.log(level, "e-invoice %s: %s", self.id, error)
        elif self.state == "sending":
            self._set_state("error", text)
        else:
            self.move_id._einvoice_ask_for_attention(text)

    def _platform_error_text(self, error):
        """``error`` in the user's language; when the platform refused the stored credentials, with what an
        administrator does about it."""
        text = error.translated(self.env.lang)
        hint = self._platform_sign_in_hint() if isinstance(error, AuthenticationError) else ""
        return f"{text} {hint}" if hint else text

    def _platform_sign_in_hint(self):
        """What an administrator does when the platform refuses the stored credentials (a platform add-on says)."""
        return ""
