import logging
from datetime import timezone

from odoo import api, fields, models

from einvoice.errors import EInvoiceError
from einvoice.pl.ksef import HighWaterMarkSync, Incoming, parse_datetime
from einvoice.pl.visual import render_pdf

_logger = logging.getLogger(__name__)

# export packages asked for per connection and run: the sync runs every 15 minutes, and 4 runs x 4 packages stay
# inside KSeF's 20 exports an hour, with room for a sync asked by hand
PACKAGES_PER_RUN = 4
# the invoices synced, each with its own high-water mark on the connection and its share of the packages of a run:
# those where the company is the buyer (Podmiot2), then those where it is a third party (Podmiot3)
SUBJECTS = (("Subject2", "incoming_from", 3), ("Subject3", "incoming_third_from", PACKAGES_PER_RUN - 3))
# FA(3) Podmiot3/Rola (TRolaPodmiotu3); 0 is the metadata's "Inna rola" (RolaInna)
THIRD_PARTY_ROLES = [
    ("0", "Other role"),
    ("1", "Factor"),
    ("2", "Recipient (a unit of the buyer)"),
    ("3", "Original entity (taken over or transformed)"),
    ("4", "Additional buyer"),
    ("5", "Issuer on the seller's behalf"),
    ("6", "Payer"),
    ("7", "Local government unit, issuer"),
    ("8", "Local government unit, recipient"),
    ("9", "VAT group member, issuer"),
    ("10", "VAT group member, recipient"),
    ("11", "Employee"),
]


class AccountEinvoiceInbox(models.Model):
    _inherit = "account.einvoice.inbox"

    platform = fields.Selection(selection_add=[("pl_ksef", "KSeF (Poland)")], ondelete={"pl_ksef": "cascade"})
    l10n_pl_ksef_subject = fields.Selection(
        [("Subject2", "Buyer"), ("Subject3", "Third party")],
        string="Company's part in the invoice",
        readonly=True,
        help="Buyer (Podmiot2), or a third party the invoice names (Podmiot3) with its role.",
    )
    l10n_pl_ksef_third_role = fields.Selection(THIRD_PARTY_ROLES, string="Third-party role", readonly=True)

    # -- fetching ----------------------------------------------------------------------------------------------------
    @api.model
    def _cron_l10n_pl_ksef_sync(self):
        """The purchase invoices KSeF stored for every connected company since its high-water mark, stored in the
        inbox before anything reads them; then imported, and the accountants told."""
        for connection in self.env["l10n_pl_ksef.connection"].sudo().search([("nip", "!=", False)]):
            connection = connection.company_id._einvoice_in_lang(connection)
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
        """Export packages of the invoices where the company is the buyer, then of those where it is a third party
        (Podmiot3), on KSeF's permanent-storage date, each from its high-water mark on the connection up to KSeF's:
        nothing at or below that mark can still appear, so the next run starts there and nothing is missed or asked
        twice. The invoices and the new marks are stored together; the messages stored now are returned."""
        client, auth = connection._ksef_signed_in()
        stored = self.browse()
        for subject, mark, packages in SUBJECTS:
            since = connection[mark].replace(tzinfo=timezone.utc)
            result = HighWaterMarkSync(Incoming(client, auth, subject_type=subject), max_packages=packages).run(since)
            stored |= self._l10n_pl_ksef_store(connection.company_id, result, subject)
            connection._ksef_moved(mark, result.next_from.astimezone(timezone.utc).replace(tzinfo=None))
        connection._ksef_synced(stored)
        return stored

    @api.model
    def _l10n_pl_ksef_store(self, company, result, subject="Subject2"):
        """One inbox message per KSeF number, with the invoice as KSeF stored it, what its metadata says and the
        company's part in it (``subject``: buyer, or third party with its role). An invoice already stored (the
        company is both buyer and third party) is stored once."""
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
                    "l10n_pl_ksef_subject": subject,
                    "l10n_pl_ksef_third_role": self._l10n_pl_ksef_role(company, metadata, subject),
                },
                result.invoices.get(metadata.ksef_number),
                f"{metadata.ksef_number}.xml",
            )
        return stored

    @api.model
    def _l10n_pl_ksef_role(self, company, metadata, subject):
        """The company's Podmiot3 role in the invoice, as KSeF's metadata gives it (thirdSubjects)."""
        if subject != "Subject3":
            return False
        nip = company._l10n_pl_ksef_connection().nip
        for third in metadata.raw.get("thirdSubjects") or ():
            if (third.get("identifier") or {}).get("value") == nip:
                role = str(third.get("role"))
                return role if role in dict(THIRD_PARTY_ROLES) else "0"
        return "0"

    def _import(self, importer, pending):
        """An invoice where the company is only a third party becomes a draft bill left to review: whether it is
        the company's purchase at all (a payer, a factor, a unit of the buyer) is for an accountant to say."""
        outcome = super()._import(importer, pending)
        if self.l10n_pl_ksef_subject == "Subject3" and self.state == "imported":
            self.state = "to_review"
        return outcome

    def _pl_ksef_fetch(self):
        """Download the invoice by its KSeF number, as KSeF stored it (kept when the export did not carry it)."""
        connection = self.company_id._l10n_pl_ksef_connection(required=True)
        xml = Incoming(*connection._ksef_signed_in()).download(self.platform_id)
        self._keep_raw(xml, f"{self.platform_id}.xml")

    def _pl_ksef_pdf(self, received):
        """A KSeF invoice is XML only: its bill gets our rendering, with its KSeF number and KOD I, as the document
        to read."""
        connection = self.company_id._l10n_pl_ksef_connection()
        pdf = render_pdf(
            received.xml,
            ksef_number=self.platform_id,
            environment=connection.environment if connection else "prod",
        )
        return f"{self.platform_id}.pdf", pdf
