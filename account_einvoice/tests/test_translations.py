"""Every text of the add-ons is in their shipped templates, and translated in Romanian and Polish.

The terms are read with Odoo's own exporter (``TranslationModuleReader``, what ``odoo i18n export`` writes), from the
installed add-ons: Python texts in ``_()`` / ``env._()``, field labels and helps, selections, constraints' messages,
views, menus, actions, mail templates. A text added to the code without a new template fails here, with its name.

When it fails, regenerate the templates and merge them into the catalogs (existing translations are kept):

    createdb and install:  python3 -m odoo -c odoo.conf -d DB -i l10n_ro,l10n_pl,l10n_ro_efactura,l10n_pl_ksef \
                               --stop-after-init
    templates:             python3 -m odoo i18n export -c odoo.conf -d DB account_einvoice l10n_ro_efactura \
                               l10n_pl_ksef
    each catalog:          msgmerge -U --no-wrap --previous MODULE/i18n/LANG.po MODULE/i18n/MODULE.pot

(``msgmerge -C OTHER.po`` takes translations of the same text from another catalog, e.g. the other add-ons' or
``einvoice/locale``.) Then translate the new and the fuzzy entries (``msgattrib --only-fuzzy`` / ``--untranslated``
lists them), remove the ``fuzzy`` flags and ``#|`` lines, and run ``tests/test_addon_translations.py``: every
template text translated in ro and pl, no fuzzy entry, the placeholders and tags of each text kept.
"""

from pathlib import Path

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

ADDONS = ["account_einvoice", "l10n_ro_efactura", "l10n_pl_ksef"]
LANGUAGES = ["ro", "pl"]


@tagged("post_install", "-at_install")
class TestAddonTranslations(TransactionCase):
    maxDiff = None  # a failure lists every missing text

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        installed = cls.env["ir.module.module"].search([("name", "in", ADDONS), ("state", "=", "installed")])
        cls.addons = installed.mapped("name")
        cls.terms = {addon: set() for addon in cls.addons}
        for module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
            cls.env.cr, modules=cls.addons
        ):
            if module in cls.terms:
                cls.terms[module].add(source)

    def catalog(self, addon, name):
        path = Path(get_module_path(addon), "i18n", name)
        self.assertTrue(path.is_file(), f"{addon} ships no {name}")
        return polib.pofile(str(path))

    def test_the_exporter_finds_the_addons_texts(self):
        self.assertIn("account_einvoice", self.addons)
        for addon in self.addons:
            self.assertGreater(len(self.terms[addon]), 50, f"{addon}: the exporter found almost nothing")

    def test_every_text_of_the_code_is_in_the_template(self):
        for addon in self.addons:
            with self.subTest(addon=addon):
                shipped = {entry.msgid for entry in self.catalog(addon, f"{addon}.pot") if not entry.obsolete}
                missing = sorted(self.terms[addon] - shipped)
                self.assertEqual(missing, [], f"{addon}: texts of the code absent from i18n/{addon}.pot")

    def test_every_text_of_the_code_is_translated(self):
        for addon in self.addons:
            for lang in LANGUAGES:
                with self.subTest(addon=addon, lang=lang):
                    catalog = self.catalog(addon, f"{lang}.po")
                    translated = {entry.msgid for entry in catalog if entry.translated() and not entry.obsolete}
                    missing = sorted(self.terms[addon] - translated)
                    self.assertEqual(missing, [], f"{addon}: texts not translated in i18n/{lang}.po")
