import base64

from odoo import fields, models
from odoo.exceptions import UserError


class AccountEinvoiceImportWizard(models.TransientModel):
    _name = "account.einvoice.import.wizard"
    _description = "Import a supplier e-invoice file"

    file = fields.Binary(required=True, help="A supplier invoice in UBL, CII or FA(3), or the platform's ZIP.")
    filename = fields.Char()

    def action_import(self):
        self.ensure_one()
        if not self.file:
            raise UserError(self.env._("Choose the file to import."))
        message = self.env["account.einvoice.inbox"]._import_file(base64.b64decode(self.file), self.filename or "")
        if message.move_id:
            return message.move_id._get_records_action()
        return message._get_records_action()
