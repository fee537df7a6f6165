import { registry } from "@web/core/registry";

// told by colours and by the names of buttons and fields, never by words: the tours run in every language of the
// add-on
const success = ".o_notification:has(.o_notification_bar.bg-success)";
const badge = ".o_form_view .o_field_widget[name='einvoice_state'] .badge";

function sendAndRefreshUntilAccepted(what) {
    return [
        {
            content: `Send ${what} to KSeF`,
            trigger: ".o_form_view .o_form_statusbar button[name='action_einvoice_send']",
            run: "click",
        },
        {
            content: "KSeF has received it and is numbering it",
            trigger: `${badge}.text-bg-info`,
        },
        {
            content: "Refresh its status",
            trigger: ".o_form_view button[name='action_einvoice_check']",
            run: "click",
        },
        {
            content: `KSeF has accepted ${what} and numbered it`,
            trigger: `${badge}.text-bg-success`,
        },
        {
            content: "Its KSeF number is shown",
            trigger: ".o_form_view .o_field_widget[name='l10n_pl_ksef_number']:contains(-)",
        },
    ];
}

registry.category("web_tour.tours").add("l10n_pl_ksef_sandbox_connection", {
    steps: () => [
        {
            content: "Sign-in needs a certificate: make a test one for the company's NIP",
            trigger: ".o_form_view button[name='action_create_test_certificate']",
            run: "click",
        },
        {
            content: "The certificate is made",
            trigger: `${success}`,
        },
        {
            content: "Close the notification",
            trigger: `${success} .o_notification_close`,
            run: "click",
        },
        {
            content: "Verify the connection",
            trigger: `body:not(:has(.o_notification)) .o_form_view button[name='action_verify']`,
            run: "click",
        },
        {
            content: "KSeF lets the company in",
            trigger: `${success}`,
        },
    ],
});

registry.category("web_tour.tours").add("l10n_pl_ksef_send_and_correct", {
    steps: () => [
        ...sendAndRefreshUntilAccepted("the invoice"),
        {
            content: "Make a credit note",
            trigger: ".o_form_view .o_form_statusbar button[name='action_reverse']",
            run: "click",
        },
        {
            content: "Give the reason of the correction",
            trigger: ".modal .o_field_widget[name='reason'] input",
            run: "edit obniżka ceny",
        },
        {
            content: "Reverse",
            trigger: ".modal button[name='refund_moves']",
            run: "click",
        },
        {
            content: "Confirm the credit note",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_statusbar button[name='action_post']",
            run: "click",
        },
        ...sendAndRefreshUntilAccepted("the credit note"),
    ],
});
