//! An Agent calling `http/http-request` (the URL comes from `data.url`), then Finish.
//! Also the size reference for a binary that links the HTTP client (API.md §3.1).
extern crate runtara_runtime as rt;

static K: rt::Consts = rt::Consts::new(&[
    // 0: get
    r#"{"agentId":"http","capabilityId":"http-request","maxRetries":0,"inputMapping":[["url",{"valueType":"reference","value":"data.url"}],["response_type",{"valueType":"immediate","value":"text"}]]}"#,
    // 1: done
    r#"{"inputMapping":[["status",{"valueType":"reference","value":"steps.get.outputs.status_code"}],["body",{"valueType":"reference","value":"steps.get.outputs.body"}]]}"#,
]);

// Steps in key order: done(0), get(1). T = get, done.
static G0: rt::GraphDef = rt::GraphDef {
    consts: &K,
    variables: None,
    entry: 1,
    order: &[1, 0],
    steps: &[
        rt::StepDef {
            meta: rt::StepMeta {
                key: "done",
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
                key: "get",
                name: None,
                step_type: rt::StepType::Agent,
            },
            next: &[0],
            branches: &[],
            on_error: &[],
            honours_on_error: true,
        },
    ],
    dispatch: g0,
};

fn g0(f: &mut rt::Frame, i: usize, m: &'static rt::StepMeta) -> rt::StepResult {
    match i {
        0 => rt::steps::finish(f, m, K.get(1)),
        1 => rt::steps::agent(f, m, K.get(0), rt::agents::http::http_request),
        _ => unreachable!(),
    }
}

static SCENARIO: rt::ScenarioDef = rt::ScenarioDef {
    scenario_id: "scenario",
    graph: &G0,
    required: &["url"],
    debug_mode: false,
    default_tenant: "default",
};

fn main() {
    rt::main(&SCENARIO)
}
