import base64
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_einvoice.tests.common import TupleTimeouts
from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_connection import _LOGINS

from einvoice.sim import ManualClock
from einvoice.sim.ksef import KsefSimulator

SELLER_NIP = "5260250274"
BUYER_NIP = "7740001454"
KEY_PASSWORD = "tajne-haslo"


def certificate_files(nip, *, not_before=None, days=365, password=KEY_PASSWORD):
    """A KSeF certificate of a person with NIP ``nip`` (serialNumber TINPL-) and its encrypted EC key, as the files
    Aplikacja Podatnika hands out, base64-encoded as an upload."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "PL"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Jan Kowalski"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"TINPL-{nip}"),
        ]
    )
    not_before = not_before or datetime.now(timezone.utc) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password.encode()),
    )
    return (
        base64.b64encode(certificate.public_bytes(serialization.Encoding.PEM)),
        base64.b64encode(key_pem),
    )


class KsefCommon(TupleTimeouts, AccountTestInvoicingCommon):
    """A Polish company in Warsaw and a customer in Kraków."""

    @classmethod
    @AccountTestInvoicingCommon.setup_country("pl")
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.write(
            {"vat": f"PL{SELLER_NIP}", "street": "ul. Marszałkowska 10", "city": "Warszawa", "zip": "00-590"}
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Beta Budownictwo S.A.",
                "is_company": True,
                "vat": BUYER_NIP,  # written without PL, as Polish users often do
                "street": "ul. Długa 5",
                "city": "Kraków",
                "zip": "31-147",
                "country_id": cls.env.ref("base.pl").id,
            }
        )

    @classmethod
    def pl_tax(cls, xmlid="vs_kraj_23"):
        return cls.env.ref(f"account.{cls.env.company.id}_{xmlid}")

    def posted_invoice(self, amounts=(1000.0, 250.5), partner=None):
        return self.init_invoice(
            "out_invoice", partner=partner or self.customer, amounts=list(amounts), taxes=self.pl_tax(), post=True
        )


class ConnectedToKsef(KsefCommon):
    """The company connected to the KSeF simulator over HTTP with a KSeF token; KSeF numbers an invoice a few
    seconds after it arrives, on a clock the test moves."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started = datetime.now(timezone.utc).replace(microsecond=0).timestamp()
        cls.clock = ManualClock(cls.started)
        cls.ksef = KsefSimulator(clock=cls.clock.datetime).start()
        cls.addClassCleanup(cls.ksef.stop)
        cls.connection = cls.env["l10n_pl_ksef.connection"].create(
            {
                "name": "KSeF (simulator)",
                "base_url": cls.ksef.url,
                "auth_method": "token",
                "ksef_token": cls.ksef.issue_ksef_token(SELLER_NIP),
            }
        )

    def setUp(self):
        super().setUp()
        # every test starts from an empty KSeF at the same moment: the database is rolled back, invoice numbers
        # come again, and KSeF would take them for duplicates
        self.clock.now = self.started
        self.ksef.forget_invoices()
        self.ksef.requests.clear()
        self.ksef.clear_faults()
        # nor may the client's: each test signs in afresh
        _LOGINS.__dict__.pop("by_connection", None)
        connection = type(self.connection)
        self.patch(connection, "_ksef_now", staticmethod(self.clock.datetime))
        self.patch(connection, "_ksef_sleep", staticmethod(self.clock.advance))

    def processed(self):
        """KSeF has had the time to number what it received."""
        self.clock.advance((self.ksef.processing_delay + self.ksef.storage_delay).total_seconds() + 1)

    def sent_invoices(self):
        """Every invoice KSeF received, whatever became of it."""
        return [invoice for invoice in self.ksef.invoices.values() if invoice.xml]


def pdf_text(test, pdf):
    """The text of ``pdf`` as poppler's pdftotext reads it (non-breaking spaces as plain ones); skips ``test``
    where pdftotext is not installed."""
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        test.skipTest("pdftotext (poppler-utils) is not installed")
    command = [pdftotext, "-enc", "UTF-8", "-", "-"]
    result = subprocess.run(command, input=pdf, capture_output=True, check=True)  # noqa: S603 - our own PDF
    return result.stdout.decode("utf-8").replace("\u00a0", " ")
