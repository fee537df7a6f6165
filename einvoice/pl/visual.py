"""A readable PDF of an FA(3) invoice: every part of it with Polish labels, the KSeF number and its QR codes.

The PDF is drawn from the XML itself, not from the neutral model, so that nothing the invoice says is lost: each
element a section shows is marked as shown, and whatever is left (an element no section knows) is listed at the end
under "Pozostałe dane" with its path. Tables wrap their cells and go on over pages with their header repeated.

Polish letters need a TrueType font (the PDF standard fonts have no ą, ł, ż...): DejaVu Sans is shipped in
``fonts/`` beside this module with its licence, so the output is the same on every machine.

KOD I (the link to the invoice in KSeF, from the SHA-256 of these very bytes) is always printed, labelled with the
KSeF number when known and OFFLINE before (kody-qr.md); KOD II (CERTYFIKAT) when the caller gives its signed link,
which needs the issuer's Offline certificate (:func:`einvoice.pl.qr.certificate_link`).
"""

import functools
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from . import fa3
from .qr import CERTIFICATE_LABEL, invoice_link, invoice_link_label

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
NBSP = "\u00a0"
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 34 * mm
QR_COLUMN = QR_SIZE + 4 * mm
GRID = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#e8edf2")

KINDS = {
    "VAT": "Faktura podstawowa",
    "KOR": "Faktura korygująca",
    "ZAL": "Faktura zaliczkowa",
    "ROZ": "Faktura rozliczeniowa",
    "UPR": "Faktura uproszczona",
    "KOR_ZAL": "Faktura korygująca fakturę zaliczkową",
    "KOR_ROZ": "Faktura korygująca fakturę rozliczeniową",
}
PAYMENT_FORMS = {
    "1": "gotówka",
    "2": "karta",
    "3": "bon",
    "4": "czek",
    "5": "kredyt",
    "6": "przelew",
    "7": "płatność mobilna",
}
THIRD_PARTY_ROLES = {
    "1": "Faktor",
    "2": "Odbiorca",
    "3": "Podmiot pierwotny",
    "4": "Dodatkowy nabywca",
    "5": "Wystawca faktury",
    "6": "Dokonujący płatności",
    "7": "Jednostka samorządu terytorialnego – wystawca",
    "8": "Jednostka samorządu terytorialnego – odbiorca",
    "9": "Członek grupy VAT – wystawca",
    "10": "Członek grupy VAT – odbiorca",
    "11": "Pracownik",
}
AUTHORISED_ROLES = {"1": "Organ egzekucyjny", "2": "Komornik sądowy", "3": "Przedstawiciel podatkowy"}
TAXPAYER_STATUS = {
    "1": "stan likwidacji",
    "2": "postępowanie restrukturyzacyjne",
    "3": "stan upadłości",
    "4": "przedsiębiorstwo w spadku",
}
CORRECTION_EFFECTS = {
    "1": "skutek w dacie ujęcia faktury pierwotnej",
    "2": "skutek w dacie wystawienia faktury korygującej",
    "3": "skutek w innej dacie",
}
TRANSPORT_KINDS = {
    "1": "transport morski",
    "2": "transport kolejowy",
    "3": "transport drogowy",
    "4": "transport lotniczy",
    "5": "przesyłka pocztowa",
    "7": "stałe instalacje przesyłowe",
    "8": "żegluga śródlądowa",
}
YES_NO = {"1": "tak", "2": "nie"}
# TLadunek: the kinds of load, coded 1..20
LOADS = {
    str(code): name
    for code, name in enumerate(
        (
            "bańka", "beczka", "butla", "karton", "kanister", "klatka", "kontener", "kosz/koszyk", "łubianka",
            "opakowanie zbiorcze", "paczka", "pakiet", "paleta", "pojemnik", "pojemnik do ładunków masowych stałych",
            "pojemnik do ładunków masowych w postaci płynnej", "pudełko", "puszka", "skrzynia", "worek",
        ),
        start=1,
    )
}  # fmt: skip
# the rate groups of the summary: P_13_x (net), P_14_x (VAT), P_14_xW (VAT in PLN)
RATE_GROUPS = (
    ("1", "23% lub 22%"),
    ("2", "8% lub 7%"),
    ("3", "5%"),
    ("4", "ryczałt dla taksówek osobowych"),
    ("5", "procedura szczególna OSS (dział XII rozdz. 6a)"),
    ("6_1", "0% – kraj"),
    ("6_2", "0% – WDT"),
    ("6_3", "0% – eksport"),
    ("7", "zwolnione (zw)"),
    ("8", "niepodlegające – poza krajem (np I)"),
    ("9", "niepodlegające – art. 100 ust. 1 pkt 4 (np II)"),
    ("10", "odwrotne obciążenie (oo)"),
    ("11", "procedura marży"),
)
# the markers of Adnotacje whose value 1 the invoice must say in words
ANNOTATIONS = (
    ("P_16", "Metoda kasowa"),
    ("P_17", "Samofakturowanie"),
    ("P_18", "Odwrotne obciążenie"),
    ("P_18A", "Mechanizm podzielonej płatności"),
    ("Zwolnienie/P_19", "Dostawa towarów lub świadczenie usług zwolnione od podatku"),
    ("NoweSrodkiTransportu/P_22", "Wewnątrzwspólnotowa dostawa nowych środków transportu"),
    ("NoweSrodkiTransportu/P_42_5", "Obowiązek, o którym mowa w art. 42 ust. 5 ustawy"),
    ("P_23", "Procedura trójstronna uproszczona (VAT: art. 135 ust. 1 pkt 4 lit. b i c oraz ust. 2)"),
    ("PMarzy/P_PMarzy_2", "Procedura marży dla biur podróży"),
    ("PMarzy/P_PMarzy_3_1", "Procedura marży – towary używane"),
    ("PMarzy/P_PMarzy_3_2", "Procedura marży – dzieła sztuki"),
    ("PMarzy/P_PMarzy_3_3", "Procedura marży – przedmioty kolekcjonerskie i antyki"),
)
EXEMPTION_BASES = (
    ("Zwolnienie/P_19A", "Przepis ustawy albo aktu wydanego na jej podstawie"),
    ("Zwolnienie/P_19B", "Przepis dyrektywy 2006/112/WE"),
    ("Zwolnienie/P_19C", "Inna podstawa prawna"),
)
# markers whose value 2 or 1 only says "none of these": shown by what they leave out
SILENT = ("P_PMarzy", "P_PMarzyN", "P_19N", "P_22N")
# labels of elements shown as "label: value" wherever they appear, and in "Pozostałe dane"
LABELS = {
    "KodFormularza": "Kod formularza",
    "WariantFormularza": "Wariant formularza",
    "DataWytworzeniaFa": "Data wytworzenia faktury",
    "SystemInfo": "System",
    "NIP": "NIP",
    "IDWew": "Identyfikator wewnętrzny",
    "KodUE": "Kod kraju UE",
    "NrVatUE": "Numer VAT UE",
    "KodKraju": "Kraj",
    "NrID": "Identyfikator podatkowy",
    "BrakID": "Brak identyfikatora podatkowego",
    "Nazwa": "Nazwa",
    "AdresL1": "Adres",
    "AdresL2": "Adres (cd.)",
    "GLN": "GLN",
    "Email": "E-mail",
    "Telefon": "Telefon",
    "EmailPU": "E-mail",
    "TelefonPU": "Telefon",
    "NrEORI": "Numer EORI",
    "PrefiksPodatnika": "Prefiks VAT UE",
    "StatusInfoPodatnika": "Status podatnika",
    "NrKlienta": "Numer klienta",
    "IDNabywcy": "Identyfikator nabywcy",
    "JST": "Jednostka podrzędna JST",
    "GV": "Członek grupy VAT",
    "Udzial": "Udział [%]",
    "KursWalutyZ": "Kurs waluty (zaliczka)",
    "KursWalutyZK": "Kurs waluty przed korektą",
    "P_15ZK": "Kwota zapłaty przed korektą",
    "P_22A": "Data dopuszczenia do użytku",
    "P_NrWierszaNST": "Wiersz faktury",
    "P_22BMK": "Marka",
    "P_22BMD": "Model",
    "P_22BK": "Kolor",
    "P_22BNR": "Numer rejestracyjny",
    "P_22BRP": "Rok produkcji",
    "P_22B": "Przebieg",
    "P_22B1": "VIN",
    "P_22B2": "Numer nadwozia",
    "P_22B3": "Numer podwozia",
    "P_22B4": "Numer ramy",
    "P_22BT": "Typ",
    "P_22C": "Godziny robocze (jednostka pływająca)",
    "P_22C1": "Numer kadłuba",
    "P_22D": "Godziny robocze (statek powietrzny)",
    "P_22D1": "Numer fabryczny",
    "DataUmowy": "Data umowy",
    "NrUmowy": "Numer umowy",
    "DataZamowienia": "Data zamówienia",
    "NrZamowienia": "Numer zamówienia",
    "NrPartiiTowaru": "Numer partii towaru",
    "WarunkiDostawy": "Warunki dostawy (Incoterms)",
    "KursUmowny": "Kurs umowny",
    "WalutaUmowna": "Waluta umowna",
    "RodzajTransportu": "Rodzaj transportu",
    "TransportInny": "Inny rodzaj transportu",
    "OpisInnegoTransportu": "Opis transportu",
    "NrZleceniaTransportu": "Numer zlecenia transportu",
    "OpisLadunku": "Rodzaj ładunku",
    "LadunekInny": "Inny ładunek",
    "OpisInnegoLadunku": "Opis ładunku",
    "JednostkaOpakowania": "Jednostka opakowania",
    "DataGodzRozpTransportu": "Początek transportu",
    "DataGodzZakTransportu": "Koniec transportu",
    "PodmiotPosredniczacy": "Dostawa przez podmiot pośredniczący (art. 22 ust. 2d)",
    "LinkDoPlatnosci": "Link do płatności",
    "IPKSeF": "Identyfikator płatności KSeF",
    "WarunkiSkonta": "Warunki skonta",
    "WysokoscSkonta": "Wysokość skonta",
    "NrRB": "Numer rachunku",
    "SWIFT": "SWIFT",
    "RachunekWlasnyBanku": "Rachunek własny banku",
    "NazwaBanku": "Bank",
    "OpisRachunku": "Opis rachunku",
    "PelnaNazwa": "Pełna nazwa",
    "KRS": "KRS",
    "REGON": "REGON",
    "BDO": "BDO",
    "StopkaFaktury": "Stopka faktury",
    "Klucz": "Klucz",
    "Wartosc": "Wartość",
    "NrWiersza": "Wiersz",
    "FP": "Faktura, o której mowa w art. 109 ust. 3d ustawy",
    "TP": "Istniejące powiązania między nabywcą a dostawcą (TP)",
    "WZ": "Numer dokumentu WZ",
    "P_1M": "Miejsce wystawienia",
    "ZwrotAkcyzy": "Informacja dla rolników o zwrocie akcyzy",
    "OpisRoli": "Opis roli",
}
VALUE_NAMES = {
    "StatusInfoPodatnika": TAXPAYER_STATUS,
    "JST": YES_NO,
    "GV": YES_NO,
    "RodzajTransportu": TRANSPORT_KINDS,
    "FP": YES_NO,
    "TP": YES_NO,
    "BrakID": YES_NO,
    "PodmiotPosredniczacy": YES_NO,
    "TransportInny": YES_NO,
    "LadunekInny": YES_NO,
    "OpisLadunku": LOADS,
}


@dataclass(frozen=True)
class LineLayout:
    """Where a table of lines finds its parts: FaWiersz, or ZamowienieWiersz (the same elements with a Z)."""

    tag: str
    number: str
    name: str
    columns: tuple  # (tag, header, kind, width in mm); a column no line fills is left out
    details: tuple  # (tag, label[, kind]): shown under the name
    before: str  # the marker of a correction's "before" row


INVOICE_LINES = LineLayout(
    "FaWiersz",
    "NrWierszaFa",
    "P_7",
    (
        ("P_8B", "Ilość", "quantity", 16),
        ("P_8A", "Miara", "text", 13),
        ("P_9A", "Cena jedn. netto", "amount", 20),
        ("P_9B", "Cena jedn. brutto", "amount", 20),
        ("P_10", "Rabat", "amount", 16),
        ("P_12", "Stawka", "rate", 13),
        ("P_11", "Wartość netto", "amount", 22),
        ("P_11A", "Wartość brutto", "amount", 22),
        ("P_11Vat", "Kwota VAT", "amount", 20),
    ),
    (
        ("Indeks", "Indeks"),
        ("GTIN", "GTIN"),
        ("PKWiU", "PKWiU"),
        ("CN", "CN"),
        ("PKOB", "PKOB"),
        ("GTU", "GTU"),
        ("Procedura", "Procedura"),
        ("P_6A", "Data dostawy"),
        ("P_12_XII", "Stawka OSS"),
        ("P_12_Zal_15", "Załącznik nr 15"),
        ("KwotaAkcyzy", "Akcyza", "amount"),
        ("KursWaluty", "Kurs waluty", "quantity"),
        ("UU_ID", "UU_ID"),
    ),
    "StanPrzed",
)
ORDER_LINES = LineLayout(
    "ZamowienieWiersz",
    "NrWierszaZam",
    "P_7Z",
    (
        ("P_8BZ", "Ilość", "quantity", 16),
        ("P_8AZ", "Miara", "text", 13),
        ("P_9AZ", "Cena jedn. netto", "amount", 20),
        ("P_12Z", "Stawka", "rate", 13),
        ("P_11NettoZ", "Wartość netto", "amount", 22),
        ("P_11VatZ", "Kwota VAT", "amount", 20),
    ),
    (
        ("IndeksZ", "Indeks"),
        ("GTINZ", "GTIN"),
        ("PKWiUZ", "PKWiU"),
        ("CNZ", "CN"),
        ("PKOBZ", "PKOB"),
        ("GTUZ", "GTU"),
        ("ProceduraZ", "Procedura"),
        ("P_12Z_XII", "Stawka OSS"),
        ("P_12Z_Zal_15", "Załącznik nr 15"),
        ("KwotaAkcyzyZ", "Akcyza", "amount"),
        ("UU_IDZ", "UU_ID"),
    ),
    "StanPrzedZ",
)
NAME_MIN_WIDTH = 46  # mm: the name column keeps this much; the numbers share the rest


def render_pdf(xml, *, ksef_number=None, environment="prod", certificate_link=None):
    """The PDF (bytes) of the FA(3) invoice ``xml`` (bytes, as sent or received).

    ``ksef_number``: the number KSeF gave it, printed in the header and under KOD I (OFFLINE without it);
    ``environment``: the KSeF environment whose verification host KOD I points to (test, demo, prod);
    ``certificate_link``: KOD II, the signed link of an invoice issued offline, printed labelled CERTYFIKAT.
    Raises :class:`einvoice.pl.fa3.Fa3ReadError` (or an XML error) for what is not an FA(3) invoice."""
    root = fa3.invoice_root(xml)
    return _Visual(root, xml, ksef_number, environment, certificate_link).pdf()


@functools.cache
def _fonts():
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=FONT, boldItalic=BOLD)


def _styles():
    base = ParagraphStyle("body", fontName=FONT, fontSize=8.5, leading=10.5, splitLongWords=True)
    return {
        "body": base,
        "small": ParagraphStyle("small", base, fontSize=7, leading=8.5, textColor=colors.HexColor("#444444")),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9),
        "number": ParagraphStyle("number", base, fontSize=7.5, leading=9, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", base, fontName=BOLD, fontSize=7.5, leading=9),
        "label": ParagraphStyle("label", base, fontName=BOLD),
        "section": ParagraphStyle(
            "section", base, fontName=BOLD, fontSize=10.5, leading=13, spaceBefore=7, spaceAfter=3
        ),
        "title": ParagraphStyle("title", base, fontName=BOLD, fontSize=15, leading=19),
        "number_title": ParagraphStyle("number_title", base, fontName=BOLD, fontSize=12, leading=15),
        "total": ParagraphStyle("total", base, fontName=BOLD, fontSize=11, leading=14, alignment=TA_RIGHT),
        "qr_label": ParagraphStyle("qr_label", base, fontName=BOLD, fontSize=7, leading=8.5, alignment=1),
    }


def amount(text):
    """An amount as Poles write it: ``1234567.5`` -> ``1 234 567,50`` (non-breaking spaces); at least two
    decimals, never fewer than the invoice gives. A text that is not a number is shown as it is."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return text
    return _grouped(value, max(2, -value.as_tuple().exponent)) if value.is_finite() else text


def quantity(text):
    """A quantity with the decimals the invoice gives: ``2`` -> ``2``, ``1500.125`` -> ``1 500,125``."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return text
    return _grouped(value, max(0, -value.as_tuple().exponent)) if value.is_finite() else text


def _grouped(value, decimals):
    return f"{value:,.{decimals}f}".replace(",", NBSP).replace(".", ",")


def rate(text):
    """P_12: a number is a percentage; the codes (zw, oo, np I, 0 KR...) stay as the law names them."""
    return f"{text}%" if text and text.isdigit() else text


FORMATS = {"amount": amount, "quantity": quantity, "rate": rate, "text": lambda text: text}


class _NumberedCanvas(Canvas):
    """Each page's footer names the invoice and says "Strona n z m" (known only once every page is laid out)."""

    def __init__(self, footer, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for page in self._pages:
            self.__dict__.update(page)
            self.setFont(FONT, 7)
            self.setFillColor(colors.HexColor("#555555"))
            self.drawString(MARGIN, 8 * mm, self._footer)
            self.drawRightString(PAGE_WIDTH - MARGIN, 8 * mm, f"Strona {self._pageNumber} z {len(self._pages)}")
            super().showPage()
        super().save()


class _Visual:
    """One invoice drawn: each part of the document a method, in the order a reader expects; every element a part
    reads is marked as shown, and :meth:`remaining` lists the rest."""

    def __init__(self, root, xml, ksef_number, environment, certificate_link):
        _fonts()
        self.root, self.xml = root, xml
        self.ksef_number, self.environment, self.certificate_link = ksef_number, environment, certificate_link
        self.style = _styles()
        self.shown = set()
        self.fa = self.find(root, "Fa")
        self.currency = self.text(self.fa, "KodWaluty") or ""

    # -- reading, marking what is shown ------------------------------------------------------------------------------
    def find(self, node, path):
        found = None if node is None else node.find(fa3.qualified(path))
        if found is not None:
            self.shown.add(found)
        return found

    def findall(self, node, path):
        found = [] if node is None else node.findall(fa3.qualified(path))
        self.shown.update(found)
        return found

    def text(self, node, path):
        element = self.find(node, path)
        if element is None or element.text is None:
            return None
        return " ".join(element.text.split()) or element.text

    def texts(self, node, path):
        return [" ".join((element.text or "").split()) for element in self.findall(node, path)]

    # -- drawing blocks ----------------------------------------------------------------------------------------------
    def para(self, text, style="body"):
        return Paragraph(escape(text or ""), self.style[style])

    def labelled(self, label, value, style="body"):
        return Paragraph(f"<b>{escape(label)}:</b> {escape(value)}", self.style[style])

    def section(self, title):
        return Paragraph(escape(title), self.style["section"])

    def pairs(self, rows, width=WIDTH):
        """A two-column table of label and value, ``width`` wide."""
        data = [[self.para(label, "label"), self.para(value)] for label, value in rows]
        table = Table(data, colWidths=[min(72 * mm, width * 0.42), width - min(72 * mm, width * 0.42)], hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.25, SHADE),
                    ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        return table

    def grid(self, header, rows, widths, numeric=(), before_rows=()):
        """A table with a shaded header repeated on every page; ``numeric`` columns are right-aligned."""
        data = [[self.para(text, "head") for text in header]]
        for row in rows:
            data.append(
                [
                    cell if not isinstance(cell, str) else self.para(cell, "number" if index in numeric else "cell")
                    for index, cell in enumerate(row)
                ]
            )
        table = Table(data, colWidths=[width * mm for width in widths], repeatRows=1, hAlign="LEFT")
        style = [
            ("GRID", (0, 0), (-1, -1), 0.3, GRID),
            ("BACKGROUND", (0, 0), (-1, 0), SHADE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LEFTPADDING", (0, 0), (-1, -1), 2),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ]
        style += [("BACKGROUND", (0, index + 1), (-1, index + 1), colors.HexColor("#f6f0e0")) for index in before_rows]
        table.setStyle(TableStyle(style))
        return table

    def field_rows(self, node, tags):
        """(label, value) of each element ``tags`` names that ``node`` has, its codes in words."""
        rows = []
        for tag in tags:
            for element in self.findall(node, tag):
                value = " ".join((element.text or "").split())
                names = VALUE_NAMES.get(tag)
                rows.append((LABELS.get(tag, tag), f"{names[value]} ({value})" if names and value in names else value))
        return rows

    def generic_rows(self, node, skip=()):
        """(label, value) of every element with text under ``node`` not shown yet, labelled by its name."""
        rows = []
        for element in node.iter():
            if element in self.shown or not isinstance(element.tag, str) or len(element):
                continue
            name = etree.QName(element).localname
            if name in skip:
                continue
            self.shown.add(element)
            value = " ".join((element.text or "").split())
            names = VALUE_NAMES.get(name)
            rows.append((LABELS.get(name, name), f"{names[value]} ({value})" if names and value in names else value))
        return rows

    # -- the document ------------------------------------------------------------------------------------------------
    def pdf(self):
        story = []
        for part in (
            self.heading,
            self.parties,
            self.correction,
            self.lines,
            self.order,
            self.summary,
            self.annotations,
            self.settlement,
            self.payment,
            self.terms,
            self.additional,
            self.footer,
            self.attachment,
            self.remaining,
            self.codes,
        ):
            story += part()
        number = self.text(self.fa, "P_2") or ""
        footer = " · ".join(filter(None, (f"Faktura {number}", self.ksef_number and f"KSeF {self.ksef_number}")))
        output = io.BytesIO()
        document = SimpleDocTemplate(
            output,
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=16 * mm,
            title=f"Faktura {number}",
            author=self.text(self.root, "Podmiot1/DaneIdentyfikacyjne/Nazwa") or "",
            subject="FA (3)",
            creator="einvoice",
            invariant=True,
        )
        document.build(story, canvasmaker=lambda *args, **kwargs: _NumberedCanvas(footer, *args, **kwargs))
        return output.getvalue()

    def heading(self):
        fa = self.fa
        kind = self.text(fa, "RodzajFaktury")
        title = [self.para(KINDS.get(kind, kind or "Faktura"), "title")]
        title.append(self.para(f"Numer faktury: {self.text(fa, 'P_2') or '–'}", "number_title"))
        if self.ksef_number:
            title.append(self.labelled("Numer KSeF", self.ksef_number))
        rows = [("Data wystawienia", self.text(fa, "P_1") or "–")]
        rows += self.field_rows(fa, ["P_1M"])
        if self.text(fa, "P_6"):
            rows.append(("Data dostawy lub wykonania usługi", self.text(fa, "P_6")))
        period = self.find(fa, "OkresFa")
        if period is not None:
            rows.append(
                ("Okres, którego dotyczy faktura", f"{self.text(period, 'P_6_Od')} – {self.text(period, 'P_6_Do')}")
            )
        rows.append(("Waluta", self.currency))
        rows += self.field_rows(fa, ["KursWalutyZ", "FP", "TP"])
        # what may run long goes below the title block, which is one table row and cannot go over a page
        more = [("Numer dokumentu WZ", value) for value in self.texts(fa, "WZ")]
        header = self.find(self.root, "Naglowek")
        form = self.find(header, "KodFormularza")
        if form is not None:
            more.append(("Formularz", f"{form.text} ({form.get('kodSystemowy')}, schemat {form.get('wersjaSchemy')})"))
        self.find(header, "WariantFormularza")
        more += self.field_rows(header, ["DataWytworzeniaFa", "SystemInfo"])
        return [*self.title_block(title, rows), self.pairs(more)]

    def title_block(self, title, rows):
        """The title and the main dates, with the QR codes beside them where a reader looks first."""
        codes = self.verification_codes
        if not codes:
            return [*title, Spacer(0, 3 * mm), self.pairs(rows)]
        left = WIDTH - QR_COLUMN
        qr = []
        for link, label in codes:
            drawing = Drawing(QR_SIZE, QR_SIZE)
            drawing.add(QrCodeWidget(link, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE))
            qr += [drawing, self.para(label, "qr_label"), Spacer(0, 2 * mm)]
        table = Table([[[*title, Spacer(0, 3 * mm), self.pairs(rows, left - 4 * mm)], qr]], colWidths=[left, QR_COLUMN])
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        return [table]

    # -- parties -----------------------------------------------------------------------------------------------------
    def party(self, node, title, extra=()):
        """A party as a list of paragraphs: its title, name, identifiers, address, contact."""
        if node is None:
            return []
        identification = self.find(node, "DaneIdentyfikacyjne")
        lines = [self.para(title, "label")]
        name = self.text(identification, "Nazwa")
        if name:
            lines.append(self.para(name))
        for label, value in self.identifiers(identification):
            lines.append(self.labelled(label, value))
        for tag, label in (
            ("Adres", "Adres"),
            ("AdresKoresp", "Adres korespondencyjny"),
            ("AdresPrzewoznika", "Adres"),
        ):
            address = self.find(node, tag)
            if address is not None:
                lines.append(self.labelled(label, self.address(address)))
        for contact in self.findall(node, "DaneKontaktowe"):
            for label, value in self.generic_rows(contact):
                lines.append(self.labelled(label, value))
        for label, value in self.field_rows(node, ["PrefiksPodatnika", "NrEORI", "StatusInfoPodatnika", *extra]):
            lines.append(self.labelled(label, value))
        if identification is not None:
            lines += [self.labelled(label, value) for label, value in self.generic_rows(identification)]
        return lines

    def identifiers(self, identification):
        rows = []
        if identification is None:
            return rows
        for tag, label in (("NIP", "NIP"), ("IDWew", "Identyfikator wewnętrzny")):
            value = self.text(identification, tag)
            if value:
                rows.append((label, value))
        if self.text(identification, "KodUE"):
            rows.append(
                ("Numer VAT UE", f"{self.text(identification, 'KodUE')}{self.text(identification, 'NrVatUE') or ''}")
            )
        if self.text(identification, "NrID"):
            country = self.text(identification, "KodKraju")
            rows.append(
                ("Identyfikator podatkowy", " ".join(filter(None, (country, self.text(identification, "NrID")))))
            )
        if self.text(identification, "BrakID") == "1":
            rows.append(("Identyfikator podatkowy", "brak"))
        return rows

    def address(self, node):
        parts = [self.text(node, "AdresL1"), self.text(node, "AdresL2"), self.text(node, "KodKraju")]
        gln = self.text(node, "GLN")
        return ", ".join(filter(None, parts)) + (f" (GLN {gln})" if gln else "")

    def parties(self):
        seller = self.party(self.find(self.root, "Podmiot1"), "Sprzedawca")
        buyer = self.party(self.find(self.root, "Podmiot2"), "Nabywca", ("NrKlienta", "IDNabywcy", "JST", "GV"))
        blocks = [seller, buyer]
        for node in self.findall(self.root, "Podmiot3"):
            role = self.text(node, "Rola")
            role_name = THIRD_PARTY_ROLES.get(role, role) if role else self.text(node, "OpisRoli") or "Inny podmiot"
            self.find(node, "RolaInna")
            self.find(node, "OpisRoli")
            blocks.append(
                self.party(node, f"Podmiot trzeci – {role_name}", ("Udzial", "NrKlienta", "IDNabywcy", "OpisRoli"))
            )
        for node in self.findall(self.root, "PodmiotUpowazniony"):
            role = self.text(node, "RolaPU")
            blocks.append(self.party(node, f"Podmiot upoważniony – {AUTHORISED_ROLES.get(role, role)}"))
        return [self.section("Strony transakcji"), self.side_by_side(blocks)]

    def side_by_side(self, blocks):
        blocks = [block for block in blocks if block]
        rows = [
            blocks[index : index + 2] + [[]] * (2 - len(blocks[index : index + 2]))
            for index in range(0, len(blocks), 2)
        ]
        table = Table(rows, colWidths=[WIDTH / 2] * 2, hAlign="LEFT")
        table.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BOX", (0, 0), (-1, -1), 0.3, GRID),
                    ("INNERGRID", (0, 0), (-1, -1), 0.3, GRID),
                    ("TOPPADDING", (0, 0), (-1, -1), 3),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        return table

    # -- correction --------------------------------------------------------------------------------------------------
    def correction(self):
        fa = self.fa
        rows = self.field_rows(fa, ["PrzyczynaKorekty"])
        rows = [("Przyczyna korekty", value) for _label, value in rows]
        effect = self.text(fa, "TypKorekty")
        if effect:
            rows.append(("Typ korekty", f"{CORRECTION_EFFECTS.get(effect, effect)} ({effect})"))
        for tag, label in (
            ("OkresFaKorygowanej", "Okres, do którego odnosi się korekta"),
            ("NrFaKorygowany", "Poprawny numer faktury korygowanej"),
        ):
            if self.text(fa, tag):
                rows.append((label, self.text(fa, tag)))
        rows += self.field_rows(fa, ["P_15ZK", "KursWalutyZK"])
        corrected = []
        for node in self.findall(fa, "DaneFaKorygowanej"):
            self.find(node, "NrKSeF")
            outside = self.find(node, "NrKSeFN") is not None
            corrected.append(
                [
                    self.text(node, "NrFaKorygowanej") or "",
                    self.text(node, "DataWystFaKorygowanej") or "",
                    "wystawiona poza KSeF" if outside else self.text(node, "NrKSeFFaKorygowanej") or "",
                ]
            )
        before = [
            *(self.party(node, "Sprzedawca przed korektą") for node in self.findall(fa, "Podmiot1K")),
            *(self.party(node, "Nabywca przed korektą", ("IDNabywcy",)) for node in self.findall(fa, "Podmiot2K")),
        ]
        if not (rows or corrected or before):
            return []
        story = [self.section("Dane korekty")]
        if rows:
            story.append(self.pairs(rows))
        if corrected:
            story += [
                Spacer(0, 2 * mm),
                self.grid(["Numer faktury korygowanej", "Data wystawienia", "Numer KSeF"], corrected, [70, 30, 82]),
            ]
        if before:
            story += [Spacer(0, 2 * mm), self.side_by_side(before)]
        return story

    # -- lines -------------------------------------------------------------------------------------------------------
    def line_table(self, nodes, layout):
        columns = [column for column in layout.columns if any(self.find(node, column[0]) is not None for node in nodes)]
        fixed = sum(width for _tag, _header, _kind, width in columns) + 8
        scale = min(1, (WIDTH / mm - NAME_MIN_WIDTH) / fixed)
        widths = [8 * scale, WIDTH / mm - fixed * scale] + [width * scale for *_rest, width in columns]
        rows, before_rows = [], []
        for index, node in enumerate(nodes):
            number = self.text(node, layout.number) or str(index + 1)
            cells = [FORMATS[kind](self.text(node, tag) or "") for tag, _header, kind, _width in columns]
            name = [self.para(self.text(node, layout.name) or "")]
            details = []
            for tag, label, *kind in layout.details:
                shown = FORMATS[kind[0] if kind else "text"]
                details += [f"{label}: {shown(value)}" for value in self.texts(node, tag)]
            if self.find(node, layout.before) is not None:
                details.insert(0, "stan przed korektą")
                before_rows.append(index)
            if details:
                name.append(self.para(" · ".join(details), "small"))
            extra = self.generic_rows(node)
            if extra:
                name.append(self.para(" · ".join(f"{label}: {value}" for label, value in extra), "small"))
            rows.append([number, name, *cells])
        header = ["Lp.", "Nazwa towaru lub usługi", *(header for _tag, header, _kind, _width in columns)]
        numeric = {index + 2 for index, column in enumerate(columns) if column[2] in ("amount", "quantity")}
        return self.grid(header, rows, widths, numeric, before_rows)

    def lines(self):
        nodes = self.findall(self.fa, INVOICE_LINES.tag)
        if not nodes:
            return []
        return [self.section(f"Pozycje faktury (kwoty w {self.currency})"), self.line_table(nodes, INVOICE_LINES)]

    def order(self):
        order = self.find(self.fa, "Zamowienie")
        if order is None:
            return []
        story = [self.section("Zamówienie lub umowa (faktura zaliczkowa)")]
        total = self.text(order, "WartoscZamowienia")
        if total:
            story.append(self.pairs([("Wartość zamówienia lub umowy z podatkiem", f"{amount(total)} {self.currency}")]))
        nodes = self.findall(order, ORDER_LINES.tag)
        if nodes:
            story += [Spacer(0, 2 * mm), self.line_table(nodes, ORDER_LINES)]
        return story

    # -- amounts -----------------------------------------------------------------------------------------------------
    def summary(self):
        fa = self.fa
        rows, in_pln = [], False
        for group, label in RATE_GROUPS:
            net, vat, vat_pln = (
                self.text(fa, f"{prefix}_{group}{suffix}")
                for prefix, suffix in (("P_13", ""), ("P_14", ""), ("P_14", "W"))
            )
            if net is None and vat is None and vat_pln is None:
                continue
            in_pln = in_pln or vat_pln is not None
            rows.append([label, amount(net or ""), amount(vat or ""), amount(vat_pln or "")])
        story = [self.section("Podsumowanie według stawek podatku")]
        if rows:
            header = ["Stawka", f"Wartość netto ({self.currency})", f"Kwota VAT ({self.currency})"]
            widths = [64, 39, 39, 40] if in_pln else [84, 49, 49]
            if in_pln:
                header.append("Kwota VAT (PLN)")
            story.append(self.grid(header, [row if in_pln else row[:3] for row in rows], widths, numeric={1, 2, 3}))
        total = self.text(fa, "P_15")
        story.append(Spacer(0, 2 * mm))
        story.append(
            Paragraph(
                f"Kwota należności ogółem: {escape(amount(total or '–'))} {escape(self.currency)}", self.style["total"]
            )
        )
        partial = [
            [
                self.text(node, "P_6Z") or "",
                amount(self.text(node, "P_15Z") or ""),
                quantity(self.text(node, "KursWalutyZW") or ""),
            ]
            for node in self.findall(fa, "ZaliczkaCzesciowa")
        ]
        if partial:
            story += [
                Spacer(0, 2 * mm),
                self.grid(
                    ["Data otrzymania zapłaty", f"Kwota zapłaty ({self.currency})", "Kurs waluty"],
                    partial,
                    [60, 60, 62],
                    {1, 2},
                ),
            ]
        advances = []
        for node in self.findall(fa, "FakturaZaliczkowa"):
            self.find(node, "NrKSeFZN")
            advances += [
                ("Faktura zaliczkowa (numer KSeF)", value) for value in self.texts(node, "NrKSeFFaZaliczkowej")
            ]
            advances += [
                ("Faktura zaliczkowa wystawiona poza KSeF", value) for value in self.texts(node, "NrFaZaliczkowej")
            ]
        if advances:
            story += [self.section("Rozliczane faktury zaliczkowe"), self.pairs(advances)]
        return story

    def annotations(self):
        notes = self.find(self.fa, "Adnotacje")
        if notes is None:
            return []
        said = [label for path, label in ANNOTATIONS if self.text(notes, path) == "1"]
        rows = [(label, value) for path, label in EXEMPTION_BASES if (value := self.text(notes, path))]
        for path in (
            "P_16",
            "P_17",
            "P_18",
            "P_18A",
            "P_23",
            "NoweSrodkiTransportu/P_42_5",
            *(
                f"{where}/{tag}"
                for where, tag in (
                    ("Zwolnienie", "P_19N"),
                    ("NoweSrodkiTransportu", "P_22N"),
                    ("PMarzy", "P_PMarzy"),
                    ("PMarzy", "P_PMarzyN"),
                )
            ),
        ):
            self.find(notes, path)
        for vehicle in self.findall(notes, "NoweSrodkiTransportu/NowySrodekTransportu"):
            rows.append(
                (
                    "Nowy środek transportu",
                    "; ".join(f"{label}: {value}" for label, value in self.generic_rows(vehicle)),
                )
            )
        story = [self.section("Adnotacje")]
        story += [self.para(f"• {label}") for label in said] or [self.para("Brak adnotacji.")]
        if rows:
            story.append(self.pairs(rows))
        return story

    def settlement(self):
        node = self.find(self.fa, "Rozliczenie")
        if node is None:
            return []
        story = [self.section("Rozliczenie")]
        for tag, title in (("Obciazenia", "Obciążenie"), ("Odliczenia", "Odliczenie")):
            items = [
                [self.text(item, "Powod") or "", amount(self.text(item, "Kwota") or "")]
                for item in self.findall(node, tag)
            ]
            if items:
                story.append(self.grid([title, f"Kwota ({self.currency})"], items, [140, 42], {1}))
        rows = []
        for tag, label in (
            ("SumaObciazen", "Suma obciążeń"),
            ("SumaOdliczen", "Suma odliczeń"),
            ("DoZaplaty", "Do zapłaty"),
            ("DoRozliczenia", "Nadpłata do rozliczenia lub zwrotu"),
        ):
            value = self.text(node, tag)
            if value is not None:
                rows.append((label, f"{amount(value)} {self.currency}"))
        if rows:
            story.append(self.pairs(rows))
        return story

    def payment(self):
        node = self.find(self.fa, "Platnosc")
        if node is None:
            return []
        rows = []
        if self.text(node, "Zaplacono") == "1":
            rows.append(("Zapłacono", self.text(node, "DataZaplaty") or "tak"))
        partial = self.text(node, "ZnacznikZaplatyCzesciowej")
        if partial:
            rows.append(
                ("Zapłata", {"1": "zapłacono w części", "2": "zapłacono w całości, w częściach"}.get(partial, partial))
            )
        for item in self.findall(node, "ZaplataCzesciowa"):
            means = self.means(item)
            rows.append(
                (
                    "Zapłata częściowa",
                    " ".join(
                        filter(
                            None,
                            (
                                f"{amount(self.text(item, 'KwotaZaplatyCzesciowej') or '')} {self.currency}",
                                self.text(item, "DataZaplatyCzesciowej"),
                                means,
                            ),
                        )
                    ),
                )
            )
        for term in self.findall(node, "TerminPlatnosci"):
            described = self.find(term, "TerminOpis")
            text = self.text(term, "Termin") or ""
            if described is not None:
                words = " ".join(
                    filter(
                        None,
                        (
                            self.text(described, "Ilosc"),
                            self.text(described, "Jednostka"),
                            self.text(described, "ZdarzeniePoczatkowe"),
                        ),
                    )
                )
                text = f"{text} ({words})" if text else words
            rows.append(("Termin płatności", text))
        means = self.means(node)
        if means:
            rows.append(("Forma płatności", means))
        for tag, label in (
            ("RachunekBankowy", "Rachunek bankowy"),
            ("RachunekBankowyFaktora", "Rachunek bankowy faktora"),
        ):
            for account in self.findall(node, tag):
                rows.append(
                    (
                        label,
                        "; ".join(
                            f"{name}: {value}" if name != "Numer rachunku" else value
                            for name, value in self.generic_rows(account)
                        ),
                    )
                )
        for discount in self.findall(node, "Skonto"):
            rows.append(("Skonto", "; ".join(f"{label}: {value}" for label, value in self.generic_rows(discount))))
        rows += self.field_rows(node, ["LinkDoPlatnosci", "IPKSeF"])
        return [self.section("Płatność"), self.pairs(rows)] if rows else []

    def means(self, node):
        form = self.text(node, "FormaPlatnosci")
        if form:
            return PAYMENT_FORMS.get(form, form)
        self.find(node, "PlatnoscInna")
        return self.text(node, "OpisPlatnosci")

    def terms(self):
        node = self.find(self.fa, "WarunkiTransakcji")
        if node is None:
            return []
        rows = []
        for tag, date_tag, number_tag in (
            ("Umowy", "DataUmowy", "NrUmowy"),
            ("Zamowienia", "DataZamowienia", "NrZamowienia"),
        ):
            for item in self.findall(node, tag):
                label = "Umowa" if tag == "Umowy" else "Zamówienie"
                rows.append((label, " z ".join(filter(None, (self.text(item, number_tag), self.text(item, date_tag))))))
        for transport in self.findall(node, "Transport"):
            carrier = self.find(transport, "Przewoznik")
            if carrier is not None:
                identification = self.find(carrier, "DaneIdentyfikacyjne")
                who = [
                    self.text(identification, "Nazwa"),
                    *(f"{label} {value}" for label, value in self.identifiers(identification)),
                ]
                address = self.find(carrier, "AdresPrzewoznika")
                rows.append(
                    (
                        "Przewoźnik",
                        ", ".join(filter(None, [*who, (address is not None and self.address(address)) or None])),
                    )
                )
            for tag, label in (
                ("WysylkaZ", "Wysyłka z"),
                ("WysylkaPrzez", "Wysyłka przez"),
                ("WysylkaDo", "Wysyłka do"),
            ):
                for place in self.findall(transport, tag):
                    rows.append((label, self.address(place)))
            rows += self.generic_rows(transport)
        rows += self.generic_rows(node)
        return [self.section("Warunki transakcji"), self.pairs(rows)] if rows else []

    def additional(self):
        rows = []
        for node in self.findall(self.fa, "DodatkowyOpis"):
            line = self.text(node, "NrWiersza")
            rows.append([self.text(node, "Klucz") or "", self.text(node, "Wartosc") or "", line or ""])
        story = []
        if rows:
            story += [
                self.section("Dodatkowy opis"),
                self.grid(["Informacja", "Wartość", "Wiersz"], rows, [60, 107, 15]),
            ]
        other = [
            (
                LABELS.get(etree.QName(node).localname, etree.QName(node).localname),
                "; ".join(f"{label}: {value}" for label, value in self.generic_rows(node)) or "tak",
            )
            for node in self.findall(self.fa, "ZwrotAkcyzy")
        ]
        if other:
            story += [self.section("Zwrot akcyzy"), self.pairs(other)]
        return story

    def footer(self):
        node = self.find(self.root, "Stopka")
        if node is None:
            return []
        story = [self.section("Stopka")]
        story += [self.para(text) for text in self.texts(node, "Informacje/StopkaFaktury")]
        for registry in self.findall(node, "Rejestry"):
            rows = self.generic_rows(registry)
            if rows:
                story.append(self.pairs(rows))
        return story

    def attachment(self):
        node = self.find(self.root, "Zalacznik")
        if node is None:
            return []
        story = [self.section("Załącznik do faktury")]
        for block in self.findall(node, "BlokDanych"):
            story.append(self.para(self.text(block, "ZNaglowek") or "", "label"))
            meta = [
                (self.text(item, "ZKlucz") or "", self.text(item, "ZWartosc") or "")
                for item in self.findall(block, "MetaDane")
            ]
            if meta:
                story.append(self.pairs(meta))
            for text in self.findall(block, "Tekst"):
                story += [self.para(paragraph) for paragraph in self.texts(text, "Akapit")]
            for table in self.findall(block, "Tabela"):
                story += self.data_table(table)
        return story

    def data_table(self, table):
        story = []
        meta = [
            (self.text(item, "TKlucz") or "", self.text(item, "TWartosc") or "")
            for item in self.findall(table, "TMetaDane")
        ]
        if meta:
            story.append(self.pairs(meta))
        description = self.text(table, "Opis")
        if description:
            story.append(self.para(description))
        header = [self.text(column, "NKom") or "" for column in self.findall(table, "TNaglowek/Kol")]
        rows = [self.texts(row, "WKom") for row in self.findall(table, "Wiersz")]
        rows += [self.texts(row, "SKom") for row in self.findall(table, "Suma")]
        width = max([len(header), *(len(row) for row in rows)], default=0)
        if width:
            rows = [row + [""] * (width - len(row)) for row in rows]
            story.append(self.grid(header + [""] * (width - len(header)), rows, [WIDTH / mm / width] * width))
        return [*story, Spacer(0, 2 * mm)]

    def remaining(self):
        """Every element with a value no section showed: nothing the invoice says is left out."""
        rows = []
        for element in self.root.iter():
            if element in self.shown or not isinstance(element.tag, str) or len(element):
                continue
            if etree.QName(element).localname in SILENT:
                continue
            path = "/".join(etree.QName(node).localname for node in reversed([element, *element.iterancestors()][:-1]))
            name = etree.QName(element).localname
            rows.append((f"{LABELS.get(name, name)} ({path})", " ".join((element.text or "").split())))
        return [self.section("Pozostałe dane"), self.pairs(rows)] if rows else []

    @functools.cached_property
    def verification_codes(self):
        """KOD I (when the invoice has its seller's NIP and a valid issue date), and KOD II when given: (link,
        label) each."""
        seller_nip = self.text(self.root, "Podmiot1/DaneIdentyfikacyjne/NIP")
        try:
            issued = date.fromisoformat(self.text(self.fa, "P_1") or "")
        except ValueError:  # no KOD I without the issue date it is made of; the invoice is still drawn
            issued = None
        codes = []
        if seller_nip and issued:
            codes.append(
                (invoice_link(self.environment, seller_nip, issued, self.xml), invoice_link_label(self.ksef_number))
            )
        if self.certificate_link:
            codes.append((self.certificate_link, CERTIFICATE_LABEL))
        return codes

    def codes(self):
        """The links of the QR codes written out, for a reader who cannot scan."""
        rows = [
            (f"KOD {'II' if label == CERTIFICATE_LABEL else 'I'} ({label})", link)
            for link, label in self.verification_codes
        ]
        if not rows:
            return []
        title = self.section("Sprawdź, czy faktura jest w KSeF")
        return [KeepTogether([title, self.para("Zeskanuj kod QR lub otwórz link."), self.pairs(rows)])]
