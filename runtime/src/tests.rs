//! Driver and step-helper tests over hand-written graph tables.

use serde_json::{json, Value};

use crate::graph::*;
use crate::steps;
use crate::{Frame, RunCtx};

const fn sd(
    key: &'static str,
    step_type: StepType,
    next: &'static [usize],
    branches: &'static [(&'static str, usize)],
    on_error: &'static [OnErrorEdge],
) -> StepDef {
    let honours = matches!(
        step_type,
        StepType::Agent | StepType::Split | StepType::StartScenario | StepType::While
    );
    StepDef {
        meta: StepMeta {
            key,
            name: None,
            step_type,
        },
        next,
        branches,
        on_error,
        honours_on_error: honours,
    }
}

fn run(g: &'static GraphDef, data: Value) -> Result<Value, Failure> {
    let mut f = Frame::for_tests(
        data,
        json!({"_scenario_id": "scenario", "_tenant_id": "default", "_instance_id": "test"}),
    );
    run_graph(&mut f, g)
}

fn err_of(r: Result<Value, Failure>) -> Value {
    match r {
        Err(Failure::Error(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

// ------------------------------------------------------------ fan-out and join

static K1: Consts = Consts::new(&[
    r#"{"message":"m"}"#,
    r#"{"inputMapping":[["order",{"valueType":"template","value":"{% for k in steps %}{{ k }},{% endfor %}"}],["b",{"valueType":"reference","value":"steps.b.stepName"}]]}"#,
]);
// a -> b, a -> c, b -> d, c -> d, d -> fin
static G1: GraphDef = GraphDef {
    consts: &K1,
    variables: None,
    entry: 0,
    order: &[0, 1, 2, 3, 4],
    steps: &[
        sd("a", StepType::Log, &[1, 2], &[], &[]),
        sd("b", StepType::Log, &[3], &[], &[]),
        sd("c", StepType::Log, &[3], &[], &[]),
        sd("d", StepType::Log, &[4], &[], &[]),
        sd("fin", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| {
        if i == 4 {
            steps::finish(f, m, K1.get(1))
        } else {
            steps::log(f, m, K1.get(0))
        }
    },
};

#[test]
fn fan_out_and_join() {
    assert_eq!(
        run(&G1, json!({})).unwrap(),
        json!({"order": "a,b,c,d,", "b": "Unnamed"})
    );
}

// ------------------------------------------------------------ onError

static K2: Consts = Consts::new(&[
    r#"{"agentId":"utils","capabilityId":"calculate","maxRetries":0,"inputMapping":[["expression",{"valueType":"immediate","value":"1/0"}],["variables",{"valueType":"immediate","value":{}}]]}"#,
    r#"{"message":"handler"}"#,
    r#"{"inputMapping":[["code",{"valueType":"reference","value":"error.code"}],["via",{"valueType":"reference","value":"steps.error.stepId"}],["h",{"valueType":"reference","value":"steps.h.outputs.message"}]]}"#,
    r#"{"type":"operation","op":"EQ","arguments":[{"valueType":"reference","value":"__error.category"},{"valueType":"immediate","value":"transient"}]}"#,
    r#"{"type":"operation","op":"EQ","arguments":[{"valueType":"reference","value":"__error.category"},{"valueType":"immediate","value":"permanent"}]}"#,
]);
// agent fails -> onError h (Log, no Finish): re-raise
static G2: GraphDef = GraphDef {
    consts: &K2,
    variables: None,
    entry: 0,
    order: &[0, 1, 2],
    steps: &[
        sd(
            "calc",
            StepType::Agent,
            &[2],
            &[],
            &[OnErrorEdge {
                condition: None,
                target: 1,
                region: &[1],
            }],
        ),
        sd("h", StepType::Log, &[], &[], &[]),
        sd("after", StepType::Log, &[], &[], &[]),
    ],
    dispatch: |f, i, m| {
        if i == 0 {
            steps::agent_dyn(f, m, K2.get(0))
        } else {
            steps::log(f, m, K2.get(1))
        }
    },
};

#[test]
fn on_error_reraises_without_finish() {
    let e = err_of(run(&G2, json!({})));
    assert_eq!(e["code"], "CAPABILITY_ERROR");
    assert_eq!(e["message"], "Division by zero");
    assert_eq!(e["stepId"], "calc");
    assert_eq!(e["agentId"], "utils");
}

// conditional edges: transient (prio 5) -> t, permanent (prio 1) -> p, default -> d
static G3: GraphDef = GraphDef {
    consts: &K2,
    variables: None,
    entry: 0,
    order: &[0, 1, 2, 3, 4],
    steps: &[
        sd(
            "calc",
            StepType::Agent,
            &[],
            &[],
            &[
                OnErrorEdge {
                    condition: Some(3),
                    target: 1,
                    region: &[1],
                },
                OnErrorEdge {
                    condition: Some(4),
                    target: 2,
                    region: &[2, 4],
                },
                OnErrorEdge {
                    condition: None,
                    target: 3,
                    region: &[3],
                },
            ],
        ),
        sd("t", StepType::Log, &[], &[], &[]),
        sd("h", StepType::Log, &[4], &[], &[]),
        sd("d", StepType::Log, &[], &[], &[]),
        sd("fin", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| match i {
        0 => steps::agent_dyn(f, m, K2.get(0)),
        4 => steps::finish(f, m, K2.get(2)),
        _ => steps::log(f, m, K2.get(1)),
    },
};

#[test]
fn on_error_conditional_selection() {
    assert_eq!(
        run(&G3, json!({})).unwrap(),
        json!({"code": "CAPABILITY_ERROR", "via": "calc", "h": "handler"})
    );
}

// ------------------------------------------------------------ Switch, Filter, GroupBy

static K4: Consts = Consts::new(&[
    r#"{"config":{"value":{"valueType":"reference","value":"data.x"},"cases":[{"matchType":"EQ","match":[1,2],"output":{"hit":{"valueType":"reference","value":"data.x"}},"route":"low"},{"matchType":"BETWEEN","match":[3,5],"output":"mid"},{"matchType":"RANGE","match":{"gt":100},"output":{"valueType":"immediate","value":{"valueType":"x"}},"route":"high"}],"default":"dflt"}}"#,
    r#"{"inputMapping":[["sw",{"valueType":"reference","value":"steps.sw"}]]}"#,
    r#"{"config":{"value":{"valueType":"reference","value":"data.list"},"condition":{"type":"operation","op":"GT","arguments":[{"valueType":"reference","value":"item.n"},{"valueType":"immediate","value":1}]}}}"#,
    r#"{"config":{"value":{"valueType":"reference","value":"data.list"},"key":"k","expectedKeys":["zz"]}}"#,
    r#"{"inputMapping":[["f",{"valueType":"reference","value":"steps.f.outputs"}],["g",{"valueType":"reference","value":"steps.g.outputs"}],["sw",{"valueType":"reference","value":"steps.sw"}]]}"#,
]);
static G4: GraphDef = GraphDef {
    consts: &K4,
    variables: None,
    entry: 0,
    order: &[0, 1, 2, 3, 4],
    steps: &[
        sd(
            "sw",
            StepType::Switch,
            &[],
            &[("low", 1), ("default", 2), ("high", 1)],
            &[],
        ),
        sd("fin_low", StepType::Finish, &[], &[], &[]),
        sd("f", StepType::Filter, &[3], &[], &[]),
        sd("g", StepType::GroupBy, &[4], &[], &[]),
        sd("fin", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| match i {
        0 => steps::switch(f, m, K4.get(0)),
        1 => steps::finish(f, m, K4.get(1)),
        2 => steps::filter(f, m, K4.get(2)),
        3 => steps::group_by(f, m, K4.get(3)),
        _ => steps::finish(f, m, K4.get(4)),
    },
};

#[test]
fn switch_routing_and_postprocessing() {
    let r = run(&G4, json!({"x": 2})).unwrap();
    assert_eq!(r["sw"]["outputs"], json!({"hit": 2}));
    assert_eq!(r["sw"]["route"], "low");
    let r = run(&G4, json!({"x": 101})).unwrap();
    assert_eq!(r["sw"]["outputs"], json!({"valueType": "x"}));
    let list = json!([{"n": 1, "k": "a"}, {"n": 2, "k": 1}, {"n": 3, "k": null}, {"n": 4, "k": {"r": "d"}}, {"n": 5, "k": true}, {"n": 6, "k": 2.5}]);
    let r = run(&G4, json!({"x": 4, "list": list})).unwrap();
    assert_eq!(r["sw"]["outputs"], "mid");
    assert_eq!(r["sw"]["route"], "default");
    assert_eq!(r["f"]["count"], 5);
    assert_eq!(
        r["g"]["counts"],
        json!({"a": 1, "1": 1, "_null": 1, "{\"r\":\"d\"}": 1, "true": 1, "2.5": 1, "zz": 0})
    );
    assert_eq!(r["g"]["total_groups"], 7);
}

// ------------------------------------------------------------ Split, While, Error, children

static K5: Consts = Consts::new(&[
    r#"{"config":{"value":{"valueType":"reference","value":"data.xs"},"parallelism":3,"dontStopOnFailed":true}}"#,
    r#"{"inputMapping":[["s",{"valueType":"reference","value":"steps.sp"}]]}"#,
    r#"{"agentId":"utils","capabilityId":"calculate","maxRetries":0,"inputMapping":[["expression",{"valueType":"immediate","value":"10 / x"}],["variables.x",{"valueType":"reference","value":"item"}]]}"#,
    r#"{"inputMapping":[["outputs",{"valueType":"reference","value":"steps.c.outputs"}]]}"#,
    r#"{"config":{"value":{"valueType":"reference","value":"data.xs"}}}"#,
]);
static G5_SUB: GraphDef = GraphDef {
    consts: &K5,
    variables: None,
    entry: 0,
    order: &[0, 1],
    steps: &[
        sd("c", StepType::Agent, &[1], &[], &[]),
        sd("done", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| {
        if i == 0 {
            steps::agent_dyn(f, m, K5.get(2))
        } else {
            steps::finish(f, m, K5.get(3))
        }
    },
};
static G5: GraphDef = GraphDef {
    consts: &K5,
    variables: None,
    entry: 0,
    order: &[0, 1],
    steps: &[
        sd("sp", StepType::Split, &[1], &[], &[]),
        sd("fin", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| {
        if i == 0 {
            steps::split(f, m, K5.get(0), &G5_SUB)
        } else {
            steps::finish(f, m, K5.get(1))
        }
    },
};
static G5B: GraphDef = GraphDef {
    consts: &K5,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("sp", StepType::Split, &[], &[], &[])],
    dispatch: |f, _, m| steps::split(f, m, K5.get(4), &G5_SUB),
};

#[test]
fn split_parallel_dont_stop() {
    let r = run(&G5, json!({"xs": [1, 2, 0, 4, 5]})).unwrap();
    let s = &r["s"];
    assert_eq!(s["outputs"], json!([10.0, 5.0, 2.5, 2.0]));
    assert_eq!(
        s["stats"],
        json!({"success": 4, "error": 1, "aborted": 0, "unknown": 0, "skipped": 0, "total": 5})
    );
    assert_eq!(s["data"]["error"][0]["index"], 2);
    assert_eq!(s["data"]["error"][0]["error"]["code"], "CAPABILITY_ERROR");
}

#[test]
fn split_errors() {
    let e = err_of(run(&G5B, json!({"xs": [1, 0, 0]})));
    assert_eq!(e["code"], "SPLIT_ITERATION_FAILED");
    assert_eq!(e["index"], 1);
    assert_eq!(
        e["message"],
        "Split step 'sp' failed at index 1: Division by zero"
    );
    assert_eq!(e["cause"]["stepId"], "c");
    let e = err_of(run(&G5B, json!({})));
    assert_eq!(e["code"], "SPLIT_INVALID_VALUE");
    let e = err_of(run(&G5B, json!({"xs": "s"})));
    assert!(e["message"]
        .as_str()
        .unwrap()
        .starts_with("Split step 'sp' expected array, got string."));
}

static K6: Consts = Consts::new(&[
    r#"{"condition":{"type":"operation","op":"LT","arguments":[{"valueType":"reference","value":"loop.index"},{"valueType":"immediate","value":3}]},"config":{"maxIterations":5}}"#,
    r#"{"inputMapping":[["w",{"valueType":"reference","value":"steps.w"}]]}"#,
    r#"{"inputMapping":[["i",{"valueType":"reference","value":"variables._index"}],["prev",{"valueType":"reference","value":"variables._previousOutputs.i"}],["li",{"valueType":"reference","value":"variables._loop_indices"}],["lo",{"valueType":"reference","value":"loop.outputs.i"}]]}"#,
]);
static G6_SUB: GraphDef = GraphDef {
    consts: &K6,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("b", StepType::Finish, &[], &[], &[])],
    dispatch: |f, _, m| steps::finish(f, m, K6.get(2)),
};
static G6: GraphDef = GraphDef {
    consts: &K6,
    variables: None,
    entry: 0,
    order: &[0, 1],
    steps: &[
        sd("w", StepType::While, &[1], &[], &[]),
        sd("fin", StepType::Finish, &[], &[], &[]),
    ],
    dispatch: |f, i, m| {
        if i == 0 {
            steps::while_loop(f, m, K6.get(0), &G6_SUB)
        } else {
            steps::finish(f, m, K6.get(1))
        }
    },
};

#[test]
fn while_loop_roots() {
    let r = run(&G6, json!({})).unwrap();
    assert_eq!(r["w"]["iterations"], 3);
    assert_eq!(
        r["w"]["outputs"],
        json!({"i": 2, "prev": 1, "li": [2], "lo": 1})
    );
}

static K7: Consts = Consts::new(&[
    r#"{"childScenarioId":"kid","maxRetries":1,"retryDelay":1,"inputMapping":[["a",{"valueType":"reference","value":"data.a"}]]}"#,
    r#"{"code":"BAD","message":"bad thing","category":"transient","context":[["v",{"valueType":"reference","value":"variables.own"}]]}"#,
    r#"{"own":1,"_hidden":2}"#,
    r#"{"agentId":"utils","capabilityId":"calculate","maxRetries":0,"inputMapping":[["expression",{"valueType":"immediate","value":"1/0"}],["variables",{"valueType":"immediate","value":{}}]]}"#,
]);
static KID_ERR: ChildDef = ChildDef {
    scenario_id: "kid",
    graph: &G7_KID,
    required: &["a", "b"],
};
static KID_OK: ChildDef = ChildDef {
    scenario_id: "kid",
    graph: &G7_KID,
    required: &["a"],
};
static KID_FAIL: ChildDef = ChildDef {
    scenario_id: "kid",
    graph: &G7_KID2,
    required: &[],
};
static G7_KID: GraphDef = GraphDef {
    consts: &K7,
    variables: Some(2),
    entry: 0,
    order: &[0],
    steps: &[sd("boom", StepType::Error, &[], &[], &[])],
    dispatch: |f, _, m| steps::error(f, m, K7.get(1)),
};
static G7_KID2: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("calc", StepType::Agent, &[], &[], &[])],
    dispatch: |f, _, m| steps::agent_dyn(f, m, K7.get(3)),
};
static G7A: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("call", StepType::StartScenario, &[], &[], &[])],
    dispatch: |f, _, m| steps::start_scenario(f, m, K7.get(0), &KID_ERR),
};
static G7B: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("call", StepType::StartScenario, &[], &[], &[])],
    dispatch: |f, _, m| steps::start_scenario(f, m, K7.get(0), &KID_OK),
};
static G7C: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("call", StepType::StartScenario, &[], &[], &[])],
    dispatch: |f, _, m| steps::start_scenario(f, m, K7.get(0), &KID_FAIL),
};

#[test]
fn children() {
    let e = err_of(run(&G7A, json!({})));
    assert_eq!(e["code"], "MISSING_REQUIRED_INPUTS");
    assert_eq!(e["missing"], json!(["a", "b"]));
    assert_eq!(
        e["message"],
        "StartScenario step 'call' is missing required inputs for child scenario 'kid': a, b"
    );
    let e = err_of(run(&G7B, json!({"a": 1})));
    assert_eq!(e["stepType"], "Error");
    assert_eq!(e["code"], "BAD");
    assert_eq!(e["context"], json!({"v": 1}));
    let e = err_of(run(&G7C, json!({"a": 1})));
    assert_eq!(e["code"], "CHILD_SCENARIO_FAILED");
    assert_eq!(e["message"], "Child scenario kid failed");
    assert_eq!(e["childError"]["stepId"], "calc");
    assert_eq!(e["category"], "permanent");
}

static G7D: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("call", StepType::StartScenario, &[], &[], &[])],
    dispatch: |f, _, m| steps::start_scenario_id(f, m, K7.get(0), "//t/kid"),
};
static G7E: GraphDef = GraphDef {
    consts: &K7,
    variables: None,
    entry: 0,
    order: &[0],
    steps: &[sd("call", StepType::StartScenario, &[], &[], &[])],
    dispatch: |f, _, m| steps::start_scenario_id(f, m, K7.get(0), "//t/absent"),
};

static KIDS: crate::ChildTable = &[("//t/kid", &KID_OK)];

#[test]
fn children_by_id() {
    crate::set_children(KIDS);
    let e = err_of(run(&G7D, json!({"a": 1})));
    assert_eq!(e["code"], "BAD");
    let e = err_of(run(&G7E, json!({"a": 1})));
    assert_eq!(e["code"], "INTERNAL_ERROR");
    assert_eq!(e["category"], "permanent");
}

// ------------------------------------------------------------ Delay and WaitForSignal

static K8: Consts = Consts::new(&[
    r#"{"durationMs":{"valueType":"immediate","value":20.7}}"#,
    r#"{"durationMs":{"valueType":"immediate","value":"x"}}"#,
    r#"{"timeoutMs":{"valueType":"immediate","value":30},"pollIntervalMs":5}"#,
]);

fn meta(key: &'static str, t: StepType) -> &'static StepMeta {
    Box::leak(Box::new(StepMeta {
        key,
        name: None,
        step_type: t,
    }))
}

#[test]
fn delay_and_signals() {
    let mut f = Frame::for_tests(json!({}), json!({"_scenario_id": "sc"}));
    match steps::delay(&mut f, meta("d", StepType::Delay), K8.get(0)) {
        StepResult::Next(env) => assert_eq!(
            env,
            json!({"stepId": "d", "stepName": "Unnamed", "stepType": "Delay", "duration_ms": 20})
        ),
        other => panic!("{other:?}"),
    }
    assert!(f.ctx.lookup("root::delay::d").unwrap().is_some());
    match steps::delay(&mut f, meta("d2", StepType::Delay), K8.get(1)) {
        StepResult::Fail(Failure::Error(e)) => {
            assert_eq!(e["code"], "INVALID_DURATION");
            assert_eq!(
                e["message"],
                "Delay step 'd2': durationMs must be a number, got: \"x\""
            );
        }
        other => panic!("{other:?}"),
    }
    let m = meta("approve", StepType::WaitForSignal);
    match steps::wait_for_signal(&mut f, m, K8.get(2), None) {
        StepResult::Fail(Failure::Error(e)) => {
            assert_eq!(e["code"], "SIGNAL_TIMEOUT");
            assert_eq!(e["message"], "WaitForSignal step 'approve' timed out after 30ms waiting for signal 'test/sc/approve'");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn suspend_mode_and_cancel() {
    let ctx = RunCtx::for_tests();
    let mut f = Frame::new(ctx, json!({}), json!({}), "root".into());
    f.ctx = std::sync::Arc::new({
        let mut c = RunCtx::new(crate::Store::memory("test"), "test", "default", "sc");
        c.suspend_after_ms = 0;
        c
    });
    match steps::delay(&mut f, meta("d", StepType::Delay), K8.get(0)) {
        StepResult::Fail(Failure::Control(Control::Sleeping { .. })) => {}
        other => panic!("{other:?}"),
    }
}
