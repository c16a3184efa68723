//! The real Ironic over HTTPS outcalls: reads are replicated GETs whose transform keeps only
//! the fields in [`Node`] (so every replica agrees); PATCH and PUT go non-replicated, the only
//! way the IC allows them.
//!
//! | call                  | request                                             | replicated | max_response_bytes |
//! |-----------------------|-----------------------------------------------------|------------|--------------------|
//! | `list_page`           | `GET  {endpoint}/v1/nodes?provision_state=available&maintenance=false[&resource_class=..]&sort_key=uuid&limit=50[&marker=..]&fields=..` | yes | 104 KiB |
//! | `node`                | `GET  {endpoint}/v1/nodes/{id}?fields=..`            | yes        | 64 KiB             |
//! | `set_instance`        | `PATCH {endpoint}/v1/nodes/{id}` (JSON patch)        | no         | 128 KiB            |
//! | `clear_instance`      | `PATCH {endpoint}/v1/nodes/{id}` (JSON patch)        | no         | 128 KiB            |
//! | `set_provision_state` | `PUT  {endpoint}/v1/nodes/{id}/states/provision`     | no         | 16 KiB             |
//!
//! Every request carries `Accept: application/json`, `X-OpenStack-Ironic-API-Version` and, when
//! the provider set one, `X-Auth-Token`; every one names [`TRANSFORM_METHOD`], which drops the
//! headers and reduces the body (see [`transform`]). The token is sent only in its header: it
//! never appears in a URL, and every error returned is scrubbed of it.
//!
//! Every outcall is paid before it is sent: [`HttpIronic::pay`] debits the cycles it attaches
//! from the provider's budget, or refuses it ([`ClientError::OverBudget`]) and nothing is sent.

mod answers;

pub use answers::transform;

use super::client::{ClientError, Ironic, Node, Page, Target};
use super::endpoint;
use crate::counters::{self, Counter};
use crate::runtime::Runtime;
use answers::{read, truncated, unexpected, Reduced};
use candid::Func;
use ic_cdk_management_canister::{
    HttpHeader, HttpMethod, HttpRequestArgs, TransformContext, TransformFunc,
};
use serde_json::json;
use std::fmt::Write as _;

/// The hidden query in `lib.rs` that applies [`transform`].
pub const TRANSFORM_METHOD: &str = "transform_ironic_nodes";

/// The node fields asked for (`fields=`), which bounds the raw size of reads: what [`Node`]
/// keeps, `instance_info` for its `image_source`.
const FIELDS: &str = "uuid,name,resource_class,provision_state,target_provision_state,\
maintenance,last_error,lessee,instance_info";

/// What a list asks of each node: what auto-selection reads (no `last_error` or
/// `instance_info`, whose size Ironic does not bound), so a page has a small bound.
const LIST_FIELDS: &str = "uuid,name,resource_class,provision_state,maintenance";

/// Nodes listed per call. Pages are walked with `marker` only as far as needed, so a small page
/// keeps each outcall's reservation small.
pub const LIST_LIMIT: u32 = 50;

/// A node of a list page with [`LIST_FIELDS`]: uuid 36 bytes, name at most 255, resource class
/// at most 80, provision state, maintenance and the keys about 150, and the `links` Ironic
/// always adds (two hrefs of its public URL and the uuid) about 1 KiB with a long URL.
const LIST_NODE_BYTES: u64 = 2 * 1024;
/// A list page: [`LIST_LIMIT`] nodes and the collection's `next` link.
const LIST_MAX_RESPONSE_BYTES: u64 = LIST_LIMIT as u64 * LIST_NODE_BYTES + 4 * 1024;
/// One node with `fields=`: typically under 2 KiB; the margin is for a traceback in
/// `last_error` and whatever the operator or Nova left in `instance_info`.
const NODE_MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// A PATCH answers with the whole node (no `fields=`): `driver_internal_info` with its cached
/// clean and deploy steps makes that 5 to 15 KiB. Too small a bound would turn a PATCH that
/// Ironic applied into a failure retried forever, hence ten times that.
const PATCH_MAX_RESPONSE_BYTES: u64 = 128 * 1024;
/// A provision-state change answers 202 with an empty body, errors with a short JSON document.
const PROVISION_MAX_RESPONSE_BYTES: u64 = 16 * 1024;

/// Longest node id (UUID or name) we put in a path; Ironic's names are at most 255 bytes.
const MAX_NODE_ID_BYTES: usize = 255;
/// The reject code reported for requests refused before being sent (DESTINATION_INVALID): a
/// bad endpoint or header value, which retrying cannot fix.
const REFUSED_CODE: u32 = 3;

/// The kinds of outcall, each with its own method, replication and size bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    List,
    Node,
    Patch,
    Provision,
}

impl Call {
    fn method(self) -> HttpMethod {
        match self {
            Self::List | Self::Node => HttpMethod::GET,
            Self::Patch => HttpMethod::PATCH,
            Self::Provision => HttpMethod::PUT,
        }
    }

    /// Reads go through consensus; the IC makes PATCH and PUT only from a single replica.
    fn is_replicated(self) -> bool {
        matches!(self, Self::List | Self::Node)
    }

    fn max_response_bytes(self) -> u64 {
        match self {
            Self::List => LIST_MAX_RESPONSE_BYTES,
            Self::Node => NODE_MAX_RESPONSE_BYTES,
            Self::Patch => PATCH_MAX_RESPONSE_BYTES,
            Self::Provision => PROVISION_MAX_RESPONSE_BYTES,
        }
    }
}

/// Whether `id` can go into a path as is: Ironic UUIDs and names are made of these, and refusing
/// the rest (and `.`/`..`) means no id can reach another resource.
fn valid_node_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_NODE_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && id.bytes().any(|b| b != b'.')
}

/// Percent-encodes a query value: everything but RFC 3986's unreserved characters.
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Whether `value` can be sent as a header value: visible ASCII, no spaces.
fn valid_header_value(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

fn refused(message: impl Into<String>) -> ClientError {
    ClientError::Unreachable {
        code: REFUSED_CODE,
        message: format!("request not sent: {}", message.into()),
    }
}

/// Pays for one outcall (the cycles it attaches) before it is sent, or refuses it.
pub type Payer<'a> = Box<dyn Fn(u128) -> Result<(), ClientError> + 'a>;

/// One provider's Ironic, as its settings name it.
pub struct HttpIronic<'a, R: Runtime> {
    pub rt: &'a R,
    /// Base URL, e.g. `https://ironic.example:6385`.
    pub endpoint: String,
    /// `X-OpenStack-Ironic-API-Version`.
    pub microversion: String,
    /// `X-Auth-Token`, if the provider set one.
    pub auth_token: Option<String>,
    /// Pays for an outcall (the cycles it attaches) before it is sent, or refuses it; `None`
    /// sends unmetered (quotes and tests only).
    pub pay: Option<Payer<'a>>,
}

impl<R: Runtime> HttpIronic<'_, R> {
    /// The token to send, if any (an empty one is no token).
    fn token(&self) -> Option<&str> {
        self.auth_token.as_deref().filter(|token| !token.is_empty())
    }

    /// `v1/nodes/{id}{suffix}`, or why the id is refused.
    fn node_path(&self, uuid: &str, suffix: &str) -> Result<String, ClientError> {
        if !valid_node_id(uuid) {
            // No such id can name a node Ironic knows.
            return Err(self.scrub(ClientError::NotFound {
                uuid: truncated(uuid.into(), MAX_NODE_ID_BYTES),
            }));
        }
        Ok(format!("v1/nodes/{uuid}{suffix}"))
    }

    fn headers(&self, has_body: bool) -> Result<Vec<HttpHeader>, ClientError> {
        let header = |name: &str, value: &str| HttpHeader {
            name: name.into(),
            value: value.into(),
        };
        if !valid_header_value(&self.microversion) {
            return Err(refused("the microversion is not a valid header value"));
        }
        let mut headers = vec![
            header("Accept", "application/json"),
            header("X-OpenStack-Ironic-API-Version", &self.microversion),
        ];
        if has_body {
            headers.push(header("Content-Type", "application/json"));
        }
        if let Some(token) = self.token() {
            if !valid_header_value(token) {
                return Err(refused("the auth token is not a valid header value"));
            }
            headers.push(header("X-Auth-Token", token));
        }
        Ok(headers)
    }

    /// The request for `{endpoint}/{path}`, as [`Self::send`] makes it: the one place that
    /// builds URLs, headers and bodies, also used to price outcalls without making them.
    fn request(
        &self,
        call: Call,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let base = endpoint::root_url(&self.endpoint).map_err(refused)?;
        let headers = self.headers(body.is_some())?;
        Ok(HttpRequestArgs {
            url: format!("{base}{path}"),
            max_response_bytes: Some(call.max_response_bytes()),
            method: call.method(),
            headers,
            body: body.map(|body| body.to_string().into_bytes()),
            transform: Some(TransformContext {
                function: TransformFunc(Func {
                    principal: self.rt.canister_id(),
                    method: TRANSFORM_METHOD.into(),
                }),
                context: vec![],
            }),
            is_replicated: Some(call.is_replicated()),
            ..HttpRequestArgs::default()
        })
    }

    /// Makes the outcall `request` (built for `call`) and reads its transformed answer: the
    /// reduced body of a 2xx, or the error. `uuid` names the node a 404 is about.
    async fn send(
        &self,
        call: Call,
        request: Result<HttpRequestArgs, ClientError>,
        uuid: Option<&str>,
    ) -> Result<Reduced, ClientError> {
        let request = request?;
        if let Some(pay) = &self.pay {
            pay(self.rt.outcall_cost(&request))?;
        }
        counters::bump(Counter::Outcalls);
        let result = read(self.rt.http_request(request).await, call, uuid);
        result.map_err(|e| {
            counters::bump(Counter::OutcallFailures);
            self.scrub(e)
        })
    }

    /// `list_page`'s request: sorted by UUID, so that the last UUID of a page (the transform
    /// sorts by UUID too) is the marker of the next.
    pub fn list_request(
        &self,
        resource_class: Option<&str>,
        marker: Option<&str>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let mut path = String::from("v1/nodes?provision_state=available&maintenance=false");
        if let Some(class) = resource_class {
            path.push_str("&resource_class=");
            path.push_str(&encode_query(class));
        }
        let _ = write!(path, "&sort_key=uuid&sort_dir=asc&limit={LIST_LIMIT}");
        if let Some(marker) = marker {
            path.push_str("&marker=");
            path.push_str(&encode_query(marker));
        }
        let _ = write!(path, "&fields={LIST_FIELDS}");
        self.request(Call::List, &path, None)
    }

    /// `node`'s request.
    pub fn node_request(&self, uuid: &str) -> Result<HttpRequestArgs, ClientError> {
        let path = self.node_path(uuid, &format!("?fields={FIELDS}"))?;
        self.request(Call::Node, &path, None)
    }

    /// `set_instance`'s request.
    pub fn set_instance_request(
        &self,
        uuid: &str,
        image: &str,
        lessee: &str,
    ) -> Result<HttpRequestArgs, ClientError> {
        let patch = json!([
            {"op": "add", "path": "/instance_info/image_source", "value": image},
            {"op": "add", "path": "/lessee", "value": lessee},
        ]);
        self.request(Call::Patch, &self.node_path(uuid, "")?, Some(patch))
    }

    /// `clear_instance`'s request: removes `lessee` and the whole `instance_info` (as Nova does
    /// at teardown), not just `instance_info/image_source`: JSON patch refuses to remove a
    /// missing key, so that form would fail with a 400 when retried after a PATCH whose answer
    /// was lost, whereas every node has these two fields and removing them resets them.
    pub fn clear_instance_request(&self, uuid: &str) -> Result<HttpRequestArgs, ClientError> {
        let patch = json!([
            {"op": "remove", "path": "/lessee"},
            {"op": "remove", "path": "/instance_info"},
        ]);
        self.request(Call::Patch, &self.node_path(uuid, "")?, Some(patch))
    }

    /// `set_provision_state`'s request.
    pub fn provision_request(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<HttpRequestArgs, ClientError> {
        let path = self.node_path(uuid, "/states/provision")?;
        let body = match (target, config_drive) {
            // The config drive as a document (microversion 1.56): Ironic builds the ISO.
            (Target::Active, Some(user_data)) => json!({
                "target": target.as_str(),
                "configdrive": {"user_data": user_data},
            }),
            _ => json!({"target": target.as_str()}),
        };
        self.request(Call::Provision, &path, Some(body))
    }

    /// `e` without the auth token, should the IC or Ironic have echoed it.
    fn scrub(&self, e: ClientError) -> ClientError {
        let Some(token) = self.token() else {
            return e;
        };
        let clean = |text: String| text.replace(token, "[redacted]");
        match e {
            ClientError::Unreachable { code, message } => ClientError::Unreachable {
                code,
                message: clean(message),
            },
            ClientError::Http { status, message } => ClientError::Http {
                status,
                message: clean(message),
            },
            ClientError::NotFound { uuid } => ClientError::NotFound { uuid: clean(uuid) },
            ClientError::InvalidResponse { message } => ClientError::InvalidResponse {
                message: clean(message),
            },
            over @ ClientError::OverBudget { .. } => over,
        }
    }
}

impl<R: Runtime> Ironic for HttpIronic<'_, R> {
    /// The first page only: callers that need more walk [`Ironic::list_page`].
    async fn list_available(&self, resource_class: Option<&str>) -> Result<Vec<Node>, ClientError> {
        self.list_page(resource_class, None)
            .await
            .map(|page| page.nodes)
    }

    async fn list_page(
        &self,
        resource_class: Option<&str>,
        marker: Option<&str>,
    ) -> Result<Page, ClientError> {
        let request = self.list_request(resource_class, marker);
        match self.send(Call::List, request, None).await? {
            Reduced::Nodes(nodes) => {
                // A full page may have a next one; the transform sorted it by UUID.
                let full = nodes.len() >= LIST_LIMIT as usize;
                let next = full
                    .then(|| nodes.last().map(|node| node.uuid.clone()))
                    .flatten()
                    // A marker that does not move would read the same page forever.
                    .filter(|last| marker.is_none_or(|marker| last.as_str() > marker));
                // The filters again, in case an Ironic ignored one of them.
                let nodes = nodes
                    .into_iter()
                    .filter(|node| {
                        node.provision_state == "available"
                            && !node.maintenance
                            && resource_class
                                .is_none_or(|class| node.resource_class.as_deref() == Some(class))
                    })
                    .collect();
                Ok(Page { nodes, next })
            }
            other => Err(unexpected(&other, "a node list")),
        }
    }

    async fn node(&self, uuid: &str) -> Result<Node, ClientError> {
        let request = self.node_request(uuid);
        match self.send(Call::Node, request, Some(uuid)).await? {
            Reduced::Node(node) => Ok(node),
            other => Err(unexpected(&other, "a node")),
        }
    }

    /// A 2xx means Ironic applied the patch; the node it answers with is not needed.
    async fn set_instance(&self, uuid: &str, image: &str, lessee: &str) -> Result<(), ClientError> {
        let request = self.set_instance_request(uuid, image, lessee);
        self.send(Call::Patch, request, Some(uuid)).await.map(drop)
    }

    /// See [`HttpIronic::clear_instance_request`].
    async fn clear_instance(&self, uuid: &str) -> Result<(), ClientError> {
        let request = self.clear_instance_request(uuid);
        self.send(Call::Patch, request, Some(uuid)).await.map(drop)
    }

    async fn set_provision_state(
        &self,
        uuid: &str,
        target: Target,
        config_drive: Option<&str>,
    ) -> Result<(), ClientError> {
        let request = self.provision_request(uuid, target, config_drive);
        self.send(Call::Provision, request, Some(uuid))
            .await
            .map(drop)
    }
}

#[cfg(test)]
mod paging_tests;
#[cfg(test)]
mod tests;
