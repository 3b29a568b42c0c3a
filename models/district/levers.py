"""A response plan's levers applied to the district's facilities: open shelters, depot stock, teams.

The district (``sim.district``) holds what exists; the plan (``sim.scenario.Plan``) says what the district
does with it and what it adds. :func:`apply_plan` turns both into the facility lists a model runs with —
renumbered so that each list index equals the facility's id — and the teams on standby at the start.
Every lever that names something of the district that does not exist raises a ``ValueError`` naming the
plan field and the fix.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from sim.facilities import CAPABILITIES, Depot, Shelter, Team
from sim.scenario import Plan, TeamsPlan
from sim.yamlio import InputError

#: what an added "general" team can do (the township brigades' mix).
GENERAL_CAPABILITIES = ("search_rescue", "evacuation", "debris_clearance", "fire_suppression")
#: ranking of team levels for standby: the professional and district teams are the first on duty.
STANDBY_RANK = {"professional": 0, "district": 1, "township": 2, "enterprise": 3, "village": 4}


@dataclass(frozen=True)
class PlanFacilities:
    """The facilities a run uses under a plan (ids = list positions)."""

    shelters: list[Shelter]
    depots: list[Depot]
    teams: list[Team]
    standby: np.ndarray  # bool per team: on standby at the start
    season: str


def season_of(start_time: str, teams: TeamsPlan) -> str:
    """Season of a scenario start (``YYYY-MM-DDTHH:MM``): flood season first, then fire season, else other."""
    month = int(start_time[5:7])
    if month in teams.flood_season_months:
        return "flood_season"
    if month in teams.fire_season_months:
        return "fire_season"
    return "other"


def _renumber(items: list, id_field: str) -> list:
    return [dataclasses.replace(x, **{id_field: i}) for i, x in enumerate(items)]


def plan_shelters(shelters: list[Shelter], plan: Plan, centres: dict[str, tuple[float, float]]) -> list[Shelter]:
    """Shelters open under ``plan``: the district's minus ``closed``, capacities scaled, extras added."""
    sp = plan.shelters
    out: list[Shelter] = []
    for key in sp.closed:
        if not any(key in s.name for s in shelters):
            names = ", ".join(s.name for s in shelters[-3:])
            raise InputError(f"plan {plan.name!r}: shelters.closed entry {key!r} matches no shelter of the district. "
                             f"Fix: give a name or part of one, e.g. {names}")
    for s in shelters:
        if any(key in s.name for key in sp.closed):
            continue
        mult = sp.capacity_multiplier.get(s.kind, 1.0)
        out.append(dataclasses.replace(s, capacity_persons=int(round(s.capacity_persons * mult))))
    for e in sp.extra:
        x, y = centres[e.township]
        out.append(Shelter(0, e.name, e.kind, e.township, e.capacity_persons, x + 250.0, y + 250.0,
                           f"plan {plan.name}: added shelter, location = township centre + 250 m (generated)"))
    return _renumber(out, "shelter_id")


def plan_depots(depots: list[Depot], plan: Plan, centres: dict[str, tuple[float, float]]) -> list[Depot]:
    """Depots under ``plan``: the regional depot only if built, stock × multiplier, pre-positioned stock added.

    The multiplier applies to the district's stock; pre-positioned stock is added at the township's supply
    point (one is created at the township centre if the district has none).
    """
    dp = plan.depots
    out = []
    for d in depots:
        if d.tier == "regional" and not dp.regional_depot:
            continue
        out.append(dataclasses.replace(d, stock={k: float(np.floor(v * dp.stock_multiplier))
                                                 for k, v in d.stock.items()}))
    for pre in dp.prepositioned:
        k = next((i for i, d in enumerate(out) if d.tier == "township" and d.township == pre.township), None)
        if k is None:
            x, y = centres[pre.township]
            out.append(Depot(0, f"{pre.township}前置物资点 pre-positioned stock", "township", pre.township, x, y,
                             {}, f"plan {plan.name}: pre-positioned (generated location)"))
            k = len(out) - 1
        stock = dict(out[k].stock)
        for item, amount in pre.items.items():
            stock[item] = stock.get(item, 0.0) + float(amount)
        out[k] = dataclasses.replace(out[k], stock=stock, source=out[k].source + f"; + pre-positioned by {plan.name}")
    return _renumber(out, "depot_id")


def _apportion(groups: dict[str, list[int]], share: float) -> dict[str, int]:
    """How many of each group to keep so the total is ``round(share × all)``, split by largest remainder.

    Each group gets ``floor(share × n)``, and the units left go to the largest fractional parts (ties: the
    order of ``groups``). Every group keeps at least one while ``share > 0`` and the total allows it.
    """
    sizes = {k: len(v) for k, v in groups.items()}
    total = int(round(share * sum(sizes.values())))
    exact = {k: share * n for k, n in sizes.items()}
    keep = {k: int(np.floor(x)) for k, x in exact.items()}
    order = sorted(sizes, key=lambda k: -(exact[k] - keep[k]))
    if share > 0:  # a township with squads keeps one first
        order = [k for k in order if keep[k] == 0 and sizes[k] > 0] + [k for k in order if keep[k] > 0 or not sizes[k]]
    for k in order:
        if sum(keep.values()) >= total:
            break
        if keep[k] < sizes[k]:
            keep[k] += 1
    return keep


def plan_teams(teams: list[Team], plan: Plan, centres: dict[str, tuple[float, float]]) -> list[Team]:
    """Teams under ``plan``: the forest team resized and based, district teams pre-positioned, teams added.

    Village squads are kept by ``village_squads_share`` in every township alike (each keeps about that
    share of its own squads, the first in code order; :func:`_apportion`), so a smaller plan thins the squads
    everywhere instead of dropping whole townships.
    """
    tp = plan.teams
    by_township: dict[str, list[int]] = {}
    for i, t in enumerate(teams):
        if t.level == "village":
            by_township.setdefault(t.township, []).append(i)
    n_keep = _apportion(by_township, tp.village_squads_share)
    keep_villages = {i for town, idx in by_township.items() for i in idx[:n_keep[town]]}
    moves = {p.speciality: p.township for p in tp.preposition}
    for spec in moves:
        if not any(t.speciality == spec and t.level in ("district", "professional") for t in teams):
            raise InputError(f"plan {plan.name!r}: teams.preposition names speciality {spec!r}, but the district "
                             "has no district team of it. Fix: use forest_fire, flood_drought, geohazard_earthquake "
                             "or water_rescue")
    out: list[Team] = []
    for i, t in enumerate(teams):
        if t.level == "village" and i not in keep_villages:
            continue
        if t.level == "professional" and t.speciality == "forest_fire":
            if tp.forest_team_size_persons == 0:
                continue
            x, y = centres[tp.forest_team_base]
            scale = tp.forest_team_size_persons / max(t.size_persons, 1)
            equipment = {k: int(round(v * scale)) for k, v in t.equipment.items()}
            t = dataclasses.replace(t, size_persons=tp.forest_team_size_persons, township=tp.forest_team_base,
                                    x_m=x, y_m=y, equipment=equipment)
        elif t.level == "district" and t.speciality in moves:
            town = moves[t.speciality]
            x, y = centres[town]
            t = dataclasses.replace(t, township=town, x_m=x, y_m=y,
                                    source=t.source + f"; pre-positioned by {plan.name}")
        out.append(t)
    for e in tp.extra:
        x, y = centres[e.township]
        caps = GENERAL_CAPABILITIES if e.speciality == "general" else CAPABILITIES[e.speciality]
        equipment = {"vehicles": 2, "boats": 1 if e.speciality in ("flood_drought", "water_rescue", "general") else 0,
                     "fire_kits": 10 if e.speciality in ("forest_fire", "general") else 0}
        for j in range(e.count):
            out.append(Team(0, f"{e.name} {j + 1}" if e.count > 1 else e.name, "district", e.speciality,
                            e.township, e.size_persons, tuple(caps), equipment, x, y,
                            f"plan {plan.name}: added team (generated base = township centre)"))
    return _renumber(out, "team_id")


def standby_teams(teams: list[Team], share: float) -> np.ndarray:
    """Which teams are on standby at the start: the professional and district teams first."""
    order = sorted(range(len(teams)), key=lambda i: (STANDBY_RANK.get(teams[i].level, 5), i))
    n = int(round(share * len(teams)))
    out = np.zeros(len(teams), dtype=bool)
    out[order[:n]] = True
    return out


def plan_params(params, plan: Plan):
    """Behavioural parameters under the plan's process levers (relay delays, dispatch interval, work rates)."""
    w, r = params.warnings, params.response
    f = plan.warning.relay_delay_factor
    warnings = w.model_copy(update={"relay_delay_min": {k: v * f for k, v in w.relay_delay_min.items()}})
    k = plan.teams.work_rate_factor
    update = {"rescue_min_per_household": r.rescue_min_per_household / k,
              "assist_min_per_household": r.assist_min_per_household / k,
              "embankment_work_h": r.embankment_work_h / k}
    if plan.command.dispatch_interval_min is not None:
        update["dispatch_interval_min"] = plan.command.dispatch_interval_min
    return params.model_copy(update={"warnings": warnings, "response": r.model_copy(update=update)})


def renovate_old_housing(tab, share: float) -> None:
    """Take ``share`` of the old-housing households (in household order) out of old housing, in place."""
    idx = np.flatnonzero(tab.old_housing)
    tab.old_housing[idx[:int(round(share * idx.size))]] = False


def apply_plan(shelters: list[Shelter], depots: list[Depot], teams: list[Team], plan: Plan, start_time: str,
               centres: dict[str, tuple[float, float]]) -> PlanFacilities:
    """Apply every facility lever of ``plan`` (``centres``: township name → centre x, y in UTM m)."""
    season = season_of(start_time, plan.teams)
    share = plan.teams.standby_share_by_season.get(season, plan.teams.standby_share)
    tlist = plan_teams(teams, plan, centres)
    return PlanFacilities(shelters=plan_shelters(shelters, plan, centres), depots=plan_depots(depots, plan, centres),
                          teams=tlist, standby=standby_teams(tlist, share), season=season)
