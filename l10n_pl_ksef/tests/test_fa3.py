import contextlib
from decimal import Decimal

from lxml import etree

from odoo.tests import tagged

from einvoice.pl.fa3 import NS
from einvoice.validation import ValidationUnavailableError, validate_fa3

from .. import _post_init_hook
from .common import KsefCommon

FA = {"fa": NS}


@tagged("post_install_l10n", "post_install", "-at_install")
class TestFa3FromOdoo(KsefCommon):
    """What Odoo's Polish taxes and currencies become in FA(3); held against the official schema when it is
    configured (EINVOICE_FA3_XSD_DIR)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eu_customer = cls.env["res.partner"].create(
            {
                "name": "Gamma GmbH",
                "is_company": True,
                "vat": "DE811115368",
                "street": "Hauptstraße 1",
                "city": "Berlin",
                "zip": "10115",
                "country_id": cls.env.ref("base.de").id,
            }
        )

    def fa(self, move):
        xml = move._l10n_pl_ksef_xml()
        root = etree.fromstring(xml)
        # the official schema is optional: our own checks ran when the XML was written
        with contextlib.suppress(ValidationUnavailableError):
            self.assertEqual([str(finding) for finding in validate_fa3(root)], [])
        return root.find("fa:Fa", FA)

    def invoice(self, tax, partner=None, **values):
        return self.init_invoice(
            "out_invoice", partner=partner or self.customer, amounts=[1000.0], taxes=tax, post=True, **values
        )

    def test_the_polish_chart_taxes_get_their_e_invoice_categories(self):
        categories = {xmlid: self.pl_tax(xmlid).einvoice_vat_category for xmlid in ("vs_unia", "vs_eksp_tow")}
        self.assertEqual(categories, {"vs_unia": "K", "vs_eksp_tow": "G"})

    def test_companies_set_up_before_the_module_get_the_categories_too(self):
        tax = self.pl_tax("vs_unia")
        tax.einvoice_vat_category = False
        _post_init_hook(self.env)
        self.assertEqual((tax.einvoice_vat_category, tax.einvoice_exemption_code), ("K", "VATEX-EU-IC"))

    def test_an_intra_community_supply_is_0_wdt(self):
        fa = self.fa(self.invoice(self.pl_tax("vs_unia"), self.eu_customer))
        self.assertEqual(fa.findtext("fa:P_13_6_2", namespaces=FA), "1000.00")
        self.assertEqual(fa.findtext("fa:FaWiersz/fa:P_12", namespaces=FA), "0 WDT")

    def test_services_abroad_are_outside_the_country(self):
        fa = self.fa(self.invoice(self.pl_tax("vs_ekspu"), self.eu_customer))
        self.assertEqual(fa.findtext("fa:P_13_8", namespaces=FA), "1000.00")

    def test_an_exempt_supply_names_the_article_of_its_exemption(self):
        exempt = self.pl_tax("vs_kraj_zw")
        move = self.invoice(exempt)
        problems = move._einvoice_platform_problems("pl_ksef", move._einvoice_invoice()[0])
        self.assertIn("legal basis of the exemption", "\n".join(problems))
        exempt.einvoice_exemption_reason = "art. 43 ust. 1 pkt 37 ustawy o VAT"
        fa = self.fa(move)
        exemption = fa.find("fa:Adnotacje/fa:Zwolnienie", FA)
        self.assertEqual(exemption.findtext("fa:P_19", namespaces=FA), "1")
        self.assertEqual(exemption.findtext("fa:P_19A", namespaces=FA), "art. 43 ust. 1 pkt 37 ustawy o VAT")
        self.assertEqual(fa.findtext("fa:P_13_7", namespaces=FA), "1000.00")

    def test_an_invoice_in_euro_shows_its_vat_in_pln_as_booked(self):
        euro = self.setup_other_currency("EUR", rates=[("2000-01-01", 0.25)])  # 4 PLN per euro
        move = self.invoice(self.pl_tax(), currency=euro)
        fa = self.fa(move)
        self.assertEqual(fa.findtext("fa:KodWaluty", namespaces=FA), "EUR")
        self.assertEqual(fa.findtext("fa:P_14_1", namespaces=FA), "230.00")
        booked = -sum(move.line_ids.filtered("tax_line_id").mapped("balance"))
        self.assertEqual(Decimal(fa.findtext("fa:P_14_1W", namespaces=FA)), Decimal(f"{booked:.2f}"))
        self.assertEqual(fa.findtext("fa:P_14_1W", namespaces=FA), "920.00")
