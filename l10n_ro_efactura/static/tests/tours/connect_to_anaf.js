import { registry } from "@web/core/registry";

// told by the names of buttons and by colours, never by words: the tour runs in every language of the add-on
const form = ".o_form_view";

registry.category("web_tour.tours").add("l10n_ro_efactura_connect_to_anaf", {
    steps: () => [
        {
            content: "The sandbox connection is not connected yet: nothing to test",
            trigger: `${form}:not(:has(button[name='action_test_connection'])) .o_field_widget[name='status'] .badge:not(.text-bg-success)`,
        },
        {
            content: "Connect to ANAF: the browser goes to ANAF's authorisation page, where the holder approves",
            trigger: `${form} .o_form_statusbar button[name='action_connect']`,
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back from ANAF: connected",
            trigger: `${form} .o_field_widget[name='status'] .badge.text-bg-success`,
        },
        {
            content: "Test the connection",
            trigger: `${form} .o_form_statusbar button[name='action_test_connection']`,
            run: "click",
        },
        {
            content: "ANAF accepts it",
            trigger: ".o_notification:has(.o_notification_bar.bg-success)",
        },
    ],
});
