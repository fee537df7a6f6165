import base64
import time
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from einvoice.http import RateLimitedError, counted_period
from einvoice.pl.ksef import LIMITS as PUBLISHED_LIMITS

from ..models.l10n_pl_ksef_connection import MAX_WAIT, wait
from .common import KEY_PASSWORD, SELLER_NIP, ConnectedToKsef, certificate_files

OTHER_NIP = "1132853869"


@tagged("post_install_l10n", "post_install", "-at_install")
class TestVerifyConnection(ConnectedToKsef):
    """*Verify connection* signs in to the KSeF simulator and says in plain words what is wrong."""

    def with_certificate(self, nip=SELLER_NIP, password=KEY_PASSWORD, **validity):
        certificate, key = certificate_files(nip, **validity)
        self.connection.write(
            {
                "auth_method": "certificate",
                "certificate_file": certificate,
                "private_key_file": key,
                "key_password": password,
            }
        )
        return self.connection

    def assert_refused(self, connection, words):
        with self.assertRaises(UserError) as caught:
            connection.action_verify()
        self.assertIn(words, str(caught.exception))
        self.assertFalse(connection.verified_at)

    def test_a_good_token_is_accepted(self):
        action = self.connection.action_verify()
        self.assertEqual(action["params"]["type"], "success")
        self.assertTrue(self.connection.verified_at)
        self.assertEqual(len(self.ksef.requests_to("/auth/token/redeem")), 1)

    def test_a_wrong_token(self):
        self.connection.ksef_token = "20261122-TK-0000000000-0000000000-00|nip-5260250274|0000"
        self.assert_refused(self.connection, "does not accept the token")

    def test_a_token_of_another_company(self):
        self.connection.ksef_token = self.ksef.issue_ksef_token(OTHER_NIP)
        self.assert_refused(self.connection, f"does not let this token act for NIP {SELLER_NIP}")

    def test_no_token(self):
        self.connection.sudo().ksef_token_encrypted = False
        self.assert_refused(self.connection, "Enter the KSeF token")

    def test_a_good_certificate_is_accepted_and_shown(self):
        connection = self.with_certificate()
        self.assertEqual(connection.certificate_nip, SELLER_NIP)
        self.assertIn("TINPL-5260250274", connection.certificate_subject)
        self.assertTrue(connection.certificate_valid_from < fields.Datetime.now() < connection.certificate_valid_to)
        self.assertEqual(connection.action_verify()["params"]["type"], "success")
        self.assertEqual(len(self.ksef.requests_to("/auth/xades-signature")), 1)

    def test_a_wrong_key_password(self):
        self.with_certificate()
        self.connection.key_password = "not-the-password"
        self.assert_refused(self.connection, "password of the private key is wrong")

    def test_a_certificate_not_yet_valid(self):
        self.with_certificate(not_before=self.clock.datetime() + timedelta(days=3))
        self.assert_refused(self.connection, "not valid yet")

    def test_an_expired_certificate(self):
        self.with_certificate(not_before=self.clock.datetime() - timedelta(days=400))
        self.assert_refused(self.connection, "expired")

    def test_a_certificate_ksef_finds_expired(self):
        """Our clock and KSeF's disagree: KSeF's answer is explained as well."""
        self.with_certificate()
        ours = self.clock.datetime()
        self.patch(type(self.connection), "_ksef_now", staticmethod(lambda: ours))
        self.clock.advance(400 * 24 * 3600)
        self.assert_refused(self.connection, "it is not valid today")

    def test_a_certificate_of_another_nip_needs_a_permission(self):
        self.with_certificate(nip=OTHER_NIP)
        self.assert_refused(self.connection, f"belongs to NIP {OTHER_NIP}, not to the company's NIP {SELLER_NIP}")
        self.ksef.grant(OTHER_NIP, SELLER_NIP)
        self.addCleanup(self.ksef.grants.discard, (OTHER_NIP, SELLER_NIP))
        self.assertEqual(self.connection.action_verify()["params"]["type"], "success")

    def test_a_file_that_is_no_certificate(self):
        with self.assertRaisesRegex(UserError, "not a PEM or DER X.509 certificate"):
            self.connection.certificate_file = base64.b64encode(b"Szanowni Panstwo, w zalaczniku certyfikat.")

    def test_no_certificate(self):
        self.connection.auth_method = "certificate"
        self.assert_refused(self.connection, "Upload the KSeF certificate and its private key")

    def test_a_new_credential_clears_the_last_verification(self):
        self.connection.action_verify()
        self.assertTrue(self.connection.verified_at)
        self.connection.name = "KSeF (renamed)"
        self.assertTrue(self.connection.verified_at, "a new name changes nothing of the sign-in")
        self.connection.ksef_token = "a-token-not-verified-yet"
        self.assertFalse(self.connection.verified_at)

    def test_ksef_out_of_reach(self):
        self.connection.base_url = "http://127.0.0.1:9"
        self.assert_refused(self.connection, "KSeF could not be asked")

    def test_secrets_are_encrypted_write_only_and_only_for_administrators(self):
        self.with_certificate()
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT ksef_token_encrypted, private_key_encrypted, key_password_encrypted, certificate_encrypted "
            "FROM l10n_pl_ksef_connection WHERE id = %s",
            [self.connection.id],
        )
        stored = self.env.cr.fetchone()
        self.assertTrue(all(value.startswith("einv1:") for value in stored))
        self.assertNotIn(KEY_PASSWORD, "".join(stored))
        self.connection.invalidate_recordset()
        self.assertFalse(self.connection.key_password or self.connection.private_key_file or self.connection.ksef_token)
        self.assertEqual(self.connection._decrypt(stored[2]), KEY_PASSWORD)
        self.assertEqual(self.connection.secrets_stored, "KSeF token, private key, key password")
        clerk = new_test_user(self.env, login="pl_clerk_secrets", groups="account.group_account_invoice")
        with self.assertRaises(AccessError):
            self.connection.with_user(clerk).read(["name"])

    def test_administrators_write_secrets_but_never_read_a_ciphertext(self):
        admin = new_test_user(self.env, login="pl_admin_secrets", groups="account.group_account_manager")
        connection = self.connection.with_user(admin)
        certificate, key = certificate_files(SELLER_NIP, days=30)
        connection.write({"ksef_token": "new-token", "offline_certificate_file": certificate})
        connection.write({"offline_private_key_file": key})
        self.assertEqual(connection.secrets_stored, "KSeF token, Offline private key")
        self.assertEqual(self.connection._decrypt(self.connection.sudo().ksef_token_encrypted), "new-token")
        readable = connection.fields_get()
        for field in self.connection._fields:
            if field.endswith("_encrypted"):
                self.assertNotIn(field, readable)
                with self.assertRaises(AccessError):
                    connection.read([field])

    def test_administrators_see_only_the_connections_of_their_companies(self):
        other_company = self.setup_other_company(name="Gamma sp. z o.o.")["company"]
        other = self.env["l10n_pl_ksef.connection"].create({"name": "Gamma", "company_id": other_company.id})
        admin = new_test_user(
            self.env,
            login="pl_admin",
            groups="account.group_account_manager",
            company_id=self.env.company.id,
            company_ids=[self.env.company.id],
        )
        visible = self.env["l10n_pl_ksef.connection"].with_user(admin).search([])
        self.assertIn(self.connection, visible)
        self.assertNotIn(other, visible)

    def test_one_connection_per_company(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["l10n_pl_ksef.connection"].create({"name": "Second"})
            self.env.flush_all()

    def test_administrators_are_told_before_the_certificate_ends(self):
        self.with_certificate(not_before=self.clock.datetime() - timedelta(days=350))
        connections = self.env["l10n_pl_ksef.connection"]
        connections._cron_warn_expiry()
        reminders = self.connection.activity_ids
        self.assertTrue(reminders)
        self.assertIn("KSeF certificate", reminders[0].note)
        connections._cron_warn_expiry()
        self.assertEqual(self.connection.activity_ids, reminders)  # told once, not at every run
        self.connection.activity_ids.unlink()
        self.with_certificate()  # renewed
        connections._cron_warn_expiry()
        self.assertFalse(self.connection.activity_ids)

    def test_administrators_are_told_before_the_token_ends(self):
        self.connection.token_valid_until = fields.Date.today() + timedelta(days=5)
        self.env["l10n_pl_ksef.connection"]._cron_warn_expiry()
        self.assertIn("KSeF token", self.connection.activity_ids[:1].note)

    def test_administrators_are_told_before_the_offline_certificate_ends(self):
        certificate, key = certificate_files(SELLER_NIP, days=10)
        self.connection.write({"offline_certificate_file": certificate, "offline_private_key_file": key})
        self.assertIn("Offline private key", self.connection.secrets_stored)
        self.env["l10n_pl_ksef.connection"]._cron_warn_expiry()
        self.assertIn("Offline certificate", self.connection.activity_ids[:1].note)

    def test_a_long_wait_for_ksefs_limits_is_left_to_the_queue(self):
        started = time.monotonic()
        wait(0.01)
        self.assertLess(time.monotonic() - started, 5)
        with self.assertRaises(RateLimitedError):
            wait(MAX_WAIT + 1)

    def test_ksefs_limits_can_be_set_per_family(self):
        """KSeF's limits are dynamic (raised on request, ten times higher on TEST): a system parameter sets them."""
        parameters = self.env["ir.config_parameter"]
        parameters.set_param("l10n_pl_ksef.rate_limits", '{"online_send": [5, 50, null]}')
        limits = self.connection._ksef_limits()
        self.assertEqual(limits["online_send"], (5, 50, None))
        self.assertEqual(limits["download"], PUBLISHED_LIMITS["download"])
        for unusable in ("not json", '{"online_send": [5, 50]}', '{"online_send": [0, 50, 100]}', "[1, 2, 3]"):
            parameters.set_param("l10n_pl_ksef.rate_limits", unusable)
            with self.assertLogs("odoo.addons.l10n_pl_ksef.models.l10n_pl_ksef_connection", "WARNING"):
                self.assertEqual(self.connection._ksef_limits(), PUBLISHED_LIMITS)

    def test_the_calls_of_every_client_are_counted_in_the_database(self):
        parameters = self.env["ir.config_parameter"]
        parameters.set_param("l10n_pl_ksef.rate_limits", '{"public_keys": [1, null, null]}')
        waits = []

        def sleep(seconds):
            waits.append(seconds)
            self.clock.advance(seconds)

        self.patch(type(self.connection), "_ksef_sleep", staticmethod(sleep))
        calls = self.env["account.einvoice.platform.call"]
        bucket = [("bucket", "=", f"ksef:{self.connection.environment}:{SELLER_NIP}:public_keys")]
        first, second = self.connection._ksef_client(), self.connection._ksef_client()
        first.request("public_keys", "GET", "/security/public-key-certificates")
        self.assertEqual(calls.search_count(bucket), 1)
        second.request("public_keys", "GET", "/security/public-key-certificates")
        self.assertEqual(len(self.ksef.requests_to("/security/public-key-certificates")), 2)
        self.assertAlmostEqual(sum(waits), counted_period(1), delta=1e-3)  # the second waited out the first's second
