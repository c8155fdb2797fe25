//! The official JSON-Schema-Test-Suite (draft 2020-12) against genflow's input validator.
//!
//! `JSON_SCHEMA_TEST_SUITE` names the suite's `tests/draft2020-12` directory (the `jsonschema`
//! source distribution on PyPI ships it as `json/tests/draft2020-12`; `.ci/run` downloads it).
//! Every case of every file in [`CLAIMED`] must come out as the suite says, except the groups in
//! [`KNOWN_UNSUPPORTED`], whose schemas the validator must refuse (a listed group that compiles
//! fails the test too, so the list stays true). Every file of the directory is either claimed
//! or in [`NOT_CLAIMED`]; the `optional` subdirectory is not run. Without the variable the test
//! is skipped, except when `CI` is set. Run it with `-- --nocapture` to see the pass count per
//! file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use genflow_runtime::__private::Validator;
use serde_json::Value;

/// The files of the keywords the validator claims.
const CLAIMED: &[&str] = &[
    "additionalProperties.json",
    "allOf.json",
    "anyOf.json",
    "boolean_schema.json",
    "const.json",
    "contains.json",
    "content.json",
    "default.json",
    "dependentRequired.json",
    "dependentSchemas.json",
    "enum.json",
    "exclusiveMaximum.json",
    "exclusiveMinimum.json",
    "format.json",
    "if-then-else.json",
    "infinite-loop-detection.json",
    "items.json",
    "maxContains.json",
    "maxItems.json",
    "maxLength.json",
    "maxProperties.json",
    "maximum.json",
    "minContains.json",
    "minItems.json",
    "minLength.json",
    "minProperties.json",
    "minimum.json",
    "multipleOf.json",
    "not.json",
    "oneOf.json",
    "pattern.json",
    "patternProperties.json",
    "prefixItems.json",
    "properties.json",
    "propertyNames.json",
    "ref.json",
    "required.json",
    "type.json",
    "unevaluatedProperties.json",
    "uniqueItems.json",
];

/// The files the validator does not claim, and why.
const NOT_CLAIMED: &[(&str, &str)] = &[
    (
        "anchor.json",
        "`$anchor` and `$id` references: only `#` JSON-pointer references into the same schema",
    ),
    (
        "defs.json",
        "checks schemas against the draft's meta-schema, a remote `$ref`",
    ),
    ("dynamicRef.json", "`$dynamicRef` is refused"),
    ("refRemote.json", "remote references are refused"),
    ("unevaluatedItems.json", "`unevaluatedItems` is refused"),
    (
        "vocabulary.json",
        "custom meta-schemas and `$vocabulary` are not read",
    ),
];

/// A group of cases (one schema) of a claimed file whose schema the validator refuses, as it
/// refuses every schema it cannot honour in full.
struct Refused {
    file: &'static str,
    /// The group's description in the suite.
    group: &'static str,
    /// What the schema uses that the validator does not support.
    reason: &'static str,
}

/// Why the groups below are refused: references are resolved as JSON pointers into the same
/// schema (`#`, `#/$defs/Name`); `$id` does not set a base URI to resolve against.
const BY_ID: &str = "a `$ref` resolved against an `$id` (base URIs are not supported)";

/// The groups of claimed files whose schemas are refused. Each must stay refused (the test
/// fails when one compiles, so the list stays true); their cases are not run.
const KNOWN_UNSUPPORTED: &[Refused] = &[
    Refused {
        file: "ref.json",
        group: "remote ref, containing refs itself",
        reason: "a remote `$ref` (the draft's meta-schema)",
    },
    Refused {
        file: "ref.json",
        group: "Recursive references between schemas",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "refs with relative uris and defs",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "relative refs with absolute uris and defs",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "$id must be resolved against nearest parent, not just immediate parent",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "order of evaluation: $id and $ref",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "order of evaluation: $id and $anchor and $ref",
        reason: "a `$ref` to an `$anchor` (anchors are not supported)",
    },
    Refused {
        file: "ref.json",
        group: "simple URN base URI with $ref via the URN",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "URN base URI with URN and JSON pointer ref",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "URN base URI with URN and anchor ref",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "URN ref with nested pointer ref",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "ref to if",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "ref to then",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "ref to else",
        reason: BY_ID,
    },
    Refused {
        file: "ref.json",
        group: "ref with absolute-path-reference",
        reason: BY_ID,
    },
    Refused {
        file: "unevaluatedProperties.json",
        group: "unevaluatedProperties with $dynamicRef",
        reason: "`$dynamicRef`, reached through a `$ref` resolved against an `$id`",
    },
];

/// One file's outcome, in cases.
#[derive(Default)]
struct Tally {
    passed: usize,
    refused: usize,
    total: usize,
}

#[test]
fn draft_2020_12_suite() {
    let Some(dir) = suite_dir() else {
        return;
    };
    check_listing(&dir);
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut seen = vec![false; KNOWN_UNSUPPORTED.len()];
    for file in CLAIMED {
        let tally = tallies.entry(file).or_default();
        for group in read_cases(&dir.join(file)) {
            let name = group["description"].as_str().unwrap_or_default();
            let tests = group["tests"].as_array().map_or(&[][..], Vec::as_slice);
            tally.total += tests.len();
            let validator = Validator::new(&group["schema"]);
            let listed = KNOWN_UNSUPPORTED
                .iter()
                .position(|k| k.file == *file && k.group == name);
            if let Some(i) = listed {
                seen[i] = true;
                if validator.is_ok() {
                    failures.push(format!(
                        "{file} / {name}: listed as unsupported but compiles; remove it from KNOWN_UNSUPPORTED"
                    ));
                }
                tally.refused += tests.len();
                continue;
            }
            let validator = match validator {
                Ok(validator) => validator,
                Err(e) => {
                    failures.push(format!("{file} / {name}: the schema is refused: {e}"));
                    continue;
                }
            };
            for test in tests {
                let expected = test["valid"]
                    .as_bool()
                    .expect("a test says whether it is valid");
                let violations = validator.violations(&test["data"]);
                if violations.is_empty() == expected {
                    tally.passed += 1;
                } else {
                    failures.push(format!(
                        "{file} / {name} / {}: expected valid = {expected}, got {violations:?}",
                        test["description"]
                    ));
                }
            }
        }
    }
    for (k, seen) in KNOWN_UNSUPPORTED.iter().zip(seen) {
        if !seen {
            failures.push(format!(
                "{} / {}: listed as unsupported but not in the suite",
                k.file, k.group
            ));
        }
    }
    let (mut passed, mut total) = (0, 0);
    for (file, t) in &tallies {
        println!(
            "{file}: {} of {} pass, {} refused as listed",
            t.passed, t.total, t.refused
        );
        passed += t.passed;
        total += t.total;
    }
    for k in KNOWN_UNSUPPORTED {
        println!("refused: {} / {}: {}", k.file, k.group, k.reason);
    }
    println!(
        "JSON-Schema-Test-Suite draft 2020-12: {passed} of {total} cases of the claimed files pass"
    );
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The suite's directory, or `None` (with a note) when it is not given outside CI.
fn suite_dir() -> Option<PathBuf> {
    match std::env::var_os("JSON_SCHEMA_TEST_SUITE") {
        Some(dir) => Some(PathBuf::from(dir)),
        None if std::env::var_os("CI").is_none() => {
            eprintln!(
                "skipped: set JSON_SCHEMA_TEST_SUITE to the suite's tests/draft2020-12 directory \
                 (pip download --no-deps --no-binary :all: jsonschema; json/tests/draft2020-12)"
            );
            None
        }
        None => panic!("JSON_SCHEMA_TEST_SUITE is required in CI"),
    }
}

/// Every `.json` file of the directory is claimed or listed as not claimed, and no listed file
/// is missing.
fn check_listing(dir: &Path) {
    let mut present: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").file_name())
        .filter_map(|name| name.into_string().ok())
        .filter(|name| name.ends_with(".json"))
        .collect();
    present.sort();
    let mut listed: Vec<&str> = CLAIMED
        .iter()
        .copied()
        .chain(NOT_CLAIMED.iter().map(|(file, _)| *file))
        .collect();
    listed.sort_unstable();
    assert_eq!(present, listed, "the suite's files and the lists differ");
}

fn read_cases(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
