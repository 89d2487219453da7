//! `excitable report`: the full default report of one model, every analysis that applies, in
//! one folder with an index (the built-in study of [`excitable::study::template`]).

use anyhow::Result;
use clap::Args;
use excitable::report::Wait;
use excitable::spec::ModelSource;
use excitable::study::run::RunOptions;
use excitable::study::template::report_study;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub model: ModelSource,
    /// Output folder (one subfolder per analysis, and an index summary.md); default
    /// reports/MODEL, or reports/MODEL+NAME=VALUE… with `--set`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Refuse at once, instead of waiting, when another run is writing the same folder.
    #[arg(long)]
    pub no_wait: bool,
}

pub fn run(a: ReportArgs) -> Result<()> {
    let out = match &a.out {
        Some(out) => out.clone(),
        None => default_folder(&a.model)?,
    };
    let study = report_study(&a.model)?;
    let opts = RunOptions {
        fast: false,
        wait: if a.no_wait { Wait::No } else { Wait::Yes },
    };
    let outcome = super::study::run_printing(&study, &out, opts)?;
    super::print(&format!(
        "report of {}: {}\n",
        study.title,
        outcome.out.join("summary.md").display()
    ))?;
    Ok(())
}

/// The longest folder name [`default_folder`] makes: well inside the 255 bytes a file name
/// may take, with room for the staging folder's suffix beside it.
const MAX_FOLDER_NAME: usize = 160;

/// `reports/MODEL` (a built-in model's name, or the model file's stem), and with `--set` the
/// overrides after it, `reports/hh+g_na=100+g_k=30`: a report of a changed model never
/// replaces the model's own report under a name that does not say so. Characters other than
/// letters, digits and `._=-` become `_`. Overrides too many to name a folder are refused
/// (give `--out`), not cut short, so two different sets cannot share a folder.
fn default_folder(model: &ModelSource) -> Result<PathBuf> {
    let mut name = match &model.model_file {
        Some(p) => p
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned()),
        None => model.model.clone(),
    };
    for set in model.set.iter().flat_map(|s| s.split(',')) {
        let set: String = set
            .trim()
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '=' | '-' => c,
                _ => '_',
            })
            .collect();
        if !set.is_empty() {
            name.push('+');
            name.push_str(&set);
        }
    }
    if name.len() > MAX_FOLDER_NAME {
        anyhow::bail!(
            "--set: the overrides are too long to name the default folder (reports/{}…, over {MAX_FOLDER_NAME} characters); give --out",
            name.chars().take(40).collect::<String>()
        );
    }
    Ok(PathBuf::from("reports").join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_folder_names_the_model_and_its_overrides() {
        let source = |model: &str, file: Option<&str>, set: &[&str]| ModelSource {
            model: model.into(),
            model_file: file.map(PathBuf::from),
            set: set.iter().map(|s| s.to_string()).collect(),
            v_var: None,
        };
        let folder = |m: ModelSource| default_folder(&m).unwrap();
        assert_eq!(folder(source("hh", None, &[])), PathBuf::from("reports/hh"));
        assert_eq!(
            folder(source("hh", None, &["g_na=100", "g_k=30,g_l=0.3"])),
            PathBuf::from("reports/hh+g_na=100+g_k=30+g_l=0.3")
        );
        assert_eq!(
            folder(source("hh", Some("models/ml.ode"), &["i / 2=1e-3", ""])),
            PathBuf::from("reports/ml+i___2=1e-3")
        );
        let many: Vec<String> = (0..40).map(|k| format!("g_{k}=1")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let err = default_folder(&source("hh", None, &many)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("--set: the overrides are too long"),
            "{err}"
        );
    }
}
