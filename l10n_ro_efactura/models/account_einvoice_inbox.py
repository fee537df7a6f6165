import logging
from datetime import timedelta, timezone

from odoo import api, fields, models

from einvoice.errors import EInvoiceError
from einvoice.inbound import read_received
from einvoice.ro.anaf import DownloadState, State

_logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # ANAF's page of messages
KIND_OF_MESSAGE = {  # ANAF's message types (tip)
    "FACTURA PRIMITA": "invoice",
    "FACTURA TRIMISA": "sent",
    "ERORI FACTURA": "error",
}


class AccountEinvoiceInbox(models.Model):
    _inherit = "account.einvoice.inbox"

    platform = fields.Selection(
        selection_add=[("ro_efactura", "RO e-Factura (ANAF)")], ondelete={"ro_efactura": "cascade"}
    )

    # -- fetching ----------------------------------------------------------------------------------------------------
    @api.model
    def _cron_l10n_ro_efactura_sync(self):
        """Every SPV message of every connected company over its window, stored before anything reads it."""
        for connection in self.env["l10n_ro_efactura.connection"].sudo().search([("company_ids", "!=", False)]):
            for company in connection.company_ids.filtered(lambda company: company._l10n_ro_efactura_cif()):
                try:
                    self._l10n_ro_efactura_sync(company, connection._anaf_client())
                except EInvoiceError as error:  # one company's trouble does not stop the others
                    _logger.warning("ANAF messages of %s: %s", company.name, error)
                    self.env["account.einvoice.document"]._commit()
        self._cron_process()
        self._cron_notify()

    @api.model
    def _l10n_ro_efactura_sync(self, company, client):
        """Store the messages of ``company``'s window not stored yet, page by page. Their content is downloaded
        when they are processed (ANAF keeps it 60 days), so a run stays inside ANAF's per-minute limit."""
        since = client.now() - timedelta(days=company.l10n_ro_efactura_sync_days)
        page = []
        for message in client.iter_messages(company._l10n_ro_efactura_cif(), since=since):
            page.append(message)
            if len(page) == PAGE_SIZE:
                self._l10n_ro_efactura_store(company, page)
                page = []
        self._l10n_ro_efactura_store(company, page)

    @api.model
    def _l10n_ro_efactura_store(self, company, messages):
        known = self._stored_ids("ro_efactura", company, [message.id for message in messages])
        for message in messages:
            if message.id in known:
                continue
            kind = KIND_OF_MESSAGE.get(message.kind, "buyer_message")
            self._store(
                {
                    "platform": "ro_efactura",
                    "platform_id": message.id,
                    "company_id": company.id,
                    "kind": kind,
                    "received_at": message.created_at.astimezone(timezone.utc).replace(tzinfo=None),
                    "partner_vat": message.seller_cif if kind == "invoice" else message.buyer_cif,
                    "details": message.details,
                    "platform_reference": message.upload_index,
                }
            )
        self.env["account.einvoice.document"]._commit()

    def _ro_efactura_fetch(self):
        """Download the message's archive and keep it as it came."""
        download = self._ro_efactura_client().download(self.platform_id)
        if download.state != DownloadState.OK:
            raise EInvoiceError(
                self.env._(
                    "ANAF does not give message %(id)s any more: %(reason)s",
                    id=self.platform_id,
                    reason=download.message or download.state,
                )
            )
        self._keep_raw(download.archive, f"{self.platform_id}.zip")
        return download

    def _ro_efactura_client(self):
        return self.company_id._l10n_ro_efactura_client()

    # -- messages about the invoices we sent -------------------------------------------------------------------------
    def _ro_efactura_take_message(self):
        """An answer about an upload: the attempt waiting for it takes it; an invoice sent from elsewhere (ANAF's
        portal, another program) is recorded on its Odoo invoice, so it is never sent again from here."""
        if self.kind not in ("sent", "error"):
            self.state = "done"
            return
        documents = self.env["account.einvoice.document"]
        document = documents.search(
            [
                ("platform", "=", "ro_efactura"),
                ("platform_reference", "=", self.platform_reference),
                ("company_id", "=", self.company_id.id),
            ],
            limit=1,
        )
        if document and document.state not in ("processing", "unknown", "sending"):
            self.write({"state": "done", "document_id": document.id})
            return
        download = self._ro_efactura_fetch()
        if document:
            document._ro_efactura_take_answer(download, State.OK if self.kind == "sent" else State.NOK)
        elif self.kind == "sent":
            document = self._ro_efactura_record_sent_elsewhere(download)
        self.write({"state": "done", "document_id": document.id})

    def _ro_efactura_record_sent_elsewhere(self, download):
        number = read_received(download.document, download.document_name).invoice.number
        move = self.env["account.move"].search(
            [
                ("company_id", "=", self.company_id.id),
                ("name", "=", number),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ],
            limit=1,
        )
        if not move:
            self.message_post(
                body=self.env._("Invoice %(number)s was sent to ANAF, but it is not in Odoo.", number=number)
            )
            return self.env["account.einvoice.document"]
        document = self.env["account.einvoice.document"].create(
            {
                "move_id": move.id,
                "platform": "ro_efactura",
                "state": "sending",
                "platform_reference": self.platform_reference,
            }
        )
        document._ro_efactura_take_answer(download, State.OK)
        move.message_post(
            body=self.env._(
                "This invoice reached ANAF from elsewhere (upload %(index)s): it is not sent again from Odoo.",
                index=self.platform_reference,
            )
        )
        return document

    # -- the PDF of an invoice that came without one -----------------------------------------------------------------
    def _ro_efactura_pdf(self, received):
        result = self._ro_efactura_client().to_pdf(received.xml, validate=False)
        return (f"{self.platform_id}.pdf", result.pdf) if result.pdf else None
