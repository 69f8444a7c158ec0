//! Writing fitted coefficients back into a scenario file with its comments and layout
//! kept (`toml_edit`), for `ecocomp calibrate`'s `calibrated.toml`.

use crate::error::{Error, Result};
use toml_edit::{DocumentMut, Item, value};

/// `text` with formula `formula`'s coefficients at `paths` (as `calibrate` names them,
/// e.g. `key.redline_uplift`, `importance.water_source`, `per_unit.forest.rate`) set to
/// the given values. A distribution written there is replaced by the fitted number.
pub fn set_coefficients(text: &str, formula: usize, values: &[(String, f64)]) -> Result<String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| Error::Runtime(format!("cannot edit the scenario: {e}")))?;
    let table = doc
        .get_mut("formula")
        .and_then(Item::as_array_of_tables_mut)
        .and_then(|a| a.get_mut(formula))
        .ok_or_else(|| Error::Runtime(format!("the scenario has no formula {formula}")))?;
    for (path, v) in values {
        let parts: Vec<&str> = path.split('.').collect();
        let slot = locate(table, &parts).ok_or_else(|| {
            Error::Runtime(format!(
                "cannot find {path} in formula {formula} of the scenario file"
            ))
        })?;
        *slot = value(*v);
    }
    Ok(doc.to_string())
}

/// The item at `parts` below a formula table: named array entries (`per_unit.forest`,
/// `pool.wetland`, `agreement_reward.<agreement>`) are found by their `name` (or
/// `agreement`) key, numbered ones (`provincial.0`) by index, and guidance amounts under
/// either form of the guidance table.
fn locate<'a>(table: &'a mut toml_edit::Table, parts: &[&str]) -> Option<&'a mut Item> {
    match parts {
        ["guidance", tag] => {
            let g = table.get_mut("guidance")?;
            if g.get("amounts").is_some() {
                g.get_mut("amounts")?.get_mut(tag)
            } else {
                g.get_mut(tag)
            }
        }
        [
            array @ ("per_unit" | "pool" | "agreement_reward" | "provincial"),
            key,
            field,
        ] => {
            let entries = table.get_mut(array)?.as_array_of_tables_mut()?;
            let by = if *array == "agreement_reward" {
                "agreement"
            } else {
                "name"
            };
            let entry = match key.parse::<usize>() {
                Ok(k) if *array == "provincial" => entries.get_mut(k)?,
                _ => entries
                    .iter_mut()
                    .find(|t| t.get(by).and_then(Item::as_str) == Some(key))?,
            };
            entry.get_mut(field)
        }
        [first, rest @ ..] => {
            let mut item = table.get_mut(first)?;
            for p in rest {
                item = item.get_mut(p)?;
            }
            Some(item)
        }
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_land_in_place_and_comments_stay() {
        let text = "# header\n[[formula]]\nname = \"a\"\n[[formula]]\nname = \"b\"\n\n[formula.key]\nc0 = 1.0 # base\nredline_uplift = { dist = \"uniform\", low = 0.1, high = 0.9 }\n\n[formula.guidance]\ncombine = \"sum\"\n\n[formula.guidance.amounts]\neco = 2.0\n\n[[formula.per_unit]]\nname = \"forest\"\ncolumn = \"f\"\nrate = 0.1\n";
        let out = set_coefficients(
            text,
            1,
            &[
                ("key.redline_uplift".into(), 0.42),
                ("guidance.eco".into(), 3.5),
                ("per_unit.forest.rate".into(), 0.25),
            ],
        )
        .unwrap();
        assert!(out.starts_with("# header\n"));
        assert!(out.contains("c0 = 1.0 # base"));
        assert!(out.contains("redline_uplift = 0.42"));
        assert!(out.contains("eco = 3.5"));
        assert!(out.contains("rate = 0.25"));
        let e = set_coefficients(text, 1, &[("redline.share".into(), 0.1)]).unwrap_err();
        assert!(e.to_string().contains("redline.share"), "{e}");
    }
}
