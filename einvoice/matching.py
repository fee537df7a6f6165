"""Matching a received invoice to what the database already holds: vendor, products, units, taxes, an existing bill.

Pure data in, decisions out. The Odoo layer loads the candidates of a batch in bulk (a fixed number of queries, never
one per line), builds one :class:`MatchIndex` from them and calls :func:`match_invoice` for every invoice of the batch.
Every :class:`Decision` says what was found, how sure it is (its ``kind``) and why, in a translatable ``reason``.

Nothing is guessed: when two records fit equally, the decision is ``ambiguous`` and names them; the caller leaves the
choice to the accountant. Kinds ``exact`` and ``normalised`` may be applied without review; ``similar`` (a product
found by its name) and ``created`` (a vendor to create) deserve a look.
"""

from __future__ import annotations

import heapq
import re
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .i18n import _
from .model import EXEMPTION_REQUIRED, INTRA_COMMUNITY, REVERSE_CHARGE, ZERO_RATED, money

EXACT = "exact"  # the identifier is written the same way on both sides
NORMALISED = "normalised"  # the same identifier once spacing, case, separators or leading zeros are set aside
SIMILAR = "similar"  # a product whose name is close enough
CREATED = "created"  # nothing found: the decision carries what to create
NONE = "none"
AMBIGUOUS = "ambiguous"  # several records fit equally: ``candidates`` lists them, none is chosen

# the buyer accounts for the VAT of these categories: on a purchase they need a reverse-charge tax, not a 0 % one
SELF_ASSESSED = frozenset({REVERSE_CHARGE, INTRA_COMMUNITY})
ALWAYS_ZERO = EXEMPTION_REQUIRED | {ZERO_RATED}  # a line of these categories may leave its rate out (O must)
# Rec 20 codes that all count pieces: suppliers use them interchangeably (ANAF's examples write EA, Odoo writes C62)
PIECE_CODES = ("H87", "C62", "EA")
# FA(3) writes units as free text (P_8A); these are the usual Polish and Romanian ones, keyed as unit_key() leaves them
UNIT_WORDS = {
    "SZT": "H87",
    "SZTUKA": "H87",
    "BUC": "H87",
    "BUCATA": "H87",
    "USL": "C62",
    "KG": "KGM",
    "G": "GRM",
    "T": "TNE",
    "L": "LTR",
    "M": "MTR",
    "M2": "MTK",
    "M3": "MTQ",
    "KM": "KMT",
    "H": "HUR",
    "GODZ": "HUR",
    "ORA": "HUR",
    "KPL": "SET",
    "PARA": "PR",
    "PERECHE": "PR",
}
VAT_PREFIX_COUNTRY = {"EL": "GR"}  # Greek VAT numbers carry EL, addresses GR
BLOCK_LIMIT = 200  # a name token shared by more products than this is too common to pick candidates by
MAX_COMPARED = 50  # products compared by name per line: those sharing the rarest words


@dataclass(frozen=True)
class PartnerCandidate:
    """A commercial partner (``res.partner``) that may be the seller."""

    id: int
    name: str
    vat: str | None = None
    registry: str | None = None  # trade register number (J40/...), KRS, company registry
    country: str | None = None  # ISO 3166-1 alpha-2 of its address
    company_id: int | None = None  # None: shared by every company


@dataclass(frozen=True)
class ProductCandidate:
    id: int
    name: str
    default_code: str | None = None  # internal reference
    barcode: str | None = None
    uom_id: int | None = None  # purchase unit, preferred when several units share the line's code
    company_id: int | None = None


@dataclass(frozen=True)
class SupplierCode:
    """A vendor's own code for one of our products (``product.supplierinfo``), loaded or learned."""

    partner_id: int
    code: str
    product_id: int


@dataclass(frozen=True)
class UomCandidate:
    id: int
    unece_code: str  # UN/ECE Recommendation 20
    name: str = ""


@dataclass(frozen=True)
class TaxCandidate:
    id: int
    name: str
    rate: Decimal | float | str
    category: str | None  # UNCL 5305 VAT category (S, Z, E, AE, K, G, O)
    type_tax_use: str  # purchase, sale, none
    company_id: int
    reverse_charge: bool = False  # the tax self-assesses the VAT (it books and deducts it)
    price_include: bool = False


@dataclass(frozen=True)
class BillCandidate:
    """A vendor bill or refund already in the database, typed by hand or imported, draft or posted."""

    id: int
    partner_id: int
    ref: str | None  # the vendor's invoice number
    date: date | None
    total: Decimal | None  # tax included, positive (Odoo's amount_total)
    state: str = "draft"
    refund: bool = False
    company_id: int | None = None
    from_einvoice: bool = False  # made from (or linked to) a received e-invoice: its number is the seller's own


@dataclass(frozen=True)
class PostedLine:
    """A line of a posted bill, as learning needs it."""

    product_id: int | None
    supplier_code: str | None  # the seller's item id the line came with


@dataclass(frozen=True)
class VendorProposal:
    """A vendor to create from the invoice. Proposals with the same ``key`` are one vendor: create it once."""

    key: str
    name: str
    vat: str | None = None
    registry: str | None = None
    country: str | None = None
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class MatchSettings:
    company_id: int | None = None  # None: a single-company database, nothing filtered by company
    create_vendors: bool = False  # an unknown seller becomes a vendor proposal instead of being left for review
    name_threshold: float = 0.7  # least trigram similarity for a product found by its name (0..1)


@dataclass(frozen=True)
class Decision:
    kind: str
    reason: object  # an einvoice.i18n.Message
    record_id: int | None = None
    candidates: tuple[int, ...] = ()  # the records in question when ambiguous
    score: float | None = None  # name similarity of a similar product
    proposal: VendorProposal | None = None  # what to create when the kind is created

    @property
    def certain(self):
        return self.kind in (EXACT, NORMALISED)


@dataclass(frozen=True)
class LineMatch:
    product: Decision
    uom: Decision
    tax: Decision


@dataclass(frozen=True)
class InvoiceMatch:
    vendor: Decision
    bill: Decision  # a record_id means: link the e-invoice to that bill instead of creating one
    lines: tuple[LineMatch, ...] = ()

    def decisions(self):
        yield self.vendor
        yield self.bill
        for line in self.lines:
            yield from (line.product, line.uom, line.tax)

    @property
    def needs_review(self):
        """The vendor is not certain, or a decision is ambiguous or only similar."""
        return not self.vendor.certain or any(decision.kind in (AMBIGUOUS, SIMILAR) for decision in self.decisions())


_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
_COMBINING_MARKS = re.compile(r"[\u0300-\u036f]")  # what NFKD splits off Latin letters: ș -> s + comma below
_WORD = re.compile(r"[^\W_]+")


def compact(value):
    """Letters and digits only, upper case: identifiers are written with all sorts of spaces, dots and dashes."""
    return _NOT_ALPHANUMERIC.sub("", value.upper()) if value else ""


def vat_parts(value):
    """``(country, number)`` of a VAT id or tax number; the country is None when it is written without a prefix."""
    text = compact(value)
    if len(text) > 2 and text[:2].isascii() and text[:2].isalpha():
        return VAT_PREFIX_COUNTRY.get(text[:2], text[:2]), text[2:]
    return None, text


def gtin_key(value):
    """GTIN-8/12/13/14 compare as GTIN-14 (leading zeros added, as spreadsheets drop them); other codes compact."""
    text = compact(value)
    return text.zfill(14) if text.isdigit() and 8 <= len(text) <= 14 else text


def code_key(value):
    """Item codes compare regardless of case and spacing; their separators may matter (AB-12 is not A-B12)."""
    return " ".join(value.split()).upper() if value else ""


def unit_key(value):
    """Unit codes and words without case, accents or punctuation: "usł." and "m²" are USL and M2."""
    return "".join(name_tokens(value)).upper()


_LETTERS_WITHOUT_ACCENT = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss"})


def name_tokens(text):
    """Words of a name, without case or accents (ș, ł, ó), so that typed and received names compare."""
    folded = (text or "").casefold()
    if folded.isascii():  # nothing to decompose or strip: most names, read by the thousand
        return _WORD.findall(folded)
    folded = unicodedata.normalize("NFKD", folded.translate(_LETTERS_WITHOUT_ACCENT))
    return _WORD.findall(_COMBINING_MARKS.sub("", folded))


def trigrams(tokens):
    """PostgreSQL pg_trgm's trigrams: each word padded with two spaces before and one after."""
    grams = set()
    for token in tokens:
        padded = f"  {token} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return frozenset(grams)


def similarity(first, second):
    """pg_trgm's similarity of two trigram sets: shared over all (word order does not matter)."""
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def rate_text(rate):
    return f"{Decimal(str(rate)).normalize():f}"


def _names(records):
    return ", ".join(record.name for record in records)


class MatchIndex:
    """Every candidate of a batch, keyed by its normalised identifiers, built once and asked many times."""

    def __init__(self, partners=(), products=(), supplier_codes=(), uoms=(), taxes=(), bills=()):
        self.partners = {}
        self.partners_by_vat = defaultdict(list)
        self.partners_by_registry = defaultdict(list)
        for partner in partners:
            self.add_partner(partner)

        self.products = {product.id: product for product in products}
        self.products_by_barcode = defaultdict(list)
        self.products_by_code = defaultdict(list)
        self.products_by_word = defaultdict(list)
        self.product_words = {}
        for product in self.products.values():  # each key computed once: the catalogue may hold 100 000 products
            barcode = gtin_key(product.barcode)
            if barcode:
                self.products_by_barcode[barcode].append(product)
            code = code_key(product.default_code)
            if code:
                self.products_by_code[code].append(product)
            words = self.product_words[product.id] = tuple({sys.intern(word) for word in name_tokens(product.name)})
            for word in words:
                self.products_by_word[word].append(product.id)
        self._product_trigrams = {}  # computed on first comparison: most products are never compared by name
        self.supplier_codes = defaultdict(set)  # (partner id, code key) -> product ids
        self.remember(supplier_codes)

        self.uoms_by_code = defaultdict(list)
        for uom in uoms:
            self.uoms_by_code[unit_key(uom.unece_code)].append(uom)

        self.taxes_by_key = defaultdict(list)  # (use, category, rate) -> taxes
        self.self_assessing_taxes = defaultdict(list)  # use -> taxes
        for tax in taxes:
            if tax.price_include:  # e-invoice prices are net: a price-included tax would recompute them wrong
                continue
            if tax.reverse_charge:
                self.self_assessing_taxes[tax.type_tax_use].append(tax)
            else:
                self.taxes_by_key[tax.type_tax_use, tax.category, Decimal(str(tax.rate))].append(tax)

        self.bills_by_ref = defaultdict(list)
        self.bills_by_total = defaultdict(list)
        for bill in bills:
            self.add_bill(bill)

    def add_partner(self, partner):
        """Know ``partner`` from now on (a vendor just created for an earlier invoice of the batch)."""
        self.partners[partner.id] = partner
        if compact(partner.vat):
            self.partners_by_vat[vat_parts(partner.vat)[1]].append(partner)
        if compact(partner.registry):
            self.partners_by_registry[compact(partner.registry)].append(partner)

    def add_bill(self, bill):
        """Know ``bill`` from now on (a bill just made from an earlier invoice of the batch)."""
        if bill.state == "cancel":
            return
        if compact(bill.ref):
            self.bills_by_ref[bill.partner_id, compact(bill.ref)].append(bill)
        # a bill from another e-invoice is that invoice: another one of the same day and total is not a copy of it
        if bill.date and bill.total is not None and not bill.from_einvoice:
            self.bills_by_total[bill.partner_id, bill.date, money(abs(bill.total))].append(bill)

    # vendor

    def match_vendor(self, party, settings=MatchSettings()):
        """The seller's VAT id (or tax number), then its registry id, then a proposal to create it (if allowed)."""
        if party is None:
            return Decision(NONE, _("The invoice does not name its seller."))
        for vat in (party.vat_id, party.tax_registration_id):
            if compact(vat):
                decision = self._vendor_by_vat(party, vat, settings.company_id)
                if decision:
                    return decision
        registry = party.legal_id.value if party.legal_id else None
        if compact(registry):
            found = self._visible(self.partners_by_registry.get(compact(registry), ()), settings.company_id)
            if len(found) == 1:
                return Decision(
                    EXACT,
                    _("Vendor %(name)s found by registry number %(registry)s.", name=found[0].name, registry=registry),
                    found[0].id,
                )
            if found:
                return Decision(
                    AMBIGUOUS,
                    _(
                        "Several vendors have registry number %(registry)s: %(names)s.",
                        registry=registry,
                        names=_names(found),
                    ),
                    candidates=tuple(partner.id for partner in found),
                )
        return self._unknown_vendor(party, settings)

    def _vendor_by_vat(self, party, vat, company_id):
        country, number = vat_parts(vat)
        country = country or (party.address.country_code if party.address else None)
        found = [
            partner
            for partner in self._visible(self.partners_by_vat.get(number, ()), company_id)
            if not country or (vat_parts(partner.vat)[0] or partner.country or country) == country
        ]
        if len(found) > 1:
            return Decision(
                AMBIGUOUS,
                _("Several vendors have VAT number %(vat)s: %(names)s.", vat=vat, names=_names(found)),
                candidates=tuple(partner.id for partner in found),
            )
        if not found:
            return None
        partner = found[0]
        if partner.vat.strip() == vat.strip():
            return Decision(
                EXACT, _("Vendor %(name)s found by VAT number %(vat)s.", name=partner.name, vat=vat), partner.id
            )
        return Decision(
            NORMALISED,
            _(
                "Vendor %(name)s found by VAT number %(vat)s, written %(partner_vat)s on the vendor.",
                name=partner.name,
                vat=vat,
                partner_vat=partner.vat,
            ),
            partner.id,
        )

    @staticmethod
    def _visible(records, company_id):
        return [record for record in records if company_id is None or record.company_id in (None, company_id)]

    @staticmethod
    def _unknown_vendor(party, settings):
        vat = party.vat_id or party.tax_registration_id
        registry = party.legal_id.value if party.legal_id else None
        seller = ", ".join(text for text in (party.name, vat, registry) if text)
        if not settings.create_vendors or not party.name:
            return Decision(NONE, _("No vendor matches %(seller)s: it is left for review.", seller=seller or "?"))
        address = party.address
        contact = party.contact
        proposal = VendorProposal(
            key=vat_parts(vat)[1] or compact(registry) or " ".join(name_tokens(party.name)),
            name=party.name,
            vat=vat,
            registry=registry,
            country=address.country_code if address else None,
            street=address.street if address else None,
            city=address.city if address else None,
            postal_code=address.postal_code if address else None,
            email=contact.email if contact else None,
            phone=contact.phone if contact else None,
        )
        return Decision(
            CREATED,
            _("No vendor matches %(seller)s: it is created from the invoice.", seller=seller),
            proposal=proposal,
        )

    # product

    def match_product(self, line, vendor_id, settings=MatchSettings()):
        """The vendor's item code, the GTIN, our internal reference, then a similar name; else no product."""
        decision = (
            self._product_by_supplier_code(line, vendor_id, settings.company_id)
            or self._product_by_gtin(line, settings.company_id)
            or self._product_by_reference(line, settings.company_id)
            or self._product_by_name(line, settings)
        )
        if decision:
            return decision
        return Decision(NONE, _("No product matches %(name)s: the line keeps its text.", name=line.item_name or "?"))

    def _product_by_supplier_code(self, line, vendor_id, company_id):
        code = line.seller_item_id
        if vendor_id is None or not code_key(code):
            return None
        ids = self.supplier_codes.get((vendor_id, code_key(code)), ())
        found = self._visible([self.products[id_] for id_ in sorted(ids) if id_ in self.products], company_id)
        return self._product_decision(
            found,
            _("Product %(product)s found by the vendor's code %(code)s.", product=_first_name(found), code=code),
            _("Several products have the vendor's code %(code)s: %(products)s.", code=code, products=_names(found)),
        )

    def _product_by_gtin(self, line, company_id):
        gtin = line.standard_id.value if line.standard_id else None
        if not compact(gtin):
            return None
        found = self._visible(self.products_by_barcode.get(gtin_key(gtin), ()), company_id)
        kind = EXACT if found and all(product.barcode.strip() == gtin.strip() for product in found) else NORMALISED
        return self._product_decision(
            found,
            _("Product %(product)s found by GTIN %(gtin)s.", product=_first_name(found), gtin=gtin),
            _("Several products have GTIN %(gtin)s: %(products)s.", gtin=gtin, products=_names(found)),
            kind,
        )

    def _product_by_reference(self, line, company_id):
        # the buyer's item id is our reference by definition; many resellers also keep the vendor's code as theirs
        ours, theirs = line.buyer_item_id, line.seller_item_id
        found = self._products_by_reference(ours, company_id)
        if found:
            return self._product_decision(
                found,
                _("Product %(product)s found by internal reference %(code)s.", product=found[0].name, code=ours),
                _(
                    "Several products have internal reference %(code)s: %(products)s.",
                    code=ours,
                    products=_names(found),
                ),
            )
        found = self._products_by_reference(theirs, company_id)
        return self._product_decision(
            found,
            _(
                "Product %(product)s has the vendor's code %(code)s as internal reference.",
                product=_first_name(found),
                code=theirs,
            ),
            _("Several products have internal reference %(code)s: %(products)s.", code=theirs, products=_names(found)),
        )

    def _products_by_reference(self, code, company_id):
        return self._visible(self.products_by_code.get(code_key(code), ()), company_id) if code_key(code) else []

    @staticmethod
    def _product_decision(found, found_reason, ambiguous_reason, kind=EXACT):
        if len(found) == 1:
            return Decision(kind, found_reason, found[0].id)
        if found:
            return Decision(AMBIGUOUS, ambiguous_reason, candidates=tuple(product.id for product in found))
        return None

    def _product_by_name(self, line, settings):
        words = set(name_tokens(line.item_name))
        if not words:
            return None
        wanted = trigrams(words)
        compared = self._visible([self.products[id_] for id_ in self._similar_names(words)], settings.company_id)
        scored = sorted(
            (score, product.id)
            for product in compared
            if (score := similarity(wanted, self._trigrams_of(product.id))) >= settings.name_threshold
        )
        scored.reverse()
        if not scored:
            return None
        best = scored[0][0]
        tied = [self.products[id_] for score, id_ in scored if score == best]
        percent = round(best * 100)
        if len(tied) > 1:
            return Decision(
                AMBIGUOUS,
                _(
                    "Several products have names equally close to %(name)s: %(products)s.",
                    name=line.item_name,
                    products=_names(tied),
                ),
                candidates=tuple(sorted(product.id for product in tied)),
                score=best,
            )
        return Decision(
            SIMILAR,
            _(
                "Product %(product)s found by a similar name (%(percent)s%% alike).",
                product=tied[0].name,
                percent=percent,
            ),
            tied[0].id,
            score=best,
        )

    def _similar_names(self, words):
        """Products sharing the line's rare words, rarest first: a handful to compare instead of the whole catalogue."""
        postings = {word: self.products_by_word.get(word, ()) for word in words}
        rare = [posting for posting in postings.values() if len(posting) <= BLOCK_LIMIT]
        if rare:
            found = set().union(*rare)
        else:  # only common words: a product must have them all
            common = sorted(postings.values(), key=len)
            found = set(common[0]).intersection(*common[1:])
        if len(found) <= MAX_COMPARED:
            return found
        weight = {word: 1 / (1 + len(posting)) for word, posting in postings.items()}

        def closeness(product_id):  # the rarer the shared words, the closer; then the fewer other words
            product_words = self.product_words[product_id]
            return sum(weight.get(word, 0) for word in product_words), -len(product_words)

        return heapq.nlargest(MAX_COMPARED, found, key=closeness)

    def _trigrams_of(self, product_id):
        grams = self._product_trigrams.get(product_id)
        if grams is None:
            grams = self._product_trigrams[product_id] = trigrams(self.product_words[product_id])
        return grams

    # unit of measure

    def match_uom(self, line, product_id=None):
        """The unit by its UN/ECE Rec 20 code (or the usual word for it); a piece code stands for the others."""
        written = line.unit_code
        code = unit_key(written)
        if not code:
            return Decision(NONE, _("The line gives no unit of measure."))
        found = self.uoms_by_code.get(code)
        kind = EXACT
        if not found and code in UNIT_WORDS:
            code, kind = UNIT_WORDS[code], NORMALISED
            found = self.uoms_by_code.get(code)
        if not found and code in PIECE_CODES:
            code = next((piece for piece in PIECE_CODES if piece in self.uoms_by_code), code)
            found, kind = self.uoms_by_code.get(code), NORMALISED
        if not found:
            return Decision(NONE, _("No unit of measure has code %(code)s.", code=written))
        preferred = self.products[product_id].uom_id if product_id in self.products else None
        if len(found) > 1 and preferred in {uom.id for uom in found}:
            found = [uom for uom in found if uom.id == preferred]
        if len(found) > 1:
            return Decision(
                AMBIGUOUS,
                _("Several units of measure have code %(code)s: %(units)s.", code=code, units=_names(found)),
                candidates=tuple(uom.id for uom in found),
            )
        if kind == EXACT:
            return Decision(
                EXACT, _("Unit of measure %(unit)s found by code %(code)s.", unit=found[0].name, code=code), found[0].id
            )
        return Decision(
            NORMALISED,
            _(
                "Unit of measure %(unit)s (code %(code)s) stands for %(written)s.",
                unit=found[0].name,
                code=code,
                written=written,
            ),
            found[0].id,
        )

    # tax

    def match_tax(self, line, company_id, purchase=True):
        """The company's tax of the line's VAT category and rate, for purchases or sales.

        On a purchase, reverse charge (AE) and intra-community supply (K) leave the VAT to the buyer: the tax is one
        that self-assesses it, whatever its rate, never a plain 0 % tax. Such a tax with a positive rate often keeps
        category S, so one of the line's category is preferred, any other taken when it is the only one.
        """
        category = line.vat_category
        if not category:
            return Decision(NONE, _("The line gives no VAT category."))
        use = "purchase" if purchase else "sale"
        if purchase and category in SELF_ASSESSED:
            taxes = self._visible(self.self_assessing_taxes.get(use, ()), company_id)
            found = [tax for tax in taxes if tax.category == category] or taxes
            if not found:
                return Decision(
                    NONE,
                    _(
                        "No purchase tax self-assesses VAT of category %(category)s: a 0%% tax would leave out the VAT "
                        "the buyer owes.",
                        category=category,
                    ),
                )
            return self._tax_decision(
                found,
                _("Tax %(tax)s self-assesses the VAT of category %(category)s.", tax=found[0].name, category=category),
                _(
                    "Several taxes could self-assess the VAT of category %(category)s: %(taxes)s.",
                    category=category,
                    taxes=_names(found),
                ),
            )
        if line.vat_rate is None and category not in ALWAYS_ZERO:
            return Decision(NONE, _("The line gives no VAT rate."))
        rate = Decimal(str(line.vat_rate or 0))
        found = self._visible(self.taxes_by_key.get((use, category, rate), ()), company_id)
        if not found:
            return Decision(
                NONE,
                _(
                    "No tax of this company has VAT category %(category)s and rate %(rate)s%%.",
                    category=category,
                    rate=rate_text(rate),
                ),
            )
        return self._tax_decision(
            found,
            _(
                "Tax %(tax)s found by VAT category %(category)s and rate %(rate)s%%.",
                tax=found[0].name,
                category=category,
                rate=rate_text(rate),
            ),
            _(
                "Several taxes have VAT category %(category)s and rate %(rate)s%%: %(taxes)s.",
                category=category,
                rate=rate_text(rate),
                taxes=_names(found),
            ),
        )

    @staticmethod
    def _tax_decision(found, found_reason, ambiguous_reason):
        if len(found) > 1:
            return Decision(AMBIGUOUS, ambiguous_reason, candidates=tuple(tax.id for tax in found))
        return Decision(EXACT, found_reason, found[0].id)

    # existing bill

    def match_existing_bill(self, invoice, vendor_id, company_id=None):
        """A bill of the same vendor with the same number and date, else with the same date and total."""
        if vendor_id is None:
            return Decision(NONE, _("Without a vendor, no existing bill can be looked up."))
        refund = invoice.is_credit_note or (invoice_total(invoice) or 0) < 0

        def fitting(bills):
            return [bill for bill in self._visible(bills, company_id) if bill.refund == refund]

        number = invoice.number
        same_number = fitting(self.bills_by_ref.get((vendor_id, compact(number)), ())) if compact(number) else []
        dated = [bill for bill in same_number if bill.date in (None, invoice.issue_date)]
        if len(dated) == 1:
            bill = dated[0]
            return Decision(
                EXACT if (bill.ref or "").strip() == number.strip() else NORMALISED,
                _(
                    "Bill %(bill)s of this vendor has the same number and date: the invoice is linked to it.",
                    bill=bill.ref,
                ),
                bill.id,
            )
        if dated or same_number:
            return Decision(
                AMBIGUOUS,
                _(
                    "Bills of this vendor with number %(number)s need a check before linking: %(bills)s.",
                    number=number,
                    bills=", ".join(f"{bill.ref} ({bill.date or '?'})" for bill in dated or same_number),
                ),
                candidates=tuple(bill.id for bill in dated or same_number),
            )
        total = invoice_total(invoice)
        if invoice.issue_date and total is not None:
            found = fitting(self.bills_by_total.get((vendor_id, invoice.issue_date, money(abs(total))), ()))
            if len(found) == 1:
                return Decision(
                    NORMALISED,
                    _(
                        "Bill %(bill)s of this vendor has the same date and total: the invoice is linked to it.",
                        bill=found[0].ref or found[0].id,
                    ),
                    found[0].id,
                )
            if found:
                return Decision(
                    AMBIGUOUS,
                    _(
                        "Several bills of this vendor have the same date and total: %(bills)s.",
                        bills=", ".join(str(bill.ref or bill.id) for bill in found),
                    ),
                    candidates=tuple(bill.id for bill in found),
                )
        return Decision(NONE, _("No bill of this vendor has this number, or this date and total: a new bill is made."))

    # learning

    def codes_to_learn(self, vendor_id, posted_lines):
        """The vendor code -> product associations a posted bill teaches that the index does not know yet.

        The caller stores each one (``product.supplierinfo``), taking the code off any other product of that vendor:
        the accountant confirmed the new association by posting. A code given to two products in one bill teaches
        nothing.
        """
        products_by_code = defaultdict(set)
        written = {}
        for line in posted_lines:
            if line.product_id is not None and code_key(line.supplier_code):
                products_by_code[code_key(line.supplier_code)].add(line.product_id)
                written.setdefault(code_key(line.supplier_code), line.supplier_code.strip())
        return tuple(
            SupplierCode(vendor_id, written[key], next(iter(ids)))
            for key, ids in products_by_code.items()
            if len(ids) == 1 and self.supplier_codes.get((vendor_id, key)) != ids
        )

    def remember(self, supplier_codes):
        """Use these vendor codes from now on; a learned code replaces what the vendor's code meant before."""
        learned = defaultdict(set)
        for item in supplier_codes:
            learned[item.partner_id, code_key(item.code)].add(item.product_id)
        self.supplier_codes.update(learned)


def _first_name(records):
    return records[0].name if records else ""


def invoice_total(invoice):
    totals = invoice.totals
    if totals is None:
        return None
    return totals.tax_inclusive if totals.tax_inclusive is not None else totals.payable


def match_invoice(invoice, index, settings=MatchSettings()):
    """Every decision for one received invoice, to become a draft vendor bill or be linked to an existing one."""
    vendor = index.match_vendor(invoice.seller, settings)
    lines = []
    for line in invoice.lines:
        product = index.match_product(line, vendor.record_id, settings)
        lines.append(
            LineMatch(
                product=product,
                uom=index.match_uom(line, product.record_id),
                tax=index.match_tax(line, settings.company_id, purchase=True),
            )
        )
    return InvoiceMatch(
        vendor=vendor,
        bill=index.match_existing_bill(invoice, vendor.record_id, settings.company_id),
        lines=tuple(lines),
    )
