"""Writes scenarios/county_two_tier_regions.csv: 42 counties of the upper Yellow River
and its grasslands in 青海, 四川 and 甘肃 with synthetic but plausible inputs (money in
万元, areas in km², forest and grassland in mu). County names are real; every number is
drawn from the ranges in the comments below with a fixed seed, so rerunning this script
rewrites the same file. Run from the repository root: python3 scenarios/tools/county_two_tier.py
"""
import csv
import random

COUNTIES = {
    "青海": ["玛沁县", "班玛县", "甘德县", "达日县", "久治县", "玛多县", "同德县", "泽库县",
             "河南县", "兴海县", "贵南县", "共和县", "祁连县", "门源县"],
    "四川": ["若尔盖县", "红原县", "阿坝县", "松潘县", "壤塘县", "马尔康市", "金川县", "小金县",
             "石渠县", "色达县", "甘孜县", "德格县", "理塘县", "稻城县"],
    "甘肃": ["玛曲县", "碌曲县", "夏河县", "合作市", "卓尼县", "临潭县", "迭部县", "舟曲县",
             "天祝县", "肃南县", "民乐县", "山丹县", "古浪县", "永登县"],
}
# Counties of the Three-River Source (三江源) and the Qilian Mountains national park pilots.
SANJIANGYUAN = {"玛沁县", "班玛县", "甘德县", "达日县", "久治县", "玛多县", "同德县", "泽库县",
                "河南县", "兴海县"}
QILIAN = {"祁连县", "门源县", "肃南县", "天祝县"}
# Former deep-poverty counties (support must not fall).
HOLD = {"达日县", "甘德县", "石渠县", "色达县", "壤塘县", "临潭县", "舟曲县", "古浪县"}

rng = random.Random(20240601)
rows = []
for province, names in COUNTIES.items():
    for k, name in enumerate(names):
        cid = {"青海": "qh", "四川": "sc", "甘肃": "gs"}[province] + f"{k + 1:02d}"
        expenditure = rng.uniform(80_000, 320_000)        # standard expenditure, 8–32亿
        revenue = expenditure * rng.uniform(0.04, 0.22)    # low self-sufficiency
        area = rng.uniform(3_000, 25_000)
        redline = area * rng.uniform(0.35, 0.85)
        pastoral = province == "青海" or name in {"若尔盖县", "红原县", "阿坝县", "石渠县", "色达县",
                                                 "玛曲县", "碌曲县", "夏河县", "肃南县"}
        grass_mu = area * 1500 * (rng.uniform(0.45, 0.75) if pastoral else rng.uniform(0.05, 0.25))
        ban = grass_mu * rng.uniform(0.25, 0.45)           # 禁牧 share of usable grassland
        balance = grass_mu - ban                           # 草畜平衡
        forest_state = area * 1500 * rng.uniform(0.01, 0.08 if pastoral else 0.25)
        forest_coll = area * 1500 * rng.uniform(0.0, 0.02 if pastoral else 0.10)
        wetland = area * rng.uniform(0.005, 0.12 if pastoral else 0.03)
        tags = []
        if name in SANJIANGYUAN:
            tags.append("sanjiangyuan")
        if name in QILIAN:
            tags.append("national_park")
        if name in {"若尔盖县", "玛曲县", "红原县", "阿坝县", "碌曲县", "久治县", "玛多县"}:
            tags.append("yellow_river_source")
        hold = name in HOLD
        prior = expenditure * rng.uniform(0.06, 0.12) if hold else 0.0
        rows.append({
            "id": cid,
            "name": name,
            "group": province,
            "std_revenue": round(revenue, 1),
            "std_expenditure": round(expenditure, 1),
            "eco_spending": round(expenditure * rng.uniform(0.04, 0.10), 1),
            "area_km2": round(area, 1),
            "redline_km2": round(redline, 1),
            "population": round(rng.uniform(20_000, 220_000)),
            "eqi_change": round(rng.gauss(0.4, 1.0), 2),
            "damage_index": round(rng.uniform(0.0, 0.15), 3) if rng.random() < 0.2 else 0.0,
            "prior_allocation": round(prior, 1),
            "hold_harmless": "true" if hold else "false",
            "tags": ";".join(tags),
            "forest_state_mu": round(forest_state),
            "forest_collective_mu": round(forest_coll),
            "grassland_ban_mu": round(ban),
            "grassland_balance_mu": round(balance),
            "wetland_km2": round(wetland, 1),
        })

with open("scenarios/county_two_tier_regions.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
print(f"wrote {len(rows)} counties")
