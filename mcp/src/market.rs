//! The market tools: search the catalog, list the SKUs, request an offerset, accept
//! an offer with the lessee key the server keeps, follow the lease (opening its credentials),
//! and end it; `leases` has the rest of a lease's life, `availability` the free windows of
//! items. Their routers join the provisioning tools' in `ProvisionTools::new`.

pub mod availability;
pub mod keys;
pub mod leases;
pub mod types;

use crate::backend::Kind;
use crate::tools::{call_failed, ProvisionTools};
use marketplace::api::{
    AcceptArg, Execution, Filters, Format, GpuFilter, MarketError, Offerings, OffersetView,
    PriceFilter, Product, ResourceRequest, SearchError, SearchPage, SearchQuery, SortOrder,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::Deserialize;
use types::*;

/// Search order, by price (then provider, then key).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    PriceAsc,
    PriceDesc,
}

/// `search_offerings`' arguments: text, filters (every one given must hold), order and page.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchOfferingsParams {
    /// Words that must all appear in the offering (at most 16 words, 256 bytes).
    #[serde(default)]
    pub text: Option<String>,
    /// Datacenter country, ISO 3166-1 alpha-2 (any case).
    #[serde(default)]
    pub country: Option<String>,
    /// Datacenter city (the part before a comma).
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub product_type: Option<ProductKind>,
    #[serde(default)]
    pub virtualization: Option<Virt>,
    #[serde(default)]
    pub billing: Option<Billing>,
    #[serde(default)]
    pub stock: Option<StockLevel>,
    #[serde(default)]
    pub min_cores: Option<u32>,
    #[serde(default)]
    pub min_memory_mb: Option<u64>,
    #[serde(default)]
    pub min_ssd_gb: Option<u64>,
    #[serde(default)]
    pub min_hdd_gb: Option<u64>,
    /// With a GPU (true) or without (false).
    #[serde(default)]
    pub gpu: Option<bool>,
    /// A GPU whose name contains this ("rtx 40" finds "NVIDIA RTX 4090"); not with `gpu`.
    #[serde(default)]
    pub gpu_name: Option<String>,
    /// One of the offering's operating systems.
    #[serde(default)]
    pub os: Option<String>,
    /// One of the offering's features ("native ipv6").
    #[serde(default)]
    pub feature: Option<String>,
    #[serde(default)]
    pub unmetered: Option<bool>,
    /// The price filter's currency (ISO 4217); required with min/max_price_minor.
    #[serde(default)]
    pub currency: Option<String>,
    /// Lowest monthly price, hundredths of `currency`.
    #[serde(default)]
    pub min_price_minor: Option<u64>,
    /// Highest monthly price, hundredths of `currency`.
    #[serde(default)]
    pub max_price_minor: Option<u64>,
    /// Default price_asc.
    #[serde(default)]
    pub sort: Option<Sort>,
    /// A previous page's next_cursor, with the same other arguments.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Offerings per page, 1 to 200 (default 50).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl SearchOfferingsParams {
    pub fn query(&self) -> Result<SearchQuery, String> {
        let price = match (&self.currency, self.min_price_minor, self.max_price_minor) {
            (None, None, None) => None,
            (None, _, _) => {
                return Err(
                    "InvalidArgument: min_price_minor and max_price_minor need a currency".into(),
                )
            }
            (Some(currency), min_minor, max_minor) => Some(PriceFilter {
                currency: currency.clone(),
                min_minor,
                max_minor,
            }),
        };
        let gpu = match (self.gpu, &self.gpu_name) {
            (Some(_), Some(_)) => {
                return Err("InvalidArgument: give gpu or gpu_name, not both".into())
            }
            (Some(present), None) => Some(GpuFilter::Present(present)),
            (None, Some(name)) => Some(GpuFilter::Name(name.clone())),
            (None, None) => None,
        };
        let filters = Filters {
            price,
            country: self.country.clone(),
            city: self.city.clone(),
            product_type: self.product_type.map(Into::into),
            virtualization: self.virtualization.map(Into::into),
            billing: self.billing.map(Into::into),
            stock: self.stock.map(Into::into),
            min_cores: self.min_cores,
            min_memory_mb: self.min_memory_mb,
            min_ssd_gb: self.min_ssd_gb,
            min_hdd_gb: self.min_hdd_gb,
            gpu,
            os: self.os.clone(),
            feature: self.feature.clone(),
            unmetered: self.unmetered,
        };
        Ok(SearchQuery {
            text: self.text.clone(),
            filters: Some(filters),
            sort: self.sort.map(|sort| match sort {
                Sort::PriceAsc => SortOrder::PriceAsc,
                Sort::PriceDesc => SortOrder::PriceDesc,
            }),
            cursor: self.cursor.clone(),
            limit: self.limit,
            format: Some(Format::Records),
        })
    }
}

/// `request_offerset`'s arguments: what the agent needs, when, for how long, at most what price.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestOffersetParams {
    /// The OS image to deploy on the server.
    pub image: String,
    /// How long the lease runs, in seconds.
    pub duration_seconds: u64,
    /// Start (nanoseconds since the Unix epoch); as soon as possible when absent.
    #[serde(default)]
    pub start_ns: Option<u64>,
    /// A SKU from the products tool, e.g. "4D.large".
    #[serde(default)]
    pub sku: Option<String>,
    /// An Ironic resource class, e.g. "baremetal.large".
    #[serde(default)]
    pub resource_class: Option<String>,
    #[serde(default)]
    pub min_cores: Option<u32>,
    #[serde(default)]
    pub min_memory_mb: Option<u64>,
    #[serde(default)]
    pub min_storage_gb: Option<u64>,
    #[serde(default)]
    pub min_gpus: Option<u32>,
    /// Highest price, hundredths of a US dollar per hour.
    #[serde(default)]
    pub max_price_per_hour: Option<u64>,
    /// How many offers at most (default 3).
    #[serde(default)]
    pub offers: Option<u32>,
    /// The consumer's project; the caller's principal when absent.
    #[serde(default)]
    pub project: Option<String>,
    /// With start_ns: how many of the offers may start at another time when a server is
    /// booked at start_ns (the nearest free window of the same offer, earlier or later;
    /// default 0). Without start_ns every offer starts as soon as its server is free.
    #[serde(default)]
    pub alternative_starts: Option<u32>,
}

impl RequestOffersetParams {
    pub fn request(&self) -> ResourceRequest {
        ResourceRequest {
            alternative_starts: self.alternative_starts,
            min_cores: self.min_cores,
            min_memory_mb: self.min_memory_mb,
            min_storage_gb: self.min_storage_gb,
            min_gpus: self.min_gpus,
            sku: self.sku.clone(),
            resource_class: self.resource_class.clone(),
            start_ns: self.start_ns,
            duration_seconds: self.duration_seconds,
            max_price_per_hour: self.max_price_per_hour,
            image: self.image.clone(),
            offers: self.offers,
            project: self.project.clone(),
        }
    }
}

/// An execution, by id.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecutionParams {
    /// The execution (an offer of an offerset, then its lease).
    pub execution_id: u64,
}

/// A reply `Result<T, E>`: the value, or the tool error naming E's variant (its Debug form
/// starts with the variant's name, then its fields).
pub fn decode<T, E>(method: &str, bytes: &[u8]) -> Result<T, String>
where
    T: candid::CandidType + serde::de::DeserializeOwned,
    E: candid::CandidType + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match candid::decode_one::<Result<T, E>>(bytes) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(format!("{error:?}")),
        Err(e) => Err(format!(
            "CallFailed: cannot decode the reply of {method}: {e}"
        )),
    }
}

pub fn search_reply(bytes: &[u8]) -> Result<SearchResult, String> {
    let page = decode::<SearchPage, SearchError>("offerings_search", bytes)?;
    let Offerings::Records(records) = page.offerings else {
        return Err("CallFailed: offerings_search replied in another format than Records".into());
    };
    Ok(SearchResult {
        offerings: records
            .offerings
            .into_iter()
            .map(|view| Offering::from_view(view, &records.providers))
            .collect(),
        next_cursor: page.next_cursor,
    })
}

pub fn products_reply(bytes: &[u8]) -> Result<ProductsResult, String> {
    candid::decode_one::<Vec<Product>>(bytes)
        .map(|products| ProductsResult {
            products: products.into_iter().map(Into::into).collect(),
        })
        .map_err(|e| format!("CallFailed: cannot decode the reply of products: {e}"))
}

fn encode<T: candid::CandidType>(value: &T) -> Vec<u8> {
    candid::encode_one(value).expect("the argument always encodes")
}

#[tool_router(router = market_router, vis = "pub(crate)")]
impl ProvisionTools {
    /// Annotations: a query (read-only); its catalog is what providers publish (open world).
    #[tool(
        description = "Search the marketplace catalog of server offerings by text and filters \
                       (country, city, cores, memory, disks, GPU, OS, feature, price), by price. \
                       A page at a time: pass next_cursor back as cursor, with the same other \
                       arguments, for the next page.",
        annotations(
            title = "Search offerings",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn search_offerings(
        &self,
        Parameters(params): Parameters<SearchOfferingsParams>,
    ) -> Result<Json<SearchResult>, String> {
        let query = params.query()?;
        let reply = self
            .call("offerings_search", Kind::Query, encode(&query))
            .await?;
        search_reply(&reply).map(Json)
    }

    /// Annotations: a query (read-only) of the market's live items and offers (open world).
    #[tool(
        description = "List the market's products (SKUs) with how many servers each has, how \
                       many are available and leasable now, and the lowest open price per hour.",
        annotations(
            title = "List products",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn products(&self) -> Result<Json<ProductsResult>, String> {
        let reply = self
            .call(
                "products",
                Kind::Query,
                candid::encode_args(()).expect("()"),
            )
            .await?;
        products_reply(&reply).map(Json)
    }

    /// Annotations: an update that records an offerset and holds servers for its offers (not
    /// read-only), adds without removing anything (not destructive), and holds more servers on
    /// each call (not idempotent).
    #[tool(
        description = "Request an offerset: match the requirements (image, duration, cores, \
                       memory, SKU, price, start) against open offers. Returns result yes/no, \
                       messages, and the offers cheapest first, each holding its server until \
                       expires_at; accept one with accept_offer.",
        annotations(
            title = "Request an offerset",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = false,
            open_world_hint = true
        )
    )]
    async fn request_offerset(
        &self,
        Parameters(params): Parameters<RequestOffersetParams>,
    ) -> Result<Json<OffersetOut>, String> {
        let reply = self
            .call("offerset_request", Kind::Update, encode(&params.request()))
            .await?;
        decode::<OffersetView, MarketError>("offerset_request", &reply)
            .map(|view| Json(view.into()))
    }

    /// Annotations: an update (not read-only) that rejects the offerset's other offers
    /// (destructive) and commits the caller to the lease; accepting it again is refused and
    /// changes nothing (idempotent).
    #[tool(
        description = "Accept an offer (an execution of an offerset): it becomes the caller's \
                       lease, its sibling offers are rejected. The server's own lessee key \
                       (X25519, kept by mkt-mcp, never returned) is given so the provider can \
                       seal the lease's credentials to it; lease_status opens them.",
        annotations(
            title = "Accept an offer",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn accept_offer(
        &self,
        Parameters(params): Parameters<ExecutionParams>,
    ) -> Result<Json<ExecutionOut>, String> {
        let arg = AcceptArg {
            execution_id: params.execution_id,
            lessee_key: Some(self.lessee_public_key().await?.into()),
            lessee_key_hex: None,
        };
        let reply = self
            .call("execution_accept", Kind::Update, encode(&arg))
            .await?;
        decode::<Execution, MarketError>("execution_accept", &reply).map(|e| Json(e.into()))
    }

    /// Annotations: a query (read-only); opening the credentials reads the local key file.
    #[tool(
        description = "A lease's status: its phase (offered, accepted, waiting, preparing, \
                       available, releasing, completed, …), window, price and server, and its \
                       credentials opened with the server's lessee key once the provider has \
                       sealed them.",
        annotations(
            title = "Lease status",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn lease_status(
        &self,
        Parameters(params): Parameters<ExecutionParams>,
    ) -> Result<Json<LeaseStatusResult>, String> {
        let reply = self
            .call("execution_get", Kind::Query, encode(&params.execution_id))
            .await?;
        decode::<Execution, MarketError>("execution_get", &reply)
            .map(|e| Json(self.lessee_keys().status(e)))
    }

    /// Annotations: an update (not read-only) that ends the lease now and releases its server,
    /// which is cleaned (destructive); ending it again is refused and changes nothing
    /// (idempotent).
    #[tool(
        description = "End a running lease now: its server is released (undeployed and \
                       cleaned). Only the lease's consumer may.",
        annotations(
            title = "End a lease",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    async fn end_lease(
        &self,
        Parameters(params): Parameters<ExecutionParams>,
    ) -> Result<Json<ExecutionOut>, String> {
        let reply = self
            .call("lease_end", Kind::Update, encode(&params.execution_id))
            .await?;
        decode::<Execution, MarketError>("lease_end", &reply).map(|e| Json(e.into()))
    }
}

impl ProvisionTools {
    async fn call(&self, method: &str, kind: Kind, arg: Vec<u8>) -> Result<Vec<u8>, String> {
        self.backend()
            .call(method, kind, arg)
            .await
            .map_err(call_failed)
    }

    /// The public half of the lessee key the server keeps (made at the first lease): what the
    /// provider seals the lease's credentials to.
    async fn lessee_public_key(&self) -> Result<Vec<u8>, String> {
        self.lessee_keys()
            .public_key_or_new()
            .await
            .map(|key| key.to_vec())
            .map_err(|e| format!("LesseeKey: {e}"))
    }
}

#[cfg(test)]
mod tests;
