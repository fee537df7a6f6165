import logging
from datetime import timezone

from odoo import api, fields, models

from einvoice.errors import EInvoiceError
from einvoice.pl.ksef import HighWaterMarkSync, Incoming, parse_datetime

_logger = logging.getLogger(__name__)

# export packages asked for per connection and run: the sync runs every 15 minutes, and 4 runs x 4 packages stay
# inside KSeF's 20 exports an hour, with room for a sync asked by hand
PACKAGES_PER_RUN = 4


class AccountEinvoiceInbox(models.Model):
    _inherit = "account.einvoice.inbox"

    platform = fields.Selection(selection_add=[("pl_ksef", "KSeF (Poland)")], ondelete={"pl_ksef": "cascade"})

    # -- fetching ----------------------------------------------------------------------------------------------------
    @api.model
    def _cron_l10n_pl_ksef_sync(self):
        """The purchase invoices KSeF stored for every connected company since its high-water mark, stored in the
        inbox before anything reads them; then imported, and the accountants told."""
        for connection in self.env["l10n_pl_ksef.connection"].sudo().search([("nip", "!=", False)]):
            try:
                self._l10n_pl_ksef_sync(connection)
            except EInvoiceError as error:  # one company's trouble does not stop the others
                _logger.warning("KSeF purchase invoices of %s: %s", connection.company_id.name, error)
                connection._ksef_sync_failed(error)
            self.env["account.einvoice.document"]._commit()
        self._cron_process()
        self._cron_notify()

    @api.model
    def _l10n_pl_ksef_sync(self, connection):
        """Export packages of the invoices where the company is the buyer, on KSeF's permanent-storage date, from
        the connection's high-water mark up to KSeF's: nothing at or below that mark can still appear, so the next
        run starts there and nothing is missed or asked twice. The invoices and the new mark are stored together; the
        messages stored now are returned."""
        client, auth = connection._ksef_signed_in()
        since = connection.incoming_from.replace(tzinfo=timezone.utc)
        result = HighWaterMarkSync(Incoming(client, auth), max_packages=PACKAGES_PER_RUN).run(since)
        stored = self._l10n_pl_ksef_store(connection.company_id, result)
        connection._ksef_synced(result.next_from.astimezone(timezone.utc).replace(tzinfo=None), stored)
        return stored

    @api.model
    def _l10n_pl_ksef_store(self, company, result):
        """One inbox message per KSeF number, with the invoice as KSeF stored it and what its metadata says."""
        known = self._stored_ids("pl_ksef", company, [metadata.ksef_number for metadata in result.metadata])
        stored = self.browse()
        for metadata in result.metadata:
            if metadata.ksef_number in known:
                continue
            seller = metadata.raw.get("seller") or {}
            # the moment KSeF numbered the invoice is, in law, when the buyer received it
            received = parse_datetime(metadata.raw.get("acquisitionDate")) or metadata.permanent_storage_date
            stored |= self._store(
                {
                    "platform": "pl_ksef",
                    "platform_id": metadata.ksef_number,
                    "company_id": company.id,
                    "kind": "invoice",
                    "received_at": received and received.astimezone(timezone.utc).replace(tzinfo=None),
                    "partner_vat": metadata.seller_nip,
                    "partner_name": seller.get("name"),
                    "invoice_number": metadata.invoice_number,
                    "invoice_date": metadata.raw.get("issueDate"),
                },
                result.invoices.get(metadata.ksef_number),
                f"{metadata.ksef_number}.xml",
            )
        return stored

    def _pl_ksef_fetch(self):
        """Download the invoice by its KSeF number, as KSeF stored it (kept when the export did not carry it)."""
        connection = self.company_id._l10n_pl_ksef_connection(required=True)
        xml = Incoming(*connection._ksef_signed_in()).download(self.platform_id)
        self._keep_raw(xml, f"{self.platform_id}.xml")
