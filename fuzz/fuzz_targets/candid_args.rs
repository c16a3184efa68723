//! Candid argument decoding of every method, with the endpoints' quotas.
//!
//! The first byte picks the method (modulo the number of methods: `marketplace::methods::METHODS`
//! in its order, then `init` and `post_upgrade`), the rest is its argument. The method's own
//! `decode` (what the endpoint and `inspect_message` run) never panics (nor runs away:
//! libFuzzer's `-timeout` and `-rss_limit_mb` catch a bomb that slips past the quota); the typed
//! decode of `fuzz/src/methods.rs` agrees with it on what decodes; and a value that decodes
//! encodes again and decodes to itself.
#![no_main]

use fuzz_support::methods::{picks, Pick};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static PICKS: OnceLock<Vec<Pick>> = OnceLock::new();

fuzz_target!(|bytes: &[u8]| {
    let picks = PICKS.get_or_init(picks);
    let Some((&selector, argument)) = bytes.split_first() else {
        return;
    };
    let pick = &picks[selector as usize % picks.len()];
    let endpoint = pick.decode.map(|decode| decode(argument));
    let typed = pick.typed.map(|typed| (typed.check)(argument));
    if let (Some(endpoint), Some(typed)) = (&endpoint, &typed) {
        // The endpoint's decoder and the typed one agree on what decodes.
        assert_eq!(
            endpoint.is_ok(),
            typed.is_ok(),
            "{}: the endpoint says {endpoint:?}, its type says {typed:?}",
            pick.name
        );
    }
});
