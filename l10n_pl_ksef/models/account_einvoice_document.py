import contextlib
import threading
from datetime import datetime, timedelta

from odoo import api, fields, models

from odoo.addons.account_einvoice.models.account_einvoice_document import due
from odoo.addons.account_einvoice.tools.queue import lock_next

from einvoice.http import TransportError
from einvoice.pl.crypto import FileDigest
from einvoice.pl.fa3 import Fa3Error
from einvoice.pl.ksef import (
    ACCEPTED,
    DUPLICATE,
    PENDING,
    RETRY,
    BatchSession,
    KsefRequestError,
    OnlineSession,
    Sessions,
    choose_session,
)
from einvoice.pl.offline import TECHNICALLY_CORRECTABLE

CHECK_DELAYS = (1, 2, 5, 10, 30, 60)  # minutes between status questions: KSeF usually numbers within seconds
UPO_NOT_READY = 21178  # KSeF: no UPO for these criteria (yet)
REFERENCE_SEPARATOR = "/"  # platform_reference: "<session reference>/<invoice reference>"
BATCH_SIZE = 1000  # invoices in one batch session: KSeF takes 10 000, a run keeps their XML in memory
# the online sessions a scheduled run of this worker thread shares, by connection
_RUN = threading.local()


class AccountEinvoiceDocument(models.Model):
    _inherit = "account.einvoice.document"

    platform = fields.Selection(selection_add=[("pl_ksef", "KSeF (Poland)")], ondelete={"pl_ksef": "cascade"})

    l10n_pl_ksef_code = fields.Integer(
        string="KSeF status code", readonly=True, help="The status KSeF gave the invoice when it rejected it."
    )
    l10n_pl_ksef_corrected_id = fields.Many2one(
        "account.einvoice.document",
        string="Technical correction of",
        readonly=True,
        help="This attempt sends again, as KSeF's technical correction, an invoice issued offline that KSeF rejected "
        "for a technical reason: KSeF links the two, and the buyer's QR code of the rejected file leads to this one.",
    )

    # -- KSeF access -----------------------------------------------------------------------------------------------
    def _platform_sign_in_hint(self):
        if self.platform != "pl_ksef":
            return super()._platform_sign_in_hint()
        return self.env._(
            "An administrator checks the KSeF connection: Accounting > Configuration > KSeF connections, Verify "
            "connection."
        )

    def _pl_ksef_connection(self):
        return self.company_id._l10n_pl_ksef_connection(required=True)

    def _pl_ksef_sessions(self):
        return Sessions(*self._pl_ksef_connection()._ksef_signed_in())

    def _pl_ksef_references(self):
        """``(session reference, invoice reference)`` of the upload; either is False while unknown."""
        session, _separator, invoice = (self.platform_reference or "").partition(REFERENCE_SEPARATOR)
        return session or False, invoice or False

    # -- the three steps ---------------------------------------------------------------------------------------------
    def _pl_ksef_upload(self):
        self._pl_ksef_connection()._ksef_signed_in()  # a connection missing its secrets stops here, before anything
        xml = self._pl_ksef_xml()
        if xml:
            self._pl_ksef_send(xml)

    def _pl_ksef_xml(self):
        """The FA(3) bytes to send, made once per attempt and kept with it; False (and the attempt in error) when
        our checks refuse the invoice. An attempt sent again sends the same bytes, so that KSeF knows them for the
        same invoice if the first sending did arrive; an invoice issued offline has them since it was issued (the
        buyer's QR code is made of them)."""
        if self.attachment_id:
            return self.attachment_id.raw
        move = self.move_id
        try:
            xml = move._l10n_pl_ksef_xml()
        except Fa3Error as refusal:
            findings = [self.move_id._einvoice_finding_text(finding) for finding in refusal.findings]
            self._set_state("error", "\n".join(findings) or refusal.translated(self.env.lang))
            return False
        self.attachment_id = self._attach(f"{move.name.replace('/', '_')}_fa3.xml", xml, "application/xml")
        self._pl_ksef_note_correction()
        return xml

    def _pl_ksef_note_correction(self):
        """A new attempt of an invoice issued offline whose last attempt KSeF rejected for a technical reason is
        its technical correction (offline/korekta-techniczna.md): sent in an online session, offline, with the hash
        of the first rejected file, the one the buyer's QR code is made of. The rejected attempts stay as they were."""
        previous = (self.move_id.einvoice_document_ids - self).filtered(
            lambda document: document.platform == "pl_ksef" and document.attachment_id
        )
        rejected = previous.sorted("id")[-1:]
        if not (
            self.move_id.l10n_pl_ksef_offline
            and rejected.state == "rejected"
            and rejected.l10n_pl_ksef_code in TECHNICALLY_CORRECTABLE
        ):
            return
        original = rejected.l10n_pl_ksef_corrected_id or rejected
        self.l10n_pl_ksef_corrected_id = original
        self.move_id.message_post(
            body=self.env._(
                "Sent again as a technical correction of %(file)s, which KSeF rejected: KSeF links the corrected "
                "invoice to it.",
                file=original.attachment_id.name,
            )
        )

    def _pl_ksef_send(self, xml):
        """Send the exact bytes ``xml``. The session is recorded before the invoice goes, so an answer lost on the
        way is looked for there, by the invoice's hash."""
        connection = self._pl_ksef_connection()
        shared = getattr(_RUN, "sessions", None)
        session = shared.get(connection.id) if shared is not None else None
        if session is None:
            session = self._pl_ksef_open_session(connection)
            if shared is not None:
                shared[connection.id] = session
        self.platform_reference = session.reference_number
        self._commit()
        corrected = self.l10n_pl_ksef_corrected_id
        try:
            sent = session.send(
                xml,
                offline_mode=self.move_id.l10n_pl_ksef_offline,
                hash_of_corrected_invoice=corrected._pl_ksef_hash() if corrected else None,
            )
        except KsefRequestError:
            if shared is not None:
                shared.pop(connection.id, None)  # a session KSeF refuses to take invoices in is not used again
            raise
        finally:
            if shared is None:
                _close(session)
        self._set_state(
            "processing",
            platform_reference=REFERENCE_SEPARATOR.join((sent.session_reference, sent.reference_number)),
            next_check_at=self._pl_ksef_next_check(),
        )

    def _pl_ksef_open_session(self, connection):
        return OnlineSession.open(*connection._ksef_signed_in())

    @api.model
    def _cron_send(self, limit=50):
        """The invoices of one scheduled run share an online session per connection (KSeF opens far fewer
        sessions an hour than it takes invoices); the sessions are closed when the run ends. A queue longer than
        KSeF takes online in the hour goes in batch sessions first."""
        self._pl_ksef_send_batches()
        _RUN.sessions = {}
        try:
            self._pl_ksef_send_offline(limit)
            return super()._cron_send(limit=limit)
        finally:
            sessions, _RUN.sessions = _RUN.sessions, None
            for session in sessions.values():
                _close(session)

    @api.model
    def _pl_ksef_send_offline(self, limit):
        """The invoices issued offline go first, in the order they were issued (their date, then their number):
        once KSeF is back, the oldest deadlines are met first and KSeF numbers them in sequence."""
        offline = [("platform", "=", "pl_ksef"), ("state", "=", "to_send"), ("move_id.l10n_pl_ksef_offline", "=", True)]
        waiting = lock_next(self, [*offline, *due()], limit)
        for document in waiting.sorted(
            lambda document: (
                document.move_id.invoice_date,
                document.move_id.sequence_prefix or "",
                document.move_id.sequence_number,
                document.id,
            )
        ):
            document._send()

    def _send(self):
        if self.platform == "pl_ksef" and self._pl_ksef_hold():
            return
        super()._send()

    def _pl_ksef_hold(self):
        """While KSeF is announced down nothing is sent: the invoice is issued offline in the outage's mode if it
        was not (its XML fixed now, its QR codes printed with OFFLINE) and waits in the queue for KSeF to be back."""
        connection = self.company_id._l10n_pl_ksef_connection()
        if not connection or connection.ksef_status == "available":
            return False
        if not self._still_ours("to_send"):
            return True
        move, mode = self.move_id, connection._ksef_outage_mode()
        if mode and not move.l10n_pl_ksef_offline:
            if not self._pl_ksef_xml():
                return True  # our checks refuse it: the attempt says why
            move._l10n_pl_ksef_mark_offline(mode, connection.outage_id)
        self._back_in_queue(connection._ksef_availability_text())
        return True

    # -- batch sessions ----------------------------------------------------------------------------------------------
    @api.model
    def _pl_ksef_send_batches(self):
        """KSeF takes 180 invoices an hour online and has no such limit in batch sessions: a company whose queue
        is longer than what is left of the hour's online quota sends it in batches."""
        queued = [("platform", "=", "pl_ksef"), ("state", "=", "to_send"), *due()]
        hour_ago = fields.Datetime.now() - timedelta(hours=1)
        # every invoice sent in the hour is counted, batches too: that only ever chooses a batch sooner
        sent = dict(
            self._read_group([("platform", "=", "pl_ksef"), ("sent_at", ">=", hour_ago)], ["company_id"], ["__count"])
        )
        # a technical correction goes in an online session only (offline/korekta-techniczna.md)
        queued.append(("l10n_pl_ksef_corrected_id", "=", False))
        for company, count in self._read_group(queued, ["company_id"], ["__count"]):
            if choose_session(count, sent_this_hour=sent.get(company, 0)) != "batch":
                continue
            if company._l10n_pl_ksef_connection().ksef_status != "available":
                continue  # held in the queue until KSeF is back
            # one batch a run and company: what KSeF sends back to the queue waits for the next run
            company._einvoice_in_lang(
                lock_next(self, [*queued, ("company_id", "=", company.id)], BATCH_SIZE)
            )._pl_ksef_send_batch()

    def _pl_ksef_send_batch(self):
        """Send these queued documents of one company in batch sessions (offline invoices in their own, flagged
        so). ``sending`` is durable before KSeF is called; KSeF's number for each invoice comes with the checks,
        once it has processed the batch."""
        if not self:
            return
        self.write({"state": "sending", "sent_at": fields.Datetime.now()})
        self._commit()
        try:
            client, auth = self[:1]._pl_ksef_connection()._ksef_signed_in()
        except TransportError as error:  # a refused login too
            for document in self:
                document._platform_failed("upload", error)
            return
        xmls = {document: document._pl_ksef_xml() for document in self}
        ready = self.filtered(lambda document: xmls[document])
        for offline, documents in ready.grouped(lambda document: document.move_id.l10n_pl_ksef_offline).items():
            try:
                batch = BatchSession.send(
                    client, auth, [xmls[document] for document in documents], offline_mode=offline
                )
            except TransportError as error:
                for document in documents:  # one answer for the whole batch: each attempt takes it
                    document._platform_failed("upload", error)
                continue
            for document in documents:
                document._set_state(
                    "processing",
                    self.env._("Sent in batch session %(session)s.", session=batch.reference_number),
                    platform_reference=f"{batch.reference_number}{REFERENCE_SEPARATOR}",
                    next_check_at=document._pl_ksef_next_check(),
                )
        self._commit()

    def _pl_ksef_check(self):
        session_reference, invoice_reference = self._pl_ksef_references()
        if not invoice_reference:
            # sent in a batch, or before KSeF named it (carried over): looked for by its hash once KSeF has
            # processed the session, like a lost answer
            invoices = None
            if session_reference:
                invoices = self._pl_ksef_processed_invoices(session_reference)
                if invoices is None:
                    self._pl_ksef_wait()
                    return
            self._pl_ksef_resolve(invoices)
            return
        sessions = self._pl_ksef_sessions()
        status = sessions.invoice_status(session_reference, invoice_reference)
        if status.state == PENDING:
            self._pl_ksef_wait()
        elif status.state == ACCEPTED:
            try:
                self._pl_ksef_accept(sessions, session_reference, invoice_reference, status.ksef_number)
            except KsefRequestError as error:
                if UPO_NOT_READY not in error.codes:
                    raise
                self._pl_ksef_wait()  # numbered, but its UPO is not issued yet
        elif status.state == DUPLICATE:
            self._pl_ksef_take_duplicate(sessions, status)
        elif status.state == RETRY:
            self._set_state("to_send", self._pl_ksef_reasons(status))
        else:
            self._set_state("rejected", self._pl_ksef_reasons(status), l10n_pl_ksef_code=status.code)

    def _pl_ksef_accept(self, sessions, session_reference, invoice_reference, ksef_number):
        """Keep KSeF's UPO byte for byte: the signed proof that the invoice is in KSeF under ``ksef_number``."""
        upo = sessions.invoice_upo(session_reference, invoice_reference)
        name = f"{self.move_id.name.replace('/', '_')}_upo_{ksef_number}.xml"
        self._set_state(
            "accepted",
            self.env._("KSeF number %(number)s.", number=ksef_number),
            platform_reference=REFERENCE_SEPARATOR.join((session_reference, invoice_reference)),
            platform_number=ksef_number,
            response_attachment_id=self._attach(name, upo, "application/xml").id,
        )

    def _pl_ksef_take_duplicate(self, sessions, status):
        """KSeF already holds an invoice of this seller, kind and number. It is this one when the very same bytes
        are found where the original went: then the original's KSeF number is this invoice's. Otherwise another
        document took the number, and the person must look."""
        original_session = status.original_session_reference_number
        try:
            original = original_session and sessions.find(original_session, self._pl_ksef_hash())
        except KsefRequestError:
            original = None  # a session this connection cannot read: not ours
        if original and original.state == ACCEPTED and original.ksef_number == status.ksef_number:
            self._pl_ksef_accept(sessions, original_session, original.reference_number, original.ksef_number)
            return
        self._set_state(
            "rejected",
            l10n_pl_ksef_code=status.code,
            message=self.env._(
                "KSeF already holds another invoice numbered %(number)s of this seller, under KSeF number %(ksef)s: "
                "check that invoice, and give this one a number of its own if it is a different invoice.",
                number=self.move_id.name,
                ksef=status.ksef_number or "-",
            ),
        )

    def _pl_ksef_resolve(self, invoices=None):
        """What became of an invoice whose answer was lost: found in its session by its hash (and followed), or
        sent again as the very same bytes, which KSeF answers as a duplicate carrying the original's KSeF number
        when the first one did arrive — never a second invoice. ``invoices``: the session's, by hash, when KSeF
        has processed it (see :meth:`_pl_ksef_processed_invoices`)."""
        session_reference, _invoice_reference = self._pl_ksef_references()
        if not session_reference or not self.attachment_id:
            self._set_state("to_send", self.env._("Nothing reached KSeF: the invoice will be sent again."))
            return
        invoice_hash = self._pl_ksef_hash()
        if invoices is None:
            found = self._pl_ksef_sessions().find(session_reference, invoice_hash)
        else:
            found = invoices.get(invoice_hash)
        if found:
            self._set_state(
                "processing",
                self.env._("Found in KSeF."),
                platform_reference=REFERENCE_SEPARATOR.join((session_reference, found.reference_number)),
                next_check_at=False,
            )
            self._pl_ksef_check()
            return
        self.move_id.message_post(
            body=self.env._("KSeF has no trace of the invoice in its session: the same document is sent again.")
        )
        self._pl_ksef_send(self.attachment_id.raw)

    # -- helpers ---------------------------------------------------------------------------------------------------
    def _pl_ksef_processed_invoices(self, session_reference):
        """The invoices of a session KSeF has processed, by hash (the latest of each, as :meth:`Sessions.find`
        takes it), or None while KSeF is still processing it. A processed session no longer changes, so its list is
        asked for once per database cursor, not once per invoice: a batch session holds up to a thousand, and
        KSeF allows 20 such lists a minute."""
        key = ("l10n_pl_ksef.processed_session", session_reference)
        if key not in self.env.cr.cache:
            sessions = self._pl_ksef_sessions()
            if not sessions.status(session_reference).is_processed:
                return None
            listed = sessions.invoices(session_reference)
            self.env.cr.cache[key] = {invoice.invoice_hash: invoice for invoice in listed}
        return self.env.cr.cache[key]

    def _pl_ksef_hash(self):
        return FileDigest.of(self.attachment_id.raw).hash

    def _pl_ksef_reasons(self, status):
        return "\n".join([status.description, *map(str, status.details)])

    def _pl_ksef_wait(self):
        self.write({"check_count": self.check_count + 1, "next_check_at": self._pl_ksef_next_check()})

    def _pl_ksef_next_check(self):
        return datetime.now() + timedelta(minutes=CHECK_DELAYS[min(self.check_count, len(CHECK_DELAYS) - 1)])


def _close(session):
    """Close an online session, so that KSeF issues its UPO; KSeF closes it by itself within hours otherwise."""
    with contextlib.suppress(TransportError):
        session.close()
