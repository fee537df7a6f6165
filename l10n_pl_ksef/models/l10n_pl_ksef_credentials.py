import base64

from cryptography.hazmat.primitives import serialization

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.account_einvoice.tools.notification import notification

from einvoice.errors import EInvoiceError
from einvoice.pl.credentials import (
    INVOICE_READ,
    INVOICE_WRITE,
    KsefCertificates,
    KsefTokens,
    certificate_name,
    effective_permissions,
)
from einvoice.pl.ksef import CertificateLogin

from .l10n_pl_ksef_connection import WARN_AHEAD

# the permissions an Odoo database needs of KSeF, and what each lets it do
NEEDED = (INVOICE_WRITE, INVOICE_READ)


def _pem(credentials):
    """``(certificate, private key)`` as base64 PEM uploads; the key unencrypted, since it is stored encrypted."""
    certificate = credentials.certificate.public_bytes(serialization.Encoding.PEM)
    key = credentials.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return base64.b64encode(certificate), base64.b64encode(key)


class L10nPlKsefConnection(models.Model):
    _inherit = "l10n_pl_ksef.connection"

    permissions = fields.Char(
        string="KSeF permissions",
        readonly=True,
        copy=False,
        help="What KSeF lets this connection do for the company, as read at the last Verify connection.",
    )
    ksef_token_reference = fields.Char(string="KSeF token reference", readonly=True, copy=False)
    certificate_serial = fields.Char(
        string="Serial of the enrolled certificate",
        readonly=True,
        copy=False,
        help="Set when Odoo enrolled the KSeF certificate it signs in with: Odoo renews it before it ends.",
    )
    offline_certificate_serial = fields.Char(
        string="Serial of the enrolled Offline certificate", readonly=True, copy=False
    )

    # -- permissions -----------------------------------------------------------------------------------------------
    def _ksef_permissions_report(self, client, auth):
        """What the signed-in identity may do in the company's context, in plain words, and stored on the
        connection. A permission that cannot be read is said so, never guessed."""
        self.ensure_one()
        try:
            permissions = effective_permissions(client, auth)
        except EInvoiceError as error:
            self.permissions = False
            return self.env._("Its permissions could not be read: %(reason)s", reason=error.translated(self.env.lang))
        self.permissions = ", ".join(sorted(permissions.granted)) or self.env._("none")
        missing = permissions.missing(*NEEDED)
        if not missing:
            return self.env._("It may send invoices (InvoiceWrite) and receive them (InvoiceRead).")
        lacks = {
            INVOICE_WRITE: self.env._("it cannot send invoices (InvoiceWrite is missing)"),
            INVOICE_READ: self.env._("it cannot receive purchase invoices (InvoiceRead is missing)"),
        }
        if permissions.source == "token":
            how = self.env._(
                "A KSeF token keeps the permissions it was generated with: generate a new token with them (Create "
                "KSeF token, or in KSeF's Aplikacja Podatnika) and enter it here."
            )
        else:
            how = self.env._(
                "The owner of NIP %(nip)s grants them in KSeF's Aplikacja Podatnika, or with a qualified signature "
                "through KSeF's API.",
                nip=self.nip,
            )
        return self.env._(
            "But %(lacks)s. %(how)s", lacks=self.env._(" and ").join(lacks[name] for name in missing), how=how
        )

    def _ksef_lacks(self):
        """The permissions for sending and receiving the last verification did not find."""
        granted = set((self.permissions or "").split(", "))
        return [name for name in NEEDED if name not in granted]

    # -- KSeF tokens -----------------------------------------------------------------------------------------------
    def _ksef_session(self):
        """``(client, authenticator)`` signed in now; a failure is a clear :class:`UserError`."""
        self.ensure_one()
        client = self._ksef_client()
        try:
            auth = self._ksef_authenticator(client)
            auth.login()
        except EInvoiceError as error:
            raise UserError(self._ksef_failure(error)) from None
        return client, auth

    def _ksef_call(self, action):
        """``action(client, auth)`` in a fresh session; KSeF's refusal in words."""
        client, auth = self._ksef_session()
        try:
            return action(client, auth)
        except EInvoiceError as error:
            raise UserError(self.env._("KSeF refused: %(reason)s", reason=error.translated(self.env.lang))) from None

    def action_create_ksef_token(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Create KSeF token"),
            "res_model": "l10n_pl_ksef.token.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_connection_id": self.id},
        }

    def action_ksef_tokens(self):
        """The KSeF tokens of the company's context, as KSeF lists them now."""
        self.ensure_one()
        listed = self._ksef_call(lambda client, auth: list(KsefTokens(client, auth).list()))
        Token = self.env["l10n_pl_ksef.token"]
        records = Token.create(
            [
                {
                    "connection_id": self.id,
                    "reference": token.reference_number,
                    "description": token.description,
                    "permissions": ", ".join(token.permissions),
                    "status": token.status,
                    "created": token.created.replace(tzinfo=None),
                    "last_used": token.last_used and token.last_used.replace(tzinfo=None),
                    "used_here": token.reference_number == self.ksef_token_reference,
                }
                for token in listed
            ]
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("KSeF tokens of NIP %(nip)s", nip=self.nip),
            "res_model": "l10n_pl_ksef.token",
            "view_mode": "list",
            "domain": [("id", "in", records.ids)],
            "target": "new",
        }

    def _ksef_store_token(self, generated, use_it):
        values = {"ksef_token": generated.token, "ksef_token_reference": generated.reference_number}
        if use_it:
            values["auth_method"] = "token"
        self.write(values)

    # -- KSeF certificates -----------------------------------------------------------------------------------------
    def action_enrol_certificate(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Enrol KSeF certificate"),
            "res_model": "l10n_pl_ksef.certificate.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_connection_id": self.id},
        }

    def _ksef_certificates(self, client, auth):
        if not isinstance(auth.login_method, CertificateLogin):
            raise UserError(
                self.env._(
                    "KSeF issues certificates only to a session signed in with a signature (certyfikaty-KSeF: not "
                    "with a KSeF token). Sign in with a qualified or KSeF certificate first."
                )
            )
        return KsefCertificates(client, auth)

    def _ksef_enrol(self, kind, name):
        """Enrol a KSeF certificate of ``kind`` (Authentication or Offline) for the signed-in subject, and store
        it with its new key, encrypted."""
        self.ensure_one()

        def enrol(client, auth):
            certificates = self._ksef_certificates(client, auth)
            limits = certificates.limits()
            if not limits.can_request:
                raise UserError(
                    self.env._(
                        "KSeF allows no more certificates for this subject now (requests left: %(requests)s, "
                        "active certificates left: %(certificates)s).",
                        requests=limits.enrollments_left,
                        certificates=limits.certificates_left,
                    )
                )
            return certificates.obtain(certificate_name(name), kind)

        credentials = self._ksef_call(enrol)
        certificate, key = _pem(credentials)
        if kind == "Offline":
            self.write({"offline_certificate_file": certificate, "offline_private_key_file": key})
            self.sudo().write({"offline_key_password_encrypted": False})
            self.offline_certificate_serial = credentials.serial_hex
        else:
            self.write({"certificate_file": certificate, "private_key_file": key, "auth_method": "certificate"})
            self.sudo().write({"key_password_encrypted": False})
            self.certificate_serial = credentials.serial_hex
        self.message_post(
            body=self.env._(
                "KSeF issued the %(kind)s certificate %(serial)s, valid until %(date)s; it is stored encrypted.",
                kind=kind,
                serial=credentials.serial_hex,
                date=credentials.certificate.not_valid_after.date(),
            )
        )
        return credentials

    def action_revoke_certificate(self):
        """Revoke the KSeF certificates Odoo enrolled for this connection and forget them."""
        self.ensure_one()
        serials = [serial for serial in (self.offline_certificate_serial, self.certificate_serial) if serial]
        if not serials:
            raise UserError(self.env._("This connection holds no certificate enrolled by Odoo."))

        def revoke(client, auth):
            certificates = self._ksef_certificates(client, auth)
            for serial in serials:
                certificates.revoke(serial, "Superseded")

        self._ksef_call(revoke)
        self.sudo().write(
            {
                "offline_certificate_encrypted": False,
                "offline_private_key_encrypted": False,
                "offline_certificate_valid_to": False,
                "offline_certificate_serial": False,
                "certificate_serial": False,
            }
        )
        message = self.env._("KSeF revoked the certificate(s) %(serials)s.", serials=", ".join(serials))
        self.message_post(body=message)
        return notification(message)

    @api.model
    def _cron_renew_certificates(self):
        """Certificates Odoo enrolled are renewed a month before they end, signed in with the current one."""
        horizon = fields.Datetime.now() + WARN_AHEAD
        enrolled = ["|", ("certificate_serial", "!=", False), ("offline_certificate_serial", "!=", False)]
        for connection in self.sudo().search(enrolled):
            connection = connection.company_id._einvoice_in_lang(connection)
            due = []
            if connection.certificate_serial and connection.certificate_valid_to <= horizon:
                due.append("Authentication")
            if connection.offline_certificate_serial and connection.offline_certificate_valid_to <= horizon:
                due.append("Offline")
            for kind in due:
                try:
                    connection._ksef_enrol(kind, f"Odoo {connection.company_id.name} {kind}")
                except UserError as error:
                    connection._warn_admins(
                        connection.env._(
                            "The %(kind)s KSeF certificate of %(company)s could not be renewed: %(reason)s",
                            kind=kind,
                            company=connection.company_id.name,
                            reason=error.args[0],
                        )
                    )
