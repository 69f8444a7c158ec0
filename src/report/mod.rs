//! The files a run writes (docs/model.md §4): pure serialisers from the run's results to
//! bytes, and the one list per command that names every file ([`exporters`]).
//!
//! - [`csv`]: `regions.csv`, `basins.csv`, `sections.csv`, `breakdown.csv`;
//! - [`basins`]: the basin rows shared by the CSV, JSON and HTML outputs;
//! - [`json`]: `summary.json` and `manifest.json`;
//! - [`figures`]: the PNG and SVG figures;
//! - [`page`] and [`html`]: the report's content and its self-contained HTML page;
//! - [`comparison`] and [`sensitivity`]: the outputs of `compare` and `sensitivity`;
//! - [`draws`]: `draws.csv`, every draw of every output;
//! - [`draws_parquet`]: `draws.parquet`, the same rows streamed into Parquet;
//! - [`calibration`]: the outputs of `calibrate`.

pub mod basin_figures;
pub mod basins;
pub mod binding;
pub mod calibration;
pub mod change_figures;
pub mod compare_page;
pub mod comparison;
pub mod csv;
pub mod draws;
pub mod draws_parquet;
pub mod figures;
pub mod html;
pub mod json;
pub mod page;
mod path;
pub mod region_figures;
pub mod sensitivity;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::plots::PlotFormat;
use crate::run::pipeline::{
    Exported, Exporter, Exporters, Hooks, Outcome, OutputFile, StreamExporter, Streamed,
};
use figures::Figure;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// A serialiser of one file, `name`, from the outcome; `None` when the outcome has nothing
/// for it (a basin table of a scenario without agreements).
struct File {
    name: &'static str,
    bytes: fn(&Outcome) -> Result<Option<Vec<u8>>>,
}

impl Exporter for File {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        Ok((self.bytes)(out)?
            .map(|b| vec![OutputFile::new(self.name, b)])
            .unwrap_or_default()
            .into())
    }
}

fn file(name: &'static str, bytes: fn(&Outcome) -> Result<Option<Vec<u8>>>) -> Box<dyn Exporter> {
    Box::new(File { name, bytes })
}

/// The Monte Carlo results of a `run` (a run always has them; an outcome of another
/// command does not).
fn mc(out: &Outcome) -> Result<&crate::montecarlo::McResults> {
    out.mc
        .as_ref()
        .ok_or_else(|| Error::Runtime("the run has no Monte Carlo results to write".into()))
}

/// The figures of a run, drawn once on first use and shared by the exporters that need
/// them (the plot files, the summary's warnings, the report page, the manifest's timing).
struct RunFigures {
    format: Option<PlotFormat>,
    drawn: OnceLock<(Vec<Figure>, Vec<String>, f64)>,
}

impl RunFigures {
    /// The figures, the warnings of those that could not be drawn, and the seconds taken.
    fn get(&self, out: &Outcome) -> Result<&(Vec<Figure>, Vec<String>, f64)> {
        let mc = mc(out)?;
        Ok(self.drawn.get_or_init(|| match self.format {
            None => (Vec::new(), Vec::new(), 0.0),
            Some(format) => {
                let clock = std::time::Instant::now();
                let (f, w) = figures::figures(out, mc, format);
                (f, w, clock.elapsed().as_secs_f64())
            }
        }))
    }
}

/// Writes `plots/<stem>.png` and `.svg` of every figure.
struct PlotFiles(Arc<RunFigures>);

impl Exporter for PlotFiles {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let (figures, warnings, _) = self.0.get(out)?;
        Ok(Exported {
            files: figure_files(figures.iter().map(|f| (f.stem.as_str(), &f.rendered))),
            warnings: warnings.clone(),
        })
    }
}

/// The PNG and SVG files of rendered charts, by file stem, under `plots/`.
fn figure_files<'a>(
    charts: impl Iterator<Item = (&'a str, &'a crate::plots::Rendered)>,
) -> Vec<OutputFile> {
    let mut files = Vec::new();
    for (stem, r) in charts {
        if let Some(png) = &r.png {
            files.push(OutputFile::new(format!("plots/{stem}.png"), png.clone()));
        }
        if let Some(svg) = &r.svg {
            files.push(OutputFile::new(format!("plots/{stem}.svg"), svg.as_bytes()));
        }
    }
    files
}

/// `summary.json`. It follows [`PlotFiles`] in the list, so the outcome's warnings
/// include the figures'.
struct Summary;

impl Exporter for Summary {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let extra = json::mc_summary(out, mc(out)?, &out.warnings);
        Ok(vec![OutputFile::new(
            "summary.json",
            json::summary_json(out, extra)?,
        )]
        .into())
    }
}

/// `report.html`, with the figures embedded.
struct Page(Arc<RunFigures>);

impl Exporter for Page {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let figures = &self.0.get(out)?.0;
        let page = html::render(&page::build(out, mc(out)?, figures, &out.warnings));
        Ok(vec![OutputFile::new("report.html", page)].into())
    }
}

/// `manifest.json`, the marker of an ecocomp output folder; it records the run's times.
struct Manifest(Option<Arc<RunFigures>>);

impl Exporter for Manifest {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let plot_seconds = match &self.0 {
            Some(f) => f.get(out)?.2,
            None => 0.0,
        };
        let bytes = json::manifest_json(&out.scenario, &out.info, plot_seconds)?;
        Ok(vec![OutputFile::new(crate::run::staging::MARKER, bytes)].into())
    }
}

/// What a shard of `run` or `sensitivity` writes: its state file and the manifest, and no
/// tables (`merge` writes those, from every shard's state).
pub fn shard_exporters() -> Exporters {
    Exporters {
        files: vec![file("draws.csv", |o| {
            let first = crate::run::pipeline::draw_range(o).start;
            o.shard_draws
                .as_ref()
                .map(|s| draws::draws_csv(&o.scenario, s, first))
                .transpose()
        })],
        stream: vec![Box::new(ShardState), Box::new(draws_parquet::DrawsParquet)],
        last: vec![Box::new(Manifest(None))],
    }
}

/// The shard's state file, streamed into the staging folder.
struct ShardState;

impl StreamExporter for ShardState {
    fn write(
        &self,
        out: &Outcome,
        dir: &Path,
        _cancel: &Cancel,
        _hooks: &dyn Hooks,
    ) -> Result<Streamed> {
        let Some((header, body)) = &out.state else {
            return Err(Error::Runtime(
                "the shard computed no state to write".into(),
            ));
        };
        let name = crate::run::shards::file_name(header.shard);
        let path = dir.join(&name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::Io {
                path: parent.to_path_buf(),
                source: e,
            })?;
        }
        crate::run::shards::write(&path, header, body)?;
        Ok(Streamed {
            names: vec![name],
            warnings: Vec::new(),
        })
    }
}

/// Every file `ecocomp run` writes, in order; figures in `plots` (none when `None`).
pub fn run_exporters(plots: Option<PlotFormat>) -> Exporters {
    let figures = Arc::new(RunFigures {
        format: plots,
        drawn: OnceLock::new(),
    });
    Exporters {
        files: vec![
            Box::new(PlotFiles(figures.clone())),
            file("breakdown.csv", breakdown),
            file("basins_breakdown.csv", |o| {
                Ok((!o.scenario.agreements.is_empty())
                    .then(|| basins::breakdown_csv(&o.point.basins(&o.scenario))))
            }),
            file("regions.csv", regions),
            file("groups.csv", groups),
            file("basins.csv", basins_table),
            file("sections.csv", sections_table),
            file("draws.csv", saved_draws),
            Box::new(Summary),
            Box::new(Page(figures.clone())),
        ],
        stream: vec![Box::new(draws_parquet::DrawsParquet)],
        last: vec![Box::new(Manifest(Some(figures)))],
    }
}

fn basins_table(o: &Outcome) -> Result<Option<Vec<u8>>> {
    (!o.scenario.agreements.is_empty())
        .then(|| csv::basins_csv(&o.scenario, &o.point, mc(o)?))
        .transpose()
}

fn sections_table(o: &Outcome) -> Result<Option<Vec<u8>>> {
    (!o.scenario.agreements.is_empty())
        .then(|| csv::sections_csv(&o.scenario, &o.point, mc(o)?))
        .transpose()
}

/// `draws.csv` of a whole run's saved draws.
fn saved_draws(o: &Outcome) -> Result<Option<Vec<u8>>> {
    mc(o)?
        .saved
        .as_ref()
        .map(|s| draws::draws_csv(&o.scenario, s, 0))
        .transpose()
}

fn breakdown(o: &Outcome) -> Result<Option<Vec<u8>>> {
    o.scenario
        .vertical
        .as_ref()
        .map(|_| csv::breakdown_csv(&o.scenario, &o.point))
        .transpose()
}

fn regions(o: &Outcome) -> Result<Option<Vec<u8>>> {
    o.scenario
        .vertical
        .as_ref()
        .map(|_| csv::regions_csv(&o.scenario, &o.point, Some(mc(o)?), o.baseline))
        .transpose()
}

fn groups(o: &Outcome) -> Result<Option<Vec<u8>>> {
    o.point
        .formulas
        .iter()
        .any(|fp| !fp.groups.is_empty())
        .then(|| csv::groups_csv(&o.scenario, &o.point))
        .transpose()
}

/// Every file `ecocomp run` writes for a scenario: a multi-year path's, or one year's.
pub fn exporters_for(scn: &crate::model::Scenario, plots: Option<PlotFormat>) -> Exporters {
    if scn.policy_path.is_some() {
        path_exporters(plots)
    } else {
        run_exporters(plots)
    }
}

/// Every file `ecocomp run` writes for a multi-year path (docs/model.md §5).
pub fn path_exporters(plots: Option<PlotFormat>) -> Exporters {
    let figures = path::new_figures(plots);
    Exporters {
        files: vec![
            Box::new(PathPlots(figures.clone())),
            Box::new(path::PerYear {
                name: "breakdown.csv",
                bytes: breakdown,
            }),
            Box::new(path::PerYear {
                name: "regions.csv",
                bytes: regions,
            }),
            Box::new(path::PerYear {
                name: "groups.csv",
                bytes: groups,
            }),
            file("paths.csv", path::paths_csv),
            Box::new(path::AgreementYears {
                name: "basins.csv",
                bytes: basins_table,
            }),
            Box::new(path::AgreementYears {
                name: "sections.csv",
                bytes: sections_table,
            }),
            file("draws.csv", saved_draws),
            Box::new(PathSummary),
            Box::new(PathPage(figures)),
        ],
        stream: vec![Box::new(draws_parquet::DrawsParquet)],
        last: vec![Box::new(Manifest(None))],
    }
}

/// `plots/*` of a path.
struct PathPlots(Arc<path::PathFigures>);

impl Exporter for PathPlots {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let (figures, warnings) = self.0.get(out)?;
        Ok(Exported {
            files: figure_files(figures.iter().map(|f| (f.stem.as_str(), &f.rendered))),
            warnings: warnings.clone(),
        })
    }
}

/// `summary.json` of a path: its totals, then every year's single-year summary.
struct PathSummary;

impl Exporter for PathSummary {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let year = |o: &Outcome| {
            let extra = json::mc_summary(o, mc(o)?, &out.warnings);
            json::summary_json(o, extra)
        };
        Ok(vec![OutputFile::new("summary.json", path::summary(out, &year)?)].into())
    }
}

/// `report.html` of a path.
struct PathPage(Arc<path::PathFigures>);

impl Exporter for PathPage {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let figures = &self.0.get(out)?.0;
        let report = path::page(out, figures)?;
        Ok(vec![OutputFile::new("report.html", html::render(&report))].into())
    }
}

/// The comparison of a `compare` run (which always has one).
fn comparison(out: &Outcome) -> Result<&crate::run::compare::Comparison> {
    out.comparison
        .as_ref()
        .ok_or_else(|| Error::Runtime("the run has no comparison to write".into()))
}

/// The regions' names and groups, for the comparison files.
fn region_meta(out: &Outcome) -> crate::model::RegionMeta {
    out.scenario
        .vertical
        .as_ref()
        .map(|v| v.regions.meta.clone())
        .unwrap_or_default()
}

/// The figures of a comparison, drawn once and shared by the plot files and the page.
#[derive(Default)]
struct CompareFigures(OnceLock<(Vec<Figure>, Vec<String>)>);

impl CompareFigures {
    fn get(&self, out: &Outcome) -> Result<&(Vec<Figure>, Vec<String>)> {
        let c = comparison(out)?;
        Ok(self.0.get_or_init(|| compare_page::compare_figures(out, c)))
    }
}

/// `plots/*` of a comparison.
struct ComparePlots(Arc<CompareFigures>);

impl Exporter for ComparePlots {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let (figures, warnings) = self.0.get(out)?;
        Ok(Exported {
            files: figure_files(figures.iter().map(|f| (f.stem.as_str(), &f.rendered))),
            warnings: warnings.clone(),
        })
    }
}

/// `report.html` of a comparison.
struct ComparePage(Arc<CompareFigures>);

impl Exporter for ComparePage {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let figures = &self.0.get(out)?.0;
        let report = compare_page::build(out, comparison(out)?, figures, &out.warnings);
        Ok(vec![OutputFile::new("report.html", html::render(&report))].into())
    }
}

/// Every file `ecocomp compare` writes.
pub fn compare_exporters() -> Exporters {
    let figures = Arc::new(CompareFigures::default());
    Exporters {
        files: vec![
            file("comparison.csv", |o| {
                comparison::comparison_csv(&region_meta(o), comparison(o)?).map(Some)
            }),
            file("metrics.json", |o| {
                comparison::metrics_json(&o.scenario.meta.name, &region_meta(o), comparison(o)?)
                    .map(Some)
            }),
            Box::new(ComparePlots(figures.clone())),
            Box::new(ComparePage(figures)),
        ],
        stream: Vec::new(),
        last: vec![Box::new(Manifest(None))],
    }
}

/// The indices of a `sensitivity` run (which always has them).
fn indices(out: &Outcome) -> Result<&crate::sensitivity::analysis::SensitivityRun> {
    out.sensitivity
        .as_ref()
        .ok_or_else(|| Error::Runtime("the run has no sensitivity indices to write".into()))
}

/// The tornado charts of a sensitivity run, drawn as PNG and SVG.
struct Tornadoes;

impl Exporter for Tornadoes {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let mut drawn = Vec::new();
        for (stem, chart) in sensitivity::tornado_charts(&out.scenario, indices(out)?) {
            let r = crate::plots::render(&chart, PlotFormat::Both)
                .map_err(|e| Error::Runtime(format!("cannot draw {stem}: {e}")))?;
            drawn.push((stem, r));
        }
        Ok(figure_files(drawn.iter().map(|(s, r)| (s.as_str(), r))).into())
    }
}

/// Every file `ecocomp sensitivity` writes.
/// The calibration of a `calibrate` run (which always has one).
fn fitted(out: &Outcome) -> Result<&crate::run::calibration::CalibrationRun> {
    out.calibration
        .as_ref()
        .ok_or_else(|| Error::Runtime("the run has no calibration to write".into()))
}

/// The fit figure of a calibration, drawn once and shared by the plot files and the page.
#[derive(Default)]
struct FitFigure(OnceLock<(Option<Figure>, Vec<String>)>);

impl FitFigure {
    fn get(&self, out: &Outcome) -> Result<&(Option<Figure>, Vec<String>)> {
        let c = fitted(out)?;
        Ok(self.0.get_or_init(|| {
            let Some(chart) = calibration::fit_chart(&out.scenario, c) else {
                return (None, Vec::new());
            };
            match crate::plots::render(&chart, PlotFormat::Both) {
                Ok(rendered) => (
                    Some(Figure {
                        stem: "fit".into(),
                        title: format!("{} fitted against {}", c.formula, c.target),
                        note: calibration::FIT_NOTE.into(),
                        rendered,
                    }),
                    Vec::new(),
                ),
                Err(e) => (None, vec![format!("figure fit was not drawn: {e}")]),
            }
        }))
    }
}

/// `plots/fit.*` of a calibration.
struct FitPlots(Arc<FitFigure>);

impl Exporter for FitPlots {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let (figure, warnings) = self.0.get(out)?;
        Ok(Exported {
            files: figure_files(figure.iter().map(|f| (f.stem.as_str(), &f.rendered))),
            warnings: warnings.clone(),
        })
    }
}

/// `report.html` of a calibration.
struct FitPage(Arc<FitFigure>);

impl Exporter for FitPage {
    fn export(&self, out: &Outcome) -> Result<Exported> {
        let figure = self.0.get(out)?.0.as_ref();
        let report = calibration::page(out, fitted(out)?, figure);
        Ok(vec![OutputFile::new("report.html", html::render(&report))].into())
    }
}

/// Every file `ecocomp calibrate` writes.
pub fn calibrate_exporters() -> Exporters {
    let figure = Arc::new(FitFigure::default());
    Exporters {
        files: vec![
            file("calibrated.toml", |o| {
                Ok(Some(fitted(o)?.calibrated_toml.clone().into_bytes()))
            }),
            file("fit.csv", |o| {
                calibration::fit_csv(&o.scenario, fitted(o)?).map(Some)
            }),
            file("calibration.json", |o| {
                calibration::calibration_json(&o.scenario, fitted(o)?).map(Some)
            }),
            Box::new(FitPlots(figure.clone())),
            Box::new(FitPage(figure)),
        ],
        stream: Vec::new(),
        last: vec![Box::new(Manifest(None))],
    }
}

pub fn sensitivity_exporters() -> Exporters {
    Exporters {
        files: vec![
            file("sensitivity.csv", |o| {
                sensitivity::sensitivity_csv(indices(o)?).map(Some)
            }),
            Box::new(Tornadoes),
        ],
        stream: Vec::new(),
        last: vec![Box::new(Manifest(None))],
    }
}
