"""EN 16931 in UBL 2.1 syntax: :func:`write` a neutral :class:`~einvoice.model.Invoice`, :func:`read` one back.

The writer follows the element order of the UBL 2.1 schemas (Invoice and CreditNote differ) and the EN 16931
UBL binding. The reader accepts any EN 16931 UBL document (CIUS-RO, Peppol BIS 3, plain EN 16931), tolerates missing
parts, and keeps amounts exactly as written so that checks can judge the document as it is.
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from lxml import etree

from .errors import EInvoiceError
from .i18n import _
from .model import (
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
from .xmlsafe import parse_xml

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NS = {"cac": CAC, "cbc": CBC}
LINE_TAGS = {f"{{{CAC}}}InvoiceLine": "InvoiceLine", f"{{{CAC}}}CreditNoteLine": "CreditNoteLine"}
PROJECT_DOCUMENT_TYPE = "50"  # BT-11 on a credit note travels as a document reference of this type
OBJECT_DOCUMENT_TYPE = "130"  # BT-18 / BT-128 invoiced object identifier
# CIUS-RO rule for a malformed date, by element name
DATE_RULES = {
    "IssueDate": "BR-RO-DT001",
    "TaxPointDate": "BR-RO-DT002",
    "DueDate": "BR-RO-DT003",
    "PaymentDueDate": "BR-RO-DT003_CN",
    "ActualDeliveryDate": "BR-RO-DT004",
    "StartDate": "BR-RO-DT005",
    "EndDate": "BR-RO-DT006",
}
NOT_DEFINED_PAYMENT_MEANS = "1"  # UNCL 4461 "instrument not defined"
CONTACT_TAGS = ("Name", "Telephone", "ElectronicMail")  # BT-41..43 in the order of model.Contact


class UblError(EInvoiceError):
    """The document is not a UBL Invoice or CreditNote, or the invoice cannot be written."""


# -- writing -----------------------------------------------------------------------------------------------------


def write(invoice, *, customization_id=None):
    """The UBL bytes of ``invoice``: a ``CreditNote`` for credit-note type codes, an ``Invoice`` otherwise."""
    return _Writer(invoice, customization_id or invoice.customization_id).document()


@functools.cache
def qualified(tag):
    """``cbc:ID`` as lxml's ``{namespace}ID``."""
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def amount_text(value):
    return f"{Decimal(value):.2f}"


def number_text(value):
    """A quantity, price or rate with the decimals it was given, never in exponent notation."""
    return format(Decimal(value), "f")


class _Writer:
    def __init__(self, invoice, customization_id):
        self.invoice = invoice
        self.customization_id = customization_id
        self.credit = invoice.is_credit_note
        self.currency = invoice.currency

    # element helpers
    @staticmethod
    def sub(parent, tag, text=None, **attributes):
        element = etree.SubElement(parent, qualified(tag))
        for name, value in attributes.items():
            if value:
                element.set(name, value)
        if text is not None:
            element.text = str(text)
        return element

    def opt(self, parent, tag, text, **attributes):
        if text not in (None, ""):
            return self.sub(parent, tag, text, **attributes)
        return None

    def amount(self, parent, tag, value, currency=None):
        if value is not None:
            self.sub(parent, tag, amount_text(value), currencyID=currency or self.currency)

    @staticmethod
    def date_text(value):
        return value.isoformat() if value else None

    def document(self):
        invoice = self.invoice
        root_ns = CREDIT_NOTE_NS if self.credit else INVOICE_NS
        root = etree.Element(f"{{{root_ns}}}{'CreditNote' if self.credit else 'Invoice'}", nsmap={None: root_ns, **NS})
        self.opt(root, "cbc:CustomizationID", self.customization_id)
        self.opt(root, "cbc:ProfileID", invoice.profile_id)
        self.opt(root, "cbc:ID", invoice.number)
        self.opt(root, "cbc:IssueDate", self.date_text(invoice.issue_date))
        if self.credit:
            self.opt(root, "cbc:TaxPointDate", self.date_text(invoice.tax_point_date))
            self.opt(root, "cbc:CreditNoteTypeCode", invoice.type_code)
        else:
            self.opt(root, "cbc:DueDate", self.date_text(invoice.due_date))
            self.opt(root, "cbc:InvoiceTypeCode", invoice.type_code)
        for note in invoice.notes:
            self.sub(root, "cbc:Note", f"#{note.subject_code}#{note.text}" if note.subject_code else note.text)
        if not self.credit:
            self.opt(root, "cbc:TaxPointDate", self.date_text(invoice.tax_point_date))
        self.opt(root, "cbc:DocumentCurrencyCode", invoice.currency)
        self.opt(root, "cbc:TaxCurrencyCode", invoice.tax_currency)
        self.opt(root, "cbc:AccountingCost", invoice.buyer_accounting_ref)
        self.opt(root, "cbc:BuyerReference", invoice.buyer_reference)
        self.period(root, invoice.period_start, invoice.period_end, invoice.tax_point_code)
        if invoice.order_ref or invoice.sales_order_ref:
            order = self.sub(root, "cac:OrderReference")
            self.sub(order, "cbc:ID", invoice.order_ref or "NA")
            self.opt(order, "cbc:SalesOrderID", invoice.sales_order_ref)
        for preceding in invoice.preceding_invoices:
            reference = self.sub(self.sub(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
            self.sub(reference, "cbc:ID", preceding.number)
            self.opt(reference, "cbc:IssueDate", self.date_text(preceding.issue_date))
        self.document_reference(root, "cac:DespatchDocumentReference", invoice.despatch_advice_ref)
        self.document_reference(root, "cac:ReceiptDocumentReference", invoice.receiving_advice_ref)
        if not self.credit:
            self.document_reference(root, "cac:OriginatorDocumentReference", invoice.tender_ref)
        self.document_reference(root, "cac:ContractDocumentReference", invoice.contract_ref)
        self.additional_references(root)
        if self.credit:
            self.document_reference(root, "cac:OriginatorDocumentReference", invoice.tender_ref)
        elif invoice.project_ref:
            self.sub(self.sub(root, "cac:ProjectReference"), "cbc:ID", invoice.project_ref)
        self.party(self.sub(root, "cac:AccountingSupplierParty"), invoice.seller, seller=True)
        self.party(self.sub(root, "cac:AccountingCustomerParty"), invoice.buyer)
        if invoice.payee:
            self.payee(root, invoice.payee)
        if invoice.tax_representative:
            self.tax_representative(root, invoice.tax_representative)
        if invoice.delivery:
            self.delivery(root, invoice.delivery)
        payment_means = invoice.payment_means
        if self.credit and invoice.due_date and not payment_means:
            # a UBL 2.1 CreditNote has no DueDate: BT-9 travels in a payment means, here "not defined"
            payment_means = (PaymentMeans(NOT_DEFINED_PAYMENT_MEANS),)
        for position, means in enumerate(payment_means):
            self.payment_means(root, means, first=position == 0)
        if invoice.payment_terms:
            self.sub(self.sub(root, "cac:PaymentTerms"), "cbc:Note", invoice.payment_terms)
        for item in invoice.allowances_charges:
            self.allowance_charge(root, item, document_level=True)
        self.tax_totals(root)
        self.monetary_total(root)
        for line in invoice.lines:
            self.line(root, line)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    def period(self, parent, start, end, code=None):
        if start or end or code:
            period = self.sub(parent, "cac:InvoicePeriod")
            self.opt(period, "cbc:StartDate", self.date_text(start))
            self.opt(period, "cbc:EndDate", self.date_text(end))
            self.opt(period, "cbc:DescriptionCode", code)

    def document_reference(self, parent, tag, value):
        if value:
            self.sub(self.sub(parent, tag), "cbc:ID", value)

    def additional_references(self, root):
        invoice = self.invoice
        if invoice.invoiced_object:
            reference = self.sub(root, "cac:AdditionalDocumentReference")
            self.sub(reference, "cbc:ID", invoice.invoiced_object.value, schemeID=invoice.invoiced_object.scheme)
            self.sub(reference, "cbc:DocumentTypeCode", OBJECT_DOCUMENT_TYPE)
        for attachment in invoice.attachments:
            reference = self.sub(root, "cac:AdditionalDocumentReference")
            self.sub(reference, "cbc:ID", attachment.id)
            self.opt(reference, "cbc:DocumentDescription", attachment.description)
            if attachment.content is not None or attachment.uri:
                holder = self.sub(reference, "cac:Attachment")
                if attachment.content is not None:
                    self.sub(
                        holder,
                        "cbc:EmbeddedDocumentBinaryObject",
                        base64.b64encode(attachment.content).decode("ascii"),
                        mimeCode=attachment.mime_code or "application/pdf",
                        filename=attachment.filename,
                    )
                if attachment.uri:
                    self.sub(self.sub(holder, "cac:ExternalReference"), "cbc:URI", attachment.uri)
        if self.credit and invoice.project_ref:
            reference = self.sub(root, "cac:AdditionalDocumentReference")
            self.sub(reference, "cbc:ID", invoice.project_ref)
            self.sub(reference, "cbc:DocumentTypeCode", PROJECT_DOCUMENT_TYPE)

    def identifier(self, parent, tag, identifier):
        if identifier:
            self.sub(parent, tag, identifier.value, schemeID=identifier.scheme)

    def address(self, parent, address, tag="cac:PostalAddress"):
        element = self.sub(parent, tag)
        if address is None:
            return element
        self.opt(element, "cbc:StreetName", address.street)
        self.opt(element, "cbc:AdditionalStreetName", address.additional_street)
        self.opt(element, "cbc:CityName", address.city)
        self.opt(element, "cbc:PostalZone", address.postal_code)
        self.opt(element, "cbc:CountrySubentity", address.subdivision)
        if address.line3:
            self.sub(self.sub(element, "cac:AddressLine"), "cbc:Line", address.line3)
        if address.country_code:
            self.sub(self.sub(element, "cac:Country"), "cbc:IdentificationCode", address.country_code)
        return element

    def party(self, parent, party, seller=False):
        element = self.sub(parent, "cac:Party")
        if party is None:
            return
        self.identifier(element, "cbc:EndpointID", party.endpoint)
        for identifier in party.identifiers:
            self.identifier(self.sub(element, "cac:PartyIdentification"), "cbc:ID", identifier)
        if party.trading_name:
            self.sub(self.sub(element, "cac:PartyName"), "cbc:Name", party.trading_name)
        self.address(element, party.address)
        # BT-32 is the seller's; a buyer's non-VAT tax id (a CUI) is kept the same way, as ANAF's examples do
        for company_id, scheme in ((party.vat_id, "VAT"), (party.tax_registration_id, "TAX")):
            if company_id:
                tax_scheme = self.sub(element, "cac:PartyTaxScheme")
                self.sub(tax_scheme, "cbc:CompanyID", company_id)
                self.sub(self.sub(tax_scheme, "cac:TaxScheme"), "cbc:ID", scheme)
        legal = self.sub(element, "cac:PartyLegalEntity")
        self.opt(legal, "cbc:RegistrationName", party.name)
        self.identifier(legal, "cbc:CompanyID", party.legal_id)
        if seller:
            self.opt(legal, "cbc:CompanyLegalForm", party.legal_form)
        contact = party.contact
        if contact and (contact.name or contact.phone or contact.email):
            element_contact = self.sub(element, "cac:Contact")
            self.opt(element_contact, "cbc:Name", contact.name)
            self.opt(element_contact, "cbc:Telephone", contact.phone)
            self.opt(element_contact, "cbc:ElectronicMail", contact.email)

    def payee(self, root, payee):
        element = self.sub(root, "cac:PayeeParty")
        for identifier in payee.identifiers:
            self.identifier(self.sub(element, "cac:PartyIdentification"), "cbc:ID", identifier)
        self.sub(self.sub(element, "cac:PartyName"), "cbc:Name", payee.name)
        if payee.legal_id:
            self.identifier(self.sub(element, "cac:PartyLegalEntity"), "cbc:CompanyID", payee.legal_id)

    def tax_representative(self, root, representative):
        element = self.sub(root, "cac:TaxRepresentativeParty")
        self.sub(self.sub(element, "cac:PartyName"), "cbc:Name", representative.name)
        self.address(element, representative.address)
        tax_scheme = self.sub(element, "cac:PartyTaxScheme")
        self.sub(tax_scheme, "cbc:CompanyID", representative.vat_id)
        self.sub(self.sub(tax_scheme, "cac:TaxScheme"), "cbc:ID", "VAT")

    def delivery(self, root, delivery):
        element = self.sub(root, "cac:Delivery")
        self.opt(element, "cbc:ActualDeliveryDate", self.date_text(delivery.date))
        if delivery.location_id or delivery.address:
            location = self.sub(element, "cac:DeliveryLocation")
            self.identifier(location, "cbc:ID", delivery.location_id)
            if delivery.address:
                self.address(location, delivery.address, tag="cac:Address")
        if delivery.party_name:
            self.sub(self.sub(self.sub(element, "cac:DeliveryParty"), "cac:PartyName"), "cbc:Name", delivery.party_name)

    def payment_means(self, root, means, first):
        element = self.sub(root, "cac:PaymentMeans")
        self.sub(element, "cbc:PaymentMeansCode", means.code, name=means.text)
        if self.credit and first:  # UBL-SR-45: the due date appears once
            self.opt(element, "cbc:PaymentDueDate", self.date_text(self.invoice.due_date))
        self.opt(element, "cbc:PaymentID", means.payment_id)
        if means.card_pan:
            card = self.sub(element, "cac:CardAccount")
            self.sub(card, "cbc:PrimaryAccountNumberID", means.card_pan)
            self.sub(card, "cbc:NetworkID", "NA")
            self.opt(card, "cbc:HolderName", means.card_holder)
        if means.account_id:
            account = self.sub(element, "cac:PayeeFinancialAccount")
            self.sub(account, "cbc:ID", means.account_id)
            self.opt(account, "cbc:Name", means.account_name)
            if means.bank_id:
                self.sub(self.sub(account, "cac:FinancialInstitutionBranch"), "cbc:ID", means.bank_id)
        if means.mandate_id or means.debited_account:
            mandate = self.sub(element, "cac:PaymentMandate")
            self.opt(mandate, "cbc:ID", means.mandate_id)
            if means.debited_account:
                self.sub(self.sub(mandate, "cac:PayerFinancialAccount"), "cbc:ID", means.debited_account)

    def tax_category(self, parent, tag, category, rate, reason=None, reason_code=None):
        element = self.sub(parent, tag)
        self.sub(element, "cbc:ID", category)
        if rate is not None:
            self.sub(element, "cbc:Percent", number_text(rate))
        self.opt(element, "cbc:TaxExemptionReasonCode", reason_code)
        self.opt(element, "cbc:TaxExemptionReason", reason)
        self.sub(self.sub(element, "cac:TaxScheme"), "cbc:ID", "VAT")

    def allowance_charge(self, parent, item, document_level):
        element = self.sub(parent, "cac:AllowanceCharge")
        self.sub(element, "cbc:ChargeIndicator", "true" if item.charge else "false")
        self.opt(element, "cbc:AllowanceChargeReasonCode", item.reason_code)
        self.opt(element, "cbc:AllowanceChargeReason", item.reason)
        if item.percent is not None:
            self.sub(element, "cbc:MultiplierFactorNumeric", number_text(item.percent))
        self.amount(element, "cbc:Amount", item.amount)
        self.amount(element, "cbc:BaseAmount", item.base_amount)
        if document_level:
            self.tax_category(element, "cac:TaxCategory", item.vat_category, item.vat_rate)

    def tax_totals(self, root):
        invoice, totals = self.invoice, self.invoice.totals
        if totals is None and not invoice.vat_breakdown:  # a received document without them is written as it is
            return
        tax_total = self.sub(root, "cac:TaxTotal")
        self.amount(tax_total, "cbc:TaxAmount", totals.tax_total if totals is not None else None)
        for vat in invoice.vat_breakdown:
            subtotal = self.sub(tax_total, "cac:TaxSubtotal")
            self.amount(subtotal, "cbc:TaxableAmount", vat.taxable_amount)
            self.amount(subtotal, "cbc:TaxAmount", vat.tax_amount)
            self.tax_category(
                subtotal, "cac:TaxCategory", vat.category, vat.rate, vat.exemption_reason, vat.exemption_code
            )
        if (
            invoice.tax_currency
            and invoice.tax_currency != invoice.currency
            and totals is not None
            and totals.tax_total_accounting is not None
        ):
            self.amount(
                self.sub(root, "cac:TaxTotal"), "cbc:TaxAmount", totals.tax_total_accounting, invoice.tax_currency
            )

    def monetary_total(self, root):
        totals = self.invoice.totals
        if totals is None:
            return
        element = self.sub(root, "cac:LegalMonetaryTotal")
        self.amount(element, "cbc:LineExtensionAmount", totals.line_total)
        self.amount(element, "cbc:TaxExclusiveAmount", totals.tax_exclusive)
        self.amount(element, "cbc:TaxInclusiveAmount", totals.tax_inclusive)
        self.amount(element, "cbc:AllowanceTotalAmount", totals.allowance_total)
        self.amount(element, "cbc:ChargeTotalAmount", totals.charge_total)
        self.amount(element, "cbc:PrepaidAmount", totals.prepaid)
        self.amount(element, "cbc:PayableRoundingAmount", totals.rounding)
        self.amount(element, "cbc:PayableAmount", totals.payable)

    def line(self, root, line):
        element = self.sub(root, "cac:CreditNoteLine" if self.credit else "cac:InvoiceLine")
        self.sub(element, "cbc:ID", line.id)
        self.opt(element, "cbc:Note", line.note)
        quantity_tag = "cbc:CreditedQuantity" if self.credit else "cbc:InvoicedQuantity"
        if line.quantity is not None:  # a received line may lack it: the document is written as it is
            self.sub(element, quantity_tag, number_text(line.quantity), unitCode=line.unit_code)
        self.amount(element, "cbc:LineExtensionAmount", line.net_amount)
        self.opt(element, "cbc:AccountingCost", line.accounting_ref)
        self.period(element, line.period_start, line.period_end)
        if line.order_line_ref:
            self.sub(self.sub(element, "cac:OrderLineReference"), "cbc:LineID", line.order_line_ref)
        if line.object_id:
            reference = self.sub(element, "cac:DocumentReference")
            self.sub(reference, "cbc:ID", line.object_id.value, schemeID=line.object_id.scheme)
            self.sub(reference, "cbc:DocumentTypeCode", OBJECT_DOCUMENT_TYPE)
        for item in line.allowances_charges:
            self.allowance_charge(element, item, document_level=False)
        self.item(element, line)
        price = self.sub(element, "cac:Price")
        if line.price is not None:
            self.sub(price, "cbc:PriceAmount", number_text(line.price), currencyID=self.currency)
        if line.base_quantity is not None:
            self.sub(price, "cbc:BaseQuantity", number_text(line.base_quantity), unitCode=line.base_unit_code)
        if line.gross_price is not None or line.price_discount is not None:
            discount = self.sub(price, "cac:AllowanceCharge")
            self.sub(discount, "cbc:ChargeIndicator", "false")
            self.sub(discount, "cbc:Amount", number_text(line.price_discount or 0), currencyID=self.currency)
            if line.gross_price is not None:
                self.sub(discount, "cbc:BaseAmount", number_text(line.gross_price), currencyID=self.currency)

    def item(self, parent, line):
        item = self.sub(parent, "cac:Item")
        self.opt(item, "cbc:Description", line.description)
        self.sub(item, "cbc:Name", line.item_name)
        if line.buyer_item_id:
            self.sub(self.sub(item, "cac:BuyersItemIdentification"), "cbc:ID", line.buyer_item_id)
        if line.seller_item_id:
            self.sub(self.sub(item, "cac:SellersItemIdentification"), "cbc:ID", line.seller_item_id)
        if line.standard_id:
            self.identifier(self.sub(item, "cac:StandardItemIdentification"), "cbc:ID", line.standard_id)
        if line.origin_country:
            self.sub(self.sub(item, "cac:OriginCountry"), "cbc:IdentificationCode", line.origin_country)
        for classification in line.classifications:
            self.sub(
                self.sub(item, "cac:CommodityClassification"),
                "cbc:ItemClassificationCode",
                classification.code,
                listID=classification.list_id,
                listVersionID=classification.list_version,
            )
        self.tax_category(item, "cac:ClassifiedTaxCategory", line.vat_category, line.vat_rate)
        for name, value in line.attributes:
            attribute = self.sub(item, "cac:AdditionalItemProperty")
            self.sub(attribute, "cbc:Name", name)
            self.sub(attribute, "cbc:Value", value)


def facts_for(invoice):
    """The :class:`SyntaxFacts` of the document :func:`write` makes of ``invoice``."""
    totals = invoice.totals
    tax_totals = ()
    if totals is not None:
        tax_totals = (
            TaxTotalFact(totals.tax_total, invoice.currency, tuple(v.tax_amount for v in invoice.vat_breakdown)),
        )
        if (
            invoice.tax_currency
            and invoice.tax_currency != invoice.currency
            and totals.tax_total_accounting is not None
        ):
            tax_totals += (TaxTotalFact(totals.tax_total_accounting, invoice.tax_currency, ()),)
    elif invoice.vat_breakdown:  # written without its VAT total
        tax_totals = (TaxTotalFact(None, None, tuple(v.tax_amount for v in invoice.vat_breakdown)),)
    credit = invoice.is_credit_note
    line_tag = "CreditNoteLine" if credit else "InvoiceLine"
    uses = [
        CategoryUse(
            "line",
            line.vat_category,
            True,
            line.vat_rate,
            line.vat_rate is not None,
            line.net_amount,
            line_tag=line_tag,
        )
        for line in invoice.lines
    ]
    uses += [
        CategoryUse(
            "charge" if item.charge else "allowance",
            item.vat_category,
            True,
            item.vat_rate,
            item.vat_rate is not None,
            item.amount,
        )
        for item in invoice.allowances_charges
    ]
    uses += [
        CategoryUse(
            "breakdown",
            vat.category,
            True,
            vat.rate,
            vat.rate is not None,
            vat.taxable_amount,
            vat.tax_amount,
            bool(vat.exemption_reason or vat.exemption_code),
        )
        for vat in invoice.vat_breakdown
    ]
    return SyntaxFacts(
        root_name="CreditNote" if credit else "Invoice",
        has_monetary_total=totals is not None,
        tax_totals=tax_totals,
        line_tags=(line_tag,) * len(invoice.lines),
        category_uses=tuple(uses),
    )


# -- reading -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxTotalFact:
    amount: Decimal | None  # cbc:TaxAmount
    currency: str | None  # its currencyID
    subtotal_amounts: tuple  # cbc:TaxAmount of each cac:TaxSubtotal (None where missing)


@dataclass(frozen=True)
class CategoryUse:
    """One VAT category as the VAT rules see it, wherever it appears."""

    place: str  # line, allowance, charge, unmarked (an AllowanceCharge without ChargeIndicator) or breakdown
    category: str | None  # normalised cbc:ID
    vat: bool  # its TaxScheme is VAT
    rate: Decimal | None  # cbc:Percent
    rate_present: bool
    amount: Decimal | None = None  # line net amount, allowance or charge amount, breakdown taxable amount
    tax_amount: Decimal | None = None  # breakdown only
    exemption: bool = False  # breakdown only: an exemption reason or code is given
    line_tag: str | None = None  # lines only: InvoiceLine or CreditNoteLine
    raw_category: str | None = None  # cbc:ID exactly as written (one official rule compares it unnormalised)
    document_level: bool = True  # CII: an allowance or charge of the whole document (else of one line)


@dataclass(frozen=True)
class SyntaxFacts:
    """What the model does not carry but some official rules look at: the document's shape as written."""

    root_name: str = "Invoice"  # Invoice or CreditNote
    has_monetary_total: bool = True  # cac:LegalMonetaryTotal is present
    tax_totals: tuple = ()  # a TaxTotalFact per cac:TaxTotal, in document order
    vat_ids: tuple | None = None  # every CompanyID under a VAT PartyTaxScheme; None: take them from the model
    line_tags: tuple = ()  # InvoiceLine or CreditNoteLine, per line
    line_quantity_present: tuple | None = None  # per line, the quantity element exists (even if empty)
    taxed_category_texts: tuple | None = None  # raw VAT category ids as BR-RO-065 / BR-RO-120 see them
    category_uses: tuple = ()  # every CategoryUse, for the VAT category rules
    malformed: frozenset = frozenset()  # elements present but unreadable (a date or number that is not one)
    syntax: str = "UBL"  # UBL or CII: the few rules whose official binding differs look at it
    blank: frozenset = frozenset()  # local names of elements whose text is only blanks (not empty): see BR-21
    empty: frozenset = frozenset()  # local names of elements present without a value (empty or blanks): BR-CO-26
    payment_terms_present: bool | None = None  # the payment terms element exists, even empty (BR-CO-25)
    # per payment means of a document read: (its code as written, the account paid into is present, its identifier
    # is present, the identifier is filled as BR-50 reads it); None for a document written from the model
    payment_accounts: tuple | None = None
    # CII: the tax registrations CEN's CII VAT rules look for, as "<party> <schemeID>" ("seller VA", "seller FC",
    # "representative VA", "buyer VA") and "buyer legal" for a buyer's legal registration
    tax_registrations: frozenset = frozenset()


@dataclass
class ReadResult:
    invoice: Invoice
    findings: list = field(default_factory=list)  # what the model cannot carry: malformed dates and numbers
    facts: SyntaxFacts = field(default_factory=SyntaxFacts)


def read(data):
    """Read UBL ``data`` (bytes) into a :class:`ReadResult`."""
    root = parse_xml(data, what=_("UBL invoice"))
    return read_element(root)


def read_element(root):
    name = etree.QName(root)
    if (name.namespace, name.localname) not in ((INVOICE_NS, "Invoice"), (CREDIT_NOTE_NS, "CreditNote")):
        raise UblError(_("This is not a UBL Invoice or CreditNote (root element %(root)s).", root=name.localname))
    return _Reader(root).result()


def blank_elements(root, empty=False):
    """The local names of the leaf elements whose text is blanks only (``empty``: or nothing at all). The official
    ``(cbc:ID) != ''`` holds for blanks (it does not normalise the space), ``exists(...)`` for both, though their
    value reads as empty."""
    return frozenset(
        etree.QName(element).localname
        for element in root.iter()
        if isinstance(element.tag, str)
        and not len(element)
        and not (element.text or "").strip()
        and (empty or element.text)
    )


# xs:boolean's lexical forms: the official rules compare ChargeIndicator with true() and false(), which reads "1" and
# "0" as well as "true" and "false"
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def normalize_space(text):
    return " ".join(text.split()) if text is not None else None


class _Reader:
    def __init__(self, root):
        self.root = root
        self.credit = etree.QName(root).localname == "CreditNote"
        self.findings = []
        self.malformed = set()
        self.numbers = {}  # element -> its value as read (None when absent or refused)

    def result(self):
        invoice = self.invoice()
        root = self.root
        facts = SyntaxFacts(
            root_name="CreditNote" if self.credit else "Invoice",
            has_monetary_total=root.find("cac:LegalMonetaryTotal", NS) is not None,
            tax_totals=tuple(
                TaxTotalFact(
                    self.decimal(node, "cbc:TaxAmount"),
                    node.find("cbc:TaxAmount", NS).get("currencyID")
                    if node.find("cbc:TaxAmount", NS) is not None
                    else None,
                    tuple(self.decimal(sub, "cbc:TaxAmount") for sub in node.findall("cac:TaxSubtotal", NS)),
                )
                for node in root.findall("cac:TaxTotal", NS)
            ),
            vat_ids=tuple(
                normalize_space(company.text or "")
                for scheme in root.iter(f"{{{CAC}}}PartyTaxScheme")
                if (self.text(scheme, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT"
                for company in scheme.findall("cbc:CompanyID", NS)
            ),
            line_tags=tuple(LINE_TAGS[node.tag] for node in self.line_nodes()),
            line_quantity_present=tuple(
                node.find("cbc:InvoicedQuantity", NS) is not None or node.find("cbc:CreditedQuantity", NS) is not None
                for node in self.line_nodes()
            ),
            taxed_category_texts=self.taxed_category_texts(),
            category_uses=self.category_uses(),
            malformed=frozenset(self.malformed),
            blank=blank_elements(root),
            empty=blank_elements(root, empty=True),
            payment_terms_present=root.find("cac:PaymentTerms/cbc:Note", NS) is not None,
            payment_accounts=tuple(self.payment_account(node) for node in root.findall("cac:PaymentMeans", NS)),
        )
        return ReadResult(invoice, self.findings, facts)

    @staticmethod
    def payment_account(node):
        """What BR-50 reads: ``(cbc:ID) != ''`` on cac:PayeeFinancialAccount, the text as written."""
        account = node.find("cac:PayeeFinancialAccount", NS)
        identifiers = account.findall("cbc:ID", NS) if account is not None else []
        return (
            node.findtext("cbc:PaymentMeansCode", None, NS),
            account is not None,
            bool(identifiers),
            any(identifier.text for identifier in identifiers),
        )

    def taxed_category_texts(self):
        """The category ids BR-RO-065 and BR-RO-120 compare, unnormalised: allowances (with a VAT scheme),
        charges, and invoice lines."""
        texts = []
        for charge in self.root.findall("cac:AllowanceCharge", NS):
            indicator = charge.findtext("cbc:ChargeIndicator", None, NS)
            for category in charge.findall("cac:TaxCategory", NS):
                has_vat_scheme = category.findtext("cac:TaxScheme/cbc:ID", None, NS) == "VAT"
                if indicator == "true" or (indicator == "false" and has_vat_scheme):
                    texts += [node.text for node in category.findall("cbc:ID", NS)]
        for line in self.root.findall("cac:InvoiceLine", NS):
            texts += [node.text for node in line.findall("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", NS)]
        return tuple(texts)

    def category_use(self, category, place, amount=None, tax_amount=None, line_tag=None):
        percent = category.find("cbc:Percent", NS)
        return CategoryUse(
            place=place,
            category=self.text(category, "cbc:ID"),
            vat=(self.text(category, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT",
            rate=self.decimal(category, "cbc:Percent"),
            rate_present=percent is not None,
            amount=amount,
            tax_amount=tax_amount,
            exemption=category.find("cbc:TaxExemptionReason", NS) is not None
            or category.find("cbc:TaxExemptionReasonCode", NS) is not None,
            line_tag=line_tag,
            raw_category=category.findtext("cbc:ID", None, NS),
        )

    def category_uses(self):
        uses = []
        for line in self.line_nodes():
            for category in line.findall("cac:Item/cac:ClassifiedTaxCategory", NS):
                amount = self.decimal(line, "cbc:LineExtensionAmount")
                uses.append(self.category_use(category, "line", amount, line_tag=LINE_TAGS[line.tag]))
        for node in self.root.findall("cac:AllowanceCharge", NS):
            indicator = (self.text(node, "cbc:ChargeIndicator") or "").lower()
            place = {True: "charge", False: "allowance"}.get(BOOLEANS.get(indicator), "unmarked")
            for category in node.findall("cac:TaxCategory", NS):
                uses.append(self.category_use(category, place, self.decimal(node, "cbc:Amount")))
        for subtotal in self.root.findall("cac:TaxTotal/cac:TaxSubtotal", NS):
            taxable, tax = self.decimal(subtotal, "cbc:TaxableAmount"), self.decimal(subtotal, "cbc:TaxAmount")
            categories = subtotal.findall("cac:TaxCategory", NS)
            if not categories:  # still a breakdown, one without a category
                uses.append(CategoryUse("breakdown", None, False, None, False, taxable, tax))
            for category in categories:
                uses.append(self.category_use(category, "breakdown", taxable, tax))
        return tuple(uses)

    def line_nodes(self):
        # a document may (wrongly) mix both kinds of line: read them all, as the official rules do
        return [node for node in self.root if node.tag in LINE_TAGS]

    # value helpers: tolerant of absence, strict about money
    def text(self, node, path):
        if node is None:
            return None
        found = node.find(path, NS)
        if found is None:
            return None
        return normalize_space(found.text or "")

    def decimal(self, node, path):
        found = None if node is None else node.find(path, NS)
        if found is None:
            return None
        # several rules read the same amount: it is judged, and a refusal reported, once
        if found not in self.numbers:
            self.numbers[found] = self.number(found.text or "", path)
        return self.numbers[found]

    def number(self, text, path):
        try:
            return read_number(text, path)
        except NumberError as error:
            self.malformed.add(path.rsplit(":", 1)[-1])
            self.findings.append(Finding("UBL-NUMBER", error.message, path))
            return None

    def date(self, node, path):
        text = self.text(node, path)
        if not text:
            return None
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
        except ValueError:
            pass
        self.malformed.add(path.rsplit(":", 1)[-1])
        rule = DATE_RULES.get(path.rsplit(":", 1)[-1], "UBL-DATE")
        self.findings.append(Finding(rule, _("%(value)r is not a date in the form YYYY-MM-DD.", value=text), path))
        return None

    @staticmethod
    def all(node, path):
        return node.findall(path, NS) if node is not None else []

    def party_identifiers(self, node):
        found = (self.identifier(item, "cbc:ID") for item in node.findall("cac:PartyIdentification", NS))
        return tuple(identifier for identifier in found if identifier is not None)

    def identifier(self, node, path):
        if node is None:
            return None
        found = node.find(path, NS)
        if found is None:
            return None
        return Identifier(normalize_space(found.text or ""), found.get("schemeID"))

    def invoice(self):
        root = self.root
        type_code = self.text(root, "cbc:CreditNoteTypeCode" if self.credit else "cbc:InvoiceTypeCode")
        due_date = self.date(root, "cac:PaymentMeans/cbc:PaymentDueDate" if self.credit else "cbc:DueDate")
        if self.credit and due_date is None:
            due_date = self.date(root, "cbc:DueDate")
        references = root.findall("cac:AdditionalDocumentReference", NS)
        project_ref = self.text(root, "cac:ProjectReference/cbc:ID")
        invoiced_object = None
        attachments = []
        for reference in references:
            type_code_ref = self.text(reference, "cbc:DocumentTypeCode")
            if type_code_ref == PROJECT_DOCUMENT_TYPE and self.credit:
                project_ref = self.text(reference, "cbc:ID")
            elif type_code_ref == OBJECT_DOCUMENT_TYPE:
                invoiced_object = self.identifier(reference, "cbc:ID")
            else:
                attachments.append(self.attachment(reference))
        period = root.find("cac:InvoicePeriod", NS)
        return Invoice(
            number=self.text(root, "cbc:ID"),
            issue_date=self.date(root, "cbc:IssueDate"),
            type_code=type_code,
            currency=self.text(root, "cbc:DocumentCurrencyCode"),
            seller=self.party(root.find("cac:AccountingSupplierParty", NS)),
            buyer=self.party(root.find("cac:AccountingCustomerParty", NS)),
            lines=tuple(self.line(node) for node in self.line_nodes()),
            vat_breakdown=self.vat_breakdown(),
            totals=self.totals(),
            customization_id=self.text(root, "cbc:CustomizationID"),
            profile_id=self.text(root, "cbc:ProfileID"),
            tax_currency=self.text(root, "cbc:TaxCurrencyCode"),
            tax_point_date=self.date(root, "cbc:TaxPointDate"),
            tax_point_code=self.text(period, "cbc:DescriptionCode"),
            due_date=due_date,
            buyer_reference=self.text(root, "cbc:BuyerReference"),
            project_ref=project_ref,
            contract_ref=self.text(root, "cac:ContractDocumentReference/cbc:ID"),
            order_ref=self.text(root, "cac:OrderReference/cbc:ID"),
            sales_order_ref=self.text(root, "cac:OrderReference/cbc:SalesOrderID"),
            receiving_advice_ref=self.text(root, "cac:ReceiptDocumentReference/cbc:ID"),
            despatch_advice_ref=self.text(root, "cac:DespatchDocumentReference/cbc:ID"),
            tender_ref=self.text(root, "cac:OriginatorDocumentReference/cbc:ID"),
            invoiced_object=invoiced_object,
            buyer_accounting_ref=self.text(root, "cbc:AccountingCost"),
            payment_terms=self.text(root, "cac:PaymentTerms/cbc:Note"),
            notes=tuple(self.note(node.text or "") for node in root.findall("cbc:Note", NS)),
            preceding_invoices=tuple(
                PrecedingInvoice(self.text(node, "cbc:ID") or "", self.date(node, "cbc:IssueDate"))
                for node in root.findall("cac:BillingReference/cac:InvoiceDocumentReference", NS)
            ),
            payee=self.payee(root.find("cac:PayeeParty", NS)),
            tax_representative=self.tax_representative(root.find("cac:TaxRepresentativeParty", NS)),
            delivery=self.delivery(root.find("cac:Delivery", NS)),
            period_start=self.date(period, "cbc:StartDate"),
            period_end=self.date(period, "cbc:EndDate"),
            payment_means=tuple(self.payment_means(node) for node in root.findall("cac:PaymentMeans", NS)),
            allowances_charges=tuple(self.allowance_charge(node) for node in root.findall("cac:AllowanceCharge", NS)),
            attachments=tuple(attachments),
        )

    @staticmethod
    def note(text):
        text = text.strip()  # a note may span lines: only the ends are trimmed
        if text.startswith("#") and text.count("#") >= 2:
            _, code, rest = text.split("#", 2)
            if 0 < len(code) <= 3:
                return Note(rest, code)
        return Note(text)

    def attachment(self, node):
        embedded = node.find("cac:Attachment/cbc:EmbeddedDocumentBinaryObject", NS)
        content = None
        if embedded is not None and embedded.text:
            try:
                content = base64.b64decode("".join(embedded.text.split()), validate=True)
            except (binascii.Error, ValueError):
                self.findings.append(
                    Finding(
                        "UBL-ATTACHMENT",
                        _("An embedded attachment is not valid base64."),
                        "AdditionalDocumentReference",
                    )
                )
        return Attachment(
            id=self.text(node, "cbc:ID") or "",
            description=self.text(node, "cbc:DocumentDescription"),
            uri=self.text(node, "cac:Attachment/cac:ExternalReference/cbc:URI"),
            content=content,
            mime_code=embedded.get("mimeCode") if embedded is not None else None,
            filename=embedded.get("filename") if embedded is not None else None,
        )

    def address(self, node):
        if node is None:
            return None
        return Address(
            country_code=self.text(node, "cac:Country/cbc:IdentificationCode"),
            street=self.text(node, "cbc:StreetName"),
            additional_street=self.text(node, "cbc:AdditionalStreetName"),
            line3=self.text(node, "cac:AddressLine/cbc:Line"),
            city=self.text(node, "cbc:CityName"),
            postal_code=self.text(node, "cbc:PostalZone"),
            subdivision=self.text(node, "cbc:CountrySubentity"),
        )

    def party(self, wrapper):
        if wrapper is None:
            return None
        node = wrapper.find("cac:Party", NS)
        if node is None:
            return Party()
        vat_id = tax_registration_id = None
        for scheme in node.findall("cac:PartyTaxScheme", NS):
            company_id = self.text(scheme, "cbc:CompanyID")
            if (self.text(scheme, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT":
                vat_id = vat_id or company_id
            else:
                tax_registration_id = tax_registration_id or company_id
        contact = node.find("cac:Contact", NS)
        return Party(
            name=self.text(node, "cac:PartyLegalEntity/cbc:RegistrationName"),
            address=self.address(node.find("cac:PostalAddress", NS)),
            vat_id=vat_id,
            tax_registration_id=tax_registration_id,
            legal_id=self.identifier(node, "cac:PartyLegalEntity/cbc:CompanyID"),
            trading_name=self.text(node, "cac:PartyName/cbc:Name"),
            legal_form=self.text(node, "cac:PartyLegalEntity/cbc:CompanyLegalForm"),
            identifiers=self.party_identifiers(node),
            endpoint=self.identifier(node, "cbc:EndpointID"),
            contact=None if contact is None else Contact(*(self.text(contact, f"cbc:{tag}") for tag in CONTACT_TAGS)),
        )

    def payee(self, node):
        if node is None:
            return None
        return Party(
            name=self.text(node, "cac:PartyName/cbc:Name"),
            legal_id=self.identifier(node, "cac:PartyLegalEntity/cbc:CompanyID"),
            identifiers=self.party_identifiers(node),
        )

    def tax_representative(self, node):
        if node is None:
            return None
        return Party(
            name=self.text(node, "cac:PartyName/cbc:Name"),
            address=self.address(node.find("cac:PostalAddress", NS)),
            vat_id=self.text(node, "cac:PartyTaxScheme/cbc:CompanyID"),
        )

    def delivery(self, node):
        if node is None:
            return None
        return Delivery(
            party_name=self.text(node, "cac:DeliveryParty/cac:PartyName/cbc:Name"),
            location_id=self.identifier(node, "cac:DeliveryLocation/cbc:ID"),
            date=self.date(node, "cbc:ActualDeliveryDate"),
            address=self.address(node.find("cac:DeliveryLocation/cac:Address", NS)),
        )

    def payment_means(self, node):
        code = node.find("cbc:PaymentMeansCode", NS)
        return PaymentMeans(
            code=normalize_space(code.text) if code is not None and code.text else "",
            text=code.get("name") if code is not None else None,
            payment_id=self.text(node, "cbc:PaymentID"),
            account_id=self.text(node, "cac:PayeeFinancialAccount/cbc:ID"),
            account_name=self.text(node, "cac:PayeeFinancialAccount/cbc:Name"),
            bank_id=self.text(node, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"),
            card_pan=self.text(node, "cac:CardAccount/cbc:PrimaryAccountNumberID"),
            card_holder=self.text(node, "cac:CardAccount/cbc:HolderName"),
            mandate_id=self.text(node, "cac:PaymentMandate/cbc:ID"),
            debited_account=self.text(node, "cac:PaymentMandate/cac:PayerFinancialAccount/cbc:ID"),
        )

    def tax_category(self, node):
        """(category, rate, exemption reason, exemption code) of the VAT TaxCategory under ``node``."""
        if node is None:
            return None, None, None, None
        return (
            self.text(node, "cbc:ID"),
            self.decimal(node, "cbc:Percent"),
            self.text(node, "cbc:TaxExemptionReason"),
            self.text(node, "cbc:TaxExemptionReasonCode"),
        )

    def allowance_charge(self, node, document_level=True):
        category, rate, _reason, _code = self.tax_category(node.find("cac:TaxCategory", NS))
        return AllowanceCharge(
            charge=BOOLEANS.get(self.text(node, "cbc:ChargeIndicator") or ""),
            amount=self.decimal(node, "cbc:Amount"),
            base_amount=self.decimal(node, "cbc:BaseAmount"),
            percent=self.decimal(node, "cbc:MultiplierFactorNumeric"),
            reason=self.text(node, "cbc:AllowanceChargeReason"),
            reason_code=self.text(node, "cbc:AllowanceChargeReasonCode"),
            vat_category=category if document_level else None,
            vat_rate=rate if document_level else None,
        )

    def vat_breakdown(self):
        currency = self.text(self.root, "cbc:DocumentCurrencyCode")
        breakdown = []
        for tax_total in self.root.findall("cac:TaxTotal", NS):
            amount = tax_total.find("cbc:TaxAmount", NS)
            if amount is not None and currency and amount.get("currencyID") not in (None, currency):
                continue
            for subtotal in tax_total.findall("cac:TaxSubtotal", NS):
                category, rate, reason, code = self.tax_category(subtotal.find("cac:TaxCategory", NS))
                breakdown.append(
                    VatBreakdown(
                        category,
                        rate,
                        self.decimal(subtotal, "cbc:TaxableAmount"),
                        self.decimal(subtotal, "cbc:TaxAmount"),
                        reason,
                        code,
                    )
                )
        return tuple(breakdown)

    def totals(self):
        node = self.root.find("cac:LegalMonetaryTotal", NS)
        document_tax = accounting_tax = None
        currency = self.text(self.root, "cbc:DocumentCurrencyCode")
        tax_currency = self.text(self.root, "cbc:TaxCurrencyCode")
        for amount in self.root.findall("cac:TaxTotal/cbc:TaxAmount", NS):
            value = self.decimal(amount.getparent(), "cbc:TaxAmount")
            if amount.get("currencyID") == tax_currency and tax_currency != currency:
                accounting_tax = value
            elif document_tax is None:
                document_tax = value
        if node is None and document_tax is None:
            return None
        return Totals(
            line_total=self.decimal(node, "cbc:LineExtensionAmount"),
            tax_exclusive=self.decimal(node, "cbc:TaxExclusiveAmount"),
            tax_inclusive=self.decimal(node, "cbc:TaxInclusiveAmount"),
            payable=self.decimal(node, "cbc:PayableAmount"),
            allowance_total=self.decimal(node, "cbc:AllowanceTotalAmount"),
            charge_total=self.decimal(node, "cbc:ChargeTotalAmount"),
            tax_total=document_tax,
            tax_total_accounting=accounting_tax,
            prepaid=self.decimal(node, "cbc:PrepaidAmount"),
            rounding=self.decimal(node, "cbc:PayableRoundingAmount"),
        )

    def line(self, node):
        quantity_node = node.find("cbc:CreditedQuantity" if self.credit else "cbc:InvoicedQuantity", NS)
        price = node.find("cac:Price", NS)
        price_discount = price.find("cac:AllowanceCharge", NS) if price is not None else None
        base_quantity = price.find("cbc:BaseQuantity", NS) if price is not None else None
        category, rate, _reason, _code = self.tax_category(node.find("cac:Item/cac:ClassifiedTaxCategory", NS))
        item = node.find("cac:Item", NS)
        period = node.find("cac:InvoicePeriod", NS)
        object_id = None
        for reference in node.findall("cac:DocumentReference", NS):
            if self.text(reference, "cbc:DocumentTypeCode") == OBJECT_DOCUMENT_TYPE:
                object_id = self.identifier(reference, "cbc:ID")
        return Line(
            id=self.text(node, "cbc:ID"),
            quantity=self.decimal(node, "cbc:CreditedQuantity" if self.credit else "cbc:InvoicedQuantity"),
            unit_code=quantity_node.get("unitCode") if quantity_node is not None else None,
            net_amount=self.decimal(node, "cbc:LineExtensionAmount"),
            price=self.decimal(price, "cbc:PriceAmount"),
            item_name=self.text(item, "cbc:Name"),
            vat_category=category,
            vat_rate=rate,
            base_quantity=self.decimal(price, "cbc:BaseQuantity"),
            base_unit_code=base_quantity.get("unitCode") if base_quantity is not None else None,
            gross_price=self.decimal(price_discount, "cbc:BaseAmount"),
            price_discount=self.decimal(price_discount, "cbc:Amount"),
            description=self.text(item, "cbc:Description"),
            seller_item_id=self.text(item, "cac:SellersItemIdentification/cbc:ID"),
            buyer_item_id=self.text(item, "cac:BuyersItemIdentification/cbc:ID"),
            standard_id=self.identifier(item, "cac:StandardItemIdentification/cbc:ID"),
            classifications=tuple(
                Classification(normalize_space(code.text or ""), code.get("listID"), code.get("listVersionID"))
                for code in self.all(item, "cac:CommodityClassification/cbc:ItemClassificationCode")
            ),
            origin_country=self.text(item, "cac:OriginCountry/cbc:IdentificationCode"),
            attributes=tuple(
                (self.text(attribute, "cbc:Name") or "", self.text(attribute, "cbc:Value") or "")
                for attribute in self.all(item, "cac:AdditionalItemProperty")
            ),
            allowances_charges=tuple(
                self.allowance_charge(child, document_level=False) for child in node.findall("cac:AllowanceCharge", NS)
            ),
            note=self.text(node, "cbc:Note"),
            object_id=object_id,
            order_line_ref=self.text(node, "cac:OrderLineReference/cbc:LineID"),
            accounting_ref=self.text(node, "cbc:AccountingCost"),
            period_start=self.date(period, "cbc:StartDate"),
            period_end=self.date(period, "cbc:EndDate"),
        )
