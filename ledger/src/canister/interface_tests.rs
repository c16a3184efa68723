//! The checked-in Candid file is the code's interface, so it can never drift.

use candid_parser::utils::{service_equal, CandidSource};
use std::path::Path;

#[test]
fn did_file_matches_the_exported_interface() {
    let exported = super::__export_service();
    let did = Path::new(env!("CARGO_MANIFEST_DIR")).join("ledger.did");
    if let Err(e) = service_equal(CandidSource::Text(&exported), CandidSource::File(&did)) {
        panic!("ledger/ledger.did differs from the code: {e}\nexported:\n{exported}");
    }
}
