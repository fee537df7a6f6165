"""Received e-invoices -> vendor bills, through the matching engine, with candidates loaded in bulk.

:class:`BillImporter` loads everything the matching engine may need for a batch of invoices of one company in a
fixed number of queries (partners, products, vendor codes, units, taxes, bills, currencies), then makes or links one
bill per invoice. The queries do not depend on the number of invoices or lines in the batch.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from odoo import Command
from odoo.exceptions import UserError

from einvoice import matching
from einvoice.i18n import translate
from einvoice.model import Address, Line


@dataclass
class PendingBill:
    """An invoice of the batch, matched, waiting for its bill."""

    received: object  # einvoice.inbound.ReceivedDocument
    match: object  # einvoice.matching.InvoiceMatch
    vendor: object  # res.partner, maybe empty
    report: list
    stated_total: float  # what the invoice says it totals, signed as the bill
    values: dict | None = None  # the bill to make
    guesses: list = field(default_factory=list)  # decisions settled by a guess (the default tax), to be reviewed
    settled: set = field(default_factory=set)  # ids of the ambiguous decisions the product's own tax settled
    bill: object = None  # account.move, made or linked
    same_as: "PendingBill | None" = None  # the same invoice, received earlier in the batch


@dataclass
class ImportOutcome:
    bill: object  # account.move
    linked: bool  # the invoice was linked to a bill already there
    needs_review: bool
    stated_total: float  # what the invoice says it totals, signed as the bill
    difference: float  # the bill's total minus the stated one
    report: list  # what was decided and why, in the user's language


class BillImporter:
    def __init__(self, env, documents):
        """Ready to import ``documents`` (``einvoice.inbound.ReceivedDocument``) into ``env.company``."""
        self.env = env
        self.company = env.company
        self.lang = env.lang
        self.settings = matching.MatchSettings(
            company_id=self.company.id, create_vendors=self.company.einvoice_create_vendors
        )
        invoices = [document.invoice for document in documents]
        self.index = matching.MatchIndex(
            partners=self._partners(),
            products=self._products(),
            supplier_codes=self._supplier_codes(),
            uoms=self._uoms(),
            taxes=self._taxes(),
            bills=self._bills(invoices),
        )
        codes = {invoice.currency for invoice in invoices if invoice.currency}
        self.currencies = {
            currency.name: currency
            for currency in env["res.currency"].with_context(active_test=False).search([("name", "in", list(codes))])
        }
        self.journal = self.company._einvoice_purchase_journal()
        self.vendors_created = {}  # proposal key -> partner: one vendor per seller, however many invoices it sent
        self.batch_bills = {}  # provisional (negative) id -> PendingBill: bills the batch is about to make

    # -- candidates, in bulk ---------------------------------------------------------------------------------------
    def _rows(self, query, params):
        self.env.flush_all()
        self.env.cr.execute(query, params)
        return self.env.cr.fetchall()

    def _partners(self):
        rows = self._rows(
            """
            SELECT p.id, p.name, p.vat, p.company_registry, c.code, p.company_id
              FROM res_partner p LEFT JOIN res_country c ON c.id = p.country_id
             WHERE p.active AND p.id = p.commercial_partner_id
               AND (p.company_id IS NULL OR p.company_id = %s)
               AND (COALESCE(p.vat, '') != '' OR COALESCE(p.company_registry, '') != '')
            """,
            [self.company.id],
        )
        return [matching.PartnerCandidate(*row) for row in rows]

    def _products(self):
        rows = self._rows(
            """
            SELECT pp.id, COALESCE(pt.name->>%s, pt.name->>'en_US'), pp.default_code, pp.barcode, pt.uom_id,
                   pt.company_id
              FROM product_product pp JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE pp.active AND pt.active AND pt.purchase_ok
               AND (pt.company_id IS NULL OR pt.company_id = %s)
            """,
            [self.lang or "en_US", self.company.id],
        )
        return [matching.ProductCandidate(*row) for row in rows]

    def _supplier_codes(self):
        rows = self._rows(
            """
            SELECT si.partner_id, si.product_code, pp.id
              FROM product_supplierinfo si JOIN product_product pp ON pp.product_tmpl_id = si.product_tmpl_id
             WHERE COALESCE(si.product_code, '') != '' AND pp.active
               AND (si.product_id IS NULL OR si.product_id = pp.id)
               AND (si.company_id IS NULL OR si.company_id = %s)
            """,
            [self.company.id],
        )
        return [matching.SupplierCode(*row) for row in rows]

    def _uoms(self):
        rows = self._rows(
            """
            SELECT id, einvoice_unece_code, COALESCE(name->>%s, name->>'en_US')
              FROM uom_uom WHERE active AND COALESCE(einvoice_unece_code, '') != ''
            """,
            [self.lang or "en_US"],
        )
        return [matching.UomCandidate(*row) for row in rows]

    def _taxes(self):
        taxes = self.env["account.tax"].search(
            [
                *self.env["account.tax"]._check_company_domain(self.company),
                ("type_tax_use", "=", "purchase"),
                ("amount_type", "=", "percent"),
            ]
        )
        return [
            matching.TaxCandidate(
                id=tax.id,
                name=tax.name,
                rate=Decimal(str(tax.amount)),
                category=tax.einvoice_vat_category or None,
                type_tax_use=tax.type_tax_use,
                company_id=self.company.id,
                reverse_charge=any(line.factor_percent < 0 for line in tax.invoice_repartition_line_ids),
                price_include=tax.price_include,
            )
            for tax in taxes
        ]

    def _bills(self, invoices):
        numbers = [matching.compact(invoice.number) for invoice in invoices if invoice.number]
        dates = [invoice.issue_date for invoice in invoices if invoice.issue_date]
        rows = self._rows(
            r"""
            SELECT id, commercial_partner_id, ref, invoice_date, amount_total, state, move_type = 'in_refund',
                   company_id, EXISTS(SELECT 1 FROM account_einvoice_inbox inbox WHERE inbox.move_id = account_move.id)
              FROM account_move
             WHERE company_id = %s AND move_type IN ('in_invoice', 'in_refund') AND state != 'cancel'
               AND commercial_partner_id IS NOT NULL
               AND (upper(regexp_replace(ref, '[\W_]+', '', 'g')) = ANY(%s) OR invoice_date = ANY(%s))
            """,
            [self.company.id, numbers, dates],
        )
        return [matching.BillCandidate(*row[:4], Decimal(str(row[4])), *row[5:]) for row in rows]

    # -- the invoices of a batch --------------------------------------------------------------------------------------
    def _prepare(self, received):
        """Match ``received`` and say what to do: link it to a bill, or make one (made with the others of the batch
        by :meth:`_create_bills`, which Odoo does much faster than one by one)."""
        invoice = received.invoice
        match = matching.match_invoice(invoice, self.index, self.settings)
        vendor = self._vendor(match.vendor, invoice.seller)
        report = [self._say(self.env._("Vendor"), match.vendor), self._say(self.env._("Bill"), match.bill)]
        report += [
            self.env._("Read: %(finding)s", finding=finding.translated(self.lang)) for finding in received.findings
        ]
        # what the EN 16931 rules find in the document: warnings only, the platform accepted it
        report += [
            self.env._("Check: %(finding)s", finding=finding.translated(self.lang)) for finding in received.warnings()
        ]
        total = matching.invoice_total(invoice) or 0
        sign = -1 if not invoice.is_credit_note and total < 0 else 1
        pending = PendingBill(received, match, vendor, report, stated_total=float(sign * total))
        bill_id = match.bill.record_id
        if bill_id and bill_id < 0:  # another invoice of this batch, the same one sent twice
            pending.same_as = self.batch_bills[bill_id]
        elif bill_id:
            pending.bill = self.env["account.move"].browse(bill_id)
        else:
            pending.values = self._bill_values(invoice, match, vendor, sign, pending)
            if vendor:
                provisional_id = -len(self.batch_bills) - 1
                self.batch_bills[provisional_id] = pending
                self.index.add_bill(
                    matching.BillCandidate(
                        provisional_id,
                        vendor.id,
                        invoice.number,
                        invoice.issue_date,
                        Decimal(str(abs(pending.stated_total))),
                        refund=pending.values["move_type"] == "in_refund",
                        company_id=self.company.id,
                        from_einvoice=True,
                    )
                )
        return pending

    def _create_bills(self, pendings):
        """The bills of the batch in one go; when one of them cannot be made, :meth:`_finish` makes each alone."""
        new = [pending for pending in pendings if pending.values and not pending.bill]
        try:
            with self.env.cr.savepoint():
                bills = self.env["account.move"].create([pending.values for pending in new])
        # the culprit is found when each bill is made alone
        except Exception:  # pylint: disable=broad-exception-caught
            return
        for pending, bill in zip(new, bills, strict=True):
            pending.bill = bill

    def _finish(self, pending):
        if pending.same_as:
            if not pending.same_as.bill:
                raise UserError(self.env._("The same invoice, received just before, could not be imported."))
            pending.bill = pending.same_as.bill
        elif not pending.bill:
            pending.bill = self.env["account.move"].create(pending.values)
        bill, received = pending.bill, pending.received
        report = pending.report
        difference = bill.currency_id.round(bill.amount_total - pending.stated_total)
        if difference:
            report.append(
                self.env._(
                    "The bill totals %(bill)s, the invoice states %(stated)s: check the lines and taxes.",
                    bill=bill.amount_total,
                    stated=pending.stated_total,
                )
            )
        # anything the matching was not sure of is for a person to check, even when a default settled it
        uncertain = pending.guesses + [
            decision
            for decision in pending.match.decisions()
            if decision.kind in (matching.AMBIGUOUS, matching.SIMILAR) and id(decision) not in pending.settled
        ]
        certain_vendor = pending.match.vendor.certain and pending.vendor
        return ImportOutcome(
            bill=bill,
            linked=not pending.values,
            # the rules' warnings are shown, not a reason to review: the bill says what the supplier's invoice says, and
            # totals that disagree are caught as a difference
            needs_review=bool(uncertain or not certain_vendor or difference or received.findings),
            stated_total=pending.stated_total,
            difference=difference,
            report=report,
        )

    def _say(self, what, decision):
        return f"{what}: {translate(decision.reason, self.lang)}"

    def _vendor(self, decision, seller):
        """The bill's vendor: the one found, or the one the invoice's seller (``seller``) makes, with its VAT number,
        registry number, address and contact as the invoice gives them."""
        if decision.record_id:
            return self.env["res.partner"].browse(decision.record_id)
        proposal = decision.proposal
        if decision.kind != matching.CREATED or not proposal:
            return self.env["res.partner"]
        if proposal.key not in self.vendors_created:
            country = self.env["res.country"].search([("code", "=", proposal.country)], limit=1)
            address = seller.address or Address()
            partner = self.env["res.partner"].create(
                {
                    "name": proposal.name,
                    "is_company": True,
                    "supplier_rank": 1,
                    "vat": proposal.vat,
                    "company_registry": proposal.registry,
                    "country_id": country.id,
                    "state_id": self._state(country, address.subdivision).id,
                    "street": proposal.street,
                    "street2": ", ".join(filter(None, [address.additional_street, address.line3])) or False,
                    "city": proposal.city,
                    "zip": proposal.postal_code,
                    "email": proposal.email,
                    "phone": proposal.phone,
                }
            )
            self.vendors_created[proposal.key] = partner
            self.index.add_partner(
                matching.PartnerCandidate(partner.id, partner.name, partner.vat, proposal.registry, proposal.country)
            )
        return self.vendors_created[proposal.key]

    def _state(self, country, subdivision):
        """The country's state an ISO 3166-2 code names (RO-CJ: Cluj), if Odoo knows it."""
        code = (subdivision or "").upper().removeprefix(f"{country.code}-") if country else ""
        if not code:
            return self.env["res.country.state"]
        return self.env["res.country.state"].search([("country_id", "=", country.id), ("code", "=", code)], limit=1)

    def _tax(self, decision, product, pending):
        """The tax of a line, and why. Where several taxes fit (goods and services at one rate, say), the product's
        own purchase tax settles it, if it is one of them; else the company's default purchase tax is a guess, for
        the bill to be reviewed."""
        reason = translate(decision.reason, self.lang)
        if decision.kind != matching.AMBIGUOUS:
            return decision.record_id, reason
        chosen = product.supplier_taxes_id.filtered(lambda tax: tax.id in decision.candidates)
        if len(chosen) == 1:
            pending.settled.add(id(decision))
            return chosen.id, self.env._(
                "%(reason)s %(tax)s is used, the product's purchase tax.", reason=reason, tax=chosen.name
            )
        pending.guesses.append(decision)
        chosen = self.company.account_purchase_tax_id.filtered(lambda tax: tax.id in decision.candidates)
        if chosen:
            return chosen.id, self.env._(
                "%(reason)s %(tax)s is used, the company's default: check it.", reason=reason, tax=chosen.name
            )
        return None, reason

    def _bill_values(self, invoice, match, vendor, sign, pending):
        report = pending.report
        lines = []
        products = self.env["product.product"].browse(
            [decisions.product.record_id for decisions in match.lines if decisions.product.record_id]
        )
        products.mapped("supplier_taxes_id")  # one query for the invoice, not one per line
        for number, (line, decisions) in enumerate(zip(invoice.lines, match.lines, strict=True), start=1):
            tax_id, tax_reason = self._tax(decisions.tax, products.browse(decisions.product.record_id), pending)
            if decisions.uom.kind == matching.NONE and line.unit_code:  # a quantity in a unit Odoo does not know
                pending.guesses.append(decisions.uom)
            lines.append(Command.create(self._line_values(line, decisions, sign, tax_id)))
            report.append(
                self.env._(
                    "Line %(number)s (%(name)s): %(product)s %(unit)s %(tax)s",
                    number=number,
                    name=line.item_name or "",
                    product=translate(decisions.product.reason, self.lang),
                    unit=translate(decisions.uom.reason, self.lang),
                    tax=tax_reason,
                )
            )
        for item in invoice.allowances_charges:
            tax_decision = self.index.match_tax(
                Line(vat_category=item.vat_category, vat_rate=item.vat_rate), self.company.id, purchase=True
            )
            tax_id, _reason = self._tax(tax_decision, self.env["product.product"], pending)
            amount = (item.amount or 0) * (1 if item.charge else -1) * sign
            lines.append(
                Command.create(
                    {
                        "name": item.reason or (self.env._("Charge") if item.charge else self.env._("Allowance")),
                        "quantity": 1,
                        "price_unit": float(amount),
                        "tax_ids": [Command.set([tax_id] if tax_id else [])],
                    }
                )
            )
        currency = self.currencies.get(invoice.currency) or self.company.currency_id
        payment = invoice.payment_means[0] if invoice.payment_means else None
        move_type = "in_refund" if invoice.is_credit_note or sign < 0 else "in_invoice"
        self._add_tax_results([values for _command, _id, values in lines], currency, move_type == "in_refund")
        return {
            "move_type": move_type,
            "journal_id": self.journal.id,
            "partner_id": vendor.id,
            "ref": invoice.number,
            "invoice_date": invoice.issue_date,
            "invoice_date_due": invoice.due_date or invoice.issue_date,
            "currency_id": currency.id,
            "payment_reference": payment.payment_id if payment else False,
            "invoice_line_ids": lines,
        }

    def _add_tax_results(self, lines, currency, refund):
        """What Odoo's tax engine makes of the lines of a new bill -- their tax report tags and amounts -- added to
        the lines' values, computed as ``account.move`` does once the bill is made (``_sync_tax_lines``).

        The bill is then made with its lines as Odoo would leave them, instead of Odoo writing each line again (three
        writes a line, most of the time of making a bill). Odoo still computes the lines and writes whatever differs,
        so the bill is the same either way. In a foreign currency the rate is Odoo's to find: those lines are left
        to it.
        """
        if currency != self.company.currency_id:
            return
        taxes, line_model = self.env["account.tax"], self.env["account.move.line"]
        # read together: each record keeps the others in its prefetch set
        products = self.env["product.product"].browse(
            {values["product_id"] for values in lines if "product_id" in values}
        )
        products = {product.id: product for product in products}
        units = self.env["uom.uom"].browse({values["product_uom_id"] for values in lines if "product_uom_id" in values})
        units = {unit.id: unit for unit in units}

        def cached(field, values):  # the value as the line holds it (prices and quantities rounded to their digits)
            return line_model._fields[field].convert_to_cache(values.get(field, 0.0), line_model)

        base_lines = []
        for values in lines:
            product = products.get(values.get("product_id"), self.env["product.product"])
            base_lines.append(
                taxes._prepare_base_line_for_taxes_computation(
                    None,
                    product_id=product,
                    product_uom_id=units.get(values.get("product_uom_id"), product.uom_id),
                    tax_ids=taxes.browse(values["tax_ids"][0][2]),
                    price_unit=cached("price_unit", values),
                    quantity=cached("quantity", values),
                    discount=cached("discount", values),
                    currency_id=currency,
                    rate=1.0,
                    sign=-1 if refund else 1,  # the bill's direction_sign
                    is_refund=refund,
                )
            )
        taxes._add_tax_details_in_base_lines(base_lines, self.company)
        taxes._round_base_lines_tax_details(base_lines, self.company)
        # a bill is never always tax exigible: cash basis tags stay off its lines
        taxes._add_accounting_data_in_base_lines_tax_details(base_lines, self.company, include_caba_tags=False)
        updates = taxes._prepare_tax_lines(base_lines, self.company)["base_lines_to_update"]
        for values, (_base_line, update) in zip(lines, updates, strict=True):
            values.update(update)

    def _line_values(self, line, decisions, sign, tax_id):
        quantity = sign * (line.quantity or Decimal(1))
        net = sign * (line.net_amount or Decimal(0))
        if line.price is not None:
            unit_price = line.price / (line.base_quantity or Decimal(1))
        else:
            unit_price = net / quantity if quantity else net
        gross = quantity * unit_price
        discount = (1 - net / gross) * 100 if gross and gross != net else Decimal(0)
        values = {
            "name": "\n".join(filter(None, [line.item_name, line.description])) or "/",
            "quantity": float(quantity),
            "price_unit": float(unit_price),
            "discount": float(round(discount, 6)),
            "tax_ids": [Command.set([tax_id] if tax_id else [])],
            "einvoice_supplier_code": line.seller_item_id or False,
        }
        if decisions.product.record_id:
            values["product_id"] = decisions.product.record_id
        if decisions.uom.record_id:  # else the product's unit, or none
            values["product_uom_id"] = decisions.uom.record_id
        return values
