//! Conformance case 016-conditional-branch-merge, written exactly as generated code.
extern crate runtara_runtime as rt;

static K: rt::Consts = rt::Consts::new(&[
    // 0: check
    r#"{"condition":{"type":"operation","op":"GT","arguments":[{"valueType":"reference","value":"data.amount"},{"valueType":"immediate","value":100}]}}"#,
    // 1: big
    r#"{"agentId":"utils","capabilityId":"return-input","inputMapping":[["value",{"valueType":"immediate","value":"big"}]]}"#,
    // 2: small
    r#"{"agentId":"utils","capabilityId":"return-input","inputMapping":[["value",{"valueType":"immediate","value":"small"}]]}"#,
    // 3: merge
    r#"{"message":"merged"}"#,
    // 4: finish
    r#"{"inputMapping":[["branch",{"valueType":"reference","value":"steps.big.outputs"}],["other",{"valueType":"reference","value":"steps.small.outputs"}],["checkResult",{"valueType":"reference","value":"steps.check.outputs.result"}],["merged",{"valueType":"reference","value":"steps.merge.outputs.message"}]]}"#,
]);

static G0: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: None,
    entry: 0,
    order: &[0, 1, 2, 3, 4],
    steps: &[
        rt::StepDef {
            meta: rt::StepMeta {
                key: "check",
                name: Some("Is big"),
                step_type: rt::StepType::Conditional,
            },
            next: &[],
            branches: &[("true", 1), ("false", 2)],
            on_error: &[],
            honours_on_error: false,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "big",
                name: None,
                step_type: rt::StepType::Agent,
            },
            next: &[3],
            branches: &[],
            on_error: &[],
            honours_on_error: true,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "small",
                name: None,
                step_type: rt::StepType::Agent,
            },
            next: &[3],
            branches: &[],
            on_error: &[],
            honours_on_error: true,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "merge",
                name: None,
                step_type: rt::StepType::Log,
            },
            next: &[4],
            branches: &[],
            on_error: &[],
            honours_on_error: false,
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
        0 => rt::steps::conditional(f, m, K.get(0)),
        1 => rt::steps::agent(f, m, K.get(1), rt::agents::utils::return_input),
        2 => rt::steps::agent(f, m, K.get(2), rt::agents::utils::return_input),
        3 => rt::steps::log(f, m, K.get(3)),
        4 => rt::steps::finish(f, m, K.get(4)),
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
