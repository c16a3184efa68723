//! Typed calls of the market's self-check (`market_self_check`).

use super::market::MarketResult;
use super::Canister;
use candid::Principal;
use marketplace::api::*;

/// Every page of a walk: the violations, the pages and the records checked.
#[derive(Debug, Default)]
pub struct SelfCheckWalk {
    pub violations: Vec<Violation>,
    pub pages: u32,
    pub checked: u64,
}

impl Canister {
    pub fn market_self_check(
        &mut self,
        caller: Principal,
        arg: SelfCheckArg,
    ) -> MarketResult<SelfCheckPage> {
        self.market_query(caller, "market_self_check", arg)
    }

    /// Every page at `limit`, as a controller; `each` sees each page's reply.
    pub fn self_check_walk(
        &mut self,
        limit: Option<u32>,
        mut each: impl FnMut(&mut Self, &SelfCheckPage),
    ) -> SelfCheckWalk {
        let controller = self.controller();
        let mut walk = SelfCheckWalk::default();
        let mut cursor = None;
        for _ in 0..100_000 {
            let page = self
                .market_self_check(controller, SelfCheckArg { cursor, limit })
                .expect("market_self_check");
            each(self, &page);
            walk.pages += 1;
            walk.checked += u64::from(page.checked);
            walk.violations.extend(page.violations);
            match page.next {
                None => return walk,
                Some(next) => {
                    assert!(cursor.is_none_or(|c| next > c), "next goes back");
                    cursor = Some(next);
                }
            }
        }
        panic!("market_self_check pages never end");
    }
}
