#!/usr/bin/env python3
"""Builds scenarios/national_regions.csv from scenarios/tools/provinces_2020.csv.

Public figures are copied as they are; every proxy and every assumption is written into
the `source` column of the row it affects. Rerun after changing an assumption:

    python3 scenarios/tools/build_national.py scenarios/tools/provinces_2020.csv > scenarios/national_regions.csv
"""
import csv
import sys

GROUPS = {
    "east": "beijing tianjin hebei shanghai jiangsu zhejiang fujian shandong guangdong hainan",
    "central": "shanxi anhui jiangxi henan hubei hunan",
    "west": "inner_mongolia guangxi chongqing sichuan guizhou yunnan tibet shaanxi gansu qinghai ningxia xinjiang",
    "northeast": "liaoning jilin heilongjiang",
}
GROUP_OF = {p: g for g, ps in GROUPS.items() for p in ps.split()}
# Tags from docs/data.md (national parks, 丹江口 source area, Qinghai–Tibet
# Plateau) and the four national eco-civilisation pilot zones (福建, 江西, 贵州, 海南).
TAGS = {
    "qinghai_tibet": "tibet qinghai sichuan gansu xinjiang yunnan",
    "water_source": "hubei henan shaanxi",
    "national_park": "qinghai sichuan shaanxi gansu jilin heilongjiang hainan fujian jiangxi",
    "eco_pilot": "fujian jiangxi guizhou hainan",
}
# Provinces containing the former deep-poverty areas (三区三州): hold-harmless in the reform.
HOLD_HARMLESS = set("tibet qinghai gansu sichuan yunnan xinjiang".split())
# Assumed red-line share of land area where no 2018 figure is known (national land share
# in 2023 is just over 30%).
REDLINE_SHARE_ASSUMED = 0.30
# Assumed eco/environment spending as a share of budget expenditure (national ratio of
# the energy-conservation and environmental-protection function, roughly 2.5–3.5%).
ECO_SPENDING_SHARE = 0.03
# Assumed mean change of the ecological quality index: with the noise model in
# national.toml (additive, sigma 1.05) and thresholds t1 = 1, this reproduces the 2023
# county shares: about 66% stable, 14% better, 20% worse (docs/policy.md §2).
EQI_CHANGE_MEAN = -0.13
# Assumed management-effectiveness score of protected areas: no public per-province score.
PA_SCORE = 0.7


def key_zone_share(revenue, expenditure):
    """PROXY for the share of a province's budget that lies in its key ecological function
    zone counties, whose standard gap the key subsidy pays. Those counties' figures, and
    for most provinces even their number, are not public (docs/data.md). They are rural,
    fiscally dependent counties, so the share is taken to be the province's dependence on
    transfers, 1 - R/E: about 0.9 for Tibet, 0.13 for Shanghai. Only relative sizes matter,
    because the budget scales the key subsidy."""
    return 1 - revenue / expenditure


rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["id", "name", "group", "std_revenue", "std_expenditure", "eco_spending", "area_km2",
              "redline_km2", "pa_km2", "pa_count", "pa_score", "population", "eqi_change",
              "damage_index", "prior_allocation", "hold_harmless", "tags", "poverty_counties",
              "reference_allocation", "source"])
for r in rows:
    pid = r["id"]
    area = float(r["area_wkm2"]) * 10000
    revenue, expenditure = float(r["revenue_2020"]), float(r["expenditure_2020"])
    share = key_zone_share(revenue, expenditure)
    notes = [f"std_*: PROXY, 2020 general budget revenue/expenditure (public) x key-zone share 1 - R/E = {share:.3f} (ASSUMED)",
             "area/population/reserve counts/poverty counties: public figures"]
    if r["redline_km2_2018"]:
        redline = float(r["redline_km2_2018"])
        notes.append(f"redline: 2018 delineation ({r['redline_status']})")
    else:
        redline = round(area * REDLINE_SHARE_ASSUMED)
        notes.append(f"redline: ASSUMED {REDLINE_SHARE_ASSUMED:.0%} of area")
    notes.append(f"eco_spending: ASSUMED {ECO_SPENDING_SHARE:.0%} of std_expenditure")
    notes.append("pa_km2: 2008 reserve area (out of date); pa_score ASSUMED")
    notes.append(f"eqi_change: ASSUMED {EQI_CHANGE_MEAN} (calibrated to 2023 county grade shares; uncertain in Monte Carlo); damage_index: ASSUMED 0")
    # The 2020 allocation is the target of `ecocomp calibrate` and of the Spearman check
    # only; no formula reads it. prior_allocation (floors and caps) stays blank: no 2019
    # allocation by province was found, and the 2020 figures must not feed the formulas.
    transfer = r["transfer_2020"]
    if transfer:
        notes.append("reference: actual 2020 transfer (target only)")
    tags = [t for t, ps in TAGS.items() if pid in ps.split()]
    std_expenditure = round(expenditure * share, 2)
    out.writerow([
        pid, r["name"], GROUP_OF[pid], round(revenue * share, 2), std_expenditure,
        round(std_expenditure * ECO_SPENDING_SHARE, 2), round(area), round(redline),
        round(float(r["nat_reserves_area_wkm2_2008"]) * 10000), r["nat_reserves_count_c2019"], PA_SCORE,
        round(float(r["population_wan_2020census"]) * 10000), EQI_CHANGE_MEAN, 0, "",
        "true" if pid in HOLD_HARMLESS else "false", ";".join(tags), r["poverty_counties_2012"],
        transfer, "; ".join(notes),
    ])
