//! Property tests of the input path every request takes (validate → decode → run): for any JSON
//! input, a run answers its result or `INVALID_ARGUMENT` (never a panic or `INTERNAL`), and an
//! input the schema accepts always decodes. The inputs are drawn from the shapes the flow's
//! types use (their field names, integral floats, the bounds of each integer type), so valid
//! inputs come up often. `PROPTEST_CASES` sets the number of cases (default 2000).

use std::collections::BTreeMap;

use genflow_runtime::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};

/// Every kind of field serde and schemars describe differently.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Rich {
    count: u32,
    #[serde(default)]
    offset: Option<i64>,
    ratio: f64,
    #[serde(default)]
    tags: Vec<String>,
    kind: Kind,
    #[serde(default)]
    nested: Option<Box<Rich>>,
    #[serde(default)]
    weights: BTreeMap<String, u8>,
    level: Level,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Kind {
    Point { x: u16, y: i32 },
    Label { text: String },
    Empty,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Level {
    Low,
    High,
}

/// Counts what it was given.
#[flow]
async fn rich(input: Rich) -> Result<u32, FlowError> {
    Ok(input.count)
}

const KEYS: &[&str] = &[
    "count", "offset", "ratio", "tags", "kind", "type", "x", "y", "text", "nested", "weights",
    "level", "point", "label", "empty", "low", "high", "",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1.0)),
        Just(json!(-1)),
        Just(json!(2.5)),
        Just(json!(-0.0)),
        Just(json!(u8::MAX)),
        Just(json!(u16::MAX as u64 + 1)),
        Just(json!(i32::MIN)),
        Just(json!(i32::MAX as i64 + 1)),
        Just(json!(u32::MAX)),
        Just(json!(u32::MAX as u64 + 1)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(1e20)),
        Just(json!(4_294_967_295.0)),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        prop::sample::select(KEYS).prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|fields| {
                Value::Object(
                    fields
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A valid `Rich` with arbitrary values in its fields: the schema must accept it and it must
/// decode (and round-trip) unchanged in meaning.
fn valid_rich() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![
        (any::<u16>(), any::<i32>()).prop_map(|(x, y)| json!({"type": "point", "x": x, "y": y})),
        ".{0,8}".prop_map(|text| json!({"type": "label", "text": text})),
        Just(json!({"type": "empty"})),
    ];
    (
        any::<u32>(),
        prop::option::of(any::<i64>()),
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        prop::collection::vec(".{0,4}", 0..3),
        kind,
        prop::collection::btree_map(".{0,4}", any::<u8>(), 0..3),
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(
            |(count, offset, ratio, tags, kind, weights, high, float_count)| {
                // JSON Schema counts 7.0 as an integer: so must decoding.
                let count = if float_count {
                    json!(f64::from(count))
                } else {
                    json!(count)
                };
                json!({
                    "count": count, "offset": offset, "ratio": ratio, "tags": tags, "kind": kind,
                    "weights": weights, "level": if high { "high" } else { "low" },
                })
            },
        )
}

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs `rich` on `input`: what validates must succeed, anything else must be refused as
/// invalid input with the path of each violation.
fn check(registry: &Registry, rt: &tokio::runtime::Runtime, input: Value) {
    let flow = registry.flow("rich").expect("registered");
    let accepted = flow.schemas().validate_input(&input).is_ok();
    let ran = rt.block_on(registry.run("rich", input.clone()));
    match ran {
        Ok(count) => {
            assert!(accepted, "ran on input the schema refuses: {input}");
            // The count comes back as the integer it was, also when sent as `7.0`.
            let sent = input["count"].as_f64();
            assert_eq!(count.as_f64(), sent, "{input}");
            assert!(count.is_u64(), "{count}");
        }
        Err(error) => {
            assert!(
                !accepted,
                "refused input the schema accepts: {input}: {error}"
            );
            assert_eq!(error.status(), Status::InvalidArgument, "{input}: {error}");
            let body = error.to_body(false);
            let errors = body.details.as_ref().and_then(|d| d.get("errors"));
            assert!(
                errors
                    .and_then(Value::as_array)
                    .is_some_and(|e| !e.is_empty()),
                "every refusal lists its violations: {input}: {body:?}"
            );
        }
    }
}

/// The registry holding `rich`, and a runtime to run it on.
fn harness() -> (Registry, tokio::runtime::Runtime) {
    let registry = Registry::builder().build().expect("registry");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    (registry, rt)
}

#[test]
fn any_json_input_is_answered_or_refused_as_invalid() {
    let (registry, rt) = harness();
    runner()
        .run(&json_value(), |input| {
            check(&registry, &rt, input);
            Ok(())
        })
        .expect("property holds");
}

#[test]
fn valid_inputs_always_decode() {
    let (registry, rt) = harness();
    runner()
        .run(&valid_rich(), |input| {
            let flow = registry.flow("rich").expect("registered");
            prop_assert!(flow.schemas().validate_input(&input).is_ok(), "{input}");
            check(&registry, &rt, input);
            Ok(())
        })
        .expect("property holds");
}
