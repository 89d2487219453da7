//! A model written as a TOML file behaves exactly like the built-in it copies.

use excitable::model::Model;
use excitable::simulate::{self, Method, Record, Settings, Tolerances};
use excitable::stimulus::Stimulus;
use std::path::Path;

#[test]
fn hh_as_a_model_file_gives_the_built_in_trace_bit_for_bit() {
    let file = Model::from_file(Path::new("studies/models/hh.toml")).unwrap();
    let builtin = Model::builtin("hh").unwrap();
    let stim = Stimulus::parse("step:5:50:10+sine:2:40").unwrap();
    for method in [
        Method::ExpEuler,
        Method::Rk4,
        Method::Dopri5(Tolerances::default()),
    ] {
        let s = Settings {
            t_max: 100.0,
            dt: 0.01,
            method,
            record: Record::Full,
            threshold_mv: 0.0,
        };
        let a = simulate::run(&file, &stim, &file.resting_state().unwrap(), &s).unwrap();
        let b = simulate::run(&builtin, &stim, &builtin.resting_state().unwrap(), &s).unwrap();
        assert_eq!(a.trace.vars, b.trace.vars, "{method}");
        assert_eq!(a.spikes_ms, b.spikes_ms, "{method}");
        assert!(a.spikes_ms.len() >= 3, "{method}: {:?}", a.spikes_ms);
    }
}

#[test]
fn model_file_parameters_are_overridable_by_name() {
    let mut m = Model::from_file(Path::new("studies/models/hh.toml")).unwrap();
    m.set("g_l", 0.03).unwrap();
    assert_eq!(m.params().get("g_l"), Some(0.03));
    assert!(
        m.set("g_q", 1.0)
            .unwrap_err()
            .to_string()
            .contains("unknown parameter 'g_q'")
    );
}
