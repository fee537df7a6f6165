import threading
import time
from unittest.mock import patch

from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.account_einvoice.tests.common import LANGUAGES, speak

from .common import RoEfacturaCommon
from .test_tour import ADDONS


@tagged("post_install_l10n", "post_install", "-at_install")
class TestConnectToAnafTour(RoEfacturaCommon, HttpCase):
    """An administrator connects the company to the sandbox (a simulated ANAF served by this Odoo server) through
    OAuth, in the browser, and tests the connection, in each language the add-on speaks.

    *Connect to ANAF* takes the browser to the authorisation page of the simulated ANAF, on another origin
    (127.0.0.1 and the simulator's port), which has no tour code. Rather than follow the approval link with
    ``requests`` behind the browser's back, which would leave the browser's own state and cookie out of the path,
    the tour marks that click ``expectUnloadPage`` and the test plays the certificate holder in that same browser:
    once it shows ANAF's page, it clicks the *Autorizare* link there (a click on the element, sent through the
    DevTools protocol). ANAF sends the browser back to Odoo's callback with the code, Odoo checks the state and
    exchanges the code, and shows the connection, where the tour resumes (its progress is kept in the browser's
    storage for Odoo's origin): connected, and *Test connection* answers with success. The state, the session
    cookie and every redirect are the browser's own, as for the holder.
    """

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", self.base_url())  # the callback, here
        self.env.user.group_ids |= self.env.ref("account_einvoice.group_einvoice_admin")
        self.browsers = []
        opened = ChromeBrowser.navigate_to

        def navigate_to(browser, url, wait_stop=False):
            self.browsers.append(browser)
            return opened(browser, url, wait_stop=wait_stop)

        self.startPatcher(patch.object(ChromeBrowser, "navigate_to", navigate_to))

    def approve_at_anaf(self, anaf_url, outcome):
        """The certificate holder: waits for the browser to show ANAF's authorisation page and approves there. The
        page may be between two loads when looked at: looking again until the tour's own time is up."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "page" not in outcome:
            time.sleep(0.2)
            if not self.browsers:
                continue
            browser = self.browsers[-1]
            try:
                shown = browser._websocket_request(
                    "Runtime.evaluate",
                    params={"expression": "location.href + ' ' + !!document.getElementById('approve')"},
                )["result"].get("value", "")
                if shown.startswith(anaf_url) and shown.endswith(" true"):
                    browser._websocket_request(
                        "Runtime.evaluate", params={"expression": "document.getElementById('approve').click()"}
                    )
                    outcome["page"] = shown.split()[0]
            except Exception as error:  # told to the test if the page is never approved
                outcome["error"] = error

    def test_connect_to_anaf_in_the_sandbox(self):
        user = self.env.user
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                speak(user, lang, ADDONS)
                # a company has one ANAF connection: each language sets it up afresh
                self.env["l10n_ro_efactura.connection"].search([]).unlink()
                connection = self.env["l10n_ro_efactura.connection"].create(
                    {"name": "ANAF sandbox", "environment": "sandbox", "company_ids": [self.env.company.id]}
                )
                anaf = connection._sandbox()
                anaf.requests.clear()
                outcome = {}
                self.browsers.clear()  # the holder looks at this tour's browser
                holder = threading.Thread(target=self.approve_at_anaf, args=(anaf.url, outcome))
                holder.start()
                self.start_tour(
                    f"/odoo/action-l10n_ro_efactura.action_l10n_ro_efactura_connection/{connection.id}",
                    "l10n_ro_efactura_connect_to_anaf",
                    login=user.login,
                )
                holder.join()
                self.assertIn("page", outcome, outcome.get("error"))
                self.assertTrue(outcome["page"].startswith(f"{anaf.url}/anaf-oauth2/v1/authorize?"))
                connection.invalidate_recordset()
                self.assertEqual(connection.status, "connected")
                self.assertEqual(connection.authorised_by, user.name)
                self.assertTrue(any(request.path.endswith("/TestOauth/jaxrs/hello") for request in anaf.requests))
                # what the server wrote while the administrator clicked is in the administrator's language
                authorised = connection.with_context(lang=lang).env._("Authorised at ANAF by %(user)s.", user=user.name)
                if lang != "en_US":
                    self.assertNotEqual(authorised, f"Authorised at ANAF by {user.name}.")
                self.assertTrue(any(authorised in body for body in connection.message_ids.mapped("body")))
