//! Provider catalogs: offerings in the serverhunter CSV format, published by providers under
//! Ed25519 signatures, kept in stable memory, and indexed for search.
//!
//! | module       | what it holds                                                            |
//! |--------------|--------------------------------------------------------------------------|
//! | `offering`   | the 35-column model: cells as written, normalised values, `normalize`    |
//! | `csv_format` | CSV import (header by name, per-row errors, atomic) and export           |
//! | `text`       | the one tokenizer for indexed text and queries                           |
//! | `provider`   | provider keys: 32 raw bytes or PEM (SPKI) in, PEM out                    |
//! | `signing`    | the domain-separated message every catalog change is signed over         |
//! | `keys`       | what controllers decided about a provider key: frozen or not             |
//! | `store`      | providers and offerings in stable memory; the read side for search      |
//! | `publish`    | applying signed operations: replace, upsert, remove, remove provider     |
//! | `upload`     | chunked uploads: begin / append / commit, sessions in stable memory      |
//! | `changes`    | the change feed (provider, offering key, upsert/remove) by sequence      |
//! | `index`      | the search index on the heap, saved to stable memory across upgrades     |
//! | `search`     | lookup, provider browse, text + filter queries, sorting, cursors         |
//! | `encode`     | Candid records, PEM+CSV and compact JSON replies, trimmed to fit         |
//! | `synthetic`  | seeded synthetic catalogs for tests and benchmarks (native only)         |

pub mod changes;
pub mod csv_format;
pub mod encode;
pub mod error;
pub mod index;
pub mod keys;
pub mod offering;
pub mod provider;
pub mod publish;
pub mod search;
pub mod signing;
pub mod store;
#[cfg(not(target_arch = "wasm32"))]
pub mod synthetic;
pub mod text;
pub mod upload;
