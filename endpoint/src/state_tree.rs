//! The certified state tree, as the interface specification lays it out, materialized only
//! for the paths a `read_state` (or a data certificate) asks for.
//!
//! Everything not asked for is left out rather than pruned: a client's lookup of it gives
//! "absent", the same answer the IC gives for an unknown request id. Labels are sorted and
//! forks balanced, because clients' lookups assume sorted trees.

use crate::keys::Keys;
use candid::Principal;
use ic_certification::hash_tree::{empty, fork, label, leaf};
use ic_certification::HashTree;
use std::collections::{BTreeMap, BTreeSet};

/// What the tree says about one canister.
#[derive(Clone, Debug)]
pub struct CanisterView {
    pub id: Principal,
    /// `None` for an empty canister: the path is then absent, as on the IC.
    pub module_hash: Option<[u8; 32]>,
    pub controllers: Vec<Principal>,
    pub certified_data: Vec<u8>,
    /// Sections anyone may read. For a controller sender the server may put private
    /// sections here too, since the IC lets controllers read them.
    pub public_metadata: BTreeMap<String, Vec<u8>>,
    /// Names of private sections (deviation from the brief's struct: the tree cannot know a
    /// section is private otherwise). Asking for one of these is `Forbidden`.
    pub private_metadata_names: BTreeSet<String>,
}

impl CanisterView {
    /// An empty canister (no module, no controllers, no data, no metadata) to fill in.
    pub fn new(id: Principal) -> Self {
        CanisterView {
            id,
            module_hash: None,
            controllers: Vec::new(),
            certified_data: Vec::new(),
            public_metadata: BTreeMap::new(),
            private_metadata_names: BTreeSet::new(),
        }
    }
}

/// The status of an update call, as `request_status/<id>/status` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestStatus {
    Received,
    Processing,
    Replied(Vec<u8>),
    Rejected {
        code: u64,
        message: String,
        error_code: Option<String>,
    },
    Done,
}

/// The state the tree is built from, borrowed for one request.
pub struct StateView<'a> {
    /// Nanoseconds since the epoch; clients reject certificates far from their clock.
    pub time: u64,
    pub keys: &'a Keys,
    /// Inclusive ranges of canister ids this endpoint answers for.
    pub canister_ranges: Vec<(Principal, Principal)>,
    pub canisters: Vec<CanisterView>,
    /// The status of a request by its 32-byte id; `None` makes the path absent.
    pub request_status: &'a dyn Fn(&[u8]) -> Option<RequestStatus>,
}

/// Why a requested path cannot be answered; the replica's HTTP statuses for each in `status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathError {
    /// A label that cannot be what it claims (a principal over 29 bytes, a request id not of
    /// 32 bytes, an empty path).
    Malformed(String),
    /// A path that exists but that the caller may not read (a private metadata section, a
    /// whole canister's or all requests' subtree).
    Forbidden(String),
    /// A path the state tree does not have.
    NotFound(String),
}

impl PathError {
    pub fn message(&self) -> String {
        match self {
            PathError::Malformed(m) | PathError::Forbidden(m) | PathError::NotFound(m) => m.clone(),
        }
    }

    /// The HTTP status the IC's replica answers `read_state` with for this error.
    pub fn status(&self) -> u16 {
        match self {
            PathError::Malformed(_) => 400,
            PathError::Forbidden(_) => 403,
            PathError::NotFound(_) => 404,
        }
    }
}

/// An unhashed tree: leaves and sorted labelled children.
#[derive(Clone, Debug)]
enum Node {
    Leaf(Vec<u8>),
    Sub(BTreeMap<Vec<u8>, Node>),
}

impl Node {
    fn sub<const N: usize>(children: [(&[u8], Node); N]) -> Node {
        Node::Sub(children.into_iter().map(|(k, v)| (k.to_vec(), v)).collect())
    }

    /// The part of `self` at `path`, wrapped in the labels leading to it; `None` if absent.
    fn select(&self, path: &[Vec<u8>]) -> Option<Node> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self.clone());
        };
        match self {
            Node::Sub(children) => {
                let child = children.get(first)?.select(rest)?;
                Some(Node::Sub(BTreeMap::from([(first.clone(), child)])))
            }
            Node::Leaf(_) => None,
        }
    }

    fn merge(&mut self, other: Node) {
        match (self, other) {
            (Node::Sub(mine), Node::Sub(theirs)) => {
                for (k, v) in theirs {
                    match mine.get_mut(&k) {
                        Some(existing) => existing.merge(v),
                        None => {
                            mine.insert(k, v);
                        }
                    }
                }
            }
            (me, other) => *me = other,
        }
    }

    fn into_hash_tree(self) -> HashTree {
        match self {
            Node::Leaf(bytes) => leaf(bytes),
            Node::Sub(children) => {
                let labelled: Vec<HashTree> = children
                    .into_iter()
                    .map(|(k, v)| label(k, v.into_hash_tree()))
                    .collect();
                balanced(labelled)
            }
        }
    }
}

/// Forks over sorted labelled subtrees, split in halves so lookups stay shallow.
fn balanced(mut trees: Vec<HashTree>) -> HashTree {
    match trees.len() {
        0 => empty(),
        1 => trees.remove(0),
        n => {
            let right = trees.split_off(n / 2);
            fork(balanced(trees), balanced(right))
        }
    }
}

/// Unsigned LEB128, the encoding of `nat` leaves (time, reject codes).
pub fn leb128(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// CBOR with the self-describing tag, as the spec's `tagged<...>` values are encoded.
fn tagged_cbor<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_cbor::Serializer::new(&mut out);
    // Byte strings and arrays of them always encode.
    serializer
        .self_describe()
        .and_then(|()| value.serialize(&mut serializer))
        .expect("byte strings always encode as CBOR");
    out
}

fn principal_bytes(p: &Principal) -> serde_bytes::ByteBuf {
    serde_bytes::ByteBuf::from(p.as_slice().to_vec())
}

/// `tagged<[*[principal, principal]]>`, as both `subnet/<id>/canister_ranges` and each
/// `canister_ranges/<id>/<shard>` leaf hold them.
fn ranges_cbor(ranges: &[(Principal, Principal)]) -> Vec<u8> {
    let pairs: Vec<_> = ranges
        .iter()
        .map(|(lo, hi)| (principal_bytes(lo), principal_bytes(hi)))
        .collect();
    tagged_cbor(&pairs)
}

/// `/subnet`: this endpoint is one subnet with one node.
fn subnet_tree(view: &StateView) -> Node {
    let keys = view.keys;
    let node = Node::sub([(
        keys.node_id().as_slice(),
        Node::sub([(b"public_key", Node::Leaf(keys.node_key_der()))]),
    )]);
    let subnet = Node::sub([
        (b"public_key", Node::Leaf(keys.root_key_der())),
        (
            b"canister_ranges",
            Node::Leaf(ranges_cbor(&view.canister_ranges)),
        ),
        (b"node", node),
    ]);
    Node::sub([(keys.subnet_id().as_slice(), subnet)])
}

/// `/canister_ranges/<subnet_id>/<shard>`, the sharded layout newer clients read first: one
/// shard holding all ranges, labelled by the lowest canister id in it.
fn canister_ranges_tree(view: &StateView) -> Node {
    let mut ranges = view.canister_ranges.clone();
    ranges.sort();
    let shards = match ranges.first() {
        Some((lo, _)) => Node::Sub(BTreeMap::from([(
            lo.as_slice().to_vec(),
            Node::Leaf(ranges_cbor(&ranges)),
        )])),
        None => Node::Sub(BTreeMap::new()),
    };
    Node::sub([(view.keys.subnet_id().as_slice(), shards)])
}

fn request_status_tree(status: RequestStatus) -> Node {
    let text = |s: &str| Node::Leaf(s.as_bytes().to_vec());
    match status {
        RequestStatus::Received => Node::sub([(b"status", text("received"))]),
        RequestStatus::Processing => Node::sub([(b"status", text("processing"))]),
        RequestStatus::Done => Node::sub([(b"status", text("done"))]),
        RequestStatus::Replied(reply) => {
            Node::sub([(b"status", text("replied")), (b"reply", Node::Leaf(reply))])
        }
        RequestStatus::Rejected {
            code,
            message,
            error_code,
        } => {
            let mut node = Node::sub([
                (b"status", text("rejected")),
                (b"reject_code", Node::Leaf(leb128(code))),
                (b"reject_message", text(&message)),
            ]);
            if let Some(error_code) = error_code {
                node.merge(Node::sub([(b"error_code", text(&error_code))]));
            }
            node
        }
    }
}

fn canister_tree(canister: &CanisterView) -> Node {
    let mut node = Node::sub([
        (
            b"certified_data",
            Node::Leaf(canister.certified_data.clone()),
        ),
        (
            b"controllers",
            Node::Leaf(tagged_cbor(
                &canister
                    .controllers
                    .iter()
                    .map(principal_bytes)
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            b"metadata",
            Node::Sub(
                canister
                    .public_metadata
                    .iter()
                    .map(|(name, value)| (name.as_bytes().to_vec(), Node::Leaf(value.clone())))
                    .collect(),
            ),
        ),
    ]);
    if let Some(hash) = canister.module_hash {
        node.merge(Node::sub([(b"module_hash", Node::Leaf(hash.to_vec()))]));
    }
    node
}

fn principal_label(bytes: &[u8], what: &str) -> Result<Principal, PathError> {
    Principal::try_from_slice(bytes).map_err(|e| {
        PathError::Malformed(format!(
            "{what} {} is not a principal: {e}",
            hex::encode(bytes)
        ))
    })
}

/// The part of the state tree one path reveals, wrapped in its labels.
fn node_for(view: &StateView, path: &[Vec<u8>]) -> Result<Option<Node>, PathError> {
    let Some((first, rest)) = path.split_first() else {
        return Err(PathError::Malformed(
            "an empty path asks for the whole state".into(),
        ));
    };
    let wrap = |sub: Option<Node>| sub.map(|n| Node::Sub(BTreeMap::from([(first.clone(), n)])));
    match first.as_slice() {
        b"time" => Ok(wrap(Node::Leaf(leb128(view.time)).select(rest))),
        b"subnet" => Ok(wrap(subnet_tree(view).select(rest))),
        b"canister_ranges" => Ok(wrap(canister_ranges_tree(view).select(rest))),
        // Nodes this endpoint does not have: an empty list, which clients read as such.
        b"api_boundary_nodes" => Ok(wrap(Node::Sub(BTreeMap::new()).select(rest))),
        b"request_status" => {
            let Some((id, _)) = rest.split_first() else {
                return Err(PathError::Forbidden(
                    "cannot read the status of all requests".into(),
                ));
            };
            if id.len() != 32 {
                return Err(PathError::Malformed(format!(
                    "request id {} is not 32 bytes",
                    hex::encode(id)
                )));
            }
            let status = (view.request_status)(id).map(request_status_tree);
            let by_id = status.map(|s| Node::Sub(BTreeMap::from([(id.clone(), s)])));
            Ok(wrap(by_id.and_then(|n| n.select(rest))))
        }
        b"canister" => canister_node(view, rest).map(wrap),
        _ => Err(PathError::NotFound(format!(
            "no path {} in the state tree",
            String::from_utf8_lossy(first)
        ))),
    }
}

/// `canister/<id>/...`: only named fields, never a whole canister (it would reveal private
/// metadata).
fn canister_node(view: &StateView, rest: &[Vec<u8>]) -> Result<Option<Node>, PathError> {
    let forbidden = || {
        PathError::Forbidden("only a canister's module_hash, controllers, certified_data or metadata/<name> can be read".into())
    };
    let [id, field, tail @ ..] = rest else {
        return Err(forbidden());
    };
    let id = principal_label(id, "canister id")?;
    match (field.as_slice(), tail) {
        (b"module_hash" | b"controllers" | b"certified_data", _) => {}
        (b"metadata", [name, ..]) => {
            let private = std::str::from_utf8(name).is_ok_and(|name| {
                view.canisters
                    .iter()
                    .any(|c| c.id == id && c.private_metadata_names.contains(name))
            });
            if private {
                return Err(PathError::Forbidden(format!(
                    "metadata section {} of canister {id} is private",
                    String::from_utf8_lossy(name)
                )));
            }
        }
        _ => return Err(forbidden()),
    }
    let Some(canister) = view.canisters.iter().find(|c| c.id == id) else {
        return Ok(None);
    };
    let by_id = Node::Sub(BTreeMap::from([(
        id.as_slice().to_vec(),
        canister_tree(canister),
    )]));
    Ok(by_id.select(rest))
}

/// The certified tree holding `time` and exactly what `paths` ask for, everything else absent.
/// Each path is a list of labels as `read_state` sends them; a request for `subnet` gives the
/// whole subnet subtree, which is how clients learn node keys for query signatures.
pub fn tree_for(view: &StateView, paths: &[Vec<Vec<u8>>]) -> Result<HashTree, PathError> {
    let mut root = Node::sub([(b"time", Node::Leaf(leb128(view.time)))]);
    for path in paths {
        if let Some(node) = node_for(view, path)? {
            root.merge(node);
        }
    }
    Ok(root.into_hash_tree())
}

#[cfg(test)]
#[path = "state_tree_tests.rs"]
mod tests;
