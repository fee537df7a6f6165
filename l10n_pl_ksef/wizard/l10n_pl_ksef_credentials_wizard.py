from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.account_einvoice.tools.notification import notification

from einvoice.pl.credentials import (
    CREDENTIALS_MANAGE,
    CREDENTIALS_READ,
    INVOICE_READ,
    INVOICE_WRITE,
    KsefTokens,
)


class L10nPlKsefToken(models.TransientModel):
    """A KSeF token of the context as KSeF listed it (KSeF keeps the tokens; this is a view of its list)."""

    _name = "l10n_pl_ksef.token"
    _description = "KSeF token"
    _order = "created desc"

    connection_id = fields.Many2one("l10n_pl_ksef.connection", required=True, ondelete="cascade")
    reference = fields.Char(readonly=True)
    description = fields.Char(readonly=True)
    permissions = fields.Char(readonly=True)
    status = fields.Char(readonly=True)
    created = fields.Datetime(readonly=True)
    last_used = fields.Datetime(readonly=True)
    used_here = fields.Boolean(string="Used by this connection", readonly=True)

    def action_revoke(self):
        self.ensure_one()
        self.connection_id._ksef_call(lambda client, auth: KsefTokens(client, auth).revoke(self.reference))
        self.status = "Revoked"
        self.connection_id.message_post(
            body=self.env._("The KSeF token %(reference)s was revoked.", reference=self.reference)
        )
        return notification(self.env._("KSeF revoked the token %(reference)s.", reference=self.reference))


class L10nPlKsefTokenWizard(models.TransientModel):
    _name = "l10n_pl_ksef.token.wizard"
    _description = "Create a KSeF token"

    connection_id = fields.Many2one("l10n_pl_ksef.connection", required=True, ondelete="cascade")
    description = fields.Char(
        required=True, default=lambda self: self.env._("Odoo %(company)s", company=self.env.company.name)
    )
    invoice_write = fields.Boolean(string="Send invoices (InvoiceWrite)", default=True)
    invoice_read = fields.Boolean(string="Receive invoices (InvoiceRead)", default=True)
    credentials_read = fields.Boolean(string="Read credentials (CredentialsRead)")
    credentials_manage = fields.Boolean(string="Manage credentials (CredentialsManage)")
    use_it = fields.Boolean(string="Sign in with it from now on", default=True)

    def action_create(self):
        self.ensure_one()
        chosen = {
            INVOICE_WRITE: self.invoice_write,
            INVOICE_READ: self.invoice_read,
            CREDENTIALS_READ: self.credentials_read,
            CREDENTIALS_MANAGE: self.credentials_manage,
        }
        permissions = [name for name, wanted in chosen.items() if wanted]
        if not permissions:
            raise UserError(self.env._("Choose at least one permission for the token."))
        description = self.description.strip()
        if len(description) < 5:  # open-api.json GenerateTokenRequest.description: 5 to 256 characters
            description = f"{description} KSeF".strip()

        def generate(client, auth):
            tokens = KsefTokens(client, auth)
            generated = tokens.generate(permissions, description[:256])
            tokens.wait_active(generated.reference_number)
            return generated

        connection = self.connection_id
        generated = connection._ksef_call(generate)
        connection._ksef_store_token(generated, self.use_it)
        connection.message_post(
            body=self.env._(
                "KSeF token %(reference)s created with %(permissions)s; it is stored encrypted and never shown.",
                reference=generated.reference_number,
                permissions=", ".join(permissions),
            )
        )
        return {"type": "ir.actions.act_window_close"}


class L10nPlKsefCertificateWizard(models.TransientModel):
    _name = "l10n_pl_ksef.certificate.wizard"
    _description = "Enrol a KSeF certificate"

    connection_id = fields.Many2one("l10n_pl_ksef.connection", required=True, ondelete="cascade")
    certificate_type = fields.Selection(
        [("Authentication", "Authentication (signing in)"), ("Offline", "Offline (QR code II of offline invoices)")],
        required=True,
        default="Authentication",
    )
    name = fields.Char(required=True, default=lambda self: f"Odoo {self.env.company.name}")

    def action_enrol(self):
        self.ensure_one()
        self.connection_id._ksef_enrol(self.certificate_type, self.name)
        return {"type": "ir.actions.act_window_close"}
