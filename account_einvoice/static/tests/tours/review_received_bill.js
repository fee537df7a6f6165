import { registry } from "@web/core/registry";

// told by the states' values and the buttons' names, not their words: the tour runs in every language of the add-on
const current = (state) => `.o_statusbar_status button.o_arrow_button_current[data-value='${state}']`;

registry.category("web_tour.tours").add("account_einvoice_review_received_bill", {
    steps: () => [
        {
            content: "The received invoice waits for a review",
            trigger: `.o_form_view ${current("to_review")}`,
        },
        {
            content: "Open the draft bill made of it",
            trigger: ".o_form_view button[name='action_open_bill']",
            run: "click",
        },
        {
            content: "The bill holds the supplier invoice's lines",
            trigger: ".o_form_view .o_field_widget[name='invoice_line_ids'] .o_data_row",
        },
        {
            content: "The accountant posts it",
            trigger: ".o_form_view .o_form_statusbar button[name='action_post']",
            run: "click",
        },
        {
            content: "The bill is posted",
            trigger: `.o_form_view ${current("posted")}`,
        },
        {
            content: "Back to the received invoice",
            trigger: ".o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "Posting the bill ended the review of the received invoice",
            trigger: `.o_form_view ${current("done")}`,
        },
        {
            content: "Nothing is left to mark",
            trigger: ".o_form_view .o_form_statusbar:not(:has(button[name='action_mark_reviewed']))",
        },
    ],
});
