import unittest

from odoo.tests import tagged

from .. import ODOO_EDI_CRONS, PAUSED_CRONS, _pause_odoo_edi, _uninstall_hook
from .common import RoEfacturaCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestOdooEfacturaGivesWay(RoEfacturaCommon):
    """With Odoo's own l10n_ro_edi installed: its crons pause, its sent invoices are ours to follow, never re-sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if "l10n_ro_edi_state" not in cls.env["account.move"]._fields:
            raise unittest.SkipTest("Odoo's l10n_ro_edi is not installed in this database")
        cls.env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF", "base_url": "https://127.0.0.1:9", "company_ids": [cls.env.company.id]}
        )

    def test_odoos_crons_are_paused_while_installed_and_restored_after(self):
        crons = [self.env.ref(xmlid) for xmlid in ODOO_EDI_CRONS]
        self.assertFalse(any(cron.active for cron in crons))  # paused when this module was installed
        self.assertTrue(self.env["ir.config_parameter"].get_param(PAUSED_CRONS))
        _uninstall_hook(self.env)
        self.assertTrue(all(cron.active for cron in crons))
        _pause_odoo_edi(self.env)
        self.assertFalse(any(cron.active for cron in crons))

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
