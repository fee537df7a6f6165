from lxml import etree

from odoo import fields
from odoo.tools.safe_eval import safe_eval
from odoo.tools.view_validation import get_expression_field_names

from ..tools.localisation import native_records


class TupleTimeouts:
    """Odoo's guard of outgoing requests in tests compares the timeout with a number; ours is (connect, read)."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)


def invoice_screens(env):
    """Everything a person sees of customer invoices and of the settings: the invoice form, list and search view and
    the settings form as the browser receives them (``get_views``), and the invoice list's Action menu, as text."""
    move_views = env["account.move"].get_views(
        [
            (env.ref("account.view_move_form").id, "form"),
            (env.ref("account.view_out_invoice_tree").id, "list"),
            (env.ref("account.view_account_invoice_filter").id, "search"),
        ],
        {"toolbar": True},
    )
    settings = env["res.config.settings"].get_views([(False, "form")])
    archs = [view["arch"] for view in (*move_views["views"].values(), *settings["views"].values())]
    actions = [action["name"] for action in move_views["views"]["list"]["toolbar"].get("action", [])]
    return "\n".join([*archs, *actions])


def shown_on_form(record, xpath):
    """The nodes at ``xpath`` of ``record``'s form that the browser shows on the record: the form it receives
    (``get_views``), each node's ``invisible`` condition evaluated on the record's values (the fields it names must
    be the record's own: a node of the form itself, not of a list inside it)."""
    arch = etree.fromstring(record.get_views([(False, "form")])["views"]["form"]["arch"])
    shown = []
    for node in arch.xpath(xpath):
        condition = node.get("invisible") or "False"
        names = get_expression_field_names(condition) - {"context", "uid"}
        values = {name: record[name].id if record._fields[name].relational else record[name] for name in names}
        if not safe_eval(condition, values):
            shown.append(node)
    return shown


def buttons_shown(record):
    """The labels of the buttons in the header of ``record``'s form that the browser shows on the record."""
    return [button.get("string") for button in shown_on_form(record, "./header/button")]


def list_columns(env, view):
    """Each column of the list view ``view`` (an xmlid) as the browser receives it, with its ``optional`` attribute
    (``show``/``hide``, None for a column always shown)."""
    records = env[env.ref(view).model]
    arch = etree.fromstring(records.get_views([(env.ref(view).id, "list")])["views"]["list"]["arch"])
    return {field.get("name"): field.get("optional") for field in arch.iterfind("./field")}


class OdooModuleGivesWay:
    """Beside Odoo's own module for the platform (``odoo_module``), while the country add-on is installed: its
    scheduled actions are paused and what a person would see of it (``odoo_screens``: marks in the invoice and
    settings views and the Action menu) is hidden, while ours stands (``our_screen``); all of it comes back when the
    add-on is uninstalled. ``set_aside`` and ``bring_back`` are the add-on's install and uninstall steps."""

    odoo_module = odoo_screens = our_screen = set_aside = bring_back = None

    def test_odoos_crons_pause_and_screens_hide_while_installed_and_come_back_after(self):
        crons = native_records(self.env, self.odoo_module)[0]
        self.assertTrue(crons)

        def running_and_shown():
            screens = invoice_screens(self.env)
            return len(crons.filtered("active")), [mark for mark in self.odoo_screens if mark in screens]

        self.assertEqual(running_and_shown(), (0, []))  # set aside when the add-on was installed
        self.assertIn(self.our_screen, invoice_screens(self.env))
        self.bring_back(self.env)
        self.assertEqual(running_and_shown(), (len(crons), list(self.odoo_screens)))
        self.set_aside(self.env)
        self.assertEqual(running_and_shown(), (0, []))


def invoice_sales_order(order, method, **values):
    """The invoice Odoo's "Create invoice" wizard makes of the sales order ``order`` (``method``: ``delivered``, or a
    down payment by ``percentage`` or ``fixed`` amount), dated today and posted."""
    wizard = order.env["sale.advance.payment.inv"].with_context(active_ids=order.ids, active_model="sale.order")
    wizard.create({"advance_payment_method": method, "sale_order_ids": order.ids, **values}).create_invoices()
    move = order.invoice_ids.filtered(lambda move: move.state == "draft")
    move.invoice_date = fields.Date.today()
    move.action_post()
    return move


# the languages the add-ons speak: browser tours run once in each
LANGUAGES = ("en_US", "ro_RO", "pl_PL")


def speak(user, lang, addons):
    """``user`` works in ``lang`` from now on, with the translations of ``addons`` loaded; returns ``user``."""
    user.env["res.lang"]._activate_lang(lang)
    user.env["ir.module.module"]._load_module_terms(list(addons), [lang])
    user.lang = lang
    return user


def state_label(move, state, lang):
    """The name of the e-invoice ``state`` as a reader of ``lang`` sees it."""
    return dict(move._fields["einvoice_state"]._description_selection(move.with_context(lang=lang).env))[state]
