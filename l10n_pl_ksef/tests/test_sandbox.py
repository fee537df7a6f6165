from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_connection import _LOGINS

from .common import SELLER_NIP, KsefCommon


@tagged("post_install_l10n", "post_install", "-at_install")
class TestKsefSandbox(KsefCommon):
    """The sandbox: a simulated KSeF served by this Odoo server, reached through the connection's own buttons with no
    credentials at all: a test certificate made in Odoo, a KSeF token created with it, an invoice sent."""

    def setUp(self):
        super().setUp()
        _LOGINS.__dict__.pop("by_connection", None)
        self.connection = self.env["l10n_pl_ksef.connection"].create({"name": "KSeF sandbox", "environment": "sandbox"})

    def test_a_newcomer_signs_in_creates_a_token_and_sends_without_credentials(self):
        connection = self.connection
        self.assertEqual(connection.nip, SELLER_NIP)
        connection.action_create_test_certificate()
        self.assertEqual(connection.auth_method, "certificate")
        self.assertEqual(connection.certificate_nip, SELLER_NIP)
        self.assertIn(f"VATPL-{SELLER_NIP}", connection.certificate_subject)
        verified = connection.action_verify()
        self.assertEqual(verified["params"]["type"], "success", verified["params"]["message"])
        self.assertTrue(connection._ksef_client().base_url.startswith(connection._sandbox().url))

        self.env["l10n_pl_ksef.token.wizard"].create(
            {"connection_id": connection.id, "description": "Odoo sandbox"}
        ).action_create()
        self.assertEqual(connection.auth_method, "token")
        verified = connection.action_verify()
        self.assertEqual(verified["params"]["type"], "success", verified["params"]["message"])
        self.assertIn("It may send invoices", verified["params"]["message"])

        move = self.posted_invoice()
        move.action_einvoice_send()
        self.assertIn(move.einvoice_document_id.state, ("processing", "accepted"))
        self.assertTrue(any(request.path.endswith("/invoices") for request in connection._sandbox().requests))

    def test_self_signed_certificates_only_where_ksef_takes_them(self):
        self.connection.environment = "prod"
        with self.assertRaisesRegex(UserError, "test environment and the sandbox"):
            self.connection.action_create_test_certificate()
