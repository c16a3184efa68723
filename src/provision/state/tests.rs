use super::*;
use OperationKind::{Deploy, Undeploy};
use OperationStatus::*;

/// `(status, progress before the wait, progress after it)`.
type Expect = (OperationStatus, Option<u8>, Option<u8>);

const A0: Expect = (Accepted, Some(0), Some(0));
const DONE: Expect = (Completed, Some(100), Some(100));
const FAIL: Expect = (Failed, None, None);
const fn run(before: u8, after: u8) -> Expect {
    (InProgress, Some(before), Some(after))
}

/// Every state: `(state, deploy, undeploy)`, in the order of [`STATES`].
const TABLE: [(&str, Expect, Expect); 31] = [
    ("enroll", FAIL, FAIL),
    ("verifying", FAIL, FAIL),
    ("manageable", FAIL, FAIL),
    ("inspecting", FAIL, FAIL),
    ("inspect wait", FAIL, FAIL),
    ("inspect failed", FAIL, FAIL),
    ("cleaning", A0, run(50, 75)),
    ("clean wait", A0, run(60, 60)),
    ("clean hold", A0, run(50, 75)),
    ("clean failed", FAIL, FAIL),
    ("available", A0, DONE),
    ("deploying", run(25, 75), A0),
    ("wait call-back", run(50, 50), A0),
    ("deploy hold", run(25, 75), A0),
    ("deploy failed", FAIL, A0),
    ("active", DONE, A0),
    ("deleting", A0, run(25, 25)),
    ("error", FAIL, FAIL),
    ("rebuild", run(25, 25), A0),
    ("rescuing", DONE, A0),
    ("rescue wait", DONE, A0),
    ("rescue failed", DONE, A0),
    ("rescue", DONE, A0),
    ("unrescuing", DONE, A0),
    ("unrescue failed", DONE, A0),
    ("adopting", FAIL, FAIL),
    ("adopt failed", FAIL, FAIL),
    ("servicing", DONE, A0),
    ("service wait", DONE, A0),
    ("service hold", DONE, A0),
    ("service failed", DONE, A0),
];

fn check(kind: OperationKind, state: &str, (status_, before, after): Expect) {
    assert_eq!(
        status(kind, state, false),
        (status_, before),
        "{kind:?} {state}"
    );
    assert_eq!(
        status(kind, state, true),
        (status_, after),
        "{kind:?} {state} seen"
    );
}

#[test]
fn every_state_maps_as_the_table_says() {
    assert_eq!(TABLE.map(|(state, ..)| state), STATES);
    for (state, deploy, undeploy) in TABLE {
        check(Deploy, state, deploy);
        check(Undeploy, state, undeploy);
    }
}

#[test]
fn the_states_are_distinct_lowercase_ironic_names() {
    let mut sorted = STATES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), STATES.len());
    for state in STATES {
        assert_eq!(state, state.trim().to_lowercase(), "{state}");
    }
}

#[test]
fn unknown_states_are_in_progress_without_progress() {
    for state in [
        "",
        "deleted",
        "Active",
        "deploy complete",
        "quantum tunnelling",
    ] {
        for kind in [Deploy, Undeploy] {
            for seen in [false, true] {
                assert_eq!(status(kind, state, seen), (InProgress, None), "{state:?}");
            }
        }
    }
}

#[test]
fn each_path_walks_forward_from_accepted_to_completed() {
    let walk = |kind, path: &[&str]| {
        let mut seen = false;
        let mut last = 0;
        let mut statuses = vec![];
        for state in path {
            seen |= is_wait(kind, state);
            let (status_, progress) = status(kind, state, seen);
            let progress = progress.unwrap();
            assert!(progress >= last, "{kind:?} {state}: {progress} < {last}");
            last = progress;
            statuses.push(status_);
        }
        assert_eq!(last, 100);
        statuses
    };
    let deploy = [
        "available",
        "deploying",
        "wait call-back",
        "deploying",
        "active",
    ];
    assert_eq!(
        walk(Deploy, &deploy),
        [Accepted, InProgress, InProgress, InProgress, Completed]
    );
    let undeploy = [
        "active",
        "deleting",
        "cleaning",
        "clean wait",
        "cleaning",
        "available",
    ];
    assert_eq!(
        walk(Undeploy, &undeploy),
        [Accepted, InProgress, InProgress, InProgress, InProgress, Completed]
    );
    // Holds between steps keep the progress of the step they pause.
    walk(
        Deploy,
        &[
            "deploying",
            "wait call-back",
            "deploy hold",
            "deploying",
            "active",
        ],
    );
    walk(
        Undeploy,
        &[
            "cleaning",
            "clean hold",
            "clean wait",
            "clean hold",
            "available",
        ],
    );
}

#[test]
fn only_each_kinds_own_wait_state_is_its_wait() {
    for state in STATES {
        assert_eq!(is_wait(Deploy, state), state == "wait call-back", "{state}");
        assert_eq!(is_wait(Undeploy, state), state == "clean wait", "{state}");
    }
}

#[test]
fn every_state_has_its_own_sentence() {
    let mut sentences: Vec<String> = STATES.iter().map(|state| message(state, None)).collect();
    for (state, sentence) in STATES.iter().zip(&sentences) {
        assert!(sentence.ends_with('.'), "{state}: {sentence}");
        assert!(!sentence.contains("unknown"), "{state}: {sentence}");
    }
    sentences.sort_unstable();
    sentences.dedup();
    assert_eq!(sentences.len(), STATES.len());
    assert_eq!(
        message("quantum tunnelling", None),
        "The node is in provision state \"quantum tunnelling\", unknown to this canister."
    );
}

#[test]
fn messages_quote_ironics_last_error_bounded() {
    assert_eq!(
        message("deploy failed", Some(" Image checksum mismatch \n")),
        "Deploying the image to the node failed. Ironic reports: Image checksum mismatch"
    );
    assert_eq!(message("active", Some("  ")), message("active", None));
    assert_eq!(
        message("gone", Some("boom")),
        "The node is in provision state \"gone\", unknown to this canister. Ironic reports: boom"
    );
    let long = "é".repeat(MAX_ERROR_BYTES);
    let sentence = message("error", Some(&long));
    let quoted = sentence
        .strip_prefix("Tearing down the node's instance failed. Ironic reports: ")
        .unwrap()
        .strip_suffix('…')
        .unwrap();
    assert_eq!(quoted.len(), MAX_ERROR_BYTES);
    assert!(quoted.chars().all(|c| c == 'é'));
    let exact = "x".repeat(MAX_ERROR_BYTES);
    assert!(message("error", Some(&exact)).ends_with(&exact));
}

/// `Accepted 0`, `InProgress 25 / 75`, `Failed —`: one cell of the docs' table.
fn cell((status_, before, after): Expect) -> String {
    let number = |progress: Option<u8>| progress.map_or("—".to_string(), |p| p.to_string());
    if before == after {
        format!("{status_:?} {}", number(before))
    } else {
        format!("{status_:?} {} / {}", number(before), number(after))
    }
}

#[test]
fn the_docs_table_is_this_one() {
    let docs = include_str!("../../../docs/provisioning.md");
    let rows: Vec<Vec<&str>> = docs
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| line.split('|').map(str::trim).collect())
        .collect();
    let expected: Vec<Vec<String>> = STATES
        .iter()
        .map(|state| {
            let of = |kind| {
                let (status_, before) = status(kind, state, false);
                let (_, after) = status(kind, state, true);
                cell((status_, before, after))
            };
            vec![format!("`{state}`"), of(Deploy), of(Undeploy)]
        })
        .collect();
    let found: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row[1..4].iter().map(|cell| cell.to_string()).collect())
        .collect();
    assert_eq!(found, expected);
}
