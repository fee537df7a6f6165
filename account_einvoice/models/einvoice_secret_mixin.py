from odoo import models, tools

from einvoice.secrets import SecretBox

CONFIG_KEY = "einvoice_secret_key"  # in the Odoo server configuration; comma-separated keys rotate (first encrypts)


class EinvoiceSecretMixin(models.AbstractModel):
    """Secrets at rest (client secrets, tokens, keys and their passwords) are stored encrypted.

    The key is ``einvoice_secret_key`` of the server configuration. Without it the database's own secret is used,
    which only protects against copies of attachments or logs: whoever can read the whole database can read that
    key too. Set the key on any real installation (see the README).
    """

    _name = "account.einvoice.secret.mixin"
    _description = "Encrypted e-invoicing secrets"

    def _secret_box(self):
        keys = [key.strip() for key in (tools.config.get(CONFIG_KEY) or "").split(",") if key.strip()]
        if not keys:
            keys = [self.env["ir.config_parameter"].sudo().get_param("database.secret")]
        return SecretBox(keys)

    def _encrypt(self, plaintext):
        return self._secret_box().encrypt(plaintext) if plaintext else False

    def _decrypt(self, token):
        return self._secret_box().decrypt_text(token) if token else False
