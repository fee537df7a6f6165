import os
from datetime import datetime

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.account_einvoice.tests.common import TupleTimeouts

from einvoice.ro import ciusro
from einvoice.ro.oauth import Tokens
from einvoice.sim import ManualClock
from einvoice.sim.anaf import AnafSimulator
from einvoice.validation import official_rules

SELLER_CIF = "18547290"
OFFICIAL_RULES = os.environ.get("EINVOICE_CIUS_RO_RULES")  # ANAF's compiled Schematron, when the tier has it


class RoEfacturaCommon(TupleTimeouts, AccountTestInvoicingCommon):
    """A Romanian company in Bucharest and a customer in Cluj, as ANAF knows them."""

    @classmethod
    @AccountTestInvoicingCommon.setup_country("ro")
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.write(
            {
                "vat": f"RO{SELLER_CIF}",
                "company_registry": "J40/12345/2015",
                "street": "Strada Lungă 10",
                "city": "București, Sector 3",
                "zip": "030167",
                "state_id": cls.env.ref("base.RO_B").id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Beta Construcții SA",
                "is_company": True,
                "vat": "RO14399840",
                "street": "Bulevardul Eroilor 5",
                "city": "Cluj-Napoca",
                "zip": "400129",
                "state_id": cls.env.ref("base.RO_CJ").id,
                "country_id": cls.env.ref("base.ro").id,
            }
        )

    @classmethod
    def ro_tax(cls, xmlid):
        return cls.env.ref(f"account.{cls.env.company.id}_{xmlid}")

    def posted_invoice(self, amounts=(1000.0, 250.5), taxes=None, partner=None):
        return self.init_invoice(
            "out_invoice",
            partner=partner or self.customer,
            amounts=list(amounts),
            taxes=taxes or self.ro_tax("tvac_21"),
            post=True,
        )

    def assert_anaf_accepts(self, invoice):
        """The CIUS-RO XML of ``invoice``, which our checks and, when the tier has them, ANAF's own rules accept."""
        try:
            xml = ciusro.render(invoice)  # refuses what ANAF would reject, with every reason
        except ciusro.CiusRoError as refusal:
            self.fail("\n".join(str(finding) for finding in refusal.findings) or str(refusal))
        if OFFICIAL_RULES:
            fatal = [str(finding) for finding in official_rules(OFFICIAL_RULES).findings(xml) if finding.fatal]
            self.assertEqual(fatal, [])
        self.assertEqual(ciusro.read(xml).invoice, ciusro.prepare(invoice))  # read back, it is the invoice written
        return xml


class ConnectedToAnaf(RoEfacturaCommon):
    """The company connected to the ANAF simulator over HTTP; ANAF decides ``processing_seconds`` after an upload,
    on a clock the test moves."""

    processing_seconds = 60

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clock = ManualClock(datetime.now().timestamp())
        cls.anaf = AnafSimulator(cifs=(SELLER_CIF,), processing_seconds=cls.processing_seconds, clock=cls.clock).start()
        cls.addClassCleanup(cls.anaf.stop)
        cls.connection = cls.env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF (simulator)", "base_url": cls.anaf.url, "company_ids": [cls.env.company.id]}
        )
        issued = cls.anaf.issue_tokens()
        cls.connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None))

    def setUp(self):
        super().setUp()
        self.anaf.requests.clear()
        self.anaf.clear_faults()
        self.patch(type(self.connection), "_clock", staticmethod(self.clock))
        self.patch(type(self.connection), "_sleep", staticmethod(self.clock.advance))  # a wait moves the test's clock
