-- list_change: one row per patient on this run's practice lists, naming the cohorts and tiers
-- they are new to at their practice since the compared run, and why. list_left: one row per
-- patient a practice's compared list held in a cohort or tier that its list now does not,
-- and why. previous_list holds the compared run's practice lists (empty when there is none);
-- the low tier is "the rest", so it is never a tier joined or left. Tiers and the predicted
-- high cost cohort are compared only when both runs have predictions.
create or replace table list_change as
with current_list as (
    select
        pseudo_id, practice_code, adult, tier, multimorbidity_5plus, frailty, high_cost_3x,
        -- Rounded as the lists publish it, so an unchanged prediction compares equal.
        round(predicted_cost_12m) as predicted_cost_12m, conditions, frailty_rules
    from patient_list
),
compared as (
    select
        c.*,
        p.pseudo_id is not null as was_listed,
        coalesce(p.multimorbidity_5plus, false) as was_multimorbidity,
        coalesce(p.frailty, false) as was_frailty,
        coalesce(p.high_cost_3x, false) as was_high_cost,
        p.tier as was_tier,
        p.predicted_cost_12m as was_predicted_cost,
        coalesce(p.conditions, []::VARCHAR[]) as was_conditions,
        coalesce(p.frailty_rules, []::VARCHAR[]) as was_frailty_rules,
        -- Age 18 reached after the compared run's as-of date.
        s.birth_date + interval 18 year > getvariable('compared_as_of') as turned_18
    from current_list c
    left join previous_list p using (pseudo_id, practice_code)
    join stg_patient s using (pseudo_id)
    where getvariable('compared_run') is not null
),
joined as (
    -- One row per cohort or tier a patient is newly in, with the reason for it.
    select pseudo_id, 1 as item_order, 'multimorbidity' as item,
        case when not list_has_all(was_conditions, conditions) then ['new_condition'] else ['rules_changed'] end as because
    from compared where multimorbidity_5plus and not was_multimorbidity and was_listed and not turned_18
    union all
    select pseudo_id, 2, 'frailty',
        coalesce(
            nullif(list_transform(list_filter(frailty_rules, r -> not list_contains(was_frailty_rules, r)), r -> 'frailty_rule_fired:' || r), []),
            ['rules_changed'])
    from compared where frailty and not was_frailty and was_listed and not turned_18
    union all
    select pseudo_id, 3, 'high_cost',
        [case when predicted_cost_12m > was_predicted_cost then 'predicted_cost_rose' else 'threshold_fell' end]
    from compared
    where getvariable('compare_predictions') and high_cost_3x and not was_high_cost and was_listed and not turned_18
    union all
    select pseudo_id, 4, 'tier_' || replace(tier, ' ', '_'),
        [case
            when was_tier is null then 'predictions_began'
            when predicted_cost_12m > was_predicted_cost then 'predicted_cost_rose'
            when predicted_cost_12m < was_predicted_cost then 'predicted_cost_fell'
            else 'others_ranked_differently'
        end]
    from compared
    where getvariable('compare_predictions') and tier in ('very high', 'high', 'moderate')
        and tier is distinct from was_tier and was_listed and not turned_18
    union all
    -- New to the practice's list, or newly an adult: every cohort and tier they are in is new.
    select pseudo_id, o.item_order,
        case when o.kind = 'tier' then 'tier_' || replace(tier, ' ', '_') else o.kind end,
        [case when was_listed then 'turned_18' else 'newly_registered' end]
    from compared
    cross join (values (1, 'multimorbidity'), (2, 'frailty'), (3, 'high_cost'), (4, 'tier')) o(item_order, kind)
    where (not was_listed or turned_18)
        and case o.kind
            when 'multimorbidity' then multimorbidity_5plus
            when 'frailty' then frailty
            when 'high_cost' then getvariable('compare_predictions') and high_cost_3x
            else getvariable('compare_predictions') and tier in ('very high', 'high', 'moderate')
        end
)
select
    pseudo_id,
    list(item order by item_order) as new_to,
    list_sort(list_distinct(flatten(list(because)))) as new_because
from joined
group by pseudo_id;

create or replace table list_left as
with previous as (
    select * from previous_list
    where getvariable('compared_run') is not null
),
compared as (
    select
        p.*,
        c.pseudo_id is not null as still_listed,
        coalesce(c.multimorbidity_5plus, false) as now_multimorbidity,
        coalesce(c.frailty, false) as now_frailty,
        coalesce(c.high_cost_3x, false) as now_high_cost,
        c.tier as now_tier,
        round(c.predicted_cost_12m) as now_predicted_cost,
        coalesce(c.conditions, []::VARCHAR[]) as now_conditions,
        coalesce(c.frailty_rules, []::VARCHAR[]) as now_frailty_rules,
        case
            when c.pseudo_id is not null then null
            when s.date_of_death <= getvariable('as_of') then 'died'
            when exists (select 1 from patient_list l where l.pseudo_id = p.pseudo_id) then 'registered_elsewhere'
            else 'no_longer_registered'
        end as gone
    from previous p
    left join patient_list c using (pseudo_id, practice_code)
    left join stg_patient s using (pseudo_id)
),
left_items as (
    select pseudo_id, practice_code, 1 as item_order, 'multimorbidity' as item,
        case when not list_has_all(now_conditions, conditions) then ['condition_resolved'] else ['rules_changed'] end as because
    from compared where still_listed and multimorbidity_5plus and not now_multimorbidity
    union all
    select pseudo_id, practice_code, 2, 'frailty',
        coalesce(
            nullif(list_transform(list_filter(frailty_rules, r -> not list_contains(now_frailty_rules, r)), r -> 'frailty_rule_stopped:' || r), []),
            ['rules_changed'])
    from compared where still_listed and frailty and not now_frailty
    union all
    select pseudo_id, practice_code, 3, 'high_cost',
        [case when now_predicted_cost < predicted_cost_12m then 'predicted_cost_fell' else 'threshold_rose' end]
    from compared
    where getvariable('compare_predictions') and still_listed and high_cost_3x and not now_high_cost
    union all
    select pseudo_id, practice_code, 4, 'tier_' || replace(tier, ' ', '_'),
        [case
            when now_tier is null then 'predictions_stopped'
            when now_predicted_cost < predicted_cost_12m then 'predicted_cost_fell'
            when now_predicted_cost > predicted_cost_12m then 'predicted_cost_rose'
            else 'others_ranked_differently'
        end]
    from compared
    where getvariable('compare_predictions') and still_listed
        and tier in ('very high', 'high', 'moderate') and tier is distinct from now_tier
    union all
    -- No longer on the practice's list: every cohort and tier they were in is left.
    select pseudo_id, practice_code, o.item_order,
        case when o.kind = 'tier' then 'tier_' || replace(tier, ' ', '_') else o.kind end,
        [gone]
    from compared
    cross join (values (1, 'multimorbidity'), (2, 'frailty'), (3, 'high_cost'), (4, 'tier')) o(item_order, kind)
    where not still_listed
        and case o.kind
            when 'multimorbidity' then multimorbidity_5plus
            when 'frailty' then frailty
            when 'high_cost' then getvariable('compare_predictions') and high_cost_3x
            else getvariable('compare_predictions') and tier in ('very high', 'high', 'moderate')
        end
)
select
    i.practice_code,
    i.pseudo_id,
    list(i.item order by i.item_order) as left_from,
    list_sort(list_distinct(flatten(list(i.because)))) as left_because,
    any_value(c.tier) as tier_now
from left_items i
left join patient_list c using (pseudo_id, practice_code)
group by i.practice_code, i.pseudo_id;
