//! `excitable models`: what models exist and what their parameters mean.

use anyhow::Result;
use clap::Args;
use excitable::model::{BUILTIN, Model, Quantity};
use excitable::spec::ModelSource;
use std::fmt::Write;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Show only this built-in model.
    #[arg(long)]
    pub model: Option<String>,
    /// Show a model file.
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<std::path::PathBuf>,
}

pub fn run(a: ModelsArgs) -> Result<()> {
    let models: Vec<Model> = match (&a.model, &a.model_file) {
        (_, Some(_)) | (Some(_), _) => {
            let m = ModelSource {
                model: a.model.clone().unwrap_or_default(),
                model_file: a.model_file.clone(),
                ..ModelSource::default()
            };
            vec![m.load()?]
        }
        _ => BUILTIN
            .iter()
            .map(|(n, _)| Model::builtin(n))
            .collect::<Result<_, _>>()?,
    };
    let mut text = String::new();
    for m in &models {
        let desc = m.description();
        let _ = writeln!(text, "{} — {}", m.name(), desc);
        let _ = writeln!(text, "  variables: {}", m.var_names().join(", "));
        let _ = writeln!(
            text,
            "  default spike threshold: {}",
            Quantity(m.threshold_mv(), m.units().voltage)
        );
        let _ = writeln!(
            text,
            "  {:<8} {:>10}  {:<10} {:<22} description",
            "param", "default", "unit", "allowed"
        );
        for p in m.params().iter() {
            let _ = writeln!(
                text,
                "  {:<8} {:>10}  {:<10} {:<22} {}",
                p.name,
                p.value,
                p.unit,
                p.range_text(),
                p.description
            );
        }
        text.push('\n');
    }
    super::print(&text)
}
