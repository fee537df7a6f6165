from datetime import datetime

from odoo.tests import HttpCase, tagged

from einvoice.ro.oauth import Tokens
from einvoice.sim import ManualClock
from einvoice.sim.anaf import AnafSimulator

from .common import SELLER_CIF, RoEfacturaCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestSendToAnafTour(RoEfacturaCommon, HttpCase):
    """An accountant opens a posted invoice in the browser, sends it to ANAF and sees it accepted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clock = ManualClock(datetime.now().timestamp())
        # ANAF decides at once: the first status request after the upload already has the answer
        cls.anaf = AnafSimulator(cifs=(SELLER_CIF,), processing_seconds=0, clock=cls.clock).start()
        cls.addClassCleanup(cls.anaf.stop)
        cls.connection = cls.env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF (simulator)", "base_url": cls.anaf.url, "company_ids": [cls.env.company.id]}
        )
        issued = cls.anaf.issue_tokens()
        cls.connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None))

    def setUp(self):
        super().setUp()
        self.patch(type(self.connection), "_clock", staticmethod(self.clock))

    def test_send_to_anaf_from_the_invoice_form(self):
        user = self.env.user  # an accountant of the Romanian company only
        self.assertTrue(user.has_group("account_einvoice.group_einvoice_user"))
        move = self.posted_invoice()
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{move.id}",
            "l10n_ro_efactura_send_to_anaf",
            login=user.login,
        )
        move.invalidate_recordset()
        self.assertEqual(move.einvoice_state, "accepted")
        self.assertEqual(len(self.anaf.uploads_recorded()), 1)
