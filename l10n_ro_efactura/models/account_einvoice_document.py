from datetime import datetime, timedelta, timezone

from odoo import fields, models

from einvoice.ro.anaf import State, UploadResolver, upload_standard

CHECK_DELAYS = (1, 2, 5, 10, 30, 60, 120, 240)  # minutes between status questions: within ANAF's daily limits


class AccountEinvoiceDocument(models.Model):
    _inherit = "account.einvoice.document"

    platform = fields.Selection(
        selection_add=[("ro_efactura", "RO e-Factura (ANAF)")], ondelete={"ro_efactura": "cascade"}
    )

    def _platform_sign_in_hint(self):
        if self.platform != "ro_efactura":
            return super()._platform_sign_in_hint()
        return self.env._(
            "An administrator connects to ANAF again: Accounting > Configuration > ANAF connections, Connect to ANAF."
        )

    def _ro_efactura_client(self):
        return self.company_id._l10n_ro_efactura_client()

    def _ro_efactura_upload(self):
        move = self.move_id
        xml = move._l10n_ro_efactura_xml()
        self.attachment_id = self._attach(f"{move.name.replace('/', '_')}_cius_ro.xml", xml, "application/xml")
        buyer = move.commercial_partner_id
        client = self._ro_efactura_client()
        if self.company_id.l10n_ro_efactura_validate_first:
            validation = client.validate(xml)
            if not validation.valid:
                self._set_state("rejected", "\n".join(validation.messages))
                return
        result = client.upload(
            xml,
            self.company_id._l10n_ro_efactura_cif(),
            standard=upload_standard(xml),
            b2c=not move._einvoice_self_billed() and not buyer.is_company,
            extern=not move._einvoice_self_billed() and bool(buyer.country_id) and buyer.country_id.code != "RO",
            self_billed=move._einvoice_self_billed(),
        )
        if result.accepted:
            self._set_state("processing", platform_reference=result.index, next_check_at=self._next_check())
        else:
            self._set_state("rejected", "\n".join(result.errors))

    def _ro_efactura_check(self):
        client = self._ro_efactura_client()
        status = client.status(self.platform_reference)
        if status.state == State.PROCESSING:
            self.write({"check_count": self.check_count + 1, "next_check_at": self._next_check(self.check_count + 1)})
        elif status.state in (State.OK, State.NOK):
            self._ro_efactura_take_answer(client.download(status.download_id), status.state)
        elif status.state == State.XML_ERRORS:
            self._set_state("rejected", "\n".join(status.errors) or status.state)

    def _ro_efactura_take_answer(self, download, state):
        """Keep ANAF's signed archive byte for byte; ``ok`` accepts, ``nok`` rejects with ANAF's reasons."""
        name = f"{self.move_id.name.replace('/', '_')}_anaf_{download.download_id}.zip"
        values = {
            "platform_number": download.download_id,
            "response_attachment_id": self._attach(name, download.archive, "application/zip").id,
        }
        if state == State.OK:
            self._set_state("accepted", **values)
        else:
            errors = download.error_report.errors if download.error_report else ()
            self._set_state("rejected", "\n".join(errors) or state, **values)

    def _ro_efactura_resolve(self):
        """Ask ANAF what became of an upload whose answer was lost: it is found (and followed), not there (sent
        again by the queue), or not listed yet (asked again later) — never uploaded blindly."""
        client = self._ro_efactura_client()
        sent_at = (self.sent_at or self.create_date).replace(tzinfo=timezone.utc)
        known = self.search([("platform", "=", "ro_efactura"), ("platform_reference", "!=", False)])
        resolution = UploadResolver(client).resolve(
            self.company_id._l10n_ro_efactura_cif(),
            sent_at=sent_at,
            xml=self.attachment_id.raw or None,  # not kept when the worker died during the upload
            number=self.move_id.name,
            issue_date=self.move_id.invoice_date,
            known_indexes=known.mapped("platform_reference"),
        )
        if resolution.outcome == UploadResolver.FOUND:
            self.platform_reference = resolution.index
            self._ro_efactura_take_answer(resolution.download, resolution.state)
        elif resolution.outcome == UploadResolver.NOT_FOUND:
            self._set_state("to_send", self.env._("ANAF has no trace of the upload: it will be sent again."))

    @staticmethod
    def _next_check(count=0):
        return datetime.now() + timedelta(minutes=CHECK_DELAYS[min(count, len(CHECK_DELAYS) - 1)])
