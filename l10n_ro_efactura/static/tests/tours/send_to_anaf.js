import { registry } from "@web/core/registry";

// the states are told by their colours, not their words: the tour runs in every language of the add-on
const badge = ".o_form_view .o_field_widget[name='einvoice_state'] .badge";

registry.category("web_tour.tours").add("l10n_ro_efactura_send_to_anaf", {
    steps: () => [
        {
            content: "The posted invoice has not been sent yet",
            trigger: ".o_form_view .o_form_statusbar button[name='action_einvoice_send']",
        },
        {
            content: "Send it to ANAF",
            trigger: ".o_form_view button[name='action_einvoice_send']",
            run: "click",
        },
        {
            content: "ANAF has received it and is processing it",
            trigger: `${badge}.text-bg-info`,
        },
        {
            content: "It cannot be sent a second time",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name='action_einvoice_send']))",
        },
        {
            content: "Ask ANAF how it stands",
            trigger: ".o_form_view button[name='action_einvoice_check']",
            run: "click",
        },
        {
            content: "ANAF has accepted it",
            trigger: `${badge}.text-bg-success`,
        },
        {
            content: "Its signed archive can be downloaded",
            trigger: ".o_form_view button[name='action_einvoice_download']",
        },
    ],
});
