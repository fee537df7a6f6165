"""EN 16931 in UN/CEFACT CII syntax (CrossIndustryInvoice D16B): :func:`read` a document into the neutral model.

ANAF accepts CII uploads (``standard=CII``) and suppliers send them; they are read into the same model as UBL, so
everything downstream (checks, conversion to CIUS-RO, vendor-bill import) is syntax-neutral.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import date

from .errors import EInvoiceError
from .i18n import _
from .model import (
    CREDIT_NOTE_TYPES,
    Address,
    AllowanceCharge,
    Attachment,
    Classification,
    Contact,
    Delivery,
    Identifier,
    Invoice,
    Line,
    Note,
    Party,
    PaymentMeans,
    PrecedingInvoice,
    Totals,
    VatBreakdown,
)
from .numeric import NumberError, read_number
from .rules import Finding
from .ubl import BOOLEANS, CategoryUse, ReadResult, SyntaxFacts, TaxTotalFact, normalize_space
from .xmlsafe import parse_xml

RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
NS = {"rsm": RSM, "ram": RAM, "udt": UDT, "qdt": QDT}
VAT_SCHEME = "VA"  # SpecifiedTaxRegistration/ID schemeID of a VAT identifier (BT-31); others are BT-32
SUPPORTING_DOCUMENT, TENDER, INVOICED_OBJECT = "916", "50", "130"
DIRECT_DEBIT_CODES = {"49", "59"}
PAYMENT_MEANS = "ram:SpecifiedTradeSettlementPaymentMeans"


class CiiError(EInvoiceError):
    """The document is not a CII CrossIndustryInvoice."""


def read(data):
    """Read CII ``data`` (bytes) into a :class:`~einvoice.ubl.ReadResult`."""
    return read_element(parse_xml(data, what=_("CII invoice")))


def read_element(root):
    if root.tag != f"{{{RSM}}}CrossIndustryInvoice":
        raise CiiError(_("This is not a UN/CEFACT CrossIndustryInvoice."))
    return _Reader(root).result()


class _Reader:
    def __init__(self, root):
        self.root = root
        self.findings = []
        self.numbers = {}  # element -> its value as read (None when refused)

    # value helpers: tolerant of absence, strict about money ----------------------------------------------------
    @staticmethod
    def node(parent, path):
        return parent.find(path, NS) if parent is not None else None

    @staticmethod
    def nodes(parent, path):
        return parent.findall(path, NS) if parent is not None else []

    def text(self, parent, path):
        found = self.node(parent, path)
        return normalize_space(found.text or "") if found is not None else None

    def decimal(self, parent, path):
        return self.number(self.node(parent, path), path)

    def number(self, element, where):
        """The number ``element`` holds; None when it is absent or refused (and reported once)."""
        if element is None:
            return None
        if element not in self.numbers:
            self.numbers[element] = None
            try:
                self.numbers[element] = read_number(element.text or "", where)
            except NumberError as error:
                self.findings.append(Finding("CII-NUMBER", error.message, where))
        return self.numbers[element]

    def date(self, parent, path, kind="udt"):
        text = self.text(parent, f"{path}/{kind}:DateTimeString")
        if not text:
            return None
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) == 8 else date.fromisoformat(text)
        except ValueError:
            self.findings.append(Finding("CII-DATE", _("%(value)r is not a date.", value=text), path))
            return None

    def identifier(self, parent, path):
        found = self.node(parent, path)
        if found is None:
            return None
        return Identifier(normalize_space(found.text or ""), found.get("schemeID"))

    # document ------------------------------------------------------------------------------------------------
    def result(self):
        invoice = self.invoice()
        credit = invoice.type_code in CREDIT_NOTE_TYPES
        settlement = self.node(self.root, "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement")
        summation = self.node(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        # the CII rules look at a VAT total by its currencyID only (BR-CO-14's context, BR-CO-15's count)
        tax_totals = tuple(
            TaxTotalFact(
                self.number(node, "TaxTotalAmount"),
                node.get("currencyID"),
                tuple(vat.tax_amount for vat in invoice.vat_breakdown)
                if node.get("currencyID") == invoice.currency
                else (),
            )
            for node in self.nodes(summation, "ram:TaxTotalAmount")
        )
        facts = SyntaxFacts(
            root_name="CreditNote" if credit else "Invoice",
            has_monetary_total=summation is not None,
            tax_totals=tax_totals,
            line_tags=("CreditNoteLine" if credit else "InvoiceLine",) * len(invoice.lines),
            syntax="CII",
            payment_terms_present=self.node(settlement, "ram:SpecifiedTradePaymentTerms/ram:Description") is not None,
            payment_accounts=tuple(map(self.payment_account, self.nodes(settlement, PAYMENT_MEANS))),
            category_uses=self.category_uses(),
            tax_registrations=self.tax_registrations(),
            # BR-CO-09 reads every VAT registration as written, anywhere in the document
            vat_ids=tuple(
                node.text or ""
                for node in self.root.iter(f"{{{RAM}}}ID")
                if node.get("schemeID") == VAT_SCHEME and node.getparent().tag == f"{{{RAM}}}SpecifiedTaxRegistration"
            ),
        )
        return ReadResult(invoice, self.findings, facts)

    # what CEN's CII VAT rules look at, as they look at it --------------------------------------------------------
    def category_uses(self):
        """Every VAT category of the document as CEN's CII rules see it: the category code compared as written, the
        tax type compared in upper case, and the amounts the -08 rules add up (a line's total, an allowance's or a
        charge's first amount, a breakdown's basis)."""
        uses = []
        for settlement in self.root.iter(f"{{{RAM}}}SpecifiedLineTradeSettlement"):
            total = self.node(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount")
            for tax in self.nodes(settlement, "ram:ApplicableTradeTax"):
                uses.append(self.category_use(tax, "line", self.number(total, "LineTotalAmount")))
        for charge in self.root.iter(f"{{{RAM}}}SpecifiedTradeAllowanceCharge"):
            indicator = self.text(charge, "ram:ChargeIndicator/udt:Indicator") or ""
            place = {True: "charge", False: "allowance"}.get(BOOLEANS.get(indicator), "unmarked")
            amount = self.decimal(charge, "ram:ActualAmount")
            level = charge.getparent().tag == f"{{{RAM}}}ApplicableHeaderTradeSettlement"
            for tax in self.nodes(charge, "ram:CategoryTradeTax"):
                uses.append(self.category_use(tax, place, amount, document_level=level))
        for settlement in self.root.iter(f"{{{RAM}}}ApplicableHeaderTradeSettlement"):
            for tax in self.nodes(settlement, "ram:ApplicableTradeTax"):
                amount = self.decimal(tax, "ram:BasisAmount")
                uses.append(self.category_use(tax, "breakdown", amount, self.decimal(tax, "ram:CalculatedAmount")))
        return tuple(uses)

    def category_use(self, tax, place, amount, tax_amount=None, document_level=True):
        code, kind = self.node(tax, "ram:CategoryCode"), self.node(tax, "ram:TypeCode")
        rate = self.node(tax, "ram:RateApplicablePercent")
        return CategoryUse(
            place=place,
            category=None if code is None else code.text or "",
            vat=kind is not None and (kind.text or "").upper() == "VAT",
            rate=self.number(rate, "RateApplicablePercent"),
            rate_present=rate is not None,
            amount=amount,
            tax_amount=tax_amount,
            exemption=self.node(tax, "ram:ExemptionReason") is not None
            or self.node(tax, "ram:ExemptionReasonCode") is not None,
            document_level=document_level,
        )

    def tax_registrations(self):
        agreement = self.node(self.root, "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement")
        found = set()
        for party, path in (
            ("seller", "ram:SellerTradeParty"),
            ("representative", "ram:SellerTaxRepresentativeTradeParty"),
            ("buyer", "ram:BuyerTradeParty"),
        ):
            node = self.node(agreement, path)
            found.update(
                f"{party} {item.get('schemeID')}" for item in self.nodes(node, "ram:SpecifiedTaxRegistration/ram:ID")
            )
            if party == "buyer" and self.node(node, "ram:SpecifiedLegalOrganization/ram:ID") is not None:
                found.add("buyer legal")
        return frozenset(found)

    def invoice(self):
        root = self.root
        document = self.node(root, "rsm:ExchangedDocument")
        context = self.node(root, "rsm:ExchangedDocumentContext")
        transaction = self.node(root, "rsm:SupplyChainTradeTransaction")
        agreement = self.node(transaction, "ram:ApplicableHeaderTradeAgreement")
        delivery = self.node(transaction, "ram:ApplicableHeaderTradeDelivery")
        settlement = self.node(transaction, "ram:ApplicableHeaderTradeSettlement")
        currency = self.text(settlement, "ram:InvoiceCurrencyCode")
        terms = self.node(settlement, "ram:SpecifiedTradePaymentTerms")
        period = self.node(settlement, "ram:BillingSpecifiedPeriod")
        taxes = self.nodes(settlement, "ram:ApplicableTradeTax")
        references = {}
        attachments = []
        for reference in self.nodes(agreement, "ram:AdditionalReferencedDocument"):
            type_code = self.text(reference, "ram:TypeCode")
            if type_code in (TENDER, INVOICED_OBJECT):
                references[type_code] = self.identifier(reference, "ram:IssuerAssignedID")
            else:
                attachments.append(self.attachment(reference))
        tender = references.get(TENDER)
        return Invoice(
            number=self.text(document, "ram:ID"),
            issue_date=self.date(document, "ram:IssueDateTime"),
            type_code=self.text(document, "ram:TypeCode"),
            currency=currency,
            seller=self.party(self.node(agreement, "ram:SellerTradeParty")),
            buyer=self.party(self.node(agreement, "ram:BuyerTradeParty")),
            lines=tuple(self.line(node) for node in self.nodes(transaction, "ram:IncludedSupplyChainTradeLineItem")),
            vat_breakdown=tuple(self.vat(node) for node in taxes),
            totals=self.totals(settlement, currency),
            customization_id=self.text(context, "ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"),
            profile_id=self.text(context, "ram:BusinessProcessSpecifiedDocumentContextParameter/ram:ID"),
            tax_currency=self.text(settlement, "ram:TaxCurrencyCode"),
            tax_point_date=next(filter(None, (self.date(tax, "ram:TaxPointDate") for tax in taxes)), None),
            tax_point_code=next(filter(None, (self.text(tax, "ram:DueDateTypeCode") for tax in taxes)), None),
            due_date=self.date(terms, "ram:DueDateDateTime"),
            buyer_reference=self.text(agreement, "ram:BuyerReference"),
            project_ref=self.text(agreement, "ram:SpecifiedProcuringProject/ram:ID"),
            contract_ref=self.text(agreement, "ram:ContractReferencedDocument/ram:IssuerAssignedID"),
            order_ref=self.text(agreement, "ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"),
            sales_order_ref=self.text(agreement, "ram:SellerOrderReferencedDocument/ram:IssuerAssignedID"),
            receiving_advice_ref=self.text(delivery, "ram:ReceivingAdviceReferencedDocument/ram:IssuerAssignedID"),
            despatch_advice_ref=self.text(delivery, "ram:DespatchAdviceReferencedDocument/ram:IssuerAssignedID"),
            tender_ref=tender.value if tender else None,
            invoiced_object=references.get(INVOICED_OBJECT),
            buyer_accounting_ref=self.text(settlement, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
            payment_terms=self.text(terms, "ram:Description"),
            notes=tuple(
                Note(self.text(node, "ram:Content") or "", self.text(node, "ram:SubjectCode"))
                for node in self.nodes(document, "ram:IncludedNote")
            ),
            preceding_invoices=tuple(
                PrecedingInvoice(
                    self.text(node, "ram:IssuerAssignedID") or "", self.date(node, "ram:FormattedIssueDateTime", "qdt")
                )
                for node in self.nodes(settlement, "ram:InvoiceReferencedDocument")
            ),
            payee=self.party(self.node(settlement, "ram:PayeeTradeParty")),
            tax_representative=self.party(self.node(agreement, "ram:SellerTaxRepresentativeTradeParty")),
            delivery=self.delivery(delivery),
            period_start=self.date(period, "ram:StartDateTime"),
            period_end=self.date(period, "ram:EndDateTime"),
            payment_means=self.all_payment_means(settlement, terms),
            allowances_charges=tuple(
                self.allowance_charge(node) for node in self.nodes(settlement, "ram:SpecifiedTradeAllowanceCharge")
            ),
            attachments=tuple(attachments),
        )

    def attachment(self, node):
        binary = self.node(node, "ram:AttachmentBinaryObject")
        content = None
        if binary is not None and binary.text:
            try:
                content = base64.b64decode("".join(binary.text.split()), validate=True)
            except (binascii.Error, ValueError):
                self.findings.append(
                    Finding("CII-ATTACHMENT", _("An embedded attachment is not valid base64."), "BT-125")
                )
        return Attachment(
            id=self.text(node, "ram:IssuerAssignedID") or "",
            description=self.text(node, "ram:Name"),
            uri=self.text(node, "ram:URIID"),
            content=content,
            mime_code=binary.get("mimeCode") if binary is not None else None,
            filename=binary.get("filename") if binary is not None else None,
        )

    def address(self, node):
        if node is None:
            return None
        return Address(
            country_code=self.text(node, "ram:CountryID"),
            street=self.text(node, "ram:LineOne"),
            additional_street=self.text(node, "ram:LineTwo"),
            line3=self.text(node, "ram:LineThree"),
            city=self.text(node, "ram:CityName"),
            postal_code=self.text(node, "ram:PostcodeCode"),
            subdivision=self.text(node, "ram:CountrySubDivisionName"),
        )

    def party(self, node):
        if node is None:
            return None
        vat_id = tax_registration_id = None
        for registration in self.nodes(node, "ram:SpecifiedTaxRegistration/ram:ID"):
            value = normalize_space(registration.text or "")
            if registration.get("schemeID") == VAT_SCHEME:
                vat_id = vat_id or value
            else:
                tax_registration_id = tax_registration_id or value
        contact = self.node(node, "ram:DefinedTradeContact")
        identifiers = [self.identifier(item, ".") for item in self.nodes(node, "ram:ID")]
        identifiers += [self.identifier(item, ".") for item in self.nodes(node, "ram:GlobalID")]
        return Party(
            name=self.text(node, "ram:Name"),
            address=self.address(self.node(node, "ram:PostalTradeAddress")),
            vat_id=vat_id,
            tax_registration_id=tax_registration_id,
            legal_id=self.identifier(node, "ram:SpecifiedLegalOrganization/ram:ID"),
            trading_name=self.text(node, "ram:SpecifiedLegalOrganization/ram:TradingBusinessName"),
            legal_form=self.text(node, "ram:Description"),
            identifiers=tuple(identifiers),
            endpoint=self.identifier(node, "ram:URIUniversalCommunication/ram:URIID"),
            contact=None
            if contact is None
            else Contact(
                self.text(contact, "ram:PersonName"),
                self.text(contact, "ram:TelephoneUniversalCommunication/ram:CompleteNumber"),
                self.text(contact, "ram:EmailURIUniversalCommunication/ram:URIID"),
            ),
        )

    def delivery(self, node):
        if node is None:
            return None
        ship_to = self.node(node, "ram:ShipToTradeParty")
        occurred = self.date(node, "ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime")
        if ship_to is None and occurred is None:
            return None
        return Delivery(
            party_name=self.text(ship_to, "ram:Name"),
            location_id=self.identifier(ship_to, "ram:ID") or self.identifier(ship_to, "ram:GlobalID"),
            date=occurred,
            address=self.address(self.node(ship_to, "ram:PostalTradeAddress")),
        )

    def all_payment_means(self, settlement, terms):
        """CII keeps the direct debit mandate (BG-19) in the payment terms: it goes to the direct debit means."""
        means = [self.payment_means(node) for node in self.nodes(settlement, PAYMENT_MEANS)]
        mandate = self.text(terms, "ram:DirectDebitMandateID")
        if means and mandate:
            debit = next((i for i, item in enumerate(means) if item.code in DIRECT_DEBIT_CODES), 0)
            means[debit] = replace(means[debit], mandate_id=mandate)
        return tuple(means)

    def payment_account(self, node):
        """What BR-50 and BR-61 look at in CII: they are asserted on the creditor account, when there is one."""
        account = self.node(node, "ram:PayeePartyCreditorFinancialAccount")
        identifiers = [self.node(account, "ram:IBANID"), self.node(account, "ram:ProprietaryID")]
        type_code = self.node(node, "ram:TypeCode")
        return (
            type_code.text if type_code is not None else None,
            account is not None,
            any(identifier is not None for identifier in identifiers),
            any(identifier is not None and (identifier.text or "").strip() for identifier in identifiers),
        )

    def payment_means(self, node):
        card = self.node(node, "ram:ApplicableTradeSettlementFinancialCard")
        creditor = self.node(node, "ram:PayeePartyCreditorFinancialAccount")
        return PaymentMeans(
            code=self.text(node, "ram:TypeCode") or "",
            text=self.text(node, "ram:Information"),
            payment_id=self.text(self.root, ".//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference"),
            account_id=self.text(creditor, "ram:IBANID") or self.text(creditor, "ram:ProprietaryID"),
            account_name=self.text(creditor, "ram:AccountName"),
            bank_id=self.text(node, "ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID"),
            card_pan=self.text(card, "ram:ID"),
            card_holder=self.text(card, "ram:CardholderName"),
            creditor_id=self.text(self.root, ".//ram:ApplicableHeaderTradeSettlement/ram:CreditorReferenceID"),
            debited_account=self.text(node, "ram:PayerPartyDebtorFinancialAccount/ram:IBANID"),
        )

    def allowance_charge(self, node, document_level=True):
        indicator = self.text(node, "ram:ChargeIndicator/udt:Indicator") or ""
        tax = self.node(node, "ram:CategoryTradeTax")
        return AllowanceCharge(
            charge=BOOLEANS.get(indicator),
            amount=self.decimal(node, "ram:ActualAmount"),
            base_amount=self.decimal(node, "ram:BasisAmount"),
            percent=self.decimal(node, "ram:CalculationPercent"),
            reason=self.text(node, "ram:Reason"),
            reason_code=self.text(node, "ram:ReasonCode"),
            vat_category=self.text(tax, "ram:CategoryCode") if document_level else None,
            vat_rate=self.decimal(tax, "ram:RateApplicablePercent") if document_level else None,
        )

    def vat(self, node):
        return VatBreakdown(
            category=self.text(node, "ram:CategoryCode"),
            rate=self.decimal(node, "ram:RateApplicablePercent"),
            taxable_amount=self.decimal(node, "ram:BasisAmount"),
            tax_amount=self.decimal(node, "ram:CalculatedAmount"),
            exemption_reason=self.text(node, "ram:ExemptionReason"),
            exemption_code=self.text(node, "ram:ExemptionReasonCode"),
        )

    def totals(self, settlement, currency):
        node = self.node(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        if node is None:
            return None
        document_tax = accounting_tax = None
        for amount in self.nodes(node, "ram:TaxTotalAmount"):
            value = self.number(amount, "TaxTotalAmount")
            if amount.get("currencyID") in (None, currency) and document_tax is None:
                document_tax = value
            else:
                accounting_tax = value
        return Totals(
            line_total=self.decimal(node, "ram:LineTotalAmount"),
            tax_exclusive=self.decimal(node, "ram:TaxBasisTotalAmount"),
            tax_inclusive=self.decimal(node, "ram:GrandTotalAmount"),
            payable=self.decimal(node, "ram:DuePayableAmount"),
            allowance_total=self.decimal(node, "ram:AllowanceTotalAmount"),
            charge_total=self.decimal(node, "ram:ChargeTotalAmount"),
            tax_total=document_tax,
            tax_total_accounting=accounting_tax,
            prepaid=self.decimal(node, "ram:TotalPrepaidAmount"),
            rounding=self.decimal(node, "ram:RoundingAmount"),
        )

    def line(self, node):
        product = self.node(node, "ram:SpecifiedTradeProduct")
        agreement = self.node(node, "ram:SpecifiedLineTradeAgreement")
        settlement = self.node(node, "ram:SpecifiedLineTradeSettlement")
        quantity = self.node(node, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity")
        net_price = self.node(agreement, "ram:NetPriceProductTradePrice")
        gross_price = self.node(agreement, "ram:GrossPriceProductTradePrice")
        basis = self.node(net_price, "ram:BasisQuantity")
        tax = self.node(settlement, "ram:ApplicableTradeTax")
        period = self.node(settlement, "ram:BillingSpecifiedPeriod")
        object_reference = next(
            (
                self.identifier(reference, "ram:IssuerAssignedID")
                for reference in self.nodes(settlement, "ram:AdditionalReferencedDocument")
                if self.text(reference, "ram:TypeCode") == INVOICED_OBJECT
            ),
            None,
        )
        return Line(
            id=self.text(node, "ram:AssociatedDocumentLineDocument/ram:LineID"),
            quantity=self.number(quantity, "BilledQuantity"),
            unit_code=quantity.get("unitCode") if quantity is not None else None,
            net_amount=self.decimal(
                settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount"
            ),
            price=self.decimal(net_price, "ram:ChargeAmount"),
            item_name=self.text(product, "ram:Name"),
            vat_category=self.text(tax, "ram:CategoryCode"),
            vat_rate=self.decimal(tax, "ram:RateApplicablePercent"),
            base_quantity=self.number(basis, "BasisQuantity"),
            base_unit_code=basis.get("unitCode") if basis is not None else None,
            gross_price=self.decimal(gross_price, "ram:ChargeAmount"),
            price_discount=self.decimal(gross_price, "ram:AppliedTradeAllowanceCharge/ram:ActualAmount"),
            description=self.text(product, "ram:Description"),
            seller_item_id=self.text(product, "ram:SellerAssignedID"),
            buyer_item_id=self.text(product, "ram:BuyerAssignedID"),
            standard_id=self.identifier(product, "ram:GlobalID"),
            classifications=tuple(
                Classification(normalize_space(code.text or ""), code.get("listID"), code.get("listVersionID"))
                for code in self.nodes(product, "ram:DesignatedProductClassification/ram:ClassCode")
            ),
            origin_country=self.text(product, "ram:OriginTradeCountry/ram:ID"),
            attributes=tuple(
                (self.text(item, "ram:Description") or "", self.text(item, "ram:Value") or "")
                for item in self.nodes(product, "ram:ApplicableProductCharacteristic")
            ),
            allowances_charges=tuple(
                self.allowance_charge(item, document_level=False)
                for item in self.nodes(settlement, "ram:SpecifiedTradeAllowanceCharge")
            ),
            note=self.text(node, "ram:AssociatedDocumentLineDocument/ram:IncludedNote/ram:Content"),
            object_id=object_reference,
            order_line_ref=self.text(agreement, "ram:BuyerOrderReferencedDocument/ram:LineID"),
            accounting_ref=self.text(settlement, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"),
            period_start=self.date(period, "ram:StartDateTime"),
            period_end=self.date(period, "ram:EndDateTime"),
        )
