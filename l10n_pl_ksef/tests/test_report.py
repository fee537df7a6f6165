import base64
import hashlib
import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from odoo.exceptions import UserError
from odoo.tests import tagged

from einvoice.pl.qr import b64url, invoice_link

from .common import BUYER_NIP, KEY_PASSWORD, SELLER_NIP, ConnectedToKsef, certificate_files, pdf_text


@tagged("post_install_l10n", "post_install", "-at_install")
class TestPrintedInvoice(ConnectedToKsef):
    """KSeF's QR codes on the printed invoice: KOD I made of the exact XML KSeF holds, and KOD II on an invoice
    issued offline."""

    def printed(self, move):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html("account.account_invoices", move.ids)
        return html.decode()

    def test_an_accepted_invoice_shows_its_ksef_number_under_its_verification_link(self):
        move = self.posted_invoice()
        self.assertNotIn('id="l10n_pl_ksef_qr"', self.printed(move))  # not an invoice in KSeF yet
        move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        document = move.einvoice_document_id
        link = invoice_link("test", SELLER_NIP, move.invoice_date, document.attachment_id.raw)
        self.assertTrue(link.startswith(f"https://qr-test.ksef.mf.gov.pl/invoice/{SELLER_NIP}/"))
        html = self.printed(move)
        self.assertIn(f'href="{link}"', html)
        self.assertIn(document.platform_number, html)
        self.assertIn('src="data:image/png;base64,', html)

    def test_an_invoice_issued_offline_is_printed_with_offline(self):
        self.connection.offline24 = True
        move = self.posted_invoice()
        html = self.printed(move)
        link = invoice_link("test", SELLER_NIP, move.invoice_date, move.einvoice_document_id.attachment_id.raw)
        self.assertIn(f'href="{link}"', html)
        self.assertIn(">OFFLINE<", html)

    def issuing_offline_with_a_certificate(self):
        """The company issues offline and holds an Offline certificate; the certificate (PEM, base64) is returned."""
        certificate, key = certificate_files(SELLER_NIP)
        self.connection.write(
            {
                "offline_certificate_file": certificate,
                "offline_private_key_file": key,
                "offline_key_password": KEY_PASSWORD,
            }
        )
        self.connection.offline24 = True
        return certificate

    def test_an_invoice_issued_offline_carries_kod_ii_signed_with_the_offline_certificate(self):
        certificate = self.issuing_offline_with_a_certificate()
        move = self.posted_invoice()
        html = self.printed(move)
        self.assertIn(">CERTYFIKAT<", html)
        x509_certificate = x509.load_pem_x509_certificate(base64.b64decode(certificate))
        digest = b64url(hashlib.sha256(move.einvoice_document_id.attachment_id.raw).digest())
        path = (
            f"qr-test.ksef.mf.gov.pl/certificate/Nip/{SELLER_NIP}/{SELLER_NIP}/"
            f"{x509_certificate.serial_number:016X}/{digest}"
        )
        signature = re.search(rf'href="https://{re.escape(path)}/([A-Za-z0-9_-]+)"', html).group(1)
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        half = len(raw) // 2
        der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
        x509_certificate.public_key().verify(der, path.encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged

    def visualised(self, move):
        action = move.action_l10n_pl_ksef_pdf()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/web/content/")[1].split("?")[0]))
        self.assertEqual((attachment.res_model, attachment.res_id), ("account.move", move.id))
        return pdf_text(self, attachment.raw)

    def test_a_sent_invoice_is_offered_as_the_pdf_of_the_fa3_ksef_holds(self):
        move = self.posted_invoice()
        with self.assertRaises(UserError):
            move.action_l10n_pl_ksef_pdf()  # no FA(3) in KSeF yet
        move.action_einvoice_send()
        self.processed()
        move.action_einvoice_check()
        number = move.einvoice_document_id.platform_number
        text = self.visualised(move)
        for fact in (move.name, SELLER_NIP, BUYER_NIP, number, "1 250,50", "287,62", "1 538,12"):
            self.assertIn(fact, text)
        self.assertNotIn("OFFLINE", text)
        link = invoice_link("test", SELLER_NIP, move.invoice_date, move.einvoice_document_id.attachment_id.raw)
        self.assertIn(link, "".join(text.split()))
        self.visualised(move)  # drawn again: the same attachment, not a second one
        self.assertEqual(len(move.attachment_ids.filtered(lambda a: a.name.endswith("_ksef.pdf"))), 1)

    def test_an_invoice_issued_offline_is_visualised_with_offline_and_certyfikat(self):
        self.issuing_offline_with_a_certificate()
        text = self.visualised(self.posted_invoice())
        self.assertIn("OFFLINE", text)
        self.assertIn("CERTYFIKAT", text)
