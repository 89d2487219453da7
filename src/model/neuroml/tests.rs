use super::*;
use crate::model::builtin;

fn hh_example() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/neuroml/NML2_SingleCompHHCell.nml"
    ))
    .unwrap()
}

#[test]
fn the_hh_example_cell_reads_as_hh() {
    let m = parse(&hh_example(), "NML2_SingleCompHHCell.nml", None).unwrap();
    let hh = builtin::hh();
    // The same gates and currents; the leak reversal differs (-54.3 in the file, -54.387
    // in the built-in).
    assert_eq!(m.var_names(), hh.var_names());
    let names: Vec<_> = m.currents.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["l", "na", "k"]);
    let p = m.params.values();
    let get = |n: &str| p[m.params.index(n).unwrap()];
    assert_eq!(get("g_l"), 0.3);
    assert_eq!(get("g_na"), 120.0);
    assert_eq!(get("g_k"), 36.0);
    assert_eq!(get("e_l"), -54.3);
    assert_eq!(get("c_m"), 1.0);
    assert_eq!(m.threshold_mv, -20.0);
    assert!(
        m.description.contains("1 segment (area 1000"),
        "{}",
        m.description
    );
    assert!(m.description.contains("pulseGen1"), "{}", m.description);
    // Every gate equals the built-in's exactly (the same forms and constants).
    for (a, b) in m.gates.iter().zip(&hh.gates) {
        assert_eq!(a.kinetics, b.kinetics, "{}", a.name);
    }
}

const CELL: &str = r#"<neuroml xmlns="http://www.neuroml.org/schema/neuroml2" id="t">
  <ionChannelHH id="kc" conductance="10pS" species="k">
    <gateHHtauInf id="n" instances="2">
      <q10Settings type="q10ExpTemp" q10Factor="3" experimentalTemp="16.3 degC"/>
      <timeCourse type="fixedTimeCourse" tau="0.004s"/>
      <steadyState type="HHSigmoidVariable" rate="1" midpoint="-0.04V" scale="5mV"/>
    </gateHHtauInf>
  </ionChannelHH>
  <ionChannelPassive id="pas" conductance="10pS"/>
  <cell id="c1">
    <morphology id="m"><segment id="0"><proximal x="0" y="0" z="0" diameter="10"/><distal x="10" y="0" z="0" diameter="10"/></segment></morphology>
    <biophysicalProperties id="b">
      <membraneProperties>
        <channelDensity id="kd" ionChannel="kc" condDensity="0.02 S_per_cm2" erev="-90mV" ion="k"/>
        <channelDensity id="lk" ionChannel="pas" condDensity="1 S_per_m2" erev="-70mV" ion="non_specific"/>
        <specificCapacitance value="0.01 F_per_m2"/>
      </membraneProperties>
    </biophysicalProperties>
  </cell>
  <network id="net" type="networkWithTemperature" temperature="26.3degC">
    <population id="p" component="c1" size="1"/>
  </network>
</neuroml>"#;

#[test]
fn tau_inf_gates_q10_and_units_convert() {
    let m = parse(CELL, "t.nml", None).unwrap();
    let p = m.params.values();
    assert_eq!(p[m.params.index("g_k").unwrap()], 20.0);
    assert_eq!(p[m.params.index("g_l").unwrap()], 0.1);
    assert_eq!(p[m.params.index("c_m").unwrap()], 1.0);
    // q10 = 3^((26.3 - 16.3)/10) = 3 divides tau = 4 ms.
    let (inf, tau) = m.gates[0].inf_tau(-40.0_f64);
    assert!((inf - 0.5).abs() < 1e-15);
    assert!((tau - 4.0 / 3.0).abs() < 1e-15);
    assert!(m.description.contains("26.3 degC"), "{}", m.description);
    // The user's temperature wins: 36.3 degC gives q10 = 9.
    let m = parse(CELL, "t.nml", Some(36.3)).unwrap();
    assert!((m.gates[0].inf_tau(-40.0_f64).1 - 4.0 / 9.0).abs() < 1e-15);
    // Area of a 10 um x 10 um cylinder: pi d L.
    assert!(
        m.description
            .contains(&fmt(std::f64::consts::PI * 100.0).to_string())
    );
}

/// One line naming the element and its line.
fn refusal(text: &str) -> String {
    parse(text, "t.nml", None).unwrap_err().to_string()
}

#[test]
fn bad_files_name_the_element_and_line() {
    let e = refusal("<neuroml><cell id='a'></neuroml>");
    assert!(e.contains("not well-formed") && e.contains("1:"), "{e}");
    let e = refusal(&CELL.replace("0.02 S_per_cm2", "0.02 mS_per_m2"));
    assert!(
        e.contains("line 14") && e.contains("channelDensity") && e.contains("mS_per_m2"),
        "{e}"
    );
    let e = refusal(&CELL.replace("HHSigmoidVariable", "MySigmoid"));
    assert!(
        e.contains("line 6") && e.contains("steadyState") && e.contains("MySigmoid"),
        "{e}"
    );
    let e = refusal(&CELL.replace("ionChannel=\"pas\"", "ionChannel=\"nope\""));
    assert!(e.contains("line 15") && e.contains("nope"), "{e}");
    let e = refusal(&CELL.replace(
        "</neuroml>",
        "<expTwoSynapse id='s' gbase='1nS' erev='0mV' tauRise='1ms' tauDecay='2ms'/></neuroml>",
    ));
    assert!(e.contains("expTwoSynapse"), "{e}");
    let e = refusal(&CELL.replace("gateHHtauInf", "gateKS"));
    assert!(e.contains("gateKS") && e.contains("kinetic"), "{e}");
    let e = refusal(&CELL.replace("<population", "<projection id='x'/><population"));
    assert!(e.contains("projection") && e.contains("line 21"), "{e}");
    let e = refusal(&CELL.replace(
        " type=\"networkWithTemperature\" temperature=\"26.3degC\"",
        "",
    ));
    assert!(
        e.contains("q10Settings") && e.contains("temperature"),
        "{e}"
    );
    let e = refusal(&CELL.replace(
        "<cell id=\"c1\">",
        "<izhikevich2007Cell id='iz'/><cell id=\"c1\">",
    ));
    assert!(
        e.contains("izhikevich2007Cell") && e.contains("line 10"),
        "{e}"
    );
    let e = refusal(&CELL.replace("instances=\"2\"", "instances=\"1.5\""));
    assert!(e.contains("instances"), "{e}");
    // A misspelt or misplaced element inside a gate or the cell's properties is refused, not
    // skipped (a dropped q10 would change every rate).
    let e = refusal(&CELL.replace("<q10Settings", "<q10Setting"));
    assert!(
        e.contains("line 4:") && e.contains("<q10Setting>") && e.contains("gateHHtauInf"),
        "{e}"
    );
    let e = refusal(&CELL.replace(
        "<timeCourse",
        "<forwardRate type='HHExpRate' rate='1per_ms' midpoint='0mV' scale='10mV'/><timeCourse",
    ));
    assert!(
        e.contains("<forwardRate>") && e.contains("timeCourse, steadyState"),
        "{e}"
    );
    let e = refusal(&CELL.replace(
        "</membraneProperties>",
        "</membraneProperties><intracellularProperties><fooBar/></intracellularProperties>",
    ));
    assert!(
        e.contains("<fooBar>") && e.contains("species, resistivity"),
        "{e}"
    );
    let e = refusal(&CELL.replace(
        "</membraneProperties>",
        "</membraneProperties><extracellularProperties><species id='k' ion='k' concentrationModel='x' initialConcentration='5mM' initialExtConcentration='5mM'/></extracellularProperties>",
    ));
    assert!(
        e.contains("<species") && e.contains("initialExtConcentration") && e.contains("line 17"),
        "{e}"
    );
    // Empty, as some exporters write it, it is read as saying nothing.
    parse(
        &CELL.replace(
            "</membraneProperties>",
            "</membraneProperties><extracellularProperties/>",
        ),
        "t.nml",
        None,
    )
    .unwrap();
    // A LEMS file is read for its NeuroML2 elements: an empty one has no cell.
    let e = refusal("<Lems/>");
    assert!(e.contains("no <cell>"), "{e}");
    let e = refusal("<html/>");
    assert!(
        e.contains("line 1") && e.contains("not a NeuroML2 document"),
        "{e}"
    );
}

/// A Nernst species whose concentrationModel is defined nowhere is read as fixed
/// concentrations, and the model's description says so.
#[test]
fn a_nernst_species_without_its_concentration_model_is_held_and_said() {
    let text = CELL
        .replace(
            "<channelDensity id=\"kd\" ionChannel=\"kc\" condDensity=\"0.02 S_per_cm2\" erev=\"-90mV\" ion=\"k\"/>",
            "<channelDensityNernst id=\"kd\" ionChannel=\"kc\" condDensity=\"0.02 S_per_cm2\" ion=\"k\"/>",
        )
        .replace(
            "</membraneProperties>",
            "</membraneProperties><intracellularProperties><species id='k' ion='k' concentrationModel='kPool' initialConcentration='140mM' initialExtConcentration='5mM'/></intracellularProperties>",
        );
    let m = parse(&text, "t.nml", None).unwrap();
    let e_k = m.params.values()[m.params.index("e_k").unwrap()];
    // RT/F ln(5/140) at 26.3 degC, CODATA constants.
    let expected = 1e3 * 8.314_462_618 * (26.3 + 273.15) / 96_485.332_12 * (5.0f64 / 140.0).ln();
    assert!((e_k - expected).abs() < 1e-9, "{e_k} against {expected}");
    assert!(
        m.description.contains("'kPool' is defined nowhere")
            && m.description.contains("[k] is held at its initial values"),
        "{}",
        m.description
    );
}

#[test]
fn differing_segments_are_refused() {
    let two = CELL.replace(
        "</segment></morphology>",
        "</segment><segment id=\"1\"><parent segment=\"0\"/><distal x=\"20\" y=\"0\" z=\"0\" diameter=\"2\"/></segment>\
         <segmentGroup id=\"soma\"><member segment=\"0\"/></segmentGroup><segmentGroup id=\"both\"><include segmentGroup=\"soma\"/><member segment=\"1\"/></segmentGroup></morphology>",
    );
    let m = parse(&two, "t.nml", None).unwrap();
    assert!(
        m.description
            .contains("2 segments taken as one isopotential"),
        "{}",
        m.description
    );
    let e = refusal(&two.replace("ion=\"k\"", "ion=\"k\" segmentGroup=\"soma\""));
    assert!(e.contains("multi-compartment"), "{e}");
    parse(
        &two.replace("ion=\"k\"", "ion=\"k\" segmentGroup=\"both\""),
        "t.nml",
        None,
    )
    .unwrap();
}

#[test]
fn snake_names() {
    assert_eq!(snake("naChans"), "na_chans");
    assert_eq!(snake("Kdr-1"), "kdr_1");
    assert_eq!(snake("HCN"), "hcn");
    assert_eq!(snake("1x"), "x_1x");
}

/// The `CELL` above with the K channel's steady state written as a LEMS ComponentType
/// (`ct` is the ComponentType's text, used as `<steadyState type="mySig" …/>`).
fn with_custom_inf(ct: &str, attrs: &str) -> String {
    CELL.replace(
        r#"<steadyState type="HHSigmoidVariable" rate="1" midpoint="-0.04V" scale="5mV"/>"#,
        &format!(r#"<steadyState type="mySig" {attrs}/>"#),
    )
    .replace("<cell id=\"c1\">", &format!("{ct}\n  <cell id=\"c1\">"))
}

const SIG: &str = r#"<ComponentType name="mySig" extends="baseVoltageDepVariable">
    <Constant name="MV" dimension="voltage" value="1mV"/>
    <Parameter name="half" dimension="voltage"/>
    <Requirement name="v" dimension="voltage"/>
    <Dynamics>
      <DerivedVariable name="V" dimension="none" value="v / MV"/>
      <ConditionalDerivedVariable name="x" exposure="x" dimension="none">
        <Case condition="V .gt. 1000" value="1"/>
        <Case value="1 / (1 + exp(-(V - half / MV) / 5))"/>
      </ConditionalDerivedVariable>
    </Dynamics>
  </ComponentType>"#;

/// A ComponentType steady state compiles through the `.ode` engine to the same right-hand
/// side as the standard form it spells out (1e-12 relative at 200 states).
#[test]
fn a_component_type_rate_compiles_to_the_standard_forms_field() {
    let custom = parse_model(&with_custom_inf(SIG, r#"half="-40mV""#), "c.nml", None).unwrap();
    let Model::Ode(o) = &custom else {
        panic!("{custom:?}")
    };
    assert_eq!(*o.units, crate::model::Units::NEURON);
    assert!(o.notes[0].contains("LEMS ComponentType"), "{}", o.notes[0]);
    let std = parse(CELL, "t.nml", None).unwrap();
    assert_eq!(custom.var_names(), std.var_names());
    let (pc, ps) = (custom.params().values(), std.params.values());
    let mut s: u64 = 7;
    for _ in 0..200 {
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let y = vec![-100.0 + 150.0 * next(), next()];
        let i = 10.0 * next();
        let (mut a, mut b) = (vec![0.0; 2], vec![0.0; 2]);
        let mut pc = pc.clone();
        pc[0] = i;
        o.rhs(&pc, 0.0, &y, &mut a);
        std.rhs(&ps, &y, i, &mut b);
        for k in 0..2 {
            assert!(
                (a[k] - b[k]).abs() <= 1e-12 * (1.0 + b[k].abs()),
                "{y:?}: {a:?} vs {b:?}"
            );
        }
    }
    // It starts at the file's V with the gate at its steady state there.
    let y0 = custom.initial_state(&Default::default()).unwrap();
    assert_eq!(y0[0], -65.0);
    assert!((y0[1] - 1.0 / (1.0 + (-(-65.0f64 + 40.0) / 5.0).exp())).abs() < 1e-14);
}

/// What a ComponentType may not hold is refused by element and line.
#[test]
fn component_types_beyond_expressions_are_refused_by_element_and_line() {
    let bad = |ct: &str, attrs: &str| -> String {
        parse_model(&with_custom_inf(ct, attrs), "c.nml", None)
            .unwrap_err()
            .to_string()
    };
    let ok = r#"half="-40mV""#;
    // A concentration-dependent rate (it needs a pool).
    let e = bad(
        &SIG.replace("baseVoltageDepVariable", "baseVoltageConcDepVariable"),
        ok,
    );
    assert!(
        e.contains("line 10") && e.contains("<ComponentType>") && e.contains("pool"),
        "{e}"
    );
    let e = bad(
        &SIG.replace(
            r#"<Requirement name="v""#,
            r#"<Requirement name="caConc" dimension="concentration"/><Requirement name="v""#,
        ),
        ok,
    );
    assert!(e.contains("<Requirement>") && e.contains("pool"), "{e}");
    // State in a rate.
    let e = bad(
        &SIG.replace(
            "<Dynamics>",
            r#"<Dynamics><StateVariable name="s" dimension="none"/>"#,
        ),
        ok,
    );
    assert!(
        e.contains("<StateVariable>") && e.contains("line 14"),
        "{e}"
    );
    // Functions and names outside the engine's.
    let e = bad(&SIG.replace("exp(", "random("), ok);
    assert!(
        e.contains("line 18") && e.contains("<Case>") && e.contains("random"),
        "{e}"
    );
    let e = bad(&SIG.replace("half / MV", "halfway / MV"), ok);
    assert!(e.contains("'halfway'"), "{e}");
    let e = bad(&SIG.replace("(V - half", "(V - - * half"), ok);
    assert!(e.contains("line 18") && e.contains("expression"), "{e}");
    // A parameter the using element does not give, in a unit the schema does not allow.
    let e = bad(SIG, "");
    assert!(
        e.contains("line 6") && e.contains("<steadyState>") && e.contains("half"),
        "{e}"
    );
    let e = bad(SIG, r#"half="-40kV""#);
    assert!(e.contains("line 6") && e.contains("kV"), "{e}");
    // No exposure of the steady state.
    let e = bad(
        &SIG.replace(r#"exposure="x""#, r#"exposure="y""#)
            .replace(r#"name="x""#, r#"name="y""#),
        ok,
    );
    assert!(e.contains("<Dynamics>") && e.contains("'x'"), "{e}");
    // A gate whose type is a ComponentType.
    let e = parse_model(
        &CELL
            .replace(
                r#"<gateHHtauInf id="n" instances="2">"#,
                r#"<gateHHtauInf id="n" instances="2" type="myGate">"#,
            )
            .replace(
                "<cell id=\"c1\">",
                "<ComponentType name=\"myGate\" extends=\"gateHHtauInf\"/>\n  <cell id=\"c1\">",
            ),
        "c.nml",
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("line 10")
            && e.contains("myGate")
            && e.contains("gateHHrates")
            && e.contains("used at c.nml line 3"),
        "{e}"
    );
}

/// A network of more than one cell, a non-constant input, differing segments and kinetic
/// schemes are refused by name and line (the unit tests above hold the file-level ones).
#[test]
fn networks_inputs_and_kinetic_schemes_are_refused() {
    let e = refusal(&CELL.replace(r#"size="1""#, r#"size="10""#));
    assert!(e.contains("line 21") && e.contains("population"), "{e}");
    let e = refusal(&CELL.replace(
        "</neuroml>",
        "<sineGenerator id='s' delay='0ms' phase='0' duration='1s' amplitude='1nA' period='10ms'/></neuroml>",
    ));
    assert!(e.contains("sineGenerator"), "{e}");
    let e = refusal(&CELL.replace(
        "<ionChannelPassive id=\"pas\" conductance=\"10pS\"/>",
        "<ionChannelKS id=\"ks\" conductance=\"10pS\"/><ionChannelPassive id=\"pas\" conductance=\"10pS\"/>",
    ));
    assert!(e.contains("ionChannelKS") && e.contains("line 9"), "{e}");
}
