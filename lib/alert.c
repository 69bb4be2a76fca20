/* alert.c - encoding of the churnwatch.alert.v1 message (compact JSON, docs/alerts.md) */
#include "churnwatch/alert.h"

#include "churnwatch/enum_names.h"
#include "json_out.h"

#include <jansson.h>

char *cw_alert_encode(const struct cw_alert *alert, size_t *len)
{
    json_t *obj = json_object();
    json_t *comps = json_object();
    bool ok = obj && comps;
    if (!ok)
        goto fail;

    cw_json_put(obj, "schema", json_string(CW_ALERT_SCHEMA), &ok);
    cw_json_put(obj, "alert_id", cw_json_str(alert->alert_id), &ok);
    cw_json_put(obj, "account_id", cw_json_str(alert->account_id), &ok);
    cw_json_put(obj, "rule", cw_json_str(alert->rule), &ok);
    cw_json_put(obj, "kind", json_string(cw_rule_kind_name(alert->kind)), &ok);
    cw_json_put(obj, "status", json_string(alert->resolved ? "resolved" : "firing"), &ok);
    cw_json_put(obj, "severity", json_string(cw_severity_name(alert->severity)), &ok);
    cw_json_put(obj, "score", cw_json_real(alert->has_score, alert->score), &ok);
    cw_json_put(obj, "previous_score",
                cw_json_real(alert->has_previous_score, alert->previous_score), &ok);
    cw_json_put(obj, "grade",
                alert->grade && *alert->grade ? cw_json_str(alert->grade) : json_null(), &ok);
    cw_json_put(obj, "threshold", cw_json_threshold(alert->has_threshold, alert->threshold), &ok);
    cw_json_put(obj, "touch", cw_json_str(alert->touch), &ok);
    cw_json_put(obj, "reason", cw_json_str(alert->reason), &ok);
    for (size_t i = 0; ok && i < alert->n_components; i++) {
        const struct cw_alert_component *c = &alert->components[i];
        if (!c->name)
            continue;
        /* A name that is not valid UTF-8 is repaired the same way as other strings. */
        json_t *k = cw_json_str(c->name);
        if (!k) {
            ok = false;
            break;
        }
        cw_json_put(comps, json_string_value(k), cw_json_real(c->has, c->value), &ok);
        json_decref(k);
    }
    cw_json_put(obj, "components", comps, &ok);
    comps = NULL; /* owned by obj now (or already released by a failed set) */
    cw_json_put(obj, "observed_at", cw_json_time(alert->observed_at_ms), &ok);
    cw_json_put(obj, "emitted_at", cw_json_time(alert->emitted_at_ms), &ok);
    /* Extras after the keys docs/alerts.md lists first. */
    cw_json_put(obj, "value", cw_json_real(alert->has_value, alert->value), &ok);
    cw_json_put(obj, "direction",
                json_string(cw_enum_name(&cw_direction_names, (int)alert->direction)), &ok);
    cw_json_put_account(obj,
                        &(struct cw_json_account){.segment = alert->segment,
                                                  .owner = alert->owner,
                                                  .plan = alert->plan,
                                                  .has_seats = alert->has_seats,
                                                  .seats = alert->seats,
                                                  .has_renewal_at = alert->has_renewal_at,
                                                  .renewal_at_ms = alert->renewal_at_ms,
                                                  .parent_id = alert->parent_id},
                        &ok);
    if (alert->profile && *alert->profile)
        cw_json_put(obj, "profile", cw_json_str(alert->profile), &ok);
    if (alert->stage && *alert->stage)
        cw_json_put(obj, "stage", cw_json_str(alert->stage), &ok);
    if (alert->children_at_risk) {
        json_t *ids = json_array();
        ok = ok && ids;
        for (size_t i = 0; ok && i < alert->n_children_at_risk; i++)
            ok = json_array_append_new(ids, cw_json_str(alert->children_at_risk[i])) == 0;
        cw_json_put(obj, "children_at_risk", ids, &ok);
    }
    if (alert->has_rollup_score)
        cw_json_put(obj, "rollup_score", cw_json_real(true, alert->rollup_score), &ok);
    if (alert->users) {
        json_t *ids = json_array();
        ok = ok && ids;
        for (size_t i = 0; ok && i < alert->n_users; i++)
            ok = json_array_append_new(ids, cw_json_str(alert->users[i])) == 0;
        cw_json_put(obj, "users", ids, &ok);
    }
    if (alert->reminder)
        cw_json_put(obj, "reminder", json_true(), &ok);
    if (!ok)
        goto fail;

    char *text = cw_json_line(obj, len);
    json_decref(obj);
    return text;

fail:
    json_decref(comps);
    json_decref(obj);
    return NULL;
}
