//! The `availability` tool: the free windows of one item, or of a SKU's items a page at a
//! time, between two times (the canister's `availability` query). Its router joins the others
//! in `ProvisionTools::new`.

use super::{decode, encode};
use crate::backend::Kind;
use crate::tools::ProvisionTools;
use marketplace::api::{
    AvailabilityArg, AvailabilityPage, FreeWindow, ItemAvailability, MarketError,
};
use marketplace::time::SECOND_NS;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use runner::duration::rfc3339;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A week: the range when `to_ns` is left out.
const DEFAULT_RANGE_NS: u64 = 7 * 86_400 * SECOND_NS;

/// `availability`'s arguments: an item or a SKU, the range, and for a SKU the page.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityParams {
    /// One item (its id, as executions show it); or leave it out and give `sku`.
    #[serde(default)]
    pub item_id: Option<u64>,
    /// Every item of this SKU (e.g. "4D.large"), a page at a time.
    #[serde(default)]
    pub sku: Option<String>,
    /// From (nanoseconds since the Unix epoch); now when absent.
    #[serde(default)]
    pub from_ns: Option<u64>,
    /// To (nanoseconds since the Unix epoch), at most 366 days after from_ns; a week after it
    /// when absent.
    #[serde(default)]
    pub to_ns: Option<u64>,
    /// For a SKU: a previous page's next_cursor, with the same other arguments.
    #[serde(default)]
    pub cursor: Option<u64>,
    /// For a SKU: items per page (default 100; the canister caps it).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl AvailabilityParams {
    /// The canister's argument; `now_ns` stands for an absent `from_ns`.
    pub fn arg(&self, now_ns: u64) -> Result<AvailabilityArg, String> {
        if self.item_id.is_none() && self.sku.is_none() {
            return Err("InvalidArgument: give item_id or sku".into());
        }
        if self.item_id.is_some() && (self.cursor.is_some() || self.limit.is_some()) {
            return Err(
                "InvalidArgument: cursor and limit page a SKU's items, not one item".into(),
            );
        }
        let from_ns = self.from_ns.unwrap_or(now_ns);
        Ok(AvailabilityArg {
            item_id: self.item_id,
            sku: self.sku.clone(),
            from_ns,
            to_ns: self
                .to_ns
                .unwrap_or(from_ns.saturating_add(DEFAULT_RANGE_NS)),
            after: self.cursor,
            limit: self.limit,
        })
    }
}

/// Unbooked time of an open offer: a lease may book any part of it at least
/// `min_duration_seconds` long (and at least a minute), on the offer's grid. Times are
/// nanoseconds since the Unix epoch, also in RFC 3339.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FreeWindowOut {
    pub start_ns: u64,
    pub start: String,
    pub end_ns: u64,
    pub end: String,
    /// The open offer the time belongs to.
    pub offer_id: u64,
    /// Hundredths of a US dollar per hour.
    pub price_per_hour: u64,
    /// The offer's shortest lease (0: none past a minute).
    pub min_duration_seconds: u64,
    /// The grid lease windows snap to, counted from the offer's start (0: none).
    pub granularity_seconds: u64,
}

impl From<FreeWindow> for FreeWindowOut {
    fn from(w: FreeWindow) -> Self {
        Self {
            start_ns: w.start_ns,
            start: rfc3339(w.start_ns),
            end_ns: w.end_ns,
            end: rfc3339(w.end_ns),
            offer_id: w.offer_id,
            price_per_hour: w.price_per_hour,
            min_duration_seconds: w.min_duration_seconds,
            granularity_seconds: w.granularity_seconds,
        }
    }
}

/// One item's free windows in the range.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ItemAvailabilityOut {
    pub item_id: u64,
    pub sku: String,
    /// Earliest first.
    pub windows: Vec<FreeWindowOut>,
    /// More free windows than one answer lists: ask again from the last window's end.
    pub truncated: bool,
}

impl From<ItemAvailability> for ItemAvailabilityOut {
    fn from(i: ItemAvailability) -> Self {
        Self {
            item_id: i.item_id,
            sku: i.sku,
            windows: i.windows.into_iter().map(Into::into).collect(),
            truncated: i.truncated,
        }
    }
}

/// `availability`: the items with free time in the range.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AvailabilityResult {
    /// Items with free time in the range (a SKU's others are left out).
    pub items: Vec<ItemAvailabilityOut>,
    /// For a SKU, present when more items may follow: call again with this as `cursor`.
    pub next_cursor: Option<u64>,
}

impl From<AvailabilityPage> for AvailabilityResult {
    fn from(page: AvailabilityPage) -> Self {
        Self {
            items: page.items.into_iter().map(Into::into).collect(),
            next_cursor: page.next,
        }
    }
}

fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[tool_router(router = availability_router, vis = "pub(crate)")]
impl ProvisionTools {
    /// Annotations: a query (read-only) of the market's live offers and bookings (open world).
    #[tool(
        description = "When servers are free to lease: the free windows of one item (item_id) \
                       or of every item of a SKU (sku, a page at a time: pass next_cursor back \
                       as cursor) between from_ns and to_ns (default: now to a week later), \
                       each with its offer, price per hour and terms (shortest lease, grid). \
                       Private offers show only to the principals they name.",
        annotations(
            title = "Availability",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn availability(
        &self,
        Parameters(params): Parameters<AvailabilityParams>,
    ) -> Result<Json<AvailabilityResult>, String> {
        let arg = params.arg(now_ns())?;
        let reply = self.call("availability", Kind::Query, encode(&arg)).await?;
        decode::<AvailabilityPage, MarketError>("availability", &reply).map(|p| Json(p.into()))
    }
}
