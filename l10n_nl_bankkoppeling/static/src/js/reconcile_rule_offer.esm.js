/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
// After a line is reconciled by hand, the OCA reconciliation screen moves on
// to the next open line; a line that now offers a booking rule stays
// selected, so the user sees the offer and answers it.
import {patch} from "@web/core/utils/patch";
import {ReconcileController} from "@account_reconcile_oca/js/reconcile/reconcile_controller.esm";

patch(ReconcileController.prototype, {
    getRecordIdToSelect(candidates) {
        const previousId = this.state.selectedRecordId;
        const previous = this.model.root.records.find(
            (modelRecord) => modelRecord.resId === previousId
        );
        if (previous && previous.data.nl_rule_offer_id) {
            return previousId;
        }
        return super.getRecordIdToSelect(candidates);
    },
});
