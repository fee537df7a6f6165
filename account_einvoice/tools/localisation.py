"""What every country add-on does to its chart's taxes and to Odoo's own module for its platform, in one place."""


def tax_values(category, reason, code):
    """The e-invoice fields of a tax: VAT category (UNCL 5305), exemption reason (BT-120) and VATEX code (BT-121)."""
    return {"einvoice_vat_category": category, "einvoice_exemption_reason": reason, "einvoice_exemption_code": code}


def set_tax_categories(env, chart, categories):
    """The taxes of companies on ``chart`` installed before the add-on get their e-invoice categories
    (``categories``: tax xmlid -> (category, reason, code)); a category somebody chose is kept."""
    for company in env["res.company"].search([("chart_template", "=", chart)]):
        for xmlid, values in categories.items():
            tax = env.ref(f"account.{company.id}_{xmlid}", raise_if_not_found=False)
            if tax and tax.einvoice_vat_category in (False, "S"):  # S: the default of any positive rate
                tax.write(tax_values(*values))


NATIVE_MODELS = ("ir.cron", "ir.ui.view", "ir.actions.server")


def native_records(env, module):
    """What Odoo's own ``module`` runs and shows, whatever its version ships: its scheduled actions, its screens
    (extensions of views; QWeb templates render documents, they are not screens) and its server actions."""
    found = env["ir.model.data"].search([("module", "=", module), ("model", "in", NATIVE_MODELS)])
    crons, views, actions = (
        env[model].browse(found.filtered(lambda data, model=model: data.model == model).mapped("res_id")).exists()
        for model in NATIVE_MODELS
    )
    return crons, views.filtered(lambda view: view.type != "qweb"), actions


def give_way(env, module, parameter):
    """Odoo's own ``module`` for the platform steps aside while ours is installed (one path, one screen): its
    scheduled actions and screens are deactivated, its server actions leave the Action menu. What was changed is
    remembered under the system parameter ``parameter``, so :func:`restore` puts back exactly that."""
    crons, views, actions = native_records(env, module)
    crons, views, actions = crons.filtered("active"), views.filtered("active"), actions.filtered("binding_model_id")
    crons.active = views.active = False
    actions.binding_model_id = False
    changed = [f"{record._name}:{record.id}" for record in (*crons, *views, *actions)]
    env["ir.config_parameter"].sudo().set_param(parameter, ",".join(changed))


def restore(env, parameter):
    """Put back what :func:`give_way` changed."""
    changed = env["ir.config_parameter"].sudo().get_param(parameter) or ""
    for item in filter(None, changed.split(",")):
        model, record_id = item.split(":")
        record = env[model].browse(int(record_id)).exists()
        if model == "ir.actions.server":
            record.binding_model_id = record.model_id  # Odoo's modules bind their server actions to their own model
        else:
            record.active = True
    env["ir.config_parameter"].sudo().set_param(parameter, False)
