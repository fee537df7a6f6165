import dataclasses
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero, html2plaintext

from einvoice import matching, model
from einvoice.rules import Finding

from ..tools.notification import notification
from .account_einvoice_document import AT_THE_PLATFORM, STATES

# what a mapping problem is reported under, beside the official rule ids of the checks
UNMAPPED_TAX, UNMAPPED_UNIT, UNMAPPED_CATEGORY = "ODOO-TAX", "ODOO-UOM", "ODOO-VAT-CATEGORY"
MOVE_TYPE_CODES = {"out_invoice": model.INVOICE, "out_refund": model.CREDIT_NOTE}
DISCOUNT_REASON_CODE = "95"  # UNCL 5189: discount
UNITLESS = "C62"  # UN/ECE "one": a quantity without a unit of measure counts pieces of nothing in particular
PAYMENT_NOT_DEFINED = "1"  # UNCL 4461 "instrument not defined": no bank account is set on the invoice
CREDIT_TRANSFER = "30"


def decimal(value, digits=2):
    """An Odoo float as the Decimal it stands for (floats carry representation noise past their precision)."""
    return Decimal(f"{value:.{digits}f}")


class AccountMove(models.Model):
    _inherit = "account.move"

    einvoice_document_ids = fields.One2many("account.einvoice.document", "move_id", string="E-invoice attempts")
    einvoice_document_id = fields.Many2one(
        "account.einvoice.document", compute="_compute_einvoice_document", string="Latest e-invoice attempt"
    )
    einvoice_state = fields.Selection(
        [("not_sent", "Not sent"), *STATES],
        compute="_compute_einvoice_state",
        store=True,
        string="E-invoice",
        help="Where the latest attempt to clear this invoice through the national platform stands.",
    )

    @api.depends("einvoice_document_ids")
    def _compute_einvoice_document(self):
        for move in self:
            move.einvoice_document_id = move.einvoice_document_ids.sorted("id")[-1:]

    @api.depends("einvoice_document_ids.state")
    def _compute_einvoice_state(self):
        for move in self:
            move.einvoice_state = move.einvoice_document_ids.sorted("id")[-1:].state or "not_sent"

    einvoice_self_billing = fields.Boolean(related="journal_id.is_self_billing", string="Self-billing journal")
    einvoice_correction_reason = fields.Char(
        string="Correction reason",
        copy=False,
        help="Why this credit note corrects the invoice (the reason given when it was made from the invoice): the "
        "e-invoice carries it as the reason of the correction.",
    )

    # -- sending -----------------------------------------------------------------------------------------------------
    def _einvoice_self_billed(self):
        """A bill this company issues itself in its supplier's name (self-billing): it goes out like a sale."""
        return self.move_type == "in_invoice" and self.journal_id.is_self_billing

    def _einvoice_is_outgoing(self):
        return self.is_sale_document() or self._einvoice_self_billed()

    def _einvoice_finding_text(self, finding):
        """A finding in the user's language; one about the customer names them, so the clerk knows what to fix."""
        text = finding.translated(self.env.lang)
        if finding.location in ("BG-7", "BG-8") and self.is_sale_document():
            text = f"{text}: {self.commercial_partner_id.display_name}"
        return text

    def _einvoice_platform(self):
        """The platform that clears this invoice (a country add-on says which), or False."""
        return False

    def _einvoice_problems(self):
        """Every reason this invoice cannot be sent as it is, in plain words (mapping, then the platform's checks)."""
        invoice, findings = self._einvoice_invoice()
        if findings:
            return [self._einvoice_finding_text(finding) for finding in findings]
        return self._einvoice_platform_problems(self._einvoice_platform(), invoice)

    def _einvoice_platform_problems(self, platform, invoice):
        """What ``platform``'s own rules would refuse in ``invoice``, the mapped invoice (a country add-on says)."""
        return []

    def _einvoice_sendable(self, platform):
        """Whether ``platform`` would take this invoice now (what the Send wizard offers by default)."""
        self.ensure_one()
        return (
            self.state == "posted"
            and self._einvoice_is_outgoing()
            and self._einvoice_platform() == platform
            and self.einvoice_state not in AT_THE_PLATFORM
        )

    def _einvoice_refusal(self):
        """Why this invoice cannot be sent now, in plain words; empty when it can."""
        self.ensure_one()
        if self.state != "posted" or not self._einvoice_is_outgoing() or not self._einvoice_platform():
            return [self.env._("Only posted customer invoices of a connected company are sent.")]
        if self.einvoice_state in AT_THE_PLATFORM:
            return [self.env._("Already sent; an invoice is never sent twice.")]
        return self._einvoice_problems()

    def _einvoice_queue(self, due=None):
        """The attempt of each invoice waiting in the queue, else a new one (the caller made sure they may be sent);
        the scheduler sends it from ``due`` on (at once when not given)."""
        queued = self.einvoice_document_ids.filtered(lambda document: document.state == "to_send")
        queued.next_check_at = due
        fresh = self - queued.move_id
        return queued | self.env["account.einvoice.document"].create(
            [{"move_id": move.id, "platform": move._einvoice_platform(), "next_check_at": due} for move in fresh]
        )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        for move in posted.filtered(
            lambda m: (
                m.company_id.einvoice_send_mode == "posting" and m._einvoice_is_outgoing() and m._einvoice_platform()
            )
        ):
            problems = move._einvoice_refusal()
            if problems:
                move._einvoice_ask_for_attention("\n".join(problems))
                continue
            move._einvoice_queue(due=fields.Datetime.now() + timedelta(days=move.company_id.einvoice_hold_days))
        posted.filtered("einvoice_inbox_ids")._einvoice_learn_supplier_codes()
        return posted

    def _einvoice_deadline(self, platform):
        """The last day the law allows for clearing this invoice through ``platform``, or False (a country add-on
        says)."""
        return False

    @api.model
    def _cron_einvoice_deadlines(self, warn_days=1):
        """Somebody is asked to act on every invoice still not at its platform when the legal deadline is near."""
        moves = self.search(
            [
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("einvoice_state", "in", ("not_sent", "to_send", "rejected", "error")),
                ("invoice_date", ">=", fields.Date.today() - timedelta(days=60)),
            ]
        )
        horizon = fields.Date.today() + timedelta(days=warn_days)
        for company, company_moves in moves.grouped("company_id").items():
            company_moves = company._einvoice_in_lang(company_moves)
            platform = company_moves[0]._einvoice_platform()  # the company's: asked once, not per invoice
            labels = company_moves.env["account.einvoice.document"]._platform_labels()
            for move in company_moves if platform else ():
                deadline = move._einvoice_deadline(platform)
                if deadline and deadline <= horizon:
                    move._einvoice_ask_for_attention(
                        move.env._(
                            "%(move)s must reach %(platform)s by %(deadline)s and has not yet.",
                            move=move.display_name,
                            platform=labels[platform],
                            deadline=fields.Date.to_string(deadline),
                        ),
                    )

    def action_einvoice_send(self):
        """Send the invoices to their platform now; an invoice already at the platform is never sent again. One
        invoice that cannot be sent is refused with all its problems at once. Of several, those that can be sent go
        and the others stay, each with its reasons in its chatter; the summary says what went and why the rest did
        not."""
        refused = {move: problems for move in self if (problems := move._einvoice_refusal())}
        if refused and len(self) == 1:
            raise UserError(self._einvoice_listed(refused))
        for move, problems in refused.items():
            if move.state == "posted" and move.einvoice_state not in AT_THE_PLATFORM:  # to be fixed on the invoice
                move.message_post(
                    body=Markup("%s<ul>%s</ul>")
                    % (
                        self.env._("E-invoice not sent:"),
                        Markup().join(Markup("<li>%s</li>") % problem for problem in problems),
                    )
                )
        documents = self.filtered(lambda move: move not in refused)._einvoice_queue()
        for document in documents:
            document._send()
        return self._einvoice_send_summary(documents, refused)

    @api.model
    def _einvoice_listed(self, problems):
        """``problems`` (invoice -> its reasons) as text, invoice by invoice."""
        return "\n\n".join(
            "\n".join([f"{move.display_name}:", *(f"  • {problem}" for problem in found)])
            for move, found in problems.items()
        )

    @api.model
    def _einvoice_send_summary(self, documents, refused):
        """What became of a Send, told to the person who clicked: how many went, and each invoice that did not with
        its reasons (refused before sending, refused by the platform, or waiting in the queue)."""
        waiting = documents.filtered(lambda document: document.state == "to_send")
        failed = documents.filtered(lambda document: document.state in ("rejected", "error"))
        sent = len(documents) - len(waiting) - len(failed)
        title = self.env._("E-invoices sent: %(sent)s of %(total)s", sent=sent, total=len(documents) + len(refused))
        sections = [
            (self.env._("Not sent:"), self._einvoice_listed(refused)),
            (
                self.env._("Refused by the platform:"),
                self._einvoice_listed({document.move_id: [document.error_message] for document in failed}),
            ),
            (
                self.env._("Not sent yet, waiting in the queue:"),
                self._einvoice_listed({document.move_id: [document.error_message] for document in waiting}),
            ),
        ]
        message = "\n\n".join(f"{heading}\n{listed}" for heading, listed in sections if listed)
        if not message:
            return notification(title, reload=True)
        return notification(message, kind="warning", title=title, sticky=True, reload=True)

    def action_einvoice_download(self):
        """The platform's answer of the latest attempt (ANAF's signed archive, KSeF's UPO), byte for byte."""
        self.ensure_one()
        answer = self.einvoice_document_id.response_attachment_id
        if not answer:
            raise UserError(self.env._("The platform has not answered this invoice yet."))
        return {"type": "ir.actions.act_url", "url": f"/web/content/{answer.id}?download=true", "target": "download"}

    def action_einvoice_check(self):
        """Ask the platform now how the latest attempt stands (what the crons do unattended)."""
        for document in self.einvoice_document_id:
            if document.state in ("processing", "unknown"):
                document._platform_call("check" if document.state == "processing" else "resolve")
        return True

    def button_draft(self):
        accepted = self.filtered(lambda move: move.einvoice_state in AT_THE_PLATFORM)
        if not accepted:  # queued attempts never left: they go, the corrected invoice is queued again when posted
            self.einvoice_document_ids.filtered(lambda document: document.state == "to_send").sudo().unlink()
        if accepted:
            raise UserError(
                self.env._(
                    "%(moves)s went to the national platform and cannot be reset to draft: correct it with a credit "
                    "note.",
                    moves=", ".join(accepted.mapped("display_name")),
                )
            )
        return super().button_draft()

    def _einvoice_attention_summary(self):
        return self.env._("E-invoice needs attention")

    def _einvoice_attention_done(self, feedback):
        """The invoice reached its platform: the reminders asking somebody to act on it (a rejection, a deadline)
        are done, with ``feedback`` saying why."""
        # asked for by a scheduled job or by a person of another language: the summary in either language
        summaries = {self._einvoice_attention_summary(), self.with_context(lang="en_US")._einvoice_attention_summary()}
        self.activity_ids.filtered(lambda activity: activity.summary in summaries).action_feedback(feedback=feedback)

    def _einvoice_ask_for_attention(self, message):
        """An activity for the invoice's responsible (else its creator) when a person must act."""
        self.ensure_one()
        summary = self._einvoice_attention_summary()
        if self.activity_ids.filtered(lambda activity: activity.summary == summary):
            return  # one open reminder is enough; the chatter keeps every event
        user = self.invoice_user_id or self.create_uid
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=message,
            user_id=user.id,
        )

    def _einvoice_invoice(self):
        """This customer invoice or credit note as a neutral e-invoice, and what could not be mapped faithfully.

        Returns ``(invoice, findings)``; ``findings`` are :class:`einvoice.rules.Finding` the user must fix (a line
        with two taxes, a unit without a UN/ECE code...) — nothing is replaced by a default silently. The amounts are
        Odoo's own: the VAT of each rate is taken from the tax lines, so the e-invoice says what the printed one does.
        """
        self.ensure_one()
        findings = []
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == "product")
        lines = [self._einvoice_line(line, position, findings) for position, line in enumerate(product_lines, start=1)]
        seller, buyer = self.company_id.partner_id, self.commercial_partner_id
        if self._einvoice_self_billed():  # issued by us in the supplier's name: the supplier is the seller
            seller, buyer = buyer, seller
        company_currency = self.company_id.currency_id
        foreign = self.currency_id != company_currency
        categories = set(product_lines.tax_ids.mapped("einvoice_vat_category"))
        seller, buyer = self._einvoice_party(seller), self._einvoice_party(buyer)
        if "O" in categories:
            # EN 16931 BR-O-02: an invoice outside the scope of VAT names no VAT identifier of the seller or the
            # buyer; the seller's stays as its tax registration (BT-32), the buyer is known by its legal one
            seller = dataclasses.replace(seller, vat_id=None, tax_registration_id=seller.vat_id)
            buyer = dataclasses.replace(buyer, vat_id=None)
        invoice = model.Invoice.build(
            lines=lines,
            tax_amounts=self._einvoice_tax_amounts(),
            exemptions=self._einvoice_exemptions(),
            tax_total_accounting=decimal(abs(self.amount_tax_signed)) if foreign else None,
            number=self.name,
            issue_date=self.invoice_date,
            due_date=self.invoice_date_due,
            type_code=model.SELF_BILLED_INVOICE
            if self._einvoice_self_billed()
            else MOVE_TYPE_CODES.get(self.move_type),
            currency=self.currency_id.name,
            tax_currency=company_currency.name if foreign else None,
            seller=seller,
            buyer=buyer,
            buyer_reference=self.ref or None,
            delivery=self._einvoice_delivery(intra_community="K" in categories),
            notes=self._einvoice_notes(),
            preceding_invoices=self._einvoice_preceding_invoices(),
            payment_means=self._einvoice_payment_means(),
        )
        return invoice, findings

    def _einvoice_delivery(self, intra_community=False):
        """BG-13: when and where the goods or services went. The delivery address when it is not the buyer's own;
        the delivery date when Odoo was told one. An intra-community supply states both (EN 16931 BR-IC-11,
        BR-IC-12): without a delivery date of its own, the goods went on the day of the invoice, the date the
        invoice then stands for (a later delivery is not invoiced ahead in an intra-community supply)."""
        buyer = self.commercial_partner_id
        shipping = self.partner_shipping_id or buyer
        day = self.delivery_date or (self.invoice_date if intra_community else None)
        address = self._einvoice_address(shipping) if intra_community or shipping != buyer else None
        if not day and not address:
            return None
        return model.Delivery(party_name=shipping.name if shipping != buyer else None, date=day, address=address)

    # -- parties ---------------------------------------------------------------------------------------------------
    def _einvoice_party(self, partner):
        vat = (partner.vat or "").replace(" ", "").upper()
        has_prefix = vat[:2].isalpha()
        return model.Party(
            name=partner.name,
            vat_id=vat if vat and has_prefix else None,
            tax_registration_id=vat if vat and not has_prefix else None,  # a tax id without its country: not a VAT id
            legal_id=model.Identifier(partner.company_registry) if partner.company_registry else None,
            address=self._einvoice_address(partner),
            contact=model.Contact(email=partner.email or None, phone=partner.phone or None)
            if partner.email or partner.phone
            else None,
        )

    def _einvoice_address(self, partner):
        """The postal address; the subdivision as ISO 3166-2 (country-state). Country add-ons refine it."""
        state = partner.state_id
        return model.Address(
            country_code=partner.country_id.code or None,
            street=partner.street or None,
            additional_street=partner.street2 or None,
            city=partner.city or None,
            postal_code=partner.zip or None,
            subdivision=f"{partner.country_id.code}-{state.code}" if state and partner.country_id else None,
        )

    # -- lines -----------------------------------------------------------------------------------------------------
    def _einvoice_line(self, line, position, findings):
        where = self.env._("line %(position)s", position=position)
        taxes = line.tax_ids
        if len(taxes) != 1:
            findings.append(
                Finding(
                    UNMAPPED_TAX,
                    self.env._(
                        "%(where)s has %(count)s taxes; an e-invoice line carries exactly one VAT rate.",
                        where=where,
                        count=len(taxes),
                    ),
                    where,
                )
            )
        tax = taxes[:1]
        category = tax.einvoice_vat_category
        if tax and not category:
            findings.append(
                Finding(
                    UNMAPPED_CATEGORY,
                    self.env._("The tax %(tax)s has no e-invoice VAT category: set it on the tax.", tax=tax.name),
                    where,
                )
            )
        uom = line.product_uom_id
        unit_code = uom.einvoice_unece_code if uom else UNITLESS
        if not unit_code:
            findings.append(
                Finding(
                    UNMAPPED_UNIT,
                    self.env._("The unit %(unit)s has no UN/ECE code: set it on the unit of measure.", unit=uom.name),
                    where,
                )
            )
        unit_price = line.price_unit
        if taxes.filtered("price_include"):
            unit_price = taxes.compute_all(unit_price, self.currency_id, 1.0, line.product_id, self.partner_id)[
                "total_excluded"
            ]
        quantity = decimal(line.quantity, 6)
        price = decimal(unit_price, 8).normalize() if unit_price else Decimal("0")
        net_amount = decimal(line.price_subtotal)
        allowances = ()
        if line.discount and not float_is_zero(line.discount, precision_digits=6):
            gross_amount = model.money(quantity * price)
            allowances = (
                model.AllowanceCharge(
                    charge=False,
                    amount=gross_amount - net_amount,
                    base_amount=gross_amount,
                    percent=decimal(line.discount, 4).normalize(),
                    reason=self.env._("Discount"),
                    reason_code=DISCOUNT_REASON_CODE,
                ),
            )
        rate = decimal(tax.amount, 4).normalize() if tax and category != "O" else None
        product = line.product_id
        return model.Line(
            id=str(position),
            quantity=quantity,
            unit_code=unit_code or None,
            net_amount=net_amount,
            price=price,
            item_name=(line.name or product.display_name or "").splitlines()[0][:200] or product.display_name,
            description=line.name if line.name and "\n" in line.name else None,
            vat_category=category or None,
            vat_rate=rate,
            seller_item_id=product.default_code or None,
            standard_id=model.Identifier(product.barcode, "0160") if product.barcode else None,
            allowances_charges=allowances,
        )

    # -- VAT ---------------------------------------------------------------------------------------------------------
    def _einvoice_tax_amounts(self):
        """The VAT of each (category, rate) as Odoo booked it, in the invoice currency."""
        sign = -1 if self.move_type in ("out_invoice", "in_refund") else 1
        amounts = defaultdict(Decimal)
        for line in self.line_ids.filtered("tax_line_id"):
            tax = line.tax_line_id
            rate = decimal(tax.amount, 4).normalize() if tax.einvoice_vat_category != "O" else None
            amounts[(tax.einvoice_vat_category, rate)] += decimal(sign * line.amount_currency)
        return dict(amounts)

    def _einvoice_exemptions(self):
        exemptions = {}
        for tax in self.invoice_line_ids.tax_ids:
            if tax.einvoice_exemption_reason or tax.einvoice_exemption_code:
                exemptions.setdefault(
                    tax.einvoice_vat_category,
                    (tax.einvoice_exemption_reason or None, tax.einvoice_exemption_code or None),
                )
        return exemptions

    # -- references and payment --------------------------------------------------------------------------------------
    def _einvoice_notes(self):
        text = html2plaintext(self.narration or "").strip()
        return (model.Note(text),) if text else ()

    def _einvoice_preceding_invoices(self):
        """The invoice a credit note corrects, or the advance invoices a final invoice deducts (BG-3)."""
        preceding = self.reversed_entry_id or self._einvoice_advance_invoices()
        return tuple(model.PrecedingInvoice(move.name, move.invoice_date) for move in preceding)

    def _einvoice_advance_invoices(self):
        """The posted down-payment invoices whose advances this final invoice deducts. Odoo links them when the
        invoices come from a sales order (``sale`` overrides ``_get_downpayment_lines``); without it there are none."""
        if self.move_type != "out_invoice":
            return self.browse()
        advances = self.invoice_line_ids._get_downpayment_lines().move_id
        return advances.filtered(lambda move: move != self and move.state == "posted").sorted("invoice_date")

    def _einvoice_payment_means(self):
        bank = self.partner_bank_id
        if not bank:
            return (model.PaymentMeans(PAYMENT_NOT_DEFINED),)
        return (
            model.PaymentMeans(
                CREDIT_TRANSFER,
                account_id=bank.sanitized_acc_number or bank.acc_number,
                account_name=bank.acc_holder_name or self.company_id.name,
                bank_id=bank.bank_bic or None,
                payment_id=self.payment_reference or None,
            ),
        )

    # -- received e-invoices ---------------------------------------------------------------------------------------
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
