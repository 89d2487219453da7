//! `excitable models`: what models exist and what their parameters mean.

use super::common::ModelArgs;
use anyhow::Result;
use clap::Args;
use excitable::model::{BUILTIN, Model};

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
            let m = ModelArgs {
                model: a.model.clone().unwrap_or_default(),
                model_file: a.model_file.clone(),
                set: vec![],
                v_var: None,
            };
            vec![m.load()?]
        }
        _ => BUILTIN
            .iter()
            .map(|(n, _)| Model::builtin(n))
            .collect::<Result<_, _>>()?,
    };
    for m in &models {
        let desc = match m {
            Model::Conductance(c) => c.description.clone(),
            Model::Lif(_) => BUILTIN[3].1.to_string(),
            Model::Ode(o) => {
                let mut d = "an XPPAUT .ode model (simulation: rk4, dopri5, euler)".to_string();
                if let Some(k) = o.current_param() {
                    d += &format!("; stimuli add to parameter {}", o.params.param(k).name);
                }
                for n in &o.notes {
                    d += &format!("; {n}");
                }
                d
            }
        };
        println!("{} — {}", m.name(), desc);
        println!("  variables: {}", m.var_names().join(", "));
        println!("  default spike threshold: {} mV", m.threshold_mv());
        println!(
            "  {:<8} {:>10}  {:<10} {:<22} description",
            "param", "default", "unit", "allowed"
        );
        for p in m.params().iter() {
            println!(
                "  {:<8} {:>10}  {:<10} {:<22} {}",
                p.name,
                p.value,
                p.unit,
                p.range_text(),
                p.description
            );
        }
        println!();
    }
    Ok(())
}
