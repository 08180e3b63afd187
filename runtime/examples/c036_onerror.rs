//! Conformance case 036-onerror-default-handler, written exactly as generated code.
extern crate runtara_runtime as rt;

static K: rt::Consts = rt::Consts::new(&[
    // 0: parse
    r#"{"agentId":"transform","capabilityId":"from-json-string","inputMapping":[["value",{"valueType":"reference","value":"data.raw"}]]}"#,
    // 1: handled
    r#"{"inputMapping":[["recovered",{"valueType":"immediate","value":true}],["code",{"valueType":"reference","value":"__error.code"}],["category",{"valueType":"reference","value":"error.category"}],["viaSteps",{"valueType":"reference","value":"steps.__error.stepId"}],["viaStepsError",{"valueType":"reference","value":"steps.error.code"}],["stepType",{"valueType":"reference","value":"__error.stepType"}],["capability",{"valueType":"reference","value":"__error.capabilityId"}]]}"#,
    // 2: ok
    r#"{"inputMapping":[["recovered",{"valueType":"immediate","value":false}]]}"#,
]);

// Steps in key order: handled(0), ok(1), parse(2). T = parse, ok, handled.
static G0: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: None,
    entry: 2,
    order: &[2, 1, 0],
    steps: &[
        rt::StepDef {
            meta: rt::StepMeta {
                key: "handled",
                name: None,
                step_type: rt::StepType::Finish,
            },
            next: &[],
            branches: &[],
            on_error: &[],
            honours_on_error: false,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "ok",
                name: None,
                step_type: rt::StepType::Finish,
            },
            next: &[],
            branches: &[],
            on_error: &[],
            honours_on_error: false,
        },
        rt::StepDef {
            meta: rt::StepMeta {
                key: "parse",
                name: None,
                step_type: rt::StepType::Agent,
            },
            next: &[1],
            branches: &[],
            on_error: &[rt::OnErrorEdge {
                condition: None,
                target: 0,
                region: &[0],
            }],
            honours_on_error: true,
        },
    ],
    dispatch: g0,
};

fn g0(f: &mut rt::Frame, i: usize, m: &'static rt::StepMeta) -> rt::StepResult {
    match i {
        0 => rt::steps::finish(f, m, K.get(1)),
        1 => rt::steps::finish(f, m, K.get(2)),
        2 => rt::steps::agent(f, m, K.get(0), rt::agents::transform::from_json_string),
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
