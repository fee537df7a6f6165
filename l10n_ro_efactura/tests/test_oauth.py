from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.tests import HttpCase, TransactionCase, tagged

from odoo.addons.account_einvoice.tests.common import TupleTimeouts

from einvoice.ro.oauth import Tokens
from einvoice.sim import ManualClock
from einvoice.sim.anaf import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, AnafSimulator

PUBLIC_URL = "https://erp.example.ro"  # ANAF accepts only https callbacks


@tagged("post_install", "-at_install")
class TestAnafOAuth(TupleTimeouts, HttpCase):
    """The holder authorises the application at ANAF, through our controller, once and for this user only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clock = ManualClock(datetime.now().timestamp())
        cls.anaf = AnafSimulator(clock=cls.clock).start()
        cls.addClassCleanup(cls.anaf.stop)
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", PUBLIC_URL)
        cls.admin = cls.env.ref("base.user_admin")
        cls.connection = cls.env["l10n_ro_efactura.connection"].create(
            {
                "name": "ANAF (simulator)",
                "base_url": cls.anaf.url,
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
                "company_ids": [cls.env.company.id],
            }
        )

    def setUp(self):
        super().setUp()
        self.patch(type(self.connection), "_clock", staticmethod(self.clock))
        self.authenticate("admin", "admin")

    def anaf_answer(self, user=None, approve="yes"):
        """The callback address ANAF sends the browser to, as a path on this server."""
        action = self.connection.with_user(user or self.admin).action_connect()
        self.assertTrue(action["url"].startswith(f"{self.anaf.url}/anaf-oauth2/v1/authorize?"))
        answer = requests.get(action["url"], params={"approve": approve}, allow_redirects=False, timeout=10)
        location = urlsplit(answer.headers["Location"])
        self.assertEqual(f"{location.scheme}://{location.netloc}{location.path}", self.connection.redirect_uri)
        return f"{location.path}?{location.query}"

    def tokens(self):
        self.connection.invalidate_recordset()
        return self.connection.sudo().access_token_encrypted

    def test_the_whole_flow_stores_the_tokens_encrypted(self):
        response = self.url_open(self.anaf_answer())
        self.assertEqual(response.status_code, 200)
        token = self.tokens()
        self.assertTrue(token and token.startswith("einv1:"))
        self.assertEqual(self.connection.authorised_by, self.admin.name)
        self.assertGreater(self.connection.refresh_expires_at, datetime.now() + timedelta(days=300))
        access = self.connection._decrypt(token)
        self.assertTrue(self.connection._oauth().smoke_test(access))  # ANAF answers with it

    def test_a_forged_state_is_refused(self):
        path = self.anaf_answer()
        query = parse_qs(urlsplit(path).query)
        forged = f"{urlsplit(path).path}?code={query['code'][0]}&state=eyJ4IjoxfQ.forged"
        response = self.url_open(forged)
        self.assertEqual(response.status_code, 400)
        self.assertIn("does not come from this server", response.text)
        self.assertIn('href="/odoo/action-l10n_ro_efactura.action_l10n_ro_efactura_connection"', response.text)
        self.assertFalse(self.tokens())

    def test_a_refusal_at_anaf_leads_back_to_the_connection_with_the_reason(self):
        response = self.url_open(self.anaf_answer(approve="no"), allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertTrue(response.headers["Location"].endswith(f"_connection/{self.connection.id}"))
        self.assertIn("did not authorise the application (access_denied)", self.connection.message_ids[0].body)
        self.assertEqual(self.connection.status, "not_connected")

    def test_a_replayed_answer_is_refused(self):
        path = self.anaf_answer()
        self.assertEqual(self.url_open(path).status_code, 200)
        self.connection.sudo().access_token_encrypted = False
        replay = self.url_open(path)
        self.assertEqual(replay.status_code, 400)
        self.assertIn("already used", replay.text)
        self.assertFalse(self.tokens())

    def test_an_answer_started_by_another_user_is_refused(self):
        other = self.env["res.users"].create(
            {
                "name": "Other admin",
                "login": "other_admin",
                "password": "other_admin",
                "group_ids": [(4, self.env.ref("account_einvoice.group_einvoice_admin").id)],
            }
        )
        path = self.anaf_answer(user=other)
        response = self.url_open(path)  # the admin's session, another user's state
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.tokens())


@tagged("post_install", "-at_install")
class TestAnafSandbox(TupleTimeouts, HttpCase):
    """The sandbox: a simulated ANAF served by this Odoo server, reached through the connection's own buttons with
    no application registered and no certificate, on the http://localhost address Odoo has on one's own machine."""

    def test_connect_and_test_the_connection_in_the_sandbox(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())
        connection = self.env["l10n_ro_efactura.connection"].create(
            {"name": "ANAF sandbox", "environment": "sandbox", "company_ids": [self.env.company.id]}
        )
        self.assertTrue(connection.redirect_uri.startswith("http://"))
        self.authenticate("admin", "admin")
        action = connection.with_user(self.env.ref("base.user_admin")).action_connect()
        self.assertTrue(action["url"].startswith(f"{connection._sandbox().url}/anaf-oauth2/v1/authorize?"))
        page = requests.get(action["url"], timeout=10)
        self.assertIn('id="approve"', page.text)  # the page the holder sees, with its two choices
        answer = requests.get(action["url"], params={"approve": "yes"}, allow_redirects=False, timeout=10)
        location = urlsplit(answer.headers["Location"])
        self.assertEqual(f"{location.scheme}://{location.netloc}{location.path}", connection.redirect_uri)
        self.assertEqual(self.url_open(f"{location.path}?{location.query}").status_code, 200)
        connection.invalidate_recordset()
        self.assertEqual(connection.status, "connected")
        self.assertEqual(connection.action_test_connection()["params"]["type"], "success")

    def test_a_real_anaf_refuses_an_http_callback(self):
        anaf = AnafSimulator().start()  # as ANAF does: only https callbacks
        self.addCleanup(anaf.stop)
        answer = requests.get(
            f"{anaf.url}/anaf-oauth2/v1/authorize",
            params={"response_type": "code", "client_id": DEFAULT_CLIENT_ID, "redirect_uri": "http://localhost/cb"},
            timeout=10,
        )
        self.assertEqual(answer.status_code, 400)


@tagged("post_install", "-at_install")
class TestTokenRenewal(TupleTimeouts, TransactionCase):
    """Tokens are renewed unattended before they end; administrators hear about what needs a person."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.anaf = AnafSimulator().start()
        cls.addClassCleanup(cls.anaf.stop)
        cls.connection = cls.env["l10n_ro_efactura.connection"].create(
            {
                "name": "ANAF (simulator)",
                "base_url": cls.anaf.url,
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
            }
        )
        cls.admin = cls.env.ref("base.user_admin")

    def setUp(self):
        super().setUp()
        issued = self.anaf.issue_tokens()
        self.connection._store_tokens(Tokens(issued["access_token"], issued["refresh_token"], None, None))

    def test_tokens_are_renewed_a_week_before_the_access_token_ends(self):
        before = self.connection.sudo().access_token_encrypted
        self.connection.access_expires_at = datetime.now() + timedelta(days=2)
        self.env["l10n_ro_efactura.connection"]._cron_refresh_tokens()
        self.assertNotEqual(self.connection.sudo().access_token_encrypted, before)
        self.assertGreater(self.connection.access_expires_at, datetime.now() + timedelta(days=30))

    def test_a_failed_renewal_asks_an_administrator_to_act(self):
        self.anaf.inject("status", status=400, body=b'{"error":"invalid_grant"}', path="/token")
        self.connection.access_expires_at = datetime.now() + timedelta(days=2)
        self.env["l10n_ro_efactura.connection"]._cron_refresh_tokens()
        activity = self.connection.activity_ids
        self.assertTrue(activity)
        self.assertIn("could not be renewed", activity[0].note)

    def test_administrators_are_told_before_the_authorisation_ends(self):
        self.connection.refresh_expires_at = datetime.now() + timedelta(days=10)
        self.env["l10n_ro_efactura.connection"]._cron_refresh_tokens()
        self.assertIn("connect to ANAF again", self.connection.message_ids[0].body)
