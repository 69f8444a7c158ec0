use super::*;
use serde::Deserialize;
use std::path::Path;

#[derive(Deserialize)]
struct Wrapper {
    agreement: Vec<RawAgreement>,
}

/// Validate a TOML text of `[[agreement]]` tables; returns agreements and problems.
pub(crate) fn load(src: &str) -> (Vec<Agreement>, Vec<String>) {
    let w: Wrapper = toml::from_str(src).unwrap();
    let mut ctx = Ctx::new(Path::new("t.toml"), src);
    let a = validate(&w.agreement, &mut ctx);
    (a, ctx.problems.iter().map(ToString::to_string).collect())
}

pub(crate) const TWO: &str = "[[agreement]]\nname = \"a\"\nparties = [\"安徽\", \"浙江\"]\nperiods = [2012, 2013]\n\
    [[agreement.section]]\nname = \"街口\"\nupstream = \"安徽\"\ndownstream = \"浙江\"\nkind = \"p_index\"\nk0 = 0.87\n\
    [[agreement.section.indicator]]\nname = \"TN\"\nweight = 1.0\nbaseline = 1.0\nvalues = [1.0, 1.2]\n\
    [[agreement.rule]]\nkind = \"bet\"\nsection = \"街口\"\namount = 1.0\n";

#[test]
fn valid_agreement_has_one_slot_per_number() {
    let (a, p) = load(TWO);
    assert!(p.is_empty(), "{p:?}");
    // k0, baseline, two values, one shared amount.
    assert_eq!(a[0].n_slots(), 5);
    assert!(
        a[0].slot_labels
            .contains(&"agreement[0].section[0].indicator[0].values[1]".to_string())
    );
    assert!(a[0].uncertain.is_empty());
}

#[test]
fn distributions_are_listed_as_uncertain_slots() {
    let src = TWO.replace(
        "k0 = 0.87",
        "k0 = { dist = \"uniform\", low = 0.85, high = 0.89 }",
    );
    let (a, p) = load(&src);
    assert!(p.is_empty(), "{p:?}");
    let (slot, u) = a[0].uncertain[0];
    assert_eq!(a[0].slot_labels[slot], "agreement[0].section[0].k0");
    approx::assert_relative_eq!(a[0].central[slot], u.central());
}

#[test]
fn fields_of_another_kind_and_duplicate_names_are_reported() {
    let src = format!("{TWO}cap = 2.0\n{TWO}");
    let (a, p) = load(&src);
    assert!(a.is_empty());
    assert!(
        p.iter().any(|m| m.contains("agreement[0].rule[0].cap")
            && m.contains("does not apply to a bet rule")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|m| m.contains("agreement[1].name") && m.contains("duplicate agreement name")),
        "{p:?}"
    );
}

#[test]
fn index_change_needs_previous_values() {
    let src = "[[agreement]]\nname = \"y\"\nparties = [\"河南\", \"山东\"]\nperiods = [2021]\n\
        [[agreement.section]]\nname = \"刘庄\"\nupstream = \"河南\"\ndownstream = \"山东\"\nkind = \"class\"\ntarget_class = 3\n\
        [[agreement.section.indicator]]\nname = \"COD\"\nweight = 1.0\nbaseline = 20.0\nvalues = [15.0]\n\
        [[agreement.rule]]\nkind = \"per_class\"\nsection = \"刘庄\"\namount_per_class = 6000\n\
        index_change = { amount_per_point = 100, cap = 4000 }\n";
    let (_, p) = load(src);
    assert!(
        p.iter()
            .any(|m| m.contains("section[0].indicator[0]") && m.contains("needs previous")),
        "{p:?}"
    );
}

#[test]
fn correlation_groups_cover_every_period() {
    let src = TWO.replace("k0 = 0.87", "k0 = 0.87\ncorrelation = [[1.0]]");
    let (a, p) = load(&src);
    assert!(p.is_empty(), "{p:?}");
    let g = &a[0].correlated[0];
    assert_eq!(g.slot_groups.len(), 2);
    assert_eq!(
        g.slot_groups[1],
        vec![a[0].sections[0].indicators[0].values[1]]
    );
}

#[test]
fn class_limit_overrides_are_checked() {
    let src = format!(
        "{TWO}[[agreement.class_limits]]\nindicator = \"PM2.5\"\nlimits = [75, 35, 115, 150, 250]\n"
    );
    let (_, p) = load(&src);
    assert!(
        p.iter()
            .any(|m| m.contains("class_limits[0].limits") && m.contains("non-decreasing")),
        "{p:?}"
    );
}

#[test]
fn sub_periods_must_be_given_for_every_indicator() {
    let src = TWO
        .replace("k0 = 0.87", "k0 = 0.87\ncorrelation = [[1.0, 0.5], [0.5, 1.0]]")
        .replace(
            "values = [1.0, 1.2]\n",
            "values = [1.0, 1.2]\nmonthly = [[1.0, 1.1], [1.2]]\n\
             [[agreement.section.indicator]]\nname = \"TP\"\nweight = 0.0\nbaseline = 0.1\nvalues = [0.1, 0.1]\n",
        );
    let (a, p) = load(&src);
    assert!(a.is_empty());
    assert!(
        p.iter()
            .any(|m| m.contains("different numbers of sub-periods in period 2012")),
        "{p:?}"
    );
}
