//! Conformance case 046-start-scenario-basic, written exactly as generated code.
extern crate runtara_runtime as rt;

static K: rt::Consts = rt::Consts::new(&[
    // 0: top-level declared variables
    r#"{"secret":"parent-only"}"#,
    // 1: call
    r#"{"childScenarioId":"greeter","childVersion":"latest","inputMapping":[["name.first",{"valueType":"reference","value":"data.user.first"}],["name.last",{"valueType":"reference","value":"data.user.last"}],["excited",{"valueType":"immediate","value":true}]]}"#,
    // 2: finish
    r#"{"inputMapping":[["child",{"valueType":"reference","value":"steps.call.outputs"}],["childId",{"valueType":"reference","value":"steps.call.childScenarioId"}]]}"#,
    // 3: child "greeter" declared variables
    r#"{"punct":"!"}"#,
    // 4: greeter/greet
    r#"{"inputMapping":[["greeting",{"valueType":"template","value":"Hello {{ data.name.first }} {{ data.name.last }}{{ variables.punct }}"}],["parentSecret",{"valueType":"template","value":"[{{ variables.secret }}]"}],["tenant",{"valueType":"reference","value":"variables._tenant_id"}],["excited",{"valueType":"reference","value":"data.excited"}]]}"#,
]);

static G0: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: Some(0),
    entry: 0,
    order: &[0, 1],
    steps: &[
        rt::StepDef {
            meta: rt::StepMeta {
                key: "call",
                name: None,
                step_type: rt::StepType::StartScenario,
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
        0 => rt::steps::start_scenario(f, m, K.get(1), &CHILD_GREETER),
        1 => rt::steps::finish(f, m, K.get(2)),
        _ => unreachable!(),
    }
}

// Child "greeter" (latest).
static CHILD_GREETER: rt::ChildDef = rt::ChildDef {
    scenario_id: "greeter",
    graph: &G_GREETER,
    required: &["name"],
};

static G_GREETER: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: Some(3),
    entry: 0,
    order: &[0],
    steps: &[rt::StepDef {
        meta: rt::StepMeta {
            key: "greet",
            name: None,
            step_type: rt::StepType::Finish,
        },
        next: &[],
        branches: &[],
        on_error: &[],
        honours_on_error: false,
    }],
    dispatch: g_greeter,
};

fn g_greeter(f: &mut rt::Frame, i: usize, m: &'static rt::StepMeta) -> rt::StepResult {
    match i {
        0 => rt::steps::finish(f, m, K.get(4)),
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
