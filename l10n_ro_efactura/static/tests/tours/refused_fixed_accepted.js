import { registry } from "@web/core/registry";

// the states are told by their colours, the problems by ANAF's rule ids, never by words: the tour runs in every
// language of the add-on
const badge = ".o_form_view .o_field_widget[name='einvoice_state'] .badge";

registry.category("web_tour.tours").add("l10n_ro_efactura_refused_fixed_accepted", {
    steps: () => [
        {
            content: "Send the posted invoice to ANAF",
            trigger: ".o_form_view .o_form_statusbar button[name='action_einvoice_send']",
            run: "click",
        },
        {
            content: "It is refused before anything goes: the customer has no street (BR-RO-082)",
            trigger: ".modal .modal-body:contains(BR-RO-082)",
        },
        {
            content: "... nor a county (BR-RO-111)",
            trigger: ".modal .modal-body:contains(BR-RO-111)",
        },
        {
            content: "Close the refusal",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "Nothing was sent",
            trigger: "body:not(:has(.modal)) .o_form_view:not(:has(.o_field_widget[name='einvoice_state']))",
        },
        {
            content: "Open the customer from the invoice",
            trigger: ".o_form_view .o_field_widget[name='partner_id'] a.o_form_uri",
            run: "click",
        },
        {
            content: "Give the customer a street",
            trigger: ".o_form_view .o_field_widget[name='street'] input",
            run: "edit Strada Memorandumului 28",
        },
        {
            content: "Choose the county",
            trigger: ".o_form_view .o_field_widget[name='state_id'] input",
            run: "edit Cluj",
        },
        {
            content: "Cluj, from the list",
            trigger: ".o-autocomplete--dropdown-menu .o-autocomplete--dropdown-item a:contains(Cluj)",
            run: "click",
        },
        {
            content: "Save the customer",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_status_indicator_buttons.invisible:not(:visible)",
        },
        {
            content: "Back to the invoice",
            trigger: ".o_breadcrumb .breadcrumb-item:not(.active):last a",
            run: "click",
        },
        {
            content: "Send it again",
            trigger: ".o_form_view .o_form_statusbar button[name='action_einvoice_send']",
            run: "click",
        },
        {
            content: "ANAF has received it and is processing it",
            trigger: `${badge}.text-bg-info`,
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
    ],
});
