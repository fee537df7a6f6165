import unittest

from odoo.tests import tagged

from odoo.addons.account_einvoice.tests.common import OdooModuleGivesWay

from .. import ODOO_EDI, _pause_odoo_edi, _uninstall_hook
from .common import RoEfacturaCommon

# what Odoo's e-Factura shows beside ours: its settings (Client ID, Generate Token), its invoice fields and tab, its
# search filters and its list action
ODOO_EDI_SCREENS = (
    "l10n_ro_edi_client_id",
    "button_l10n_ro_edi_generate_token",
    "l10n_ro_edi_index",
    "l10n_ro_edi_document_ids",
    "l10n_ro_edi_state_invoice_validated",
    "Fetch E-Factura Status",
)


@tagged("post_install_l10n", "post_install", "-at_install")
class TestOdooEfacturaGivesWay(OdooModuleGivesWay, RoEfacturaCommon):
    """With Odoo's own l10n_ro_edi installed: its crons pause, its screens and actions hide, its sent invoices are
    ours to follow, never re-sent."""

    odoo_module, odoo_screens, our_screen = ODOO_EDI, ODOO_EDI_SCREENS, "action_einvoice_send"
    set_aside, bring_back = staticmethod(_pause_odoo_edi), staticmethod(_uninstall_hook)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "l10n_ro_edi_state" not in cls.env["account.move"]._fields:
            raise unittest.SkipTest("Odoo's l10n_ro_edi is not installed in this database")
        cls.env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF", "base_url": "https://127.0.0.1:9", "company_ids": [cls.env.company.id]}
        )

    def test_odoos_send_option_gives_way_to_ours(self):
        extra_edis = self.env["account.move.send"]._get_all_extra_edis()
        self.assertNotIn("ro_edi", extra_edis)
        self.assertIn("einvoice_ro_efactura", extra_edis)

    def test_invoices_odoo_already_sent_are_followed_with_their_index_never_sent_again(self):
        sent, validated = self.posted_invoice(), self.posted_invoice()
        for move, state, index in ((sent, "invoice_sent", "5001"), (validated, "invoice_validated", "5002")):
            move.l10n_ro_edi_index = index
            self.env["l10n_ro_edi.document"].create({"invoice_id": move.id, "state": state})
        self.assertEqual((sent | validated).mapped("l10n_ro_edi_state"), ["invoice_sent", "invoice_validated"])
        problems = sent._einvoice_refusal()
        self.assertIn("never sent twice", problems[0])
        self.assertEqual((sent.einvoice_state, sent.einvoice_document_id.platform_reference), ("processing", "5001"))
        _pause_odoo_edi(self.env)  # what installing does for every invoice
        self.assertEqual(
            (validated.einvoice_state, validated.einvoice_document_id.platform_reference), ("accepted", "5002")
        )
        self.assertEqual(len(sent.einvoice_document_ids), 1)  # carried over once
