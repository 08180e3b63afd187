//! Conformance case 022-split-sequential-item-alias, written exactly as generated code.
extern crate runtara_runtime as rt;

static K: rt::Consts = rt::Consts::new(&[
    // 0: top-level declared variables
    r#"{"prefix":"ORD"}"#,
    // 1: each (Split config; subgraph removed)
    r#"{"config":{"value":{"valueType":"reference","value":"data.orders"},"variables":[["currency",{"valueType":"immediate","value":"EUR"}],["pfx",{"valueType":"reference","value":"variables.prefix"}]]}}"#,
    // 2: finish
    r#"{"inputMapping":[["results",{"valueType":"reference","value":"steps.each.outputs"}]]}"#,
    // 3: each/done
    r#"{"inputMapping":[["id",{"valueType":"reference","value":"data.id"}],["sameViaItem",{"valueType":"reference","value":"item.id"}],["qty",{"valueType":"reference","value":"item.qty"}],["index",{"valueType":"reference","value":"variables._index"}],["indices",{"valueType":"reference","value":"variables._loop_indices"}],["currency",{"valueType":"reference","value":"variables.currency"}],["prefix",{"valueType":"reference","value":"variables.pfx"}],["parentVar",{"valueType":"reference","value":"variables.prefix"}]]}"#,
]);

static G0: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: Some(0),
    entry: 0,
    order: &[0, 1],
    steps: &[
        rt::StepDef {
            meta: rt::StepMeta {
                key: "each",
                name: None,
                step_type: rt::StepType::Split,
            },
            next: &[1],
            branches: &[],
            on_error: &[],
            honours_on_error: true,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "finish",
                name: None,
                step_type: rt::StepType::Finish,
            },
            next: &[],
            branches: &[],
            on_error: &[],
            honours_on_error: false,
        },
    ],
    dispatch: g0,
};

fn g0(f: &mut rt::Frame, i: usize, m: &'static rt::StepMeta) -> rt::StepResult {
    match i {
        0 => rt::steps::split(f, m, K.get(1), &G1),
        1 => rt::steps::finish(f, m, K.get(2)),
        _ => unreachable!(),
    }
}

// Split "each" subgraph.
static G1: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[rt::StepDef {
        meta: rt::StepMeta {
            key: "done",
            name: None,
            step_type: rt::StepType::Finish,
        },
        next: &[],
        branches: &[],
        on_error: &[],
        honours_on_error: false,
    }],
    dispatch: g1,
};

fn g1(f: &mut rt::Frame, i: usize, m: &'static rt::StepMeta) -> rt::StepResult {
    match i {
        0 => rt::steps::finish(f, m, K.get(3)),
        _ => unreachable!(),
    }
}

static SCENARIO: rt::ScenarioDef = rt::ScenarioDef {
    scenario_id: "scenario",
    graph: &G0,
    required: &[],
    debug_mode: false,
    default_tenant: "default",
};

fn main() {
    rt::main(&SCENARIO)
}
