from odoo import api, fields, models

from einvoice import matching


class AccountMove(models.Model):
    _inherit = "account.move"

    einvoice_inbox_ids = fields.One2many("account.einvoice.inbox", "move_id", string="E-invoices received")
    einvoice_inbox_count = fields.Integer(compute="_compute_einvoice_inbox_count", string="Received e-invoice count")

    @api.depends("einvoice_inbox_ids")
    def _compute_einvoice_inbox_count(self):
        for move in self:
            move.einvoice_inbox_count = len(move.einvoice_inbox_ids)

    def action_einvoice_open_inbox(self):
        return self.einvoice_inbox_ids._get_records_action(name=self.env._("E-invoices received"))

    def _einvoice_learn_supplier_codes(self):
        """Posting a bill made from an e-invoice confirms its products: each vendor item code on it now means that
        product (``product.supplierinfo``), so the next invoice of this vendor is matched by its code."""
        supplier_infos = self.env["product.supplierinfo"]
        for move in self.filtered(lambda move: move.is_purchase_document() and move.commercial_partner_id):
            vendor = move.commercial_partner_id
            known = supplier_infos.search([("partner_id", "=", vendor.id), ("product_code", "!=", False)])
            index = matching.MatchIndex(
                supplier_codes=[
                    matching.SupplierCode(vendor.id, info.product_code, product.id)
                    for info in known
                    for product in (info.product_id or info.product_tmpl_id.product_variant_ids)
                ]
            )
            posted_lines = [
                matching.PostedLine(line.product_id.id or None, line.einvoice_supplier_code)
                for line in move.invoice_line_ids
            ]
            for learned in index.codes_to_learn(vendor.id, posted_lines):
                template = self.env["product.product"].browse(learned.product_id).product_tmpl_id
                code = matching.code_key(learned.code)
                same_code = known.filtered(lambda info, code=code: matching.code_key(info.product_code) == code)
                this_product = same_code.filtered(lambda info, template=template: info.product_tmpl_id == template)
                # the vendor's code now means this product, and no other
                (same_code - this_product).write({"product_code": False})
                if not this_product:
                    supplier_infos.create(
                        {
                            "partner_id": vendor.id,
                            "product_tmpl_id": template.id,
                            "product_id": learned.product_id if template.product_variant_count > 1 else False,
                            "product_code": learned.code,
                            "company_id": move.company_id.id,
                        }
                    )


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    einvoice_supplier_code = fields.Char(
        string="Vendor item code",
        copy=False,
        help="The vendor's code of the item on the e-invoice this line came from: posting the bill remembers it.",
    )
