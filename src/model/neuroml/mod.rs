//! NeuroML2 single-compartment cells read into a [`ConductanceModel`] (and written back by
//! [`crate::model::export`]).
//!
//! What is read (docs/model-files.md has the full list and the reasons for what is not):
//! * one `<cell>` whose segments are taken as one isopotential compartment (the summary says
//!   how many and their area); every `channelDensity` / `specificCapacitance` must then apply
//!   to all of them;
//! * `channelDensity`, `channelDensityVShift` and `channelDensityNernst` (a constant
//!   concentration only) of
//!   `ionChannel`, `ionChannelHH` and `ionChannelPassive`, with the gates `gateHHrates`,
//!   `gateHHtauInf`, `gateHHratesInf`, `gateHHratesTau`, `gateHHratesTauInf`,
//!   `gateHHInstantaneous` (a current factor), the rate forms `HHExpRate`, `HHSigmoidRate`,
//!   `HHExpLinearRate` (and the `…Variable` steady states, `fixedTimeCourse`), `q10Settings`
//!   (`q10Fixed`, `q10ExpTemp` at the temperature of the file's network or `--set
//!   temperature=…`) and `q10ConductanceScaling`;
//! * `<include href>` files, relative to the including file; a `<Lems>` file's NeuroML2
//!   elements (its core-type `Include`s and `Target` skipped, its `Simulation` not run);
//! * rates, steady states and time courses written as LEMS `ComponentType`s
//!   (`DerivedVariable`, `ConditionalDerivedVariable`): compiled through the `.ode` reader's
//!   expression engine (`lems.rs`), and the cell is then an `.ode`-engine model with the
//!   toolkit's units (`general.rs`) rather than a conductance model.
//!
//! The NeuroML rate forms are the toolkit's ([`RateFn`]) exactly: `HHExpRate` is
//! `Exp { a: rate, v0: midpoint, k: scale }`, `HHSigmoidRate` is `Sigmoid`, `HHExpLinearRate`
//! is `Linoid`. A gate's q10 factor multiplies its rates (divides its time constant), so the
//! loaded model's `phi` is 1. Units are converted by [`units`].
//!
//! Anything else is refused with one line naming the file, the line and the element:
//! networks of more than one cell, synapses, inputs other than a current, kinetic schemes,
//! concentration pools (and rates that read a concentration), multi-compartment cells whose
//! segments differ, gates typed as ComponentTypes, ComponentTypes beyond expressions, and an
//! element a gate or the cell's properties would not read (`At::only`).

mod general;
mod lems;
pub mod units;

use super::Model;
use super::conductance::{ConductanceModel, Current, Gate, Kinetics};
use super::params::{Param, ParamSet};
use super::rates::RateFn;
use crate::error::ModelError;
use general::{CurrentParts, K, R};
use lems::Role;
use roxmltree::{Document, Node};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use units::{Dimension, convert};

/// How deep `<include>`s may nest.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// How many files one cell may read (itself and its includes).
pub const MAX_FILES: usize = 256;

/// Gas constant (J/(mol K)) and Faraday's constant (C/mol) for Nernst potentials (CODATA 2018).
const R_GAS: f64 = 8.314_462_618;
const FARADAY: f64 = 96_485.332_12;

/// Load the cell of a NeuroML2 file and its includes as a conductance model; a cell whose
/// rates are LEMS ComponentTypes (which [`load_model`] compiles) is refused here.
pub fn load(path: &Path, temperature: Option<f64>) -> Result<ConductanceModel, ModelError> {
    conductance(load_model(path, temperature)?, path.display().to_string())
}

/// Read the cell of one NeuroML2 text with no includes (`label` names it in errors) as a
/// conductance model; see [`load`].
pub fn parse(
    text: &str,
    label: &str,
    temperature: Option<f64>,
) -> Result<ConductanceModel, ModelError> {
    conductance(parse_model(text, label, temperature)?, label.into())
}

/// The conductance model, or why a compiled cell is not one.
fn conductance(m: Model, path: String) -> Result<ConductanceModel, ModelError> {
    match m {
        Model::Conductance(c) => Ok(c),
        _ => Err(ModelError::File {
            path,
            reason: "its rates are LEMS ComponentTypes, compiled as expressions: it loads as a general model (Model::from_file), not a conductance model".into(),
        }),
    }
}

/// Load the cell of a NeuroML2 (or LEMS) file and its includes; `temperature` (degC)
/// overrides the file's network temperature for `q10ExpTemp` settings and Nernst
/// potentials. A cell of standard forms is a [`ConductanceModel`]; one with LEMS
/// ComponentType rates is compiled through the `.ode` engine into an
/// [`crate::model::ode::OdeModel`] with the toolkit's units.
pub fn load_model(path: &Path, temperature: Option<f64>) -> Result<Model, ModelError> {
    let mut files = Vec::new();
    collect(path, 0, &mut files, None)?;
    let docs = files
        .iter()
        .map(|(p, text)| {
            Document::parse(text).map_err(|e| ModelError::File {
                path: p.display().to_string(),
                reason: format!("not well-formed XML: {e}"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = path
        .file_name()
        .map_or("cell.nml".into(), |s| s.to_string_lossy().into_owned());
    let srcs: Vec<Src> = files
        .iter()
        .zip(&docs)
        .map(|((p, _), d)| Src {
            path: p.display().to_string(),
            doc: d,
        })
        .collect();
    Reader::new(&srcs, temperature)?.cell(&name)
}

/// Read the cell of one NeuroML2 (or LEMS) text with no includes (`label` names it in
/// errors); see [`load_model`].
pub fn parse_model(text: &str, label: &str, temperature: Option<f64>) -> Result<Model, ModelError> {
    let doc = Document::parse(text).map_err(|e| ModelError::File {
        path: label.into(),
        reason: format!("not well-formed XML: {e}"),
    })?;
    let srcs = [Src {
        path: label.into(),
        doc: &doc,
    }];
    if let Some(inc) = elements(doc.root_element())
        .find(|n| n.tag_name().name() == "include" || lems_include(*n).is_some())
    {
        return Err(srcs[0].err(
            inc,
            "includes need a file on disk: load the file by its path",
        ));
    }
    Reader::new(&srcs, temperature)?.cell(label)
}

/// Read `path` and (recursively) the files it includes, each once.
fn collect(
    path: &Path,
    depth: usize,
    files: &mut Vec<(PathBuf, String)>,
    from: Option<(&str, usize)>,
) -> Result<(), ModelError> {
    let canon = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if files
        .iter()
        .any(|(p, _)| p.canonicalize().ok().as_ref() == Some(&canon))
    {
        return Ok(());
    }
    let text =
        crate::input::read_text(path, crate::input::MAX_MODEL_BYTES).map_err(
            |reason| match from {
                Some((file, line)) => ModelError::File {
                    path: file.into(),
                    reason: format!(
                        "line {line}: <include href=\"{}\">: {reason}",
                        path.display()
                    ),
                },
                None => ModelError::File {
                    path: path.display().to_string(),
                    reason,
                },
            },
        )?;
    if files.len() >= MAX_FILES {
        return Err(ModelError::File {
            path: path.display().to_string(),
            reason: format!("more than {MAX_FILES} files included"),
        });
    }
    let label = path.display().to_string();
    let doc = Document::parse(&text).map_err(|e| ModelError::File {
        path: label.clone(),
        reason: format!("not well-formed XML: {e}"),
    })?;
    let mut includes = Vec::new();
    for inc in elements(doc.root_element())
        .filter(|n| n.tag_name().name() == "include" || lems_include(*n).is_some())
    {
        let line = doc.text_pos_at(inc.range().start).row as usize;
        let href = inc
            .attribute("href")
            .or_else(|| inc.attribute("file"))
            .ok_or_else(|| ModelError::File {
                path: label.clone(),
                reason: format!("line {line}: <include>: no href"),
            })?;
        if depth + 1 > MAX_INCLUDE_DEPTH {
            return Err(ModelError::File {
                path: label.clone(),
                reason: format!(
                    "line {line}: <include>: includes nest deeper than {MAX_INCLUDE_DEPTH}"
                ),
            });
        }
        let target = path.parent().unwrap_or(Path::new(".")).join(href);
        includes.push((target, line));
    }
    drop(doc);
    files.push((path.to_path_buf(), text));
    for (target, line) in includes {
        collect(&target, depth + 1, files, Some((&label, line)))?;
    }
    Ok(())
}

/// The NeuroML2 core ComponentType files a LEMS file includes: their types are the ones
/// this reader knows by name, so the include is not followed.
const CORE_TYPES: [&str; 10] = [
    "Cells.xml",
    "Channels.xml",
    "Networks.xml",
    "Simulation.xml",
    "Synapses.xml",
    "Inputs.xml",
    "PyNN.xml",
    "NeuroMLCoreDimensions.xml",
    "NeuroMLCoreCompTypes.xml",
    "Physiology.xml",
];

/// The file a LEMS `<Include file="…">` names, unless it is a core type file.
fn lems_include<'a>(n: Node<'a, '_>) -> Option<&'a str> {
    if n.tag_name().name() != "Include" {
        return None;
    }
    let f = n.attribute("file")?;
    let base = f.rsplit(['/', '\\']).next().unwrap_or(f);
    (!CORE_TYPES.contains(&base)).then_some(f)
}

/// The element children of `n`.
fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

/// One parsed file.
struct Src<'a, 'i> {
    path: String,
    doc: &'a Document<'i>,
}

impl Src<'_, '_> {
    /// An error at element `n`: `FILE: line L: <tag id="…">: reason`.
    fn err(&self, n: Node, reason: impl std::fmt::Display) -> ModelError {
        let line = self.doc.text_pos_at(n.range().start).row;
        let id = n
            .attribute("id")
            .map_or(String::new(), |id| format!(" id=\"{id}\""));
        ModelError::File {
            path: self.path.clone(),
            reason: format!("line {line}: <{}{id}>: {reason}", n.tag_name().name()),
        }
    }
}

/// An element and the file it is in.
#[derive(Clone, Copy)]
struct At<'s, 'a, 'i> {
    src: &'s Src<'a, 'i>,
    node: Node<'a, 'i>,
}

impl<'s, 'a, 'i> At<'s, 'a, 'i> {
    fn err(&self, reason: impl std::fmt::Display) -> ModelError {
        self.src.err(self.node, reason)
    }
    fn tag(&self) -> &'a str {
        self.node.tag_name().name()
    }
    fn attr(&self, name: &str) -> Option<&'a str> {
        self.node.attribute(name)
    }
    fn need(&self, name: &str) -> Result<&'a str, ModelError> {
        self.attr(name)
            .ok_or_else(|| self.err(format!("attribute '{name}' is missing")))
    }
    /// Attribute `name` converted from dimension `dim`.
    fn quantity(&self, name: &str, dim: Dimension) -> Result<f64, ModelError> {
        convert(self.need(name)?, dim).map_err(|e| self.err(format!("{name}: {e}")))
    }
    fn children(&self) -> impl Iterator<Item = At<'s, 'a, 'i>> + use<'s, 'a, 'i> {
        let src = self.src;
        elements(self.node).map(move |node| At { src, node })
    }
    fn child(&self, tag: &str) -> Option<At<'s, 'a, 'i>> {
        self.children().find(|c| c.tag() == tag)
    }
    fn need_child(&self, tag: &str) -> Result<At<'s, 'a, 'i>, ModelError> {
        self.child(tag)
            .ok_or_else(|| self.err(format!("element <{tag}> is missing")))
    }
    /// Refuses a child element other than those in `read` (and [`IGNORED`]): a misspelt or
    /// misplaced element (`<q10Setting>`) would otherwise change the model without a word.
    fn only(&self, read: &[&str]) -> Result<(), ModelError> {
        match self
            .children()
            .find(|c| !IGNORED.contains(&c.tag()) && !read.contains(&c.tag()))
        {
            Some(c) => Err(c.err(format!(
                "not read inside <{}> (it may hold: {})",
                self.tag(),
                read.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// The child elements a Hodgkin-Huxley gate of type `kind` is read from.
fn gate_children(kind: &str) -> &'static [&'static str] {
    match kind {
        "gateHHrates" => &["forwardRate", "reverseRate", "q10Settings"],
        "gateHHtauInf" => &["timeCourse", "steadyState", "q10Settings"],
        "gateHHratesInf" => &["forwardRate", "reverseRate", "steadyState", "q10Settings"],
        "gateHHratesTau" => &["forwardRate", "reverseRate", "timeCourse", "q10Settings"],
        "gateHHInstantaneous" => &["steadyState"],
        _ => &[
            "forwardRate",
            "reverseRate",
            "timeCourse",
            "steadyState",
            "q10Settings",
        ],
    }
}

/// Elements that say something about the model but are not part of it.
const IGNORED: [&str; 3] = ["notes", "annotation", "property"];

/// Top-level elements that are stimuli: stated and not used (the command sets the current).
const INPUTS: [&str; 2] = ["pulseGenerator", "pulseGeneratorDL"];

/// The cell types that are not conductance-based cells.
const OTHER_CELLS: [&str; 12] = [
    "iafCell",
    "iafRefCell",
    "iafTauCell",
    "iafTauRefCell",
    "izhikevichCell",
    "izhikevich2007Cell",
    "adExIaFCell",
    "fitzHughNagumoCell",
    "fitzHughNagumo1969Cell",
    "pinskyRinzelCA3Cell",
    "hindmarshRose1984Cell",
    "cell2CaPools",
];

/// Everything the files declare at top level, by id.
struct Reader<'s, 'a, 'i> {
    channels: BTreeMap<&'a str, At<'s, 'a, 'i>>,
    cells: Vec<At<'s, 'a, 'i>>,
    by_id: BTreeMap<&'a str, At<'s, 'a, 'i>>,
    component_types: BTreeMap<&'a str, At<'s, 'a, 'i>>,
    networks: Vec<At<'s, 'a, 'i>>,
    inputs: Vec<&'a str>,
    temperature: Option<(f64, String)>,
    /// Fixed quantities compiled from ComponentTypes (name, `.ode` expression).
    fixed: RefCell<Vec<(String, String)>>,
    /// Names the compiled quantities use (lower-case).
    taken: RefCell<BTreeSet<String>>,
    /// LEMS elements that run a simulation, stated and not used.
    simulations: Vec<&'a str>,
}

impl<'s, 'a, 'i> Reader<'s, 'a, 'i> {
    fn new(srcs: &'s [Src<'a, 'i>], temperature: Option<f64>) -> Result<Self, ModelError> {
        let mut r = Reader {
            channels: BTreeMap::new(),
            cells: Vec::new(),
            by_id: BTreeMap::new(),
            component_types: BTreeMap::new(),
            networks: Vec::new(),
            inputs: Vec::new(),
            temperature: temperature.map(|t| (t, "set by the user".to_string())),
            fixed: RefCell::new(Vec::new()),
            taken: RefCell::new(BTreeSet::new()),
            simulations: Vec::new(),
        };
        for src in srcs {
            let root = At {
                src,
                node: src.doc.root_element(),
            };
            let lems_root = root.tag() == "Lems";
            if root.tag() != "neuroml" && !lems_root {
                return Err(root.err(
                    "not a NeuroML2 document (the root element must be <neuroml>, or <Lems> holding NeuroML2 elements)",
                ));
            }
            for c in root.children() {
                let tag = c.tag();
                if let Some(id) = c.attr("id")
                    && r.by_id.insert(id, c).is_some()
                {
                    return Err(c.err(format!("a second element with id '{id}'")));
                }
                match tag {
                    t if IGNORED.contains(&t) || t == "include" => {}
                    // A LEMS file's own elements: what to run and the core types.
                    "Target" | "Include" | "Dimension" | "Unit" if lems_root => {}
                    "Simulation" if lems_root => r.simulations.push(c.need("id")?),
                    "ionChannel" | "ionChannelHH" | "ionChannelPassive" => {
                        r.channels.insert(c.need("id")?, c);
                    }
                    "cell" => r.cells.push(c),
                    "morphology" | "biophysicalProperties" => {}
                    "decayingPoolConcentrationModel" | "fixedFactorConcentrationModel" => {}
                    "network" => r.networks.push(c),
                    "ComponentType" => {
                        r.component_types.insert(c.need("name")?, c);
                    }
                    t if INPUTS.contains(&t) => r.inputs.push(c.need("id")?),
                    t if OTHER_CELLS.contains(&t) => {
                        return Err(c.err(
                            "not read: only conductance-based <cell>s map onto the toolkit's models (this cell type has no conductance-based form; the built-in lif is the toolkit's integrate-and-fire)",
                        ));
                    }
                    _ => {
                        return Err(c.err(
                            "not read: only single-compartment <cell>s with their ion channels (and a network of that one cell) are",
                        ));
                    }
                }
            }
        }
        Ok(r)
    }

    /// The one cell, as a conductance model.
    fn cell(mut self, file: &str) -> Result<Model, ModelError> {
        let cell = match self.cells.as_slice() {
            [c] => *c,
            [] => {
                return Err(ModelError::File {
                    path: file.into(),
                    reason: "no <cell> in the file or its includes".into(),
                });
            }
            [_, second, ..] => {
                return Err(second.err("a second <cell>: the file must hold one cell"));
            }
        };
        let cell_id = cell.need("id")?;
        self.network(cell_id)?;
        let morph = self.part(cell, "morphology")?;
        let (segments, area_um2, groups) = match morph {
            Some(m) => morphology(m)?,
            None => (Vec::new(), None, BTreeMap::new()),
        };
        let bio = self
            .part(cell, "biophysicalProperties")?
            .ok_or_else(|| cell.err("no <biophysicalProperties>: nothing to simulate"))?;
        bio.only(&[
            "membraneProperties",
            "intracellularProperties",
            "extracellularProperties",
        ])?;
        if let Some(x) = bio.child("extracellularProperties") {
            // Read nowhere: external concentrations come from each intracellular species'
            // initialExtConcentration. Empty (as some exporters write it), it says nothing.
            if let Some(c) = x.children().find(|c| !IGNORED.contains(&c.tag())) {
                return Err(c.err(
                    "not read: external concentrations come from each <species>' initialExtConcentration in intracellularProperties",
                ));
            }
        }
        let membrane = bio.need_child("membraneProperties")?;
        // A concentration that varies (a pool) is another state variable: not read.
        if let Some(ip) = bio.child("intracellularProperties") {
            ip.only(&["species", "resistivity"])?;
            for sp in ip.children().filter(|c| c.tag() == "species") {
                let model = sp.need("concentrationModel")?;
                if let Some(pool) = self.by_id.get(model) {
                    return Err(sp.err(format!(
                        "its concentration follows the pool <{} id=\"{model}\"> ({} line {}): concentration pools are not read (the cell's state would need [{}] beside V and the gates)",
                        pool.tag(),
                        pool.src.path,
                        pool.src.doc.text_pos_at(pool.node.range().start).row,
                        sp.attr("ion").unwrap_or(model)
                    )));
                }
            }
        }
        let covers_all = |at: &At<'s, 'a, 'i>,
                          group: Option<&str>,
                          segment: Option<&str>|
         -> Result<(), ModelError> {
            if segments.len() <= 1 {
                return Ok(());
            }
            let whole = match (group, segment) {
                (_, Some(_)) => false,
                (None | Some("all"), None) => true,
                (Some(g), None) => groups
                    .get(g)
                    .is_some_and(|s: &BTreeSet<String>| segments.iter().all(|x| s.contains(x))),
            };
            if whole {
                Ok(())
            } else {
                Err(at.err(format!(
                    "applies to part of a {}-segment cell: a multi-compartment cell whose segments differ is not one isopotential compartment",
                    segments.len()
                )))
            }
        };

        let mut params = vec![];
        let mut c_m = None;
        let mut threshold = 0.0;
        let mut init_v = None;
        let mut gates: Vec<(String, K)> = Vec::new();
        // Per current: name, conductance and reversal parameters, gates with powers, and a
        // concentration-dependent factor.
        let mut currents: Vec<CurrentParts> = vec![];
        let mut densities = vec![];
        for m in membrane.children() {
            match m.tag() {
                t if IGNORED.contains(&t) => {}
                "channelDensity" | "channelDensityNernst" | "channelDensityVShift" => {
                    covers_all(&m, m.attr("segmentGroup"), m.attr("segment"))?;
                    if let Some(vp) = m.child("variableParameter") {
                        return Err(
                            vp.err("inhomogeneous parameters belong to multi-compartment cells")
                        );
                    }
                    densities.push(m);
                }
                "specificCapacitance" => {
                    covers_all(&m, m.attr("segmentGroup"), None)?;
                    if c_m.is_some() {
                        return Err(m.err("a second specificCapacitance"));
                    }
                    c_m = Some(m.quantity("value", Dimension::SpecificCapacitance)?);
                }
                "spikeThresh" => threshold = m.quantity("value", Dimension::Voltage)?,
                "initMembPotential" => init_v = Some(m.quantity("value", Dimension::Voltage)?),
                _ => {
                    return Err(m.err(
                        "not read: channelDensity, channelDensityNernst, channelDensityVShift, specificCapacitance, spikeThresh and initMembPotential are",
                    ));
                }
            }
        }
        let c_m = c_m.ok_or_else(|| membrane.err("no <specificCapacitance>"))?;
        if c_m <= 0.0 {
            return Err(membrane.err("specificCapacitance must be > 0"));
        }
        params.push(crate::model::builtin::capacitance(c_m));

        // Names: the ion when one density carries it, `l` for the one passive non-specific
        // channel, else the density's id in snake_case.
        let passive = |d: &At<'s, 'a, 'i>| -> Result<bool, ModelError> {
            let ch = self.channel(d)?;
            Ok(gate_elements(ch).next().is_none())
        };
        let mut names = Vec::new();
        for d in &densities {
            let ion = d.attr("ion").unwrap_or("non_specific");
            let same_ion = densities
                .iter()
                .filter(|x| x.attr("ion").unwrap_or("non_specific") == ion)
                .count();
            let name = if same_ion == 1 && ion != "non_specific" {
                snake(ion)
            } else if same_ion == 1 && passive(d)? {
                "l".to_string()
            } else {
                snake(d.need("id")?)
            };
            if names.contains(&name) || name == "c_m" {
                return Err(d.err(format!("two currents would be named '{name}'")));
            }
            names.push(name);
        }

        let mut notes = Vec::new();
        for (d, name) in densities.iter().zip(&names) {
            let ch = self.channel(d)?;
            let mut g = match d.attr("condDensity") {
                Some(_) => d.quantity("condDensity", Dimension::ConductanceDensity)?,
                None => return Err(d.err("condDensity is missing")),
            };
            let e = if d.tag() == "channelDensityNernst" {
                let (e, note) = self.nernst(d, bio)?;
                notes.push(note);
                e
            } else {
                d.quantity("erev", Dimension::Voltage)?
            };
            // NeuroML's channelDensity (and channelDensityNernst) set vShift to 0 mV.
            let vshift = if d.tag() == "channelDensityVShift" {
                d.quantity("vShift", Dimension::Voltage)?
            } else {
                0.0
            };
            // Gates and the conductance scaling of the channel.
            let mut factor: Option<R> = None;
            let mut own = Vec::new();
            let first = gates.len();
            for gate in ch.children() {
                let kind = match gate.tag() {
                    t if IGNORED.contains(&t) => continue,
                    "gate" => gate.need("type")?,
                    t => match gate.attr("type") {
                        Some(ty) if ty != t => ty,
                        _ => t,
                    },
                };
                let prefix = format!("{}_{}", name, snake(gate.attr("id").unwrap_or("q10")));
                let ctx = |role: &str| Ctx {
                    prefix: format!("{prefix}_{role}"),
                    vshift,
                };
                if let Some(ct) = self.component_types.get(kind) {
                    // A gate type of the file: compiled when it has no state.
                    let f = self.gate_type(&gate, ct, &ctx("alpha"), &ctx("beta"), &ctx("gate"))?;
                    factor = Some(match factor {
                        None => f,
                        Some(prev) => R::product(prev, f),
                    });
                    continue;
                }
                match kind {
                    "q10ConductanceScaling" => {
                        let q = gate
                            .attr("q10Factor")
                            .map_or(Ok(1.0), |_| gate.quantity("q10Factor", Dimension::None))?;
                        let t0 = gate.quantity("experimentalTemp", Dimension::Temperature)?;
                        let t = self.temp(&gate)?;
                        g *= q.powf((t - t0) / 10.0);
                        continue;
                    }
                    "gateHHInstantaneous" => {
                        gate.only(gate_children(kind))?;
                        let n = instances(&gate)?;
                        let inf = self.variable(&gate.need_child("steadyState")?, &ctx("inf"))?;
                        let f = inf.power(n);
                        factor = Some(match factor {
                            None => f,
                            Some(prev) => R::product(prev, f),
                        });
                        continue;
                    }
                    "gateHHrates" | "gateHHtauInf" | "gateHHratesInf" | "gateHHratesTau"
                    | "gateHHratesTauInf" => {}
                    "gateKS" | "gateFractional" => {
                        return Err(gate.err("kinetic schemes and fractional gates are not read (only Hodgkin-Huxley gates)"));
                    }
                    _ => {
                        return Err(gate.err(format!("'{kind}' is not read (gates: gateHHrates, gateHHtauInf, gateHHratesInf, gateHHratesTau, gateHHratesTauInf, gateHHInstantaneous)")));
                    }
                }
                gate.only(gate_children(kind))?;
                let q = self.q10(&gate)?;
                let n = instances(&gate)?;
                let alpha_beta = || -> Result<(R, R), ModelError> {
                    Ok((
                        self.rate(&gate.need_child("forwardRate")?, &ctx("alpha"))?,
                        self.rate(&gate.need_child("reverseRate")?, &ctx("beta"))?,
                    ))
                };
                let kinetics = match kind {
                    "gateHHrates" => {
                        let (a, b) = alpha_beta()?;
                        K::AlphaBeta(a.scale(q), b.scale(q))
                    }
                    "gateHHtauInf" | "gateHHratesTauInf" => K::InfTau(
                        self.variable(&gate.need_child("steadyState")?, &ctx("inf"))?,
                        self.time(&gate.need_child("timeCourse")?, &ctx("tau"))?
                            .scale(1.0 / q),
                    ),
                    "gateHHratesInf" => {
                        let (a, b) = alpha_beta()?;
                        K::InfTau(
                            self.variable(&gate.need_child("steadyState")?, &ctx("inf"))?,
                            R::inv_sum(a, b).scale(1.0 / q),
                        )
                    }
                    _ => {
                        // gateHHratesTau
                        let (a, b) = alpha_beta()?;
                        K::InfTau(
                            R::ratio(a, b),
                            self.time(&gate.need_child("timeCourse")?, &ctx("tau"))?
                                .scale(1.0 / q),
                        )
                    }
                };
                own.push((snake(gate.need("id")?), kinetics, n));
            }
            let mut gate_refs = Vec::new();
            for (k, (gname, kinetics, n)) in own.into_iter().enumerate() {
                gates.push((gname, kinetics));
                gate_refs.push((first + k, n));
            }
            let what = d.attr("ion").unwrap_or("non_specific");
            params.push(Param::new(
                &format!("g_{name}"),
                g,
                "mS/cm^2",
                &format!("maximal conductance of {} ({what})", d.need("id")?),
                0.0,
                1e4,
            ));
            params.push(Param::new(
                &format!("e_{name}"),
                e,
                "mV",
                &format!("reversal potential of {}", d.need("id")?),
                -500.0,
                500.0,
            ));
            currents.push((
                name.clone(),
                params.len() - 2,
                params.len() - 1,
                gate_refs,
                factor,
            ));
        }
        if currents.is_empty() {
            return Err(membrane.err("no channelDensity: the cell has no current"));
        }
        // Gate names: the gate's id, or CURRENT_ID where two channels use the same id.
        let owners: Vec<usize> = (0..gates.len())
            .map(|gi| {
                currents
                    .iter()
                    .position(|c| c.3.iter().any(|(g, _)| *g == gi))
                    .unwrap_or(0)
            })
            .collect();
        let plain: Vec<String> = gates.iter().map(|g| g.0.clone()).collect();
        for (gi, g) in gates.iter_mut().enumerate() {
            let clash = plain.iter().filter(|n| **n == g.0).count() > 1;
            let taken = g.0 == "v" || params.iter().any(|p| p.name == g.0);
            if clash || taken {
                g.0 = format!("{}_{}", currents[owners[gi]].0, g.0);
            }
        }
        let mut desc = format!("NeuroML2 cell '{cell_id}' from {file}");
        match (segments.len(), area_um2) {
            (0, _) => desc.push_str(": no morphology, one compartment"),
            (1, Some(a)) => desc.push_str(&format!(": 1 segment (area {} um^2)", fmt(a))),
            (n, Some(a)) => desc.push_str(&format!(
                ": {n} segments taken as one isopotential compartment (area {} um^2)",
                fmt(a)
            )),
            (n, None) => desc.push_str(&format!(
                ": {n} segments taken as one isopotential compartment"
            )),
        }
        match &self.temperature {
            Some((t, how)) => desc.push_str(&format!("; temperature {} degC ({how})", fmt(*t))),
            None => desc.push_str("; no temperature (nothing in the cell depends on one)"),
        }
        if let Some(v) = init_v {
            desc.push_str(&format!("; the file starts at {} mV", fmt(v)));
        }
        if !self.simulations.is_empty() {
            desc.push_str(&format!(
                "; its LEMS simulation ({}) is not run: the command sets what is computed",
                self.simulations.join(", ")
            ));
        }
        if !self.inputs.is_empty() {
            desc.push_str(&format!(
                "; its inputs ({}) are not used: the command sets the current",
                self.inputs.join(", ")
            ));
        }
        for n in notes {
            desc.push_str(&format!("; {n}"));
        }
        let standard = gates.iter().all(|(_, k)| match k {
            K::AlphaBeta(a, b) | K::InfTau(a, b) => a.form().is_some() && b.form().is_some(),
        }) && currents
            .iter()
            .all(|c| c.4.as_ref().is_none_or(|f| f.form().is_some()));
        if !standard {
            let fixed = self.fixed.borrow();
            desc.push_str(&format!(
                "; LEMS ComponentType rates compiled as expressions ({} derived variables)",
                fixed.len()
            ));
            return general::compile(
                cell_id,
                &desc,
                params,
                &fixed,
                &gates,
                &currents,
                init_v.unwrap_or(-65.0),
            )
            .map(Model::Ode)
            .map_err(|e| cell.err(e));
        }
        let form = |r: &R| {
            r.form()
                .cloned()
                .unwrap_or(RateFn::Constant { a: f64::NAN })
        };
        params.push(
            Param::new("phi", 1.0, "1", "temperature factor multiplying every gate rate (the file's q10 factors are already in the rates)", 0.0, 1e3).positive(),
        );
        let n_params = params.len();
        let params = ParamSet::new(params);
        let model = ConductanceModel {
            name: cell_id.to_string(),
            description: desc,
            c_m: 0,
            phi: n_params - 1,
            params,
            gates: gates
                .iter()
                .map(|(name, k)| Gate {
                    name: name.clone(),
                    kinetics: match k {
                        K::AlphaBeta(a, b) => Kinetics::AlphaBeta {
                            alpha: form(a),
                            beta: form(b),
                        },
                        K::InfTau(i, t) => Kinetics::InfTau {
                            inf: form(i),
                            tau: form(t),
                        },
                    },
                })
                .collect(),
            currents: currents
                .into_iter()
                .map(|(name, g, e, gates, factor)| Current {
                    name,
                    g,
                    e,
                    gates,
                    factor: factor.as_ref().map(form),
                })
                .collect(),
            threshold_mv: threshold,
            v_search_mv: (-150.0, 150.0),
        };
        model.validate().map_err(|e| cell.err(e))?;
        Ok(Model::Conductance(model))
    }

    /// The cell's morphology or biophysical properties: a child, or a top-level element
    /// named by the attribute of the same name.
    fn part(&self, cell: At<'s, 'a, 'i>, tag: &str) -> Result<Option<At<'s, 'a, 'i>>, ModelError> {
        if let Some(c) = cell.child(tag) {
            return Ok(Some(c));
        }
        match cell.attr(tag) {
            None => Ok(None),
            Some(id) => match self.by_id.get(id) {
                Some(p) if p.tag() == tag => Ok(Some(*p)),
                _ => Err(cell.err(format!(
                    "{tag} '{id}' is not defined (no top-level <{tag} id=\"{id}\">)"
                ))),
            },
        }
    }

    /// Check the networks: at most one, of one population of one instance of `cell`; its
    /// temperature is the model's unless the user set one.
    fn network(&mut self, cell: &str) -> Result<(), ModelError> {
        let nets = self.networks.clone();
        if let [_, second, ..] = nets.as_slice() {
            return Err(second.err("a second network: only one cell is read"));
        }
        let Some(net) = nets.first() else {
            return Ok(());
        };
        for c in net.children() {
            match c.tag() {
                t if IGNORED.contains(&t) => {}
                "population" => {
                    let size = c.attr("size").unwrap_or("1");
                    let n_inst = c.children().filter(|x| x.tag() == "instance").count();
                    if c.need("component")? != cell || !(size == "1" || n_inst == 1) {
                        return Err(c.err(format!(
                            "a network is read only as one instance of the cell '{cell}'"
                        )));
                    }
                }
                "explicitInput" | "inputList" => {}
                _ => {
                    return Err(c.err(
                        "networks (projections, synapses, several populations) are not read: only one cell is",
                    ));
                }
            }
        }
        if net.children().filter(|c| c.tag() == "population").count() > 1 {
            return Err(net.err("several populations: only one cell is read"));
        }
        if self.temperature.is_none() && net.attr("temperature").is_some() {
            let t = net.quantity("temperature", Dimension::Temperature)?;
            self.temperature = Some((
                t,
                format!(
                    "the temperature of network '{}'",
                    net.attr("id").unwrap_or("?")
                ),
            ));
        }
        Ok(())
    }

    /// The temperature (degC) a q10 or Nernst setting at `at` needs.
    fn temp(&self, at: &At) -> Result<f64, ModelError> {
        self.temperature.as_ref().map(|t| t.0).ok_or_else(|| {
            at.err("needs a temperature: the file has no <network temperature=…>; give one with --set temperature=…")
        })
    }

    /// The ion channel a density uses.
    fn channel(&self, d: &At<'s, 'a, 'i>) -> Result<At<'s, 'a, 'i>, ModelError> {
        let id = d.need("ionChannel")?;
        let ch = *self.channels.get(id).ok_or_else(|| {
            d.err(format!("ion channel '{id}' is not defined (no <ionChannel id=\"{id}\"> in the file or its includes)"))
        })?;
        match ch.attr("type") {
            None | Some("ionChannelHH") | Some("ionChannelPassive") => Ok(ch),
            Some(t) => Err(ch.err(format!(
                "channel type '{t}' is not read (ionChannelHH, ionChannelPassive are)"
            ))),
        }
    }

    /// Nernst reversal potential (mV) of a `channelDensityNernst` from its species'
    /// concentrations, refused where a pool makes them vary.
    fn nernst(&self, d: &At, bio: At) -> Result<(f64, String), ModelError> {
        let ion = d.need("ion")?;
        let species = bio
            .child("intracellularProperties")
            .and_then(|ip| {
                ip.children()
                    .find(|s| s.tag() == "species" && s.attr("ion").or(s.attr("id")) == Some(ion))
            })
            .ok_or_else(|| {
                d.err(format!(
                    "no <species ion=\"{ion}\"> in intracellularProperties for the Nernst potential"
                ))
            })?;
        let model = species.need("concentrationModel")?;
        let pool = self.by_id.get(model);
        if let Some(pool) = pool {
            return Err(pool.err(format!(
                "the concentration of '{ion}' varies (a concentration pool): pools are not read, so channelDensityNernst at line {} cannot be",
                d.src.doc.text_pos_at(d.node.range().start).row
            )));
        }
        let z = match ion {
            "ca" | "ca2" => 2.0,
            "na" | "k" => 1.0,
            _ => {
                return Err(d.err(format!(
                    "valence of ion '{ion}' is not known (na, k, ca are)"
                )));
            }
        };
        let cin = species.quantity("initialConcentration", Dimension::Concentration)?;
        let cout = species.quantity("initialExtConcentration", Dimension::Concentration)?;
        if cin <= 0.0 || cout <= 0.0 {
            return Err(species.err("concentrations must be > 0 for a Nernst potential"));
        }
        let t = self.temp(d)?;
        let e = 1e3 * R_GAS * (t + 273.15) / (z * FARADAY) * (cout / cin).ln();
        // NeuroML requires `concentrationModel` to name a model; one that names nothing
        // defined is read as concentrations fixed at their initial values, and the note
        // says so (a misspelt pool's id would otherwise pass unseen).
        let held = if pool.is_none() {
            format!(
                "; the species' concentrationModel '{model}' is defined nowhere in the files, so [{ion}] is held at its initial values"
            )
        } else {
            String::new()
        };
        Ok((
            e,
            format!(
                "E_{ion} = {} mV (Nernst, {} / {} mM at {} degC{held})",
                fmt(e),
                fmt(cout),
                fmt(cin),
                fmt(t)
            ),
        ))
    }

    /// The product of a gate's q10 factors (1 without any).
    fn q10(&self, gate: &At) -> Result<f64, ModelError> {
        let mut q = 1.0;
        for s in gate.children().filter(|c| c.tag() == "q10Settings") {
            q *= match s.need("type")? {
                "q10Fixed" => s.quantity("fixedQ10", Dimension::None)?,
                "q10ExpTemp" => {
                    let f = s.quantity("q10Factor", Dimension::None)?;
                    let t0 = s.quantity("experimentalTemp", Dimension::Temperature)?;
                    f.powf((self.temp(&s)? - t0) / 10.0)
                }
                t => {
                    return Err(s.err(format!(
                        "q10 type '{t}' is not read (q10Fixed, q10ExpTemp are)"
                    )));
                }
            };
        }
        if !(q.is_finite() && q > 0.0) {
            return Err(gate.err(format!("q10 factor {q} must be finite and > 0")));
        }
        Ok(q)
    }

    /// A forward or reverse rate (1/ms).
    fn rate(&self, r: &At, cx: &Ctx) -> Result<R, ModelError> {
        let t = r.need("type")?;
        let (a, v0, k) = match t {
            "HHExpRate" | "HHSigmoidRate" | "HHExpLinearRate" => (
                r.quantity("rate", Dimension::PerTime)?,
                r.quantity("midpoint", Dimension::Voltage)?,
                r.quantity("scale", Dimension::Voltage)?,
            ),
            _ => {
                return self.custom(
                    r,
                    t,
                    Role::Rate,
                    cx,
                    "HHExpRate, HHSigmoidRate, HHExpLinearRate",
                );
            }
        };
        leaf(
            r,
            t.trim_start_matches("HH").trim_end_matches("Rate"),
            a,
            v0,
            k,
        )
        .map(R::F)
    }

    /// A steady state (dimensionless).
    fn variable(&self, r: &At, cx: &Ctx) -> Result<R, ModelError> {
        let t = r.need("type")?;
        let (a, v0, k) = match t {
            "HHExpVariable" | "HHSigmoidVariable" | "HHExpLinearVariable" => (
                r.quantity("rate", Dimension::None)?,
                r.quantity("midpoint", Dimension::Voltage)?,
                r.quantity("scale", Dimension::Voltage)?,
            ),
            _ => {
                return self.custom(
                    r,
                    t,
                    Role::Variable,
                    cx,
                    "HHExpVariable, HHSigmoidVariable, HHExpLinearVariable",
                );
            }
        };
        leaf(
            r,
            t.trim_start_matches("HH").trim_end_matches("Variable"),
            a,
            v0,
            k,
        )
        .map(R::F)
    }

    /// A time course (ms).
    fn time(&self, r: &At, cx: &Ctx) -> Result<R, ModelError> {
        match r.need("type")? {
            "fixedTimeCourse" => {
                let tau = r.quantity("tau", Dimension::Time)?;
                if tau <= 0.0 {
                    return Err(r.err("tau must be > 0"));
                }
                Ok(R::F(RateFn::Constant { a: tau }))
            }
            t => self.custom(r, t, Role::Time, cx, "fixedTimeCourse"),
        }
    }

    /// A rate type that is not one of the standard forms: a LEMS ComponentType of the files,
    /// compiled, or an error.
    fn custom(
        &self,
        r: &At,
        t: &str,
        role: Role,
        cx: &Ctx,
        standard: &str,
    ) -> Result<R, ModelError> {
        match self.component_types.get(t) {
            Some(ct) => {
                let mut fixed = self.fixed.borrow_mut();
                let mut taken = self.taken.borrow_mut();
                let mut context = lems::Context {
                    prefix: cx.prefix.clone(),
                    vshift: cx.vshift,
                    temperature: self.temperature.as_ref().map(|t| t.0),
                    taken: &mut taken,
                    fixed: &mut fixed,
                    selects: BTreeMap::new(),
                };
                lems::compile(r, ct, role, &mut context).map(R::E)
            }
            None => Err(r.err(format!(
                "type '{t}' is not a standard NeuroML form ({standard}) nor a ComponentType of the file"
            ))),
        }
    }

    /// A gate whose type is a LEMS ComponentType `ct` of the files: an instantaneous gate
    /// (no state), its `fcond` the current's factor, compiled with its rates.
    fn gate_type(
        &self,
        gate: &At<'s, 'a, 'i>,
        ct: &At<'s, 'a, 'i>,
        alpha: &Ctx,
        beta: &Ctx,
        own: &Ctx,
    ) -> Result<R, ModelError> {
        let mut selects = BTreeMap::new();
        for (child, cx) in [("forwardRate", alpha), ("reverseRate", beta)] {
            if let Some(r) = gate.child(child) {
                let rate = self.rate(&r, cx)?;
                selects.insert(format!("{child}/r"), format!("(1000*{})", rate.text()));
            }
        }
        let mut fixed = self.fixed.borrow_mut();
        let mut taken = self.taken.borrow_mut();
        let mut context = lems::Context {
            prefix: own.prefix.clone(),
            vshift: own.vshift,
            temperature: self.temperature.as_ref().map(|t| t.0),
            taken: &mut taken,
            fixed: &mut fixed,
            selects,
        };
        lems::compile(gate, ct, Role::Gate, &mut context)
            .map(R::E)
            .map_err(|e| match e {
                ModelError::File { path, reason } => ModelError::File {
                    path,
                    reason: format!(
                        "{reason} (in gate type '{}', used at {} line {})",
                        ct.attr("name").unwrap_or("?"),
                        gate.src.path,
                        gate.src.doc.text_pos_at(gate.node.range().start).row
                    ),
                },
                e => e,
            })
    }
}

/// Where a rate is used: the prefix of its generated names and the density's `vShift`.
struct Ctx {
    prefix: String,
    vshift: f64,
}

/// The rate form named `kind` (`Exp`, `Sigmoid`, `ExpLinear`).
fn leaf(r: &At, kind: &str, a: f64, v0: f64, k: f64) -> Result<RateFn, ModelError> {
    if k == 0.0 {
        return Err(r.err("scale must not be 0"));
    }
    Ok(match kind {
        "Exp" => RateFn::Exp { a, v0, k },
        "Sigmoid" => RateFn::Sigmoid { a, v0, k },
        _ => RateFn::Linoid { a, v0, k },
    })
}

/// `instances` of a gate: a positive integer (at most 8, like a model file's powers).
fn instances(gate: &At) -> Result<i32, ModelError> {
    let t = gate.need("instances")?;
    match t.trim().parse::<i32>() {
        Ok(n) if (1..=8).contains(&n) => Ok(n),
        _ => Err(gate.err(format!("instances = '{t}' must be an integer from 1 to 8"))),
    }
}

/// The gate elements of a channel.
fn gate_elements<'s, 'a, 'i>(ch: At<'s, 'a, 'i>) -> impl Iterator<Item = At<'s, 'a, 'i>> {
    ch.children().filter(|c| c.tag().starts_with("gate"))
}

/// `r ^ p` (`r` itself for p = 1).
fn power(r: RateFn, p: i32) -> RateFn {
    if p == 1 {
        r
    } else {
        RateFn::Power {
            of: Box::new(r),
            p: p as f64,
        }
    }
}

/// `f * r`, folded into the constant of a standard form where there is one.
pub fn scale(r: RateFn, f: f64) -> RateFn {
    if f == 1.0 {
        return r;
    }
    match r {
        RateFn::Exp { a, v0, k } => RateFn::Exp { a: a * f, v0, k },
        RateFn::Sigmoid { a, v0, k } => RateFn::Sigmoid { a: a * f, v0, k },
        RateFn::Linoid { a, v0, k } => RateFn::Linoid { a: a * f, v0, k },
        RateFn::Constant { a } => RateFn::Constant { a: a * f },
        other => RateFn::Product {
            factors: vec![RateFn::Constant { a: f }, other],
        },
    }
}

/// Segment ids, total area (um^2, when every segment's size is known) and segment groups
/// (id -> the segment ids in it) of a morphology.
#[allow(clippy::type_complexity)]
fn morphology(
    m: At,
) -> Result<(Vec<String>, Option<f64>, BTreeMap<String, BTreeSet<String>>), ModelError> {
    let mut ids = Vec::new();
    let mut area = Some(0.0);
    let mut distal_of: BTreeMap<String, (f64, f64, f64, f64)> = BTreeMap::new();
    let point = |p: At| -> Result<(f64, f64, f64, f64), ModelError> {
        let num = |a: &str| -> Result<f64, ModelError> {
            p.need(a)?
                .trim()
                .parse::<f64>()
                .map_err(|_| p.err(format!("{a} is not a number")))
        };
        Ok((num("x")?, num("y")?, num("z")?, num("diameter")?))
    };
    for s in m.children().filter(|c| c.tag() == "segment") {
        let id = s.need("id")?.to_string();
        let distal = point(s.need_child("distal")?)?;
        let proximal = match s.child("proximal") {
            Some(p) => Some(point(p)?),
            None => s
                .child("parent")
                .and_then(|p| p.attr("segment"))
                .and_then(|pid| distal_of.get(pid).copied()),
        };
        area = match (area, proximal) {
            (Some(total), Some(p)) => {
                let (r1, r2) = (p.3 / 2.0, distal.3 / 2.0);
                let len = ((p.0 - distal.0).powi(2)
                    + (p.1 - distal.1).powi(2)
                    + (p.2 - distal.2).powi(2))
                .sqrt();
                let a = if len == 0.0 {
                    // A sphere, as NEURON and jNeuroML take a segment of length 0.
                    std::f64::consts::PI * distal.3 * distal.3
                } else {
                    std::f64::consts::PI * (r1 + r2) * ((r1 - r2).powi(2) + len * len).sqrt()
                };
                Some(total + a)
            }
            _ => None,
        };
        distal_of.insert(id.clone(), distal);
        ids.push(id);
    }
    let mut raw: BTreeMap<String, (BTreeSet<String>, Vec<String>)> = BTreeMap::new();
    for g in m.children().filter(|c| c.tag() == "segmentGroup") {
        let mut members = BTreeSet::new();
        let mut includes = Vec::new();
        for c in g.children() {
            match c.tag() {
                "member" => {
                    members.insert(c.need("segment")?.to_string());
                }
                "include" => includes.push(c.need("segmentGroup")?.to_string()),
                _ => {}
            }
        }
        raw.insert(g.need("id")?.to_string(), (members, includes));
    }
    let mut groups = BTreeMap::new();
    for id in raw.keys() {
        let mut all = BTreeSet::new();
        let mut todo = vec![id.clone()];
        let mut seen = BTreeSet::new();
        while let Some(g) = todo.pop() {
            if !seen.insert(g.clone()) {
                continue;
            }
            if let Some((mem, inc)) = raw.get(&g) {
                all.extend(mem.iter().cloned());
                todo.extend(inc.iter().cloned());
            }
        }
        groups.insert(id.clone(), all);
    }
    Ok((ids, area.filter(|_| !distal_of.is_empty()), groups))
}

/// `naChans` -> `na_chans`, `Kdr-1` -> `kdr_1`: a name the model files accept.
pub fn snake(id: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in id.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
        out
    } else {
        format!("x_{out}")
    }
}

/// A number for a summary: shortest text, no trailing `.0`.
fn fmt(x: f64) -> String {
    units::number((x * 1e9).round() / 1e9)
}

#[cfg(test)]
mod tests;
