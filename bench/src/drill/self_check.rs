//! The market's self-check (`market_self_check`) walked page by page: after the upgrade the
//! drill fails on any violation, and reports what the largest page cost.

use super::views::Views;
use candid::Principal;
use ic0_host::Host;
use marketplace::api::*;

/// Records per page when the drill measures: the canister's cap (`MAX_PAGE`).
pub const CAP: u32 = 500;

/// What one walk over every page found.
#[derive(Debug, Default)]
pub struct SelfCheckRun {
    pub pages: u32,
    pub records: u64,
    /// The most instructions one page took.
    pub max_page_instructions: u64,
    pub violations: Vec<String>,
}

/// Walks every page at `limit` under the host's instruction limits (the drill calls it with the
/// real ones, so a page over the query limit fails the walk).
pub(super) fn walk(host: &mut Host, controller: Principal, limit: u32) -> SelfCheckRun {
    let mut run = SelfCheckRun::default();
    let mut cursor = None;
    loop {
        let arg = SelfCheckArg {
            cursor,
            limit: Some(limit),
        };
        let reply = host
            .query(
                controller,
                "market_self_check",
                &candid::encode_one(arg).unwrap(),
            )
            .unwrap_or_else(|r| panic!("market_self_check page {}: {r}", run.pages + 1));
        run.max_page_instructions = run.max_page_instructions.max(host.last_instructions());
        let page: Result<SelfCheckPage, MarketError> =
            candid::decode_one(&reply).expect("market_self_check reply");
        let page = page.unwrap_or_else(|e| panic!("market_self_check: {e:?}"));
        run.pages += 1;
        run.records += u64::from(page.checked);
        run.violations.extend(
            page.violations
                .iter()
                .map(|v| format!("{}: {}", v.rule, v.detail)),
        );
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    run
}

/// The snapshot's view: every page at the default size, compared across the upgrade like any
/// other view.
pub(super) fn views(host: &mut Host, v: &mut Views, controller: Principal, anyone: Principal) {
    let mut cursor = None;
    for page in 1.. {
        let arg = SelfCheckArg {
            cursor,
            limit: None,
        };
        let reply: Result<SelfCheckPage, MarketError> = v.typed(
            host,
            controller,
            "market_self_check",
            format!("#{page}"),
            arg,
        );
        match reply.expect("market_self_check").next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    v.one(
        host,
        anyone,
        "market_self_check",
        "stranger".into(),
        SelfCheckArg::default(),
    );
}
