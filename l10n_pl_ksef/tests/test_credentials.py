from datetime import timedelta

from cryptography import x509

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import KEY_PASSWORD, SELLER_NIP, ConnectedToKsef, certificate_files

REPRESENTATIVE_NIP = "1132853869"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestKsefCredentials(ConnectedToKsef):
    """Permissions explained, KSeF tokens and KSeF certificates managed from the connection, against the KSeF
    simulator."""

    def with_certificate(self, nip=SELLER_NIP):
        certificate, key = certificate_files(nip)
        self.connection.write(
            {
                "auth_method": "certificate",
                "certificate_file": certificate,
                "private_key_file": key,
                "key_password": KEY_PASSWORD,
            }
        )
        return self.connection

    def create_token(self, **choices):
        wizard = self.env["l10n_pl_ksef.token.wizard"].create(
            {"connection_id": self.connection.id, "description": "Odoo test", **choices}
        )
        wizard.action_create()

    # -- permissions ---------------------------------------------------------------------------------------------
    def test_verify_says_what_the_token_may_do(self):
        action = self.connection.action_verify()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("It may send invoices (InvoiceWrite) and receive them (InvoiceRead)", action["params"]["message"])
        self.assertIn("InvoiceWrite", self.connection.permissions)

    def test_verify_explains_a_token_without_the_right_to_send(self):
        self.connection.ksef_token = self.ksef.issue_ksef_token(SELLER_NIP, permissions=["InvoiceRead"])
        action = self.connection.action_verify()
        self.assertEqual(action["params"]["type"], "warning")
        message = action["params"]["message"]
        self.assertIn("it cannot send invoices (InvoiceWrite is missing)", message)
        self.assertIn("generate a new token", message)
        self.assertEqual(self.connection.permissions, "InvoiceRead")

    def test_verify_explains_a_representative_without_the_right_to_receive(self):
        self.with_certificate(REPRESENTATIVE_NIP)
        self.ksef.grant(REPRESENTATIVE_NIP, SELLER_NIP, permissions=["InvoiceWrite"])
        self.addCleanup(self.ksef.grants.discard, (REPRESENTATIVE_NIP, SELLER_NIP))
        message = self.connection.action_verify()["params"]["message"]
        self.assertIn("it cannot receive purchase invoices (InvoiceRead is missing)", message)
        self.assertIn(f"The owner of NIP {SELLER_NIP} grants them", message)

    def test_the_owner_signed_in_with_a_certificate_may_do_everything(self):
        self.with_certificate()
        self.assertEqual(self.connection.action_verify()["params"]["type"], "success")
        self.assertIn("CredentialsManage", self.connection.permissions)

    # -- KSeF tokens -----------------------------------------------------------------------------------------------
    def test_a_token_created_from_odoo_is_stored_encrypted_and_signs_in(self):
        self.with_certificate()
        self.create_token(credentials_read=True)
        connection = self.connection
        self.assertEqual(connection.auth_method, "token")
        self.assertTrue(connection.ksef_token_reference)
        connection.invalidate_recordset(["ksef_token"])
        self.assertFalse(connection.ksef_token, "a token is never shown again")
        stored = connection.sudo().ksef_token_encrypted
        self.assertNotIn(connection.ksef_token_reference, stored, "stored encrypted")
        self.assertIn(connection.ksef_token_reference, connection._decrypt(stored))
        message = connection.action_verify()["params"]["message"]
        self.assertIn("It may send invoices", message)
        self.assertEqual(connection.permissions, "CredentialsRead, InvoiceRead, InvoiceWrite")

        listed = self.env["l10n_pl_ksef.token"].search(connection.action_ksef_tokens()["domain"])
        ours = listed.filtered("used_here")
        self.assertEqual(ours.reference, connection.ksef_token_reference)
        self.assertEqual(ours.status, "Active")
        self.assertEqual(ours.description, "Odoo test")

    def test_a_revoked_token_no_longer_signs_in(self):
        self.with_certificate()
        self.create_token(credentials_manage=True)
        listed = self.env["l10n_pl_ksef.token"].search(self.connection.action_ksef_tokens()["domain"])
        listed.filtered("used_here").action_revoke()
        with self.assertRaisesRegex(UserError, "does not accept the token"):
            self.connection.action_verify()

    def test_a_token_cannot_get_permissions_the_session_lacks(self):
        self.connection.ksef_token = self.ksef.issue_ksef_token(SELLER_NIP, permissions=["CredentialsManage"])
        with self.assertRaisesRegex(UserError, "26001"):
            self.create_token()

    # -- KSeF certificates -------------------------------------------------------------------------------------------
    def test_an_authentication_certificate_is_enrolled_stored_and_signs_in(self):
        self.with_certificate()
        wizard = self.env["l10n_pl_ksef.certificate.wizard"].create({"connection_id": self.connection.id})
        wizard.action_enrol()
        connection = self.connection
        self.assertTrue(connection.certificate_serial)
        self.assertEqual(connection.certificate_nip, SELLER_NIP)
        self.assertFalse(connection.sudo().key_password_encrypted, "the new key has no password of its own")
        self.assertTrue(connection.certificate_valid_to > fields.Datetime.now() + timedelta(days=700))
        credentials = connection._ksef_stored_credentials()
        self.assertEqual(credentials.serial_hex, connection.certificate_serial)
        self.assertEqual(credentials.certificate.issuer, self.ksef.ca_certificate.subject)
        connection.action_verify()
        method = list(self.ksef.auth_operations.values())[-1]["method"]
        self.assertEqual(method, "InternalCertificate")

    def test_an_offline_certificate_is_enrolled_for_the_second_qr_code(self):
        self.with_certificate()
        self.env["l10n_pl_ksef.certificate.wizard"].create(
            {"connection_id": self.connection.id, "certificate_type": "Offline"}
        ).action_enrol()
        credentials = self.connection._ksef_offline_credentials()
        self.assertEqual(credentials.serial_hex, self.connection.offline_certificate_serial)
        usage = credentials.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        self.assertTrue(usage.content_commitment)
        self.assertEqual(self.connection.auth_method, "certificate")
        self.assertFalse(self.connection.certificate_serial, "signing in is still with the uploaded certificate")

    def test_certificates_are_enrolled_only_after_a_signature_login(self):
        with self.assertRaisesRegex(UserError, "not with a KSeF token"):
            self.connection._ksef_enrol("Authentication", "Odoo test")

    def test_revoked_certificates_no_longer_sign_in_and_the_offline_one_is_forgotten(self):
        self.with_certificate()
        self.connection._ksef_enrol("Offline", "Odoo offline")
        self.connection._ksef_enrol("Authentication", "Odoo")
        enrolled = self.connection._ksef_stored_credentials()
        self.connection.action_revoke_certificate()
        self.assertFalse(self.connection.offline_certificate_serial)
        self.assertFalse(self.connection._ksef_offline_credentials())
        with self.assertRaisesRegex(UserError, "does not trust the certificate"):
            self.connection.action_verify()
        self.assertEqual(self.connection._ksef_stored_credentials().serial_hex, enrolled.serial_hex)

    def test_an_enrolled_certificate_is_renewed_before_it_ends(self):
        self.with_certificate()
        self.connection._ksef_enrol("Authentication", "Odoo")
        first = self.connection.certificate_serial
        self.connection.sudo().certificate_valid_to = fields.Datetime.now() + timedelta(days=10)
        self.env["l10n_pl_ksef.connection"]._cron_warn_expiry()
        self.assertNotEqual(self.connection.certificate_serial, first)
        self.assertTrue(self.connection.certificate_valid_to > fields.Datetime.now() + timedelta(days=700))
        self.assertFalse(self.connection.activity_ids, "renewed in time: nobody needs to be told")
