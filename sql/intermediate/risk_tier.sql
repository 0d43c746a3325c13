-- risk_tier(rank, adults): the risk tier of the adult ranked `rank` by predicted cost (1 =
-- highest) among `adults` ranked together. The cut-offs are the configured shares of adults
-- (tier_* variables); the practice lists (marts/patient_list.sql) and the backtest both use
-- this one definition.
create or replace macro risk_tier(rank, adults) as
    case
        when rank <= ceil(getvariable('tier_very_high') * adults) then 'very high'
        when rank <= ceil(getvariable('tier_high') * adults) then 'high'
        when rank <= ceil(getvariable('tier_moderate') * adults) then 'moderate'
        else 'low'
    end;
